//! The study file: parse, apply `--set` overrides, validate, and resolve grid
//! points into typed configurations.
//!
//! Input: a TOML file (see `docs/study-file.md`). Output: an [`Study`],
//! which knows the fixed settings, the swept [`Axis`]es and the seeds, and
//! resolves any grid point into a checked [`Config`] with
//! [`Study::config_at`]. Nothing past this module sees TOML.
//!
//! Every setting is read key by key (not through serde derive) so that each
//! error names the file, the line where it is known, the key path and what is
//! allowed, e.g. `study.toml:12: model.width: expected an integer >= 1, got 0`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use toml::{Table, Value};

mod claims;
pub use claims::{ClaimSpec, Expect, METRICS, ReportSpec, Statistic, matches};

/// Largest number of trials a study may expand to; a typo such as
/// `width = [1, 2, ..., 100000]` should fail fast, not fill the disk.
pub const MAX_TRIALS: usize = 1_000_000;

/// An error in a study file or a `--set` override: where, which key, why.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyError {
    /// The study file (or `--set` for command-line overrides).
    pub file: String,
    /// 1-based line in the file, where it is known.
    pub line: Option<usize>,
    /// Dotted key path, e.g. `model.width` or `grid.width`.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for StudyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: ", self.file, line)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for StudyError {}

/// A problem with one key, before the file and line are attached.
#[derive(Debug, Clone, PartialEq)]
struct KeyError {
    key: String,
    message: String,
}

fn key_err(key: impl Into<String>, message: impl Into<String>) -> KeyError {
    KeyError {
        key: key.into(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------
// Typed settings
// ---------------------------------------------------------------------------

/// Which data set a study trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

const DATA_KINDS: &[(&str, DataKind)] = &[
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
}

/// Whether the network classifies (softmax cross-entropy) or regresses (MSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Softmax cross-entropy over integer class labels.
    Classification,
    /// Mean squared error on one real target.
    Regression,
}

/// How the validation set is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValSplit {
    /// An independent draw of the same size from the same generator.
    Fresh,
    /// This fraction of the rows, held out by a seeded shuffle.
    Fraction(f64),
    /// No validation set.
    None,
}

/// Which column of a CSV file holds the label or target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelColumn {
    /// The last column (the default).
    Last,
    /// A 0-based column index.
    Index(usize),
    /// A header name.
    Name(String),
}

/// The resolved `[data]` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSpec {
    /// Which data set.
    pub kind: DataKind,
    /// Number of classes (spiral, blobs; fixed at 2 for circles, moons, xor).
    pub classes: Option<usize>,
    /// Points drawn per class (synthetic classification sets).
    pub points_per_class: Option<usize>,
    /// Points drawn in all (sine).
    pub points: Option<usize>,
    /// Noise level; its meaning depends on the kind (angle noise for spiral,
    /// coordinate noise for circles/moons/xor, blob std, target noise for sine).
    pub noise: Option<f64>,
    /// Inner/outer radius ratio (circles).
    pub factor: Option<f64>,
    /// Dimension of the blobs.
    pub dims: Option<usize>,
    /// Frequency of the sine target.
    pub frequency: Option<f64>,
    /// Share of training labels replaced by another class (classification).
    pub label_noise: f64,
    /// CSV file, resolved relative to the study file. Not part of the trial
    /// id: the file's content hash is, so ids do not depend on where it lies.
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// FNV-1a hash of the CSV file's bytes (hex).
    pub file_hash: Option<String>,
    /// CSV label or target column.
    pub label_column: Option<LabelColumn>,
    /// Classification or regression.
    pub task: Task,
    /// Validation split.
    pub val: ValSplit,
    /// Standardise features with the training split's mean and std.
    pub standardize: bool,
    /// Seed of the data draw; the data set is drawn once per study.
    pub seed: u64,
}

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// 1 / (1 + e^-x)
    Sigmoid,
    /// tanh(x)
    Tanh,
    /// max(0, x)
    Relu,
    /// max(αx, x)
    LeakyRelu,
    /// max over `pieces` linear pieces
    Maxout,
}

const ACTIVATIONS: &[(&str, Activation)] = &[
    ("sigmoid", Activation::Sigmoid),
    ("tanh", Activation::Tanh),
    ("relu", Activation::Relu),
    ("leaky_relu", Activation::LeakyRelu),
    ("maxout", Activation::Maxout),
];

/// Weight initialisation (biases always start at zero).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// N(0, 2 / fan_in) (He et al. 2015).
    KaimingNormal,
    /// U(-a, a), a = sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio 2010).
    XavierUniform,
    /// N(0, init_std²).
    Normal,
}

const INITS: &[(&str, Init)] = &[
    ("kaiming_normal", Init::KaimingNormal),
    ("xavier_uniform", Init::XavierUniform),
    ("normal", Init::Normal),
];

/// The resolved `[model]` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpec {
    /// Number of hidden layers (0 = a linear model).
    pub depth: usize,
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden nonlinearity.
    pub activation: Activation,
    /// Negative slope of leaky ReLU.
    pub alpha: Option<f64>,
    /// Pieces per maxout unit.
    pub pieces: Option<usize>,
    /// Weight initialisation.
    pub init: Init,
    /// Standard deviation for `init = "normal"`.
    pub init_std: Option<f64>,
    /// Inverted-dropout drop probability on hidden activations.
    pub dropout: f64,
}

/// Optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// SGD with (optionally Nesterov) momentum.
    Sgd,
    /// Adam (Kingma and Ba 2015), L2 added to the gradient.
    Adam,
}

/// The resolved `[train]` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainSpec {
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: Option<f64>,
    /// SGD Nesterov momentum.
    pub nesterov: Option<bool>,
    /// Adam β1.
    pub beta1: Option<f64>,
    /// Adam β2.
    pub beta2: Option<f64>,
    /// Adam ε.
    pub eps: Option<f64>,
    /// Minibatch size; `None` is full batch.
    pub batch_size: Option<usize>,
    /// Passes over the training set.
    pub epochs: usize,
    /// L2 strength λ: the loss adds 0.5·λ·Σ‖W‖² over weight matrices only.
    pub l2: f64,
    /// Evaluate train and validation metrics every this many epochs (and at the end).
    pub eval_every: usize,
}

