//! The resolved configuration of one grid point: what every later stage
//! reads. Each value a key has by default is filled in (`resolve.rs`), and
//! settings that only exist together live in one variant, so a spec cannot
//! hold a state validation ruled out (Adam with a momentum, a leaky slope on
//! a ReLU network) and no consumer re-decides a default.

use std::path::PathBuf;

/// Which data set a study trains on (the `data.kind` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// CS231n's spiral: `classes` arms of `points_per_class` points.
    Spiral,
    /// Two concentric circles (two classes).
    Circles,
    /// Two interleaving half moons (two classes).
    Moons,
    /// Points in the square, labelled by the sign of x·y (two classes).
    Xor,
    /// Gaussian blobs around random centres.
    Blobs,
    /// 1-D regression: y = sin(frequency·x) + noise, x in [-π, π].
    Sine,
    /// Any CSV file with a header row.
    Csv,
    /// The shipped 8×8 handwritten digits (1797 × 64, 10 classes).
    Digits,
    /// The shipped Iris set (150 × 4, 3 classes).
    Iris,
    /// The shipped Wine set (178 × 13, 3 classes).
    Wine,
    /// The shipped Breast Cancer Wisconsin set (569 × 30, 2 classes).
    BreastCancer,
}

/// Names of the kinds as written in a study file.
pub(crate) const DATA_KINDS: &[(&str, DataKind)] = &[
    ("spiral", DataKind::Spiral),
    ("circles", DataKind::Circles),
    ("moons", DataKind::Moons),
    ("xor", DataKind::Xor),
    ("blobs", DataKind::Blobs),
    ("sine", DataKind::Sine),
    ("csv", DataKind::Csv),
    ("digits", DataKind::Digits),
    ("iris", DataKind::Iris),
    ("wine", DataKind::Wine),
    ("breast_cancer", DataKind::BreastCancer),
];

impl DataKind {
    /// Synthetic sets are drawn from a seeded generator; the others are fixed tables.
    pub fn is_synthetic(self) -> bool {
        matches!(
            self,
            DataKind::Spiral
                | DataKind::Circles
                | DataKind::Moons
                | DataKind::Xor
                | DataKind::Blobs
                | DataKind::Sine
        )
    }

    /// The kind's name in a study file.
    pub fn name(self) -> &'static str {
        name_of(DATA_KINDS, self)
    }
}

/// Whether the network classifies (softmax cross-entropy) or regresses (MSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Softmax cross-entropy over integer class labels.
    Classification,
    /// Mean squared error on one real target.
    Regression,
}

/// Names of the tasks as written in a study file.
pub(crate) const TASKS: &[(&str, Task)] = &[
    ("classification", Task::Classification),
    ("regression", Task::Regression),
];

/// How the validation set is obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValSplit {
    /// An independent draw of the same size from the same generator.
    Fresh,
    /// This fraction of the rows, held out by a seeded shuffle.
    Fraction(f64),
    /// No validation set.
    None,
}

/// Which column of a CSV file holds the label or target.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelColumn {
    /// The last column (the default).
    Last,
    /// A 0-based column index.
    Index(usize),
    /// A header name.
    Name(String),
}

/// Where the rows come from, with exactly the settings that kind has.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// CS231n's spiral; `noise` is the angle noise.
    Spiral {
        /// Number of arms (classes).
        classes: usize,
        /// Points drawn per class.
        points_per_class: usize,
        /// Angle noise std.
        noise: f64,
    },
    /// Two concentric circles; `noise` is the coordinate noise.
    Circles {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
        /// Inner/outer radius ratio.
        factor: f64,
    },
    /// Two interleaving half moons.
    Moons {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
    },
    /// The sign of x·y in the square.
    Xor {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
    },
    /// Gaussian blobs around random centres.
    Blobs {
        /// Number of blobs (classes).
        classes: usize,
        /// Points drawn per class.
        points_per_class: usize,
        /// Blob std.
        noise: f64,
        /// Dimension.
        dims: usize,
    },
    /// 1-D regression on a noisy sine.
    Sine {
        /// Points drawn in all.
        points: usize,
        /// Target noise std.
        noise: f64,
        /// Frequency of the sine target.
        frequency: f64,
    },
    /// Any CSV file with a header row.
    Csv {
        /// The file, resolved relative to the study file. Not part of the
        /// trial id: `file_hash` is, so ids do not depend on where it lies.
        path: PathBuf,
        /// FNV-1a hash of the file's bytes (16 hex digits).
        file_hash: String,
        /// The label or target column.
        label_column: LabelColumn,
        /// Classification or regression.
        task: Task,
    },
    /// A shipped table: digits, iris, wine or breast_cancer.
    Table(DataKind),
}

