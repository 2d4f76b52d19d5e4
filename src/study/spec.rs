//! The resolved configuration of one grid point: what every later stage
//! reads. Each value a key has by default is filled in (`resolve.rs`), and
//! settings that only exist together live in one variant, so a spec cannot
//! hold a state validation ruled out (Adam with a momentum, a leaky slope on
//! a ReLU network) and no consumer re-decides a default.

pub(crate) use super::data_spec::{DATA_KINDS, PREPROCESS, TASKS};
pub use super::data_spec::{
    DataKind, DataSource, DataSpec, LabelColumn, Preprocess, Task, ValSplit,
};

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