/// Everything one trial needs except its seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// Data set.
    pub data: DataSpec,
    /// Network.
    pub model: ModelSpec,
    /// Training.
    pub train: TrainSpec,
}

// ---------------------------------------------------------------------------
// Value readers: each returns a message that says what is allowed.
// ---------------------------------------------------------------------------

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

fn uint(v: &Value, min: usize, max: usize) -> Result<usize, String> {
    match v {
        Value::Integer(i) if *i >= min as i64 && *i <= max as i64 => Ok(*i as usize),
        Value::Integer(i) => Err(format!("expected an integer in {min}..={max}, got {i}")),
        other => Err(format!(
            "expected an integer in {min}..={max}, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Float(f) => Err(format!("expected a finite number, got {f}")),
        other => Err(format!(
            "expected a number, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

/// A number checked against a range; `desc` is the allowed range in words.
fn number_in(v: &Value, ok: impl Fn(f64) -> bool, desc: &str) -> Result<f64, String> {
    let x = number(v).map_err(|e| format!("{e} ({desc})"))?;
    if ok(x) {
        Ok(x)
    } else {
        Err(format!("expected {desc}, got {x}"))
    }
}

fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Boolean(b) => Ok(*b),
        other => Err(format!(
            "expected true or false, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

fn choice<T: Copy>(v: &Value, options: &[(&str, T)]) -> Result<T, String> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    match v {
        Value::String(s) => options
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                format!(
                    "unknown value \"{s}\"; expected one of: {}",
                    names.join(", ")
                )
            }),
        other => Err(format!(
            "expected one of: {}; got {} {}",
            names.join(", "),
            type_name(other),
            show(other)
        )),
    }
}

// ---------------------------------------------------------------------------
// Sections: the keys each one knows, and how to read them.
// ---------------------------------------------------------------------------

/// Keys of `[data]`.
pub const DATA_KEYS: &[&str] = &[
    "kind",
    "classes",
    "points_per_class",
    "points",
    "noise",
    "factor",
    "dims",
    "frequency",
    "label_noise",
    "path",
    "label_column",
    "task",
    "val",
    "standardize",
    "seed",
];
/// Keys of `[model]`.
pub const MODEL_KEYS: &[&str] = &[
    "depth",
    "width",
    "activation",
    "alpha",
    "pieces",
    "init",
    "init_std",
    "dropout",
];
/// Keys of `[train]`.
pub const TRAIN_KEYS: &[&str] = &[
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "beta1",
    "beta2",
    "eps",
    "batch_size",
    "epochs",
    "l2",
    "eval_every",
];

const SECTIONS: &[(&str, &[&str])] = &[
    ("data", DATA_KEYS),
    ("model", MODEL_KEYS),
    ("train", TRAIN_KEYS),
];

/// Which key decides whether `key` applies: `data.factor` only means
/// something when `data.kind` is circles, and so on.
fn decider(key: &str) -> Option<&'static str> {
    Some(match key {
        "data.classes"
        | "data.points_per_class"
        | "data.points"
        | "data.noise"
        | "data.factor"
        | "data.dims"
        | "data.frequency"
        | "data.path"
        | "data.label_column"
        | "data.task"
        | "data.label_noise" => "data.kind",
        "model.alpha" | "model.pieces" => "model.activation",
        "model.init_std" => "model.init",
        "train.momentum" | "train.nesterov" | "train.beta1" | "train.beta2" | "train.eps" => {
            "train.optimizer"
        }
        _ => return None,
    })
}

/// Builds a [`Config`] from the merged key/value pairs of one grid point.
#[derive(Default)]
struct Builder {
    values: Vec<(String, Value)>,
}

impl Builder {
    fn get(&self, key: &str) -> Option<&Value> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn read<T>(
        &self,
        key: &str,
        f: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<Option<T>, KeyError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|m| key_err(key, m)),
        }
    }

    /// Resolve every key; `applies` gets the keys that were given but do not
    /// apply to this point (e.g. `model.alpha` with ReLU).
    fn build(&self, study_dir: &Path) -> Result<(Config, Vec<String>), KeyError> {
        let mut unused = Vec::new();
        let data = self.build_data(study_dir, &mut unused)?;
        let model = self.build_model(&mut unused)?;
        let train = self.build_train(&mut unused)?;
        Ok((Config { data, model, train }, unused))
    }

    fn build_data(&self, study_dir: &Path, unused: &mut Vec<String>) -> Result<DataSpec, KeyError> {
        use DataKind::*;
        let kind = self
            .read("data.kind", |v| choice(v, DATA_KINDS))?
            .unwrap_or(Spiral);
        let applies = |key: &str| -> bool {
            match key {
                "classes" => matches!(kind, Spiral | Blobs),
                "points_per_class" => matches!(kind, Spiral | Circles | Moons | Xor | Blobs),
                "points" | "frequency" => kind == Sine,
                "noise" => kind.is_synthetic(),
                "factor" => kind == Circles,
                "dims" => kind == Blobs,
                "path" | "label_column" | "task" => kind == Csv,
                "label_noise" => kind != Sine,
                _ => true,
            }
        };
        // Read a key that only applies to some kinds: given elsewhere, it is
        // noted as unused and ignored.
        macro_rules! opt {
            ($key:literal, $f:expr) => {{
                if applies($key) {
                    self.read(concat!("data.", $key), $f)?
                } else {
                    if self.get(concat!("data.", $key)).is_some() {
                        unused.push(concat!("data.", $key).to_string());
                    }
                    None
                }
            }};
        }
        let classes = opt!("classes", |v| uint(v, 2, 1000));
        let classes = match kind {
            Spiral | Blobs => Some(classes.unwrap_or(3)),
            Circles | Moons | Xor => Some(2),
            _ => None,
        };
        let points_per_class = opt!("points_per_class", |v| uint(v, 1, 10_000_000))
            .or(applies("points_per_class").then_some(100));
        let points = opt!("points", |v| uint(v, 2, 10_000_000)).or((kind == Sine).then_some(200));
        let default_noise = match kind {
            Spiral => 0.2,
            Blobs => 1.0,
            _ => 0.1,
        };
        let noise = opt!("noise", |v| number_in(v, |x| x >= 0.0, "a number >= 0"))
            .or(kind.is_synthetic().then_some(default_noise));
        let factor = opt!("factor", |v| number_in(
            v,
            |x| x > 0.0 && x < 1.0,
            "a number in (0, 1)"
        ))
        .or((kind == Circles).then_some(0.5));
        let dims = opt!("dims", |v| uint(v, 1, 10_000)).or((kind == Blobs).then_some(2));
        let frequency = opt!("frequency", |v| number_in(v, |x| x > 0.0, "a number > 0"))
            .or((kind == Sine).then_some(1.0));
        let label_noise = opt!("label_noise", |v| number_in(
            v,
            |x| (0.0..1.0).contains(&x),
            "a number in [0, 1)"
        ))
        .unwrap_or(0.0);
        let path = opt!("path", |v| match v {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            other => Err(format!("expected a file path, got {}", show(other))),
        });
        let label_column = opt!("label_column", |v| match v {
            Value::Integer(i) if *i >= 0 => Ok(LabelColumn::Index(*i as usize)),
            Value::String(s) if !s.is_empty() => Ok(LabelColumn::Name(s.clone())),
            other => Err(format!(
                "expected a 0-based column index or a header name, got {}",
                show(other)
            )),
        });
        let task = opt!("task", |v| choice(
            v,
            &[
                ("classification", Task::Classification),
                ("regression", Task::Regression)
            ]
        ));
        let task = match kind {
            Sine => Task::Regression,
            Csv => task.unwrap_or(Task::Classification),
            _ => Task::Classification,
        };
        let mut file_hash = None;
        let path = match (kind, path) {
            (Csv, Some(p)) => {
                let p = study_dir.join(p);
                let bytes = std::fs::read(&p).map_err(|e| {
                    key_err(
                        "data.path",
                        format!(
                            "cannot read {}: {e} (paths are relative to the study file)",
                            p.display()
                        ),
                    )
                })?;
                file_hash = Some(format!("{:016x}", fnv1a(&bytes)));
                Some(p)
            }
            (Csv, None) => {
                return Err(key_err(
                    "data.path",
                    "kind = \"csv\" needs a path to a CSV file with a header row",
                ));
            }
            _ => None,
        };
        let label_column = (kind == Csv).then(|| label_column.unwrap_or(LabelColumn::Last));
        let val = self
            .read("data.val", |v| match v {
                Value::String(s) if s == "fresh" => Ok(ValSplit::Fresh),
                Value::String(s) if s == "none" => Ok(ValSplit::None),
                Value::Float(f) if *f > 0.0 && *f < 1.0 => Ok(ValSplit::Fraction(*f)),
                other => Err(format!(
                    "expected \"fresh\", \"none\" or a fraction in (0, 1), got {}",
                    show(other)
                )),
            })?
            .unwrap_or(if kind.is_synthetic() {
                ValSplit::Fresh
            } else {
                ValSplit::Fraction(0.2)
            });
        if val == ValSplit::Fresh && !kind.is_synthetic() {
            return Err(key_err(
                "data.val",
                format!(
                    "\"fresh\" needs a generator, but kind = \"{}\" is a fixed table; use a fraction such as 0.2",
                    kind_name(kind)
                ),
            ));
        }
        let standardize = self
            .read("data.standardize", boolean)?
            .unwrap_or(!kind.is_synthetic());
        let seed = self
            .read("data.seed", |v| uint(v, 0, u32::MAX as usize))?
            .unwrap_or(0) as u64;
        Ok(DataSpec {
            kind,
            classes,
            points_per_class,
            points,
            noise,
            factor,
            dims,
            frequency,
            label_noise,
            path,
            file_hash,
            label_column,
            task,
            val,
            standardize,
            seed,
        })
    }

    fn build_model(&self, unused: &mut Vec<String>) -> Result<ModelSpec, KeyError> {
        let depth = self.read("model.depth", |v| uint(v, 0, 64))?.unwrap_or(1);
        let width = self
            .read("model.width", |v| uint(v, 1, 1 << 16))?
            .unwrap_or(16);
        let activation = self
            .read("model.activation", |v| choice(v, ACTIVATIONS))?
            .unwrap_or(Activation::Relu);
        let init = self
            .read("model.init", |v| choice(v, INITS))?
            .unwrap_or(Init::KaimingNormal);
        let mut only_if = |key: &str, cond: bool| -> bool {
            if !cond && self.get(key).is_some() {
                unused.push(key.to_string());
            }
            cond
        };
        let alpha = if only_if("model.alpha", activation == Activation::LeakyRelu) {
            Some(
                self.read("model.alpha", |v| {
                    number_in(v, |x| x > 0.0 && x < 1.0, "a slope in (0, 1)")
                })?
                .unwrap_or(0.01),
            )
        } else {
            None
        };
        let pieces = if only_if("model.pieces", activation == Activation::Maxout) {
            Some(
                self.read("model.pieces", |v| {
                    uint(v, 2, 16).map_err(|e| {
                        format!("{e}: a maxout unit takes the max of at least 2 linear pieces")
                    })
                })?
                .unwrap_or(2),
            )
        } else {
            None
        };
        let init_std = if only_if("model.init_std", init == Init::Normal) {
            Some(
                self.read("model.init_std", |v| {
                    number_in(v, |x| x > 0.0, "a number > 0")
                })?
                .unwrap_or(0.01),
            )
        } else {
            None
        };
        let dropout = self
            .read("model.dropout", |v| {
                number_in(
                    v,
                    |x| (0.0..1.0).contains(&x),
                    "a drop probability in [0, 1)",
                )
            })?
            .unwrap_or(0.0);
        if dropout > 0.0 && depth == 0 {
            unused.push("model.dropout".into());
        }
        Ok(ModelSpec {
            depth,
            width,
            activation,
            alpha,
            pieces,
            init,
            init_std,
            dropout,
        })
    }

    fn build_train(&self, unused: &mut Vec<String>) -> Result<TrainSpec, KeyError> {
        let optimizer = self
            .read("train.optimizer", |v| {
                choice(v, &[("sgd", Optimizer::Sgd), ("adam", Optimizer::Adam)])
            })?
            .unwrap_or(Optimizer::Sgd);
        let sgd = optimizer == Optimizer::Sgd;
        let mut only_if = |key: &str, cond: bool| -> bool {
            if !cond && self.get(key).is_some() {
                unused.push(key.to_string());
            }
            cond
        };
        let (use_sgd, use_adam) = (
            ["train.momentum", "train.nesterov"].map(|k| only_if(k, sgd)),
            ["train.beta1", "train.beta2", "train.eps"].map(|k| only_if(k, !sgd)),
        );
        let lr = self
            .read("train.lr", |v| {
                number_in(v, |x| x > 0.0, "a learning rate > 0")
            })?
            .unwrap_or(if sgd { 0.1 } else { 1e-3 });
        let unit = |v: &Value| number_in(v, |x| (0.0..1.0).contains(&x), "a number in [0, 1)");
        let momentum = if use_sgd[0] {
            Some(self.read("train.momentum", unit)?.unwrap_or(0.9))
        } else {
            None
        };
        let nesterov = if use_sgd[1] {
            Some(self.read("train.nesterov", boolean)?.unwrap_or(false))
        } else {
            None
        };
        if nesterov == Some(true) && momentum == Some(0.0) {
            return Err(key_err(
                "train.nesterov",
                "Nesterov momentum needs train.momentum > 0",
            ));
        }
        let beta1 = if use_adam[0] {
            Some(self.read("train.beta1", unit)?.unwrap_or(0.9))
        } else {
            None
        };
        let beta2 = if use_adam[1] {
            Some(self.read("train.beta2", unit)?.unwrap_or(0.999))
        } else {
            None
        };
        let eps = if use_adam[2] {
            Some(
                self.read("train.eps", |v| number_in(v, |x| x > 0.0, "a number > 0"))?
                    .unwrap_or(1e-8),
            )
        } else {
            None
        };
        let batch_size = self
            .read("train.batch_size", |v| match v {
                Value::String(s) if s == "full" => Ok(None),
                Value::Integer(0) => Ok(None),
                Value::Integer(i) if *i > 0 => Ok(Some(*i as usize)),
                other => Err(format!(
                    "expected a positive integer, 0 or \"full\" (full batch), got {}",
                    show(other)
                )),
            })?
            .unwrap_or(Some(64));
        let epochs = self
            .read("train.epochs", |v| uint(v, 1, 10_000_000))?
            .unwrap_or(100);
        let l2 = self
            .read("train.l2", |v| number_in(v, |x| x >= 0.0, "a number >= 0"))?
            .unwrap_or(0.0);
        let eval_every = self
            .read("train.eval_every", |v| uint(v, 1, 10_000_000))?
            .unwrap_or(10);
        Ok(TrainSpec {
            optimizer,
            lr,
            momentum,
            nesterov,
            beta1,
            beta2,
            eps,
            batch_size,
            epochs,
            l2,
            eval_every,
        })
    }
}

/// 64-bit FNV-1a: a small, stable content hash (trial ids, data files).
/// Stable across platforms and releases, unlike `std`'s `DefaultHasher`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn kind_name(kind: DataKind) -> &'static str {
    DATA_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map(|(n, _)| *n)
        .unwrap_or("?")
}

// ---------------------------------------------------------------------------
// The study
// ---------------------------------------------------------------------------

/// One swept dimension: a `[grid]` key, or a `[[zip]]` group whose keys vary together.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Canonical dotted keys (`model.width`); one for a grid axis, several for a zip.
    pub keys: Vec<String>,
    /// `points[i][k]` is the value of `keys[k]` at position `i` of this axis.
    points: Vec<Vec<Value>>,
}