impl DataSource {
    /// Which data set.
    pub fn kind(&self) -> DataKind {
        match self {
            DataSource::Spiral { .. } => DataKind::Spiral,
            DataSource::Circles { .. } => DataKind::Circles,
            DataSource::Moons { .. } => DataKind::Moons,
            DataSource::Xor { .. } => DataKind::Xor,
            DataSource::Blobs { .. } => DataKind::Blobs,
            DataSource::Sine { .. } => DataKind::Sine,
            DataSource::Csv { .. } => DataKind::Csv,
            DataSource::Table(kind) => *kind,
        }
    }

    /// Classes of a generated classification set (2 for circles, moons, xor).
    pub fn generated_classes(&self) -> Option<usize> {
        match self {
            DataSource::Spiral { classes, .. } | DataSource::Blobs { classes, .. } => {
                Some(*classes)
            }
            DataSource::Circles { .. } | DataSource::Moons { .. } | DataSource::Xor { .. } => {
                Some(2)
            }
            _ => None,
        }
    }
}

/// `data.preprocess`: a transform fitted on the training split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preprocess {
    /// Features as drawn (after `standardize`, if on).
    None,
    /// Centred and rotated onto the training covariance's eigenvectors.
    Pca,
    /// PCA, each component divided by √(λ + 1e-5).
    Whiten,
}

/// Names of the preprocessing transforms as written in a study file.
pub(crate) const PREPROCESS: &[&str] = &["none", "pca", "whiten"];

impl Preprocess {
    /// The transform's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Preprocess::None => "none",
            Preprocess::Pca => "pca",
            Preprocess::Whiten => "whiten",
        }
    }
}

/// The resolved `[data]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    /// The rows and the kind-specific settings.
    pub source: DataSource,
    /// Share of training labels replaced by another class (0 for sine).
    pub label_noise: f64,
    /// Validation split.
    pub val: ValSplit,
    /// Standardise features with the training split's mean and std.
    pub standardize: bool,
    /// PCA or whitening after standardising, fitted on the training split.
    pub preprocess: Preprocess,
    /// Seed of the data draw, its split and label noise (per replicate when
    /// `[replicates]` varies data).
    pub seed: u64,
}

impl DataSpec {
    /// Which data set.
    pub fn kind(&self) -> DataKind {
        self.source.kind()
    }

    /// Whether `seed` changes the data: a generated set is drawn from it, a
    /// table's validation split and label noise are.
    pub fn depends_on_seed(&self) -> bool {
        self.kind().is_synthetic()
            || matches!(self.val, ValSplit::Fraction(_))
            || self.label_noise > 0.0
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        match &self.source {
            DataSource::Sine { .. } => Task::Regression,
            DataSource::Csv { task, .. } => *task,
            _ => Task::Classification,
        }
    }
}

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// tanh(x)
    Tanh,
    /// max(0, x)
    Relu,
    /// max(αx, x)
    LeakyRelu {
        /// Negative slope α.
        alpha: f64,
    },
    /// max over `pieces` linear pieces
    Maxout {
        /// Linear pieces per unit.
        pieces: usize,
    },
}

/// Names of the activations as written in a study file.
pub(crate) const ACTIVATIONS: &[&str] = &["sigmoid", "tanh", "relu", "leaky_relu", "maxout"];

impl Activation {
    /// The activation's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Maxout { .. } => "maxout",
        }
    }

    /// Linear pieces per hidden unit: `pieces` for maxout, 1 otherwise.
    pub fn pieces(self) -> usize {
        match self {
            Activation::Maxout { pieces } => pieces,
            _ => 1,
        }
    }
}

/// Weight initialisation (biases always start at zero).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// N(0, 2 / fan_in) (He et al. 2015).
    KaimingNormal,
    /// U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010).
    XavierUniform,
    /// N(0, std²).
    Normal {
        /// The standard deviation (`model.init_std`).
        std: f64,
    },
}

/// Names of the initialisations as written in a study file.
pub(crate) const INITS: &[&str] = &["kaiming_normal", "xavier_uniform", "normal"];

impl Init {
    /// The initialisation's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Init::KaimingNormal => "kaiming_normal",
            Init::XavierUniform => "xavier_uniform",
            Init::Normal { .. } => "normal",
        }
    }
}

/// The resolved `[model]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Number of hidden layers (0 = a linear model).
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden nonlinearity, with its own settings.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: Init,
    /// Inverted-dropout drop probability on hidden activations.
    pub dropout: f64,
    /// Batch normalisation before each hidden activation (docs/semantics.md).
    pub batch_norm: bool,
}