impl Axis {
    /// Number of positions along the axis.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the axis is empty (never true for a loaded study).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The value of key `k` at position `i`, as a [`Setting`].
    pub fn setting(&self, i: usize, k: usize) -> Setting {
        Setting::from_value(&self.points[i][k])
    }
}

/// A swept value, typed for tables: integers, floats, strings and booleans.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Setting {
    /// An integer such as a width.
    Int(i64),
    /// A float such as a learning rate.
    Float(f64),
    /// A name such as an activation.
    Str(String),
    /// A flag.
    Bool(bool),
}

impl Setting {
    fn from_value(v: &Value) -> Setting {
        match v {
            Value::Integer(i) => Setting::Int(*i),
            Value::Float(f) => Setting::Float(*f),
            Value::Boolean(b) => Setting::Bool(*b),
            Value::String(s) => Setting::Str(s.clone()),
            other => Setting::Str(other.to_string()),
        }
    }
}

/// `depth=2 width=64`: settings with their bare key names, for labels.
pub fn describe(sel: &[(String, Setting)]) -> String {
    sel.iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Int(i) => write!(f, "{i}"),
            Setting::Float(x) => write!(f, "{x}"),
            Setting::Str(s) => write!(f, "{s}"),
            Setting::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A loaded, validated study.
#[derive(Debug, Clone)]
pub struct Study {
    /// The study file as given (for messages).
    pub path: PathBuf,
    /// Study name: the results folder is `results/<name>/`.
    pub name: String,
    /// What the study asks, in a sentence.
    pub description: String,
    /// Trial seeds: each configuration is trained once per seed.
    pub seeds: Vec<u64>,
    /// Swept axes in file order (`[grid]` keys first, then `[[zip]]` groups).
    pub axes: Vec<Axis>,
    /// Fixed settings as (canonical key, value), after overrides.
    base: Vec<(String, Value)>,
    /// Report settings and the study's claims.
    pub report: ReportSpec,
    /// The study after overrides, as TOML: what `study.toml` in the results holds.
    pub resolved_toml: String,
    /// Folder of the study file: relative data paths start here.
    dir: PathBuf,
    src: String,
}

/// Parse and validate a study file with `--set` overrides (`key=value`).
pub fn load(path: &Path, overrides: &[String]) -> Result<Study, StudyError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| StudyError {
        file: file.clone(),
        line: None,
        key: String::new(),
        message: format!("cannot read the study file: {e}"),
    })?;
    from_str(&src, path, overrides)
}

/// Like [`load`], from text already read; `path` names the file in messages
/// and anchors relative data paths.
pub fn from_str(src: &str, path: &Path, overrides: &[String]) -> Result<Study, StudyError> {
    let file = path.display().to_string();
    let mut doc: Table = src.parse().map_err(|e: toml::de::Error| StudyError {
        file: file.clone(),
        line: e.span().map(|s| line_of(src, s.start)),
        key: String::new(),
        message: format!("invalid TOML: {}", e.message().trim()),
    })?;
    let mut set_keys = Vec::new();
    for o in overrides {
        let key = apply_override(&mut doc, o).map_err(|e| StudyError {
            file: "--set".into(),
            line: None,
            key: e.key,
            message: e.message,
        })?;
        set_keys.push(key);
    }
    // The stored study must still find a CSV from inside the results folder.
    if let Some(Value::Table(data)) = doc.get_mut("data")
        && let Some(Value::String(p)) = data.get_mut("path")
    {
        let abs = path.parent().unwrap_or(Path::new("")).join(&*p);
        if let Ok(abs) = abs.canonicalize() {
            *p = abs.display().to_string();
        }
    }
    let resolved_toml = toml::to_string(&doc).expect("a parsed TOML table serialises");
    build(doc, src, path, &resolved_toml).map_err(|e| {
        // Blame a value given with --set on the command line, not the file.
        // Compare keys whatever their spelling (plain, dotted, under grid.).
        let norm = |k: &str| {
            let k = k.strip_prefix("grid.").unwrap_or(k);
            canonical(k).unwrap_or_else(|_| k.to_string())
        };
        let from_set = set_keys.iter().any(|k| norm(k) == norm(&e.key));
        StudyError {
            line: if from_set { None } else { locate(src, &e.key) },
            file: if from_set { "--set".into() } else { file },
            key: e.key,
            message: e.message,
        }
    })
}

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