/// Optimiser, with the settings only it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// SGD with (optionally Nesterov) momentum.
    Sgd {
        /// Momentum μ (0 = plain SGD).
        momentum: f64,
        /// Nesterov's look-ahead form (needs μ > 0).
        nesterov: bool,
    },
    /// Adam (Kingma and Ba 2015), L2 added to the gradient.
    Adam {
        /// Decay of the first moment.
        beta1: f64,
        /// Decay of the second moment.
        beta2: f64,
        /// Added to the root of the second moment.
        eps: f64,
    },
    /// Adagrad (Duchi et al. 2011): c += g²; w −= lr·g/(√c + ε).
    Adagrad {
        /// Added to the root of the cache.
        eps: f64,
    },
    /// RMSprop (Tieleman and Hinton 2012): c = ρ·c + (1 − ρ)·g²;
    /// w −= lr·g/(√c + ε).
    Rmsprop {
        /// ρ, the cache's decay.
        decay_rate: f64,
        /// Added to the root of the cache.
        eps: f64,
    },
}

/// Names of the optimisers as written in a study file.
pub(crate) const OPTIMIZERS: &[&str] = &["sgd", "adam", "adagrad", "rmsprop"];

impl Optimizer {
    /// The optimiser's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd { .. } => "sgd",
            Optimizer::Adam { .. } => "adam",
            Optimizer::Adagrad { .. } => "adagrad",
            Optimizer::Rmsprop { .. } => "rmsprop",
        }
    }

    /// Optimiser state buffers beside the parameters (momentum or cache,
    /// and Adam's second moment).
    pub fn buffers(self) -> usize {
        match self {
            Optimizer::Adam { .. } => 2,
            _ => 1,
        }
    }
}

/// The learning rate per epoch (epoch e counted from 0; docs/semantics.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// lr₀ throughout.
    Constant,
    /// lr₀·factor^⌊e/every⌋.
    Step {
        /// Epochs between drops.
        every: usize,
        /// Multiplier at each drop.
        factor: f64,
    },
    /// lr₀·exp(−decay·e).
    Exponential {
        /// k.
        decay: f64,
    },
    /// lr₀/(1 + decay·e).
    InverseTime {
        /// k.
        decay: f64,
    },
    /// lr₀·½·(1 + cos(π·e/E)), E the number of epochs.
    Cosine,
}

/// Names of the schedules as written in a study file.
pub(crate) const SCHEDULES: &[&str] = &["none", "step", "exponential", "inverse_time", "cosine"];

impl Schedule {
    /// The schedule's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Constant => "none",
            Schedule::Step { .. } => "step",
            Schedule::Exponential { .. } => "exponential",
            Schedule::InverseTime { .. } => "inverse_time",
            Schedule::Cosine => "cosine",
        }
    }

    /// The rate of epoch `e` (from 0) of `epochs`, from the base rate
    /// `lr`. `Constant` returns `lr` itself, bit for bit.
    pub fn rate(self, lr: f64, e: usize, epochs: usize) -> f64 {
        let e = e as f64;
        match self {
            Schedule::Constant => lr,
            Schedule::Step { every, factor } => lr * factor.powi((e / every as f64).floor() as i32),
            Schedule::Exponential { decay } => lr * (-decay * e).exp(),
            Schedule::InverseTime { decay } => lr / (1.0 + decay * e),
            Schedule::Cosine => lr * 0.5 * (1.0 + (std::f64::consts::PI * e / epochs as f64).cos()),
        }
    }
}

/// How many rows one step sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Batch {
    /// The whole training split every step.
    Full,
    /// Minibatches of this many rows (the last one of an epoch may be shorter).
    Size(usize),
}

impl Batch {
    /// Rows of one step on a training split of `n` rows: all of them, or
    /// the minibatch size capped at `n`. Training, gradcheck and the
    /// halving verdict's step count all read it here.
    pub fn rows(self, n: usize) -> usize {
        match self {
            Batch::Full => n,
            Batch::Size(b) => b.min(n),
        }
    }
}

/// The resolved `[train]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSpec {
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning rate (the base rate under a schedule).
    pub lr: f64,
    /// How the rate changes per epoch.
    pub schedule: Schedule,
    /// Minibatch size.
    pub batch: Batch,
    /// Passes over the training set.
    pub epochs: usize,
    /// L2 strength λ: the loss adds 0.5·λ·Σ‖W‖² over weight matrices only.
    pub l2: f64,
    /// L1 strength λ₁: the loss adds λ₁·Σ|W| over weight matrices only.
    pub l1: f64,
    /// Max-norm constraint: after every update each unit's incoming weight
    /// vector is scaled down to norm `max_norm` when longer (0 = off).
    pub max_norm: f64,
    /// Gradient-norm clipping: rescale the whole gradient to norm `clip`
    /// when it is longer (0 = off).
    pub clip: f64,
    /// Evaluate train and validation metrics every this many epochs (and at the end).
    pub eval_every: usize,
}

/// Everything one trial needs except its seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Data set.
    pub data: DataSpec,
    /// Network.
    pub model: ModelSpec,
    /// Training.
    pub train: TrainSpec,
}

/// The study-file name of `value` in a name table.
pub(crate) fn name_of<T: PartialEq + Copy>(table: &[(&'static str, T)], value: T) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map(|(n, _)| *n)
        .expect("every variant has a name")
}