/// Best-effort line of a dotted key in the source: the `[section]` header,
/// then the key inside it. Used only to point people at the right line.
fn locate(src: &str, key: &str) -> Option<usize> {
    let (section, name) = match key.split_once('.') {
        Some((s, rest)) => (s, rest.split('[').next().unwrap_or(rest)),
        None => ("", key),
    };
    let mut current = String::new();
    let mut fallback = None;
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[') {
            current = h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
            if current == key {
                return Some(i + 1);
            }
            continue;
        }
        let k = t.split('=').next().unwrap_or("").trim().trim_matches('"');
        if t.contains('=')
            && (k == name || k == key)
            && (current == section || section.is_empty() || current == "grid")
        {
            if current == section || section.is_empty() {
                return Some(i + 1);
            }
            fallback.get_or_insert(i + 1);
        }
        let plain = key.rsplit('.').next().unwrap_or(key);
        if t.contains('=') && k == plain && (current == "grid" || current == "zip") {
            fallback.get_or_insert(i + 1);
        }
    }
    fallback
}

/// `--set key=value`: the value is read as TOML (`8`, `0.1`, `[4, 8]`,
/// `"relu"`) and as a bare string when it is not valid TOML (`relu`).
/// Setting a swept key to a single value removes it from the grid.
fn apply_override(doc: &mut Table, spec: &str) -> Result<String, KeyError> {
    let (key, raw) = spec
        .split_once('=')
        .ok_or_else(|| key_err(spec, "expected key=value, e.g. --set train.epochs=5"))?;
    let key = key.trim();
    let raw = raw.trim();
    let value = match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t.remove("v").expect("the key parsed"),
        Err(_) => Value::String(raw.to_string()),
    };
    if key.is_empty() {
        return Err(key_err(
            spec,
            "expected key=value, e.g. --set train.epochs=5",
        ));
    }
    if matches!(key, "name" | "description" | "seeds") {
        doc.insert(key.to_string(), value);
        return Ok(key.to_string());
    }
    if let Some(grid_key) = key.strip_prefix("grid.") {
        let canon = canonical(grid_key).map_err(|m| key_err(key, m))?;
        let grid = doc
            .entry("grid")
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(grid) = grid else {
            return Err(key_err("grid", "expected a table"));
        };
        remove_grid_key(grid, &canon);
        grid.insert(canon.clone(), value);
        // The form `Study::blame` gives errors on grid values.
        return Ok(format!(
            "grid.{}",
            canon.split_once('.').map(|(_, n)| n).unwrap_or(&canon)
        ));
    }
    let canon = canonical(key).map_err(|m| key_err(key, m))?;
    // A scalar for a swept key pins it: drop it from the grid.
    if let Some(Value::Table(grid)) = doc.get_mut("grid") {
        remove_grid_key(grid, &canon);
    }
    let (section, name) = canon.split_once('.').expect("canonical keys are dotted");
    let sec = doc
        .entry(section)
        .or_insert_with(|| Value::Table(Table::new()));
    let Value::Table(sec) = sec else {
        return Err(key_err(section, "expected a table"));
    };
    sec.insert(name.to_string(), value);
    Ok(canon)
}

/// Remove a key from `[grid]` whatever spelling the file used (plain,
/// dotted, or nested table).
fn remove_grid_key(grid: &mut Table, canon: &str) {
    let (section, name) = canon.split_once('.').expect("canonical keys are dotted");
    grid.retain(|k, _| canonical(k).map(|c| c != canon).unwrap_or(true));
    if let Some(Value::Table(sub)) = grid.get_mut(section) {
        sub.remove(name);
    }
}

/// Plain names resolve to the one section that has them; dotted names must
/// name a section and one of its keys.
fn canonical(key: &str) -> Result<String, String> {
    if let Some((section, name)) = key.split_once('.') {
        return match SECTIONS.iter().find(|(s, _)| *s == section) {
            Some((_, keys)) if keys.contains(&name) => Ok(key.to_string()),
            Some((_, keys)) => Err(format!(
                "unknown key \"{name}\" in [{section}]; known keys: {}",
                keys.join(", ")
            )),
            None => Err(format!(
                "unknown section \"{section}\"; sections that can be swept: data, model, train"
            )),
        };
    }
    let owners: Vec<&str> = SECTIONS
        .iter()
        .filter(|(_, keys)| keys.contains(&key))
        .map(|(s, _)| *s)
        .collect();
    match owners.as_slice() {
        [one] => Ok(format!("{one}.{key}")),
        [] => Err(format!(
            "unknown key \"{key}\"; known keys: {}",
            SECTIONS
                .iter()
                .flat_map(|(s, ks)| ks.iter().map(move |k| format!("{s}.{k}")))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "\"{key}\" is ambiguous; write one of: {}",
            many.iter()
                .map(|s| format!("{s}.{key}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "seeds",
    "data",
    "model",
    "train",
    "grid",
    "zip",
    "report",
    "claims",
];

fn build(doc: Table, src: &str, path: &Path, resolved_toml: &str) -> Result<Study, KeyError> {
    for key in doc.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            return Err(key_err(
                key.as_str(),
                format!("unknown key; the top level has: {}", TOP_KEYS.join(", ")),
            ));
        }
    }
    let name = match doc.get("name") {
        Some(Value::String(s))
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            s.clone()
        }
        Some(other) => {
            return Err(key_err(
                "name",
                format!(
                    "expected a name of letters, digits, _ and -, got {}",
                    show(other)
                ),
            ));
        }
        None => {
            return Err(key_err(
                "name",
                "missing: every study needs a name (it names the results folder)",
            ));
        }
    };
    let description = match doc.get("description") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(key_err(
                "description",
                format!("expected a string, got {}", show(other)),
            ));
        }
    };
    let seeds = match doc.get("seeds") {
        None => vec![0],
        Some(Value::Integer(n)) if *n >= 1 && *n <= 100_000 => (0..*n as u64).collect(),
        Some(Value::Array(list)) if !list.is_empty() => {
            let mut seeds = Vec::new();
            for v in list {
                let s = uint(v, 0, u32::MAX as usize).map_err(|m| key_err("seeds", m))? as u64;
                if seeds.contains(&s) {
                    return Err(key_err(
                        "seeds",
                        format!("seed {s} is listed twice; seeds are replicates and must differ"),
                    ));
                }
                seeds.push(s);
            }
            seeds
        }
        Some(other) => {
            return Err(key_err(
                "seeds",
                format!(
                    "expected a count >= 1 or a non-empty list of seeds, got {}",
                    show(other)
                ),
            ));
        }
    };

    let mut base = Vec::new();
    for (section, keys) in SECTIONS {
        match doc.get(*section) {
            None => {}
            Some(Value::Table(t)) => {
                for (k, v) in t {
                    if !keys.contains(&k.as_str()) {
                        return Err(key_err(
                            format!("{section}.{k}"),
                            format!("unknown key; [{section}] has: {}", keys.join(", ")),
                        ));
                    }
                    if matches!(v, Value::Array(_) | Value::Table(_)) {
                        return Err(key_err(
                            format!("{section}.{k}"),
                            format!(
                                "expected a single value, got {}; to sweep it, put the list under [grid]",
                                type_name(v)
                            ),
                        ));
                    }
                    base.push((format!("{section}.{k}"), v.clone()));
                }
            }
            Some(other) => {
                return Err(key_err(
                    *section,
                    format!("expected a table, got {}", type_name(other)),
                ));
            }
        }
    }

    let mut axes: Vec<Axis> = Vec::new();
    let mut seen = Vec::<String>::new();
    let mut claim = |canon: &str, key: &str| -> Result<(), KeyError> {
        if seen.iter().any(|s| s == canon) {
            return Err(key_err(
                key,
                format!("{canon} is swept twice; a key may appear on one axis only"),
            ));
        }
        seen.push(canon.to_string());
        Ok(())
    };
    if let Some(grid) = doc.get("grid") {
        let Value::Table(grid) = grid else {
            return Err(key_err("grid", "expected a table of lists"));
        };
        for (key, list) in flatten(grid, "") {
            let path = format!("grid.{key}");
            let canon = canonical(&key).map_err(|m| key_err(&path, m))?;
            claim(&canon, &path)?;
            let values = grid_list(&list, &path, true)?;
            axes.push(Axis {
                keys: vec![canon],
                points: values.into_iter().map(|v| vec![v]).collect(),
            });
        }
    }
    if let Some(zips) = doc.get("zip") {
        let Value::Array(zips) = zips else {
            return Err(key_err(
                "zip",
                "expected [[zip]] tables of lists that vary together",
            ));
        };
        for (z, group) in zips.iter().enumerate() {
            let Value::Table(group) = group else {
                return Err(key_err(format!("zip[{z}]"), "expected a table of lists"));
            };
            let mut keys = Vec::new();
            let mut lists = Vec::new();
            for (key, list) in flatten(group, "") {
                let path = format!("zip[{z}].{key}");
                let canon = canonical(&key).map_err(|m| key_err(&path, m))?;
                claim(&canon, &path)?;
                lists.push(grid_list(&list, &path, false)?);
                keys.push(canon);
            }
            if keys.is_empty() {
                return Err(key_err(format!("zip[{z}]"), "empty [[zip]] group"));
            }
            let n = lists[0].len();
            if let Some(k) = lists.iter().position(|l| l.len() != n) {
                return Err(key_err(
                    format!("zip[{z}].{}", keys[k]),
                    format!(
                        "has {} values but {} has {n}; keys in one [[zip]] vary together and need lists of equal length",
                        lists[k].len(),
                        keys[0]
                    ),
                ));
            }
            let points: Vec<Vec<Value>> = (0..n)
                .map(|i| lists.iter().map(|l| l[i].clone()).collect())
                .collect();
            for (i, p) in points.iter().enumerate() {
                let same = |q: &Vec<Value>| q.iter().zip(p).all(|(a, b)| same_value(a, b));
                if points[..i].iter().any(same) {
                    let shown: Vec<String> = p.iter().map(show).collect();
                    return Err(key_err(
                        format!("zip[{z}]"),
                        format!("the point ({}) is listed twice", shown.join(", ")),
                    ));
                }
            }
            axes.push(Axis { keys, points });
        }
    }

    let configs: usize = axes.iter().map(Axis::len).product();
    if configs.saturating_mul(seeds.len()) > MAX_TRIALS {
        return Err(key_err(
            "grid",
            format!(
                "{configs} configurations × {} seeds exceeds the limit of {MAX_TRIALS} trials",
                seeds.len()
            ),
        ));
    }
    let mut exp = Study {
        report: ReportSpec::default(),
        path: path.to_path_buf(),
        name,
        description,
        seeds,
        axes,
        base,
        resolved_toml: resolved_toml.to_string(),
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        src: src.to_string(),
    };
    // Validate every grid point now, so a bad value fails before any training.
    let mut regression = false;
    for i in 0..configs {
        regression |= exp.resolve(&exp.coords(i))?.data.task == Task::Regression;
    }
    exp.report = claims::parse(
        doc.get("report"),
        doc.get("claims"),
        &exp.axes,
        canonical,
        regression,
    )?;
    Ok(exp)
}

/// Flatten `[grid]`: `width = [..]`, `"train.lr" = [..]` and `train.lr = [..]`
/// (a nested table) all become (key, list).
fn flatten(t: &Table, prefix: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(sub) => out.extend(flatten(sub, &key)),
            other => out.push((key, other.clone())),
        }
    }
    out
}

/// A list of values to sweep. `distinct`: no value twice (grid axes; a
/// zip's lists may repeat values as long as the tuples differ).
fn grid_list(v: &Value, path: &str, distinct: bool) -> Result<Vec<Value>, KeyError> {
    let Value::Array(list) = v else {
        return Err(key_err(
            path,
            format!(
                "expected a non-empty list of values to sweep, got {} {}",
                type_name(v),
                show(v)
            ),
        ));
    };
    if list.is_empty() {
        return Err(key_err(
            path,
            "expected a non-empty list of values to sweep, got []",
        ));
    }
    for (i, x) in list.iter().enumerate() {
        if matches!(x, Value::Array(_) | Value::Table(_)) {
            return Err(key_err(
                path,
                format!(
                    "expected single values, got {} at position {i}",
                    type_name(x)
                ),
            ));
        }
        if distinct && list[..i].iter().any(|y| same_value(x, y)) {
            return Err(key_err(path, format!("value {} is listed twice", show(x))));
        }
    }
    Ok(list.clone())
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => {
            *x as f64 == *y
        }
        _ => a == b,
    }
}

impl Study {
    /// Number of configurations: the product of the axis lengths.
    pub fn n_configs(&self) -> usize {
        self.axes.iter().map(Axis::len).product()
    }

    /// Mixed-radix digits of configuration `i`, first axis outermost.
    pub fn coords(&self, mut i: usize) -> Vec<usize> {
        let mut c = vec![0; self.axes.len()];
        for (a, axis) in self.axes.iter().enumerate().rev() {
            c[a] = i % axis.len();
            i /= axis.len();
        }
        c
    }

    /// The checked configuration at grid position `coords`.
    pub fn config_at(&self, coords: &[usize]) -> Result<Config, StudyError> {
        self.resolve(coords).map_err(|e| StudyError {
            file: self.path.display().to_string(),
            line: locate(&self.src, &e.key),
            key: e.key,
            message: e.message,
        })
    }

    fn resolve(&self, coords: &[usize]) -> Result<Config, KeyError> {
        let mut b = Builder {
            values: self.base.clone(),
        };
        for (axis, &i) in self.axes.iter().zip(coords) {
            for (k, key) in axis.keys.iter().enumerate() {
                b.values.push((key.clone(), axis.points[i][k].clone()));
            }
        }
        let (config, unused) = b.build(&self.dir).map_err(|e| self.blame(e, coords))?;
        // A key that does not apply is an error when it was fixed in the file
        // and its deciding key is not swept; across a sweep it is just unused.
        for key in unused {
            let swept = |k: &str| self.axes.iter().any(|a| a.keys.iter().any(|x| x == k));
            let decided_by_sweep = decider(&key).map(swept).unwrap_or(false);
            if !swept(&key) && !decided_by_sweep {
                let why = match decider(&key) {
                    Some(d) => format!("does not apply with this {d}; remove it or change {d}"),
                    None => "has no effect without hidden layers (model.depth = 0)".to_string(),
                };
                return Err(key_err(key, why));
            }
        }
        Ok(config)
    }

    /// Point an error on a swept key at the grid entry that set it.
    fn blame(&self, e: KeyError, coords: &[usize]) -> KeyError {
        for (axis, &i) in self.axes.iter().zip(coords) {
            if let Some(k) = axis.keys.iter().position(|k| *k == e.key) {
                return key_err(
                    format!(
                        "grid.{}",
                        e.key.split_once('.').map(|(_, n)| n).unwrap_or(&e.key)
                    ),
                    format!("value {}: {}", show(&axis.points[i][k]), e.message),
                );
            }
        }
        e
    }

    /// The fixed settings that were given explicitly, as (key, value) for display.
    pub fn fixed_settings(&self) -> Vec<(String, Setting)> {
        self.base
            .iter()
            .map(|(k, v)| (k.clone(), Setting::from_value(v)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str, sets: &[&str]) -> Result<Study, StudyError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        from_str(src, Path::new("study.toml"), &sets)
    }

    const BASE: &str = r#"
name = "t"
seeds = 3
[model]
activation = "relu"
[train]
lr = 0.1
[grid]
depth = [1, 2, 3]
width = [4, 16, 64, 256]
l2 = [0.0, 1e-3]
dropout = [0.0, 0.5]
"#;

    #[test]
    fn grid_expands_to_the_product() {
        let e = parse(BASE, &[]).unwrap();
        assert_eq!(e.n_configs(), 3 * 4 * 2 * 2);
        assert_eq!(e.seeds, vec![0, 1, 2]);
        let keys: Vec<_> = e.axes.iter().map(|a| a.keys[0].as_str()).collect();
        assert_eq!(
            keys,
            ["model.depth", "model.width", "train.l2", "model.dropout"]
        );
        // Last axis varies fastest.
        let c = e.config_at(&e.coords(1)).unwrap();
        assert_eq!(
            (c.model.depth, c.model.width, c.train.l2, c.model.dropout),
            (1, 4, 0.0, 0.5)
        );
        let c = e.config_at(&e.coords(e.n_configs() - 1)).unwrap();
        assert_eq!(
            (c.model.depth, c.model.width, c.train.l2, c.model.dropout),
            (3, 256, 1e-3, 0.5)
        );
    }

    #[test]
    fn set_overrides_scalars_and_grid_lists() {
        let e = parse(
            BASE,
            &[
                "seeds=2",
                "train.epochs=5",
                "grid.width=[8]",
                "depth=2",
                "activation=tanh",
            ],
        )
        .unwrap();
        assert_eq!(e.seeds, vec![0, 1]);
        assert_eq!(e.n_configs(), 2 * 2);
        let c = e.config_at(&e.coords(0)).unwrap();
        assert_eq!(c.train.epochs, 5);
        assert_eq!(c.model.width, 8);
        assert_eq!(c.model.depth, 2, "a scalar --set pins a swept key");
        assert_eq!(
            c.model.activation,
            Activation::Tanh,
            "bare strings are accepted"
        );
        assert!(e.resolved_toml.contains("epochs = 5"));
    }

    #[test]
    fn dotted_and_nested_grid_keys_and_zip() {
        let src = r#"
name = "z"
[grid]
"train.lr" = [0.1, 0.01]
model.width = [2, 3]
[[zip]]
activation = ["relu", "tanh"]
init = ["kaiming_normal", "xavier_uniform"]
"#;
        let e = parse(src, &[]).unwrap();
        assert_eq!(e.n_configs(), 2 * 2 * 2);
        assert_eq!(e.axes[2].keys, ["model.activation", "model.init"]);
        let c = e.config_at(&e.coords(7)).unwrap();
        assert_eq!(
            (c.train.lr, c.model.width, c.model.activation, c.model.init),
            (0.01, 3, Activation::Tanh, Init::XavierUniform)
        );
    }

    fn err(src: &str, sets: &[&str]) -> String {
        parse(src, sets).unwrap_err().to_string()
    }

    #[test]
    fn bad_input_names_file_key_and_what_is_allowed() {
        let cases: &[(&str, &[&str], &str)] = &[
            (
                "name = \"a\"\n[model]\nwidth = 0\n",
                &[],
                "study.toml:3: model.width: expected an integer in 1..=65536, got 0",
            ),
            (
                "name = \"a\"\n[model]\ndropout = 1.0\n",
                &[],
                "model.dropout: expected a drop probability in [0, 1), got 1",
            ),
            (
                "name = \"a\"\n[train]\nl2 = -1e-3\n",
                &[],
                "train.l2: expected a number >= 0, got -0.001",
            ),
            (
                "name = \"a\"\n[grid]\nwidth = []\n",
                &[],
                "study.toml:3: grid.width: expected a non-empty list",
            ),
            (
                "name = \"a\"\n[model]\nactivation = \"swish\"\n",
                &[],
                "model.activation: unknown value \"swish\"; expected one of: sigmoid, tanh, relu, leaky_relu, maxout",
            ),
            (
                "name = \"a\"\n[model]\nwidht = 3\n",
                &[],
                "study.toml:3: model.widht: unknown key; [model] has: depth, width",
            ),
            (
                "name = \"a\"\n[data]\nkind = \"csv\"\npath = \"nope.csv\"\n",
                &[],
                "data.path: cannot read nope.csv",
            ),
            (
                "name = \"a\"\n[grid]\nwidth = [4, 0]\n",
                &[],
                "grid.width: value 0: expected an integer in 1..=65536, got 0",
            ),
            (
                "name = \"a\"\n[grid]\nwidth = [4, 4]\n",
                &[],
                "grid.width: value 4 is listed twice",
            ),
            (
                "name = \"a\"\n[model]\nactivation = \"maxout\"\npieces = 1\n",
                &[],
                "model.pieces: expected an integer in 2..=16, got 1",
            ),
            (
                "name = \"a\"\n[model]\nalpha = 0.1\n",
                &[],
                "model.alpha: does not apply with this model.activation",
            ),
            (
                "name = \"a\"\nwidth = 3\n",
                &[],
                "study.toml:2: width: unknown key; the top level has",
            ),
            ("name = \"a\"\n[model\n", &[], "study.toml:2: invalid TOML"),
            (
                "name = \"a\"\n[train]\nepochs = \"ten\"\n",
                &[],
                "train.epochs: expected an integer in 1..=10000000, got a string \"ten\"",
            ),
            (
                "name = \"a\"\n",
                &["train.epoch=5"],
                "--set: train.epoch: unknown key \"epoch\" in [train]",
            ),
            (
                "name = \"a\"\n",
                &["epochs"],
                "--set: epochs: expected key=value",
            ),
            (
                "name = \"a\"\n",
                &["grid.width=[2, 0]"],
                "--set: grid.width: value 0: expected an integer in 1..=65536",
            ),
            (
                "name = \"a\"\n",
                &["train.lr=-1"],
                "--set: train.lr: expected a learning rate > 0, got -1",
            ),
            (
                "name = \"a\"\n[data]\nkind = \"iris\"\nval = \"fresh\"\n",
                &[],
                "data.val: \"fresh\" needs a generator",
            ),
            ("seeds = 2\n", &[], "study.toml: name: missing"),
            (
                "name = \"a\"\nseeds = [1, 1]\n",
                &[],
                "seeds: seed 1 is listed twice",
            ),
            (
                "name = \"a\"\n[grid]\nwidth = [1]\n[[zip]]\nwidth = [2]\n",
                &[],
                "zip[0].width: model.width is swept twice",
            ),
            (
                "name = \"a\"\n[[zip]]\nwidth = [1, 2]\ndepth = [1]\n",
                &[],
                "zip[0].model.depth: has 1 values but model.width has 2",
            ),
        ];
        for (src, sets, want) in cases {
            let got = err(src, sets);
            assert!(
                got.contains(want),
                "for {src:?} {sets:?}\n got: {got}\nwant: {want}"
            );
        }
    }

    #[test]
    fn inapplicable_keys_are_fine_when_their_decider_is_swept() {
        let src =
            "name = \"a\"\n[model]\nalpha = 0.1\n[grid]\nactivation = [\"relu\", \"leaky_relu\"]\n";
        let e = parse(src, &[]).unwrap();
        assert_eq!(e.config_at(&[0]).unwrap().model.alpha, None);
        assert_eq!(e.config_at(&[1]).unwrap().model.alpha, Some(0.1));
    }

    #[test]
    fn every_listed_key_resolves_in_the_grid() {
        for (section, keys) in SECTIONS {
            for k in *keys {
                assert_eq!(
                    canonical(&format!("{section}.{k}")).unwrap(),
                    format!("{section}.{k}")
                );
            }
        }
        assert_eq!(canonical("lr").unwrap(), "train.lr");
        assert_eq!(canonical("seed").unwrap(), "data.seed");
    }
}
