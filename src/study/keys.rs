//! The key table: every `[data]`, `[model]` and `[train]` key stated once,
//! with its type and range, default, the key that decides whether it
//! applies, and a one-line doc. Parsing, validation, "does not apply"
//! errors, `--set`, the "known keys" lists and the key reference in
//! `docs/study-file.md` all read this table (as ripgrep's flag table drives
//! its parser and its help), so adding a key is one row here plus its use.
//! The sections that are not swept have rows of the same form in
//! `sections.rs`.
//!
//! Rows are in the order keys are resolved and listed: a key that decides
//! (`data.kind`, `model.activation`, `model.init`, `train.optimizer`) comes
//! before the keys it decides.

use toml::Value;

use super::spec::{
    ACTIVATIONS, Batch, DATA_KINDS, INITS, LabelColumn, OPTIMIZERS, PREPROCESS, SCHEDULES, TASKS,
    ValSplit,
};
use super::values::got;

/// A resolved value of one key, before it is placed in a typed spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A count or index.
    Int(usize),
    /// A real number.
    Float(f64),
    /// A flag.
    Bool(bool),
    /// One of a [`Type::Choice`]'s names.
    Name(&'static str),
    /// Free text (a file path).
    Text(String),
    /// `data.label_column`.
    Label(LabelColumn),
    /// `data.val`.
    Split(ValSplit),
    /// `train.batch_size`.
    Batch(Batch),
}

/// What a key accepts.
pub enum Type {
    /// An integer in `min..=max`; `hint` follows a range error.
    Int {
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
        /// Appended to a range error, e.g. why the minimum is what it is.
        hint: &'static str,
    },
    /// A finite number passing `ok`; `allowed` says which, in words.
    Float {
        /// The range check.
        ok: fn(f64) -> bool,
        /// The range in words, e.g. "a number >= 0".
        allowed: &'static str,
    },
    /// `true` or `false`.
    Bool,
    /// One of these names.
    Choice(&'static [&'static str]),
    /// A value with its own reader (paths, splits, batch sizes).
    Special {
        /// The reader; its error says what is allowed.
        read: fn(&Value) -> Result<Val, String>,
        /// What is allowed, for the docs.
        allowed: &'static str,
    },
    /// Any string.
    Text,
    /// A table of its own (a section, `this`, `where`): never a single
    /// value, so never `--set` whole; the text says what it holds (docs).
    Table(&'static str),
    /// A value its section's code reads, with what it needs from the rest
    /// of the study (seed lists, distribution bounds); the text says what
    /// is allowed (docs).
    Own(&'static str),
}

/// The value a key takes when the study does not give one.
pub enum Default {
    /// Always this value.
    Is(Val),
    /// Computed from the keys resolved before it; the text says how (docs).
    By(fn(&Values) -> Val, &'static str),
    /// No default: the message says what is missing.
    Required(&'static str),
    /// No value unless given; the text says what that means (docs).
    Unset(&'static str),
}

/// When a key means something, decided by an earlier key.
pub struct Applies {
    /// The deciding key: `model.activation`; in a section, a key of the
    /// same section (`strategy`).
    pub decider: &'static str,
    /// Whether the key applies.
    pub when: When,
    /// Where it applies, in words (docs).
    pub doc: &'static str,
    /// A section key's refusal where it does not apply: after "applies to
    /// decider = ...; " for [`When::Named`], the whole message for
    /// [`When::Given`]. (`[data]`, `[model]`, `[train]` keys are refused
    /// by the study, `Study::not_applying`.)
    pub why: &'static str,
}

/// How a key's deciding key decides.
#[derive(Clone, Copy)]
pub enum When {
    /// Given the keys resolved before it (`[data]`, `[model]`, `[train]`).
    Resolved(fn(&Values) -> bool),
    /// In a section: when the deciding key takes one of these names.
    Named(&'static [&'static str]),
    /// In a section: when the deciding key is given.
    Given,
}

impl Applies {
    /// Whether a `[data]`/`[model]`/`[train]` key applies, given the keys
    /// resolved before it (a section's keys are checked by its reader,
    /// `Fields::check_applies`).
    pub fn holds(&self, v: &Values) -> bool {
        match self.when {
            When::Resolved(f) => f(v),
            When::Named(_) | When::Given => true,
        }
    }
}

/// One study key.
pub struct Key {
    /// `data`, `model` or `train`.
    pub section: &'static str,
    /// The key's name inside its section.
    pub name: &'static str,
    /// What it accepts.
    pub ty: Type,
    /// Its value when not given.
    pub default: Default,
    /// When it applies; `None` is always.
    pub applies: Option<Applies>,
    /// What it means, in one line.
    pub doc: &'static str,
}

impl Key {
    /// `section.name`, or `name` at the top level.
    pub fn path(&self) -> String {
        if self.section.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.section, self.name)
        }
    }
}

/// The resolved values of one grid point, aligned with [`KEYS`]; `None`
/// where a key does not apply.
#[derive(Debug, Clone, Default)]
pub struct Values(pub Vec<Option<Val>>);

impl Values {
    /// The value of `path` (`section.name`), if it applies.
    pub fn get(&self, path: &str) -> Option<&Val> {
        let i = index(path).unwrap_or_else(|| panic!("{path} is not in the key table"));
        self.0.get(i).and_then(Option::as_ref)
    }

    /// A choice key's name ("" when it does not apply).
    pub fn name(&self, path: &str) -> &'static str {
        match self.get(path) {
            Some(Val::Name(n)) => n,
            _ => "",
        }
    }

    /// An integer key's value; the key must apply.
    pub fn int(&self, path: &str) -> usize {
        match self.get(path) {
            Some(Val::Int(i)) => *i,
            other => panic!("{path}: expected a resolved integer, got {other:?}"),
        }
    }

    /// A number key's value; the key must apply.
    pub fn float(&self, path: &str) -> f64 {
        match self.get(path) {
            Some(Val::Float(x)) => *x,
            other => panic!("{path}: expected a resolved number, got {other:?}"),
        }
    }

    /// A flag key's value; the key must apply.
    pub fn flag(&self, path: &str) -> bool {
        match self.get(path) {
            Some(Val::Bool(b)) => *b,
            other => panic!("{path}: expected a resolved flag, got {other:?}"),
        }
    }
}

/// Position of `section.name` in [`KEYS`].
pub fn index(path: &str) -> Option<usize> {
    let (section, name) = path.split_once('.')?;
    KEYS.iter()
        .position(|k| k.section == section && k.name == name)
}

/// The sections that hold keys, in order.
pub const SECTIONS: &[&str] = &["data", "model", "train"];

/// The names of a section's keys, in table order.
pub fn names(section: &str) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|k| k.section == section)
        .map(|k| k.name)
        .collect()
}

/// The canonical `section.name` of a key as written: plain names resolve to
/// the one section that has them; dotted names must name a section and one
/// of its keys. The error lists the known keys.
pub fn canonical(key: &str) -> Result<String, String> {
    if let Some((section, name)) = key.split_once('.') {
        if !SECTIONS.contains(&section) {
            return Err(format!(
                "unknown section \"{section}\"; sections that can be swept: {}",
                SECTIONS.join(", ")
            ));
        }
        let known = names(section);
        return if known.contains(&name) {
            Ok(key.to_string())
        } else {
            Err(format!(
                "unknown key \"{name}\" in [{section}]; known keys: {}",
                known.join(", ")
            ))
        };
    }
    let owners: Vec<&str> = KEYS
        .iter()
        .filter(|k| k.name == key)
        .map(|k| k.section)
        .collect();
    match owners.as_slice() {
        [one] => Ok(format!("{one}.{key}")),
        [] => Err(format!(
            "unknown key \"{key}\"; known keys: {}",
            KEYS.iter().map(Key::path).collect::<Vec<_>>().join(", ")
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

// --- predicates and computed defaults: the only code the table points at ---

fn synthetic(v: &Values) -> bool {
    matches!(
        v.name("data.kind"),
        "spiral" | "circles" | "moons" | "xor" | "blobs" | "sine"
    )
}
fn many_classes(v: &Values) -> bool {
    matches!(v.name("data.kind"), "spiral" | "blobs")
}
fn per_class(v: &Values) -> bool {
    matches!(
        v.name("data.kind"),
        "spiral" | "circles" | "moons" | "xor" | "blobs"
    )
}
fn sine(v: &Values) -> bool {
    v.name("data.kind") == "sine"
}
fn not_sine(v: &Values) -> bool {
    !sine(v)
}
fn circles(v: &Values) -> bool {
    v.name("data.kind") == "circles"
}
fn blobs(v: &Values) -> bool {
    v.name("data.kind") == "blobs"
}
fn one_file(v: &Values) -> bool {
    matches!(v.name("data.kind"), "csv" | "npz" | "parquet")
}
fn labelled_table(v: &Values) -> bool {
    matches!(v.name("data.kind"), "csv" | "parquet")
}
fn any_task(v: &Values) -> bool {
    matches!(v.name("data.kind"), "csv" | "parquet" | "npy" | "npz")
}
fn idx(v: &Values) -> bool {
    v.name("data.kind") == "idx"
}
fn arrays(v: &Values) -> bool {
    matches!(v.name("data.kind"), "npy" | "npz")
}
fn read_rows(v: &Values) -> bool {
    !synthetic(v)
}
fn leaky(v: &Values) -> bool {
    v.name("model.activation") == "leaky_relu"
}
fn maxout(v: &Values) -> bool {
    v.name("model.activation") == "maxout"
}
fn normal_init(v: &Values) -> bool {
    v.name("model.init") == "normal"
}
fn sgd(v: &Values) -> bool {
    v.name("train.optimizer") == "sgd"
}
fn adam(v: &Values) -> bool {
    v.name("train.optimizer") == "adam"
}
fn adaptive(v: &Values) -> bool {
    matches!(v.name("train.optimizer"), "adam" | "adagrad" | "rmsprop")
}
fn rmsprop(v: &Values) -> bool {
    v.name("train.optimizer") == "rmsprop"
}
fn step_schedule(v: &Values) -> bool {
    v.name("train.schedule") == "step"
}
fn decaying(v: &Values) -> bool {
    matches!(v.name("train.schedule"), "exponential" | "inverse_time")
}

fn default_noise(v: &Values) -> Val {
    Val::Float(match v.name("data.kind") {
        "spiral" => 0.2,
        "blobs" => 1.0,
        _ => 0.1,
    })
}
fn default_val(v: &Values) -> Val {
    Val::Split(if synthetic(v) {
        ValSplit::Fresh
    } else if v.name("data.kind") == "fashion_mnist" || v.get("data.val_images").is_some() {
        ValSplit::Test
    } else {
        ValSplit::Fraction(0.2)
    })
}
fn default_standardize(v: &Values) -> Val {
    Val::Bool(!synthetic(v) && !matches!(v.name("data.kind"), "idx" | "fashion_mnist"))
}
fn default_lr(v: &Values) -> Val {
    Val::Float(match v.name("train.optimizer") {
        "sgd" => 0.1,
        "adam" => 1e-3,
        _ => 1e-2,
    })
}

fn read_path(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(Val::Text(s.clone())),
        other => Err(format!("expected a file path, got {}", got(other))),
    }
}
fn read_text(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if !s.is_empty() => Ok(Val::Text(s.clone())),
        other => Err(format!(
            "expected a file path (npy) or an array name (npz), got {}",
            got(other)
        )),
    }
}
fn read_label_column(v: &Value) -> Result<Val, String> {
    match v {
        Value::Integer(i) if *i >= 0 => Ok(Val::Label(LabelColumn::Index(*i as usize))),
        Value::String(s) if !s.is_empty() => Ok(Val::Label(LabelColumn::Name(s.clone()))),
        other => Err(format!(
            "expected a 0-based column index or a header name, got {}",
            got(other)
        )),
    }
}
fn read_val(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if s == "fresh" => Ok(Val::Split(ValSplit::Fresh)),
        Value::String(s) if s == "none" => Ok(Val::Split(ValSplit::None)),
        Value::String(s) if s == "test" => Ok(Val::Split(ValSplit::Test)),
        Value::Float(f) if *f > 0.0 && *f < 1.0 => Ok(Val::Split(ValSplit::Fraction(*f))),
        other => Err(format!(
            "expected \"fresh\", \"test\", \"none\" or a fraction in (0, 1), got {}",
            got(other)
        )),
    }
}
fn read_batch(v: &Value) -> Result<Val, String> {
    match v {
        Value::String(s) if s == "full" => Ok(Val::Batch(Batch::Full)),
        Value::Integer(0) => Ok(Val::Batch(Batch::Full)),
        Value::Integer(i) if *i > 0 => Ok(Val::Batch(Batch::Size(*i as usize))),
        other => Err(format!(
            "expected a positive integer, 0 or \"full\" (full batch), got {}",
            got(other)
        )),
    }
}

const fn int(min: usize, max: usize) -> Type {
    Type::Int { min, max, hint: "" }
}
const fn when(
    decider: &'static str,
    when: fn(&Values) -> bool,
    doc: &'static str,
) -> Option<Applies> {
    Some(Applies {
        decider,
        when: When::Resolved(when),
        doc,
        why: "",
    })
}
const KIND_NAMES: &[&str] = &{
    let mut names = [""; DATA_KINDS.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = DATA_KINDS[i].0;
        i += 1;
    }
    names
};
const TASK_NAMES: &[&str] = &[TASKS[0].0, TASKS[1].0];

/// Every key of `[data]`, `[model]` and `[train]`.
#[rustfmt::skip]
pub static KEYS: &[Key] = &[
    // [data]
    Key { section: "data", name: "kind", ty: Type::Choice(KIND_NAMES), default: Default::Is(Val::Name("spiral")), applies: None,
        doc: "the data set: a generator, a file (CSV, IDX, npy, npz, Parquet), Fashion-MNIST, or a shipped table" },
    Key { section: "data", name: "classes", ty: int(2, 1000), default: Default::Is(Val::Int(3)), applies: when("data.kind", many_classes, "spiral, blobs"),
        doc: "number of classes (circles, moons and xor have 2)" },
    Key { section: "data", name: "points_per_class", ty: int(1, 10_000_000), default: Default::Is(Val::Int(100)), applies: when("data.kind", per_class, "spiral, circles, moons, xor, blobs"),
        doc: "points drawn per class" },
    Key { section: "data", name: "points", ty: int(2, 10_000_000), default: Default::Is(Val::Int(200)), applies: when("data.kind", sine, "sine"),
        doc: "points drawn in all" },
    Key { section: "data", name: "noise", ty: Type::Float { ok: |x| x >= 0.0, allowed: "a number >= 0" }, default: Default::By(default_noise, "spiral 0.2, blobs 1.0, others 0.1"), applies: when("data.kind", synthetic, "generated kinds"),
        doc: "angle noise (spiral), coordinate noise (circles, moons, xor), blob std, target noise (sine)" },
    Key { section: "data", name: "factor", ty: Type::Float { ok: |x| x > 0.0 && x < 1.0, allowed: "a number in (0, 1)" }, default: Default::Is(Val::Float(0.5)), applies: when("data.kind", circles, "circles"),
        doc: "inner radius / outer radius" },
    Key { section: "data", name: "dims", ty: int(1, 10_000), default: Default::Is(Val::Int(2)), applies: when("data.kind", blobs, "blobs"),
        doc: "dimension of the blobs" },
    Key { section: "data", name: "frequency", ty: Type::Float { ok: |x| x > 0.0, allowed: "a number > 0" }, default: Default::Is(Val::Float(1.0)), applies: when("data.kind", sine, "sine"),
        doc: "frequency of the sine target" },
    Key { section: "data", name: "label_noise", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a number in [0, 1)" }, default: Default::Is(Val::Float(0.0)), applies: when("data.kind", not_sine, "classification"),
        doc: "share of training labels flipped to another class" },
    Key { section: "data", name: "path", ty: Type::Special { read: read_path, allowed: "a file path" }, default: Default::Required("kind = \"csv\", \"npz\" or \"parquet\" needs a path to the file to read"), applies: when("data.kind", one_file, "csv, npz, parquet"),
        doc: "the file to read, relative to the study file: a CSV file with a header row, an .npz archive or a Parquet table" },
    Key { section: "data", name: "label_column", ty: Type::Special { read: read_label_column, allowed: "a 0-based index or a header name" }, default: Default::Is(Val::Label(LabelColumn::Last)), applies: when("data.kind", labelled_table, "csv, parquet"),
        doc: "the column holding the label or target (default: the last)" },
    Key { section: "data", name: "task", ty: Type::Choice(TASK_NAMES), default: Default::Is(Val::Name("classification")), applies: when("data.kind", any_task, "csv, parquet, npy, npz"),
        doc: "softmax cross-entropy on class labels, or MSE on one real target" },
    Key { section: "data", name: "images", ty: Type::Special { read: read_path, allowed: "a file path" }, default: Default::Required("kind = \"idx\" needs the training images' IDX file"), applies: when("data.kind", idx, "idx"),
        doc: "the training images: an IDX file of unsigned bytes (raw or gzip), pixels scaled to [0, 1]" },
    Key { section: "data", name: "labels", ty: Type::Special { read: read_path, allowed: "a file path" }, default: Default::Required("kind = \"idx\" needs the training labels' IDX file"), applies: when("data.kind", idx, "idx"),
        doc: "the training labels: an IDX file of class indices, one per image" },
    Key { section: "data", name: "val_images", ty: Type::Special { read: read_path, allowed: "a file path" }, default: Default::Unset("none"), applies: when("data.kind", idx, "idx"),
        doc: "the test split's images (with val_labels): the validation split when given" },
    Key { section: "data", name: "val_labels", ty: Type::Special { read: read_path, allowed: "a file path" }, default: Default::Unset("none"), applies: when("data.kind", idx, "idx"),
        doc: "the test split's labels" },
    Key { section: "data", name: "x", ty: Type::Special { read: read_text, allowed: "a file path (npy) or an array name (npz)" }, default: Default::Required("kind = \"npy\" needs the features' .npy file, kind = \"npz\" the features' array name"), applies: when("data.kind", arrays, "npy, npz"),
        doc: "the features (n × d, C order, float or integer): an .npy file relative to the study file, or an array of data.path" },
    Key { section: "data", name: "y", ty: Type::Special { read: read_text, allowed: "a file path (npy) or an array name (npz)" }, default: Default::Required("kind = \"npy\" needs the labels' .npy file, kind = \"npz\" the labels' array name"), applies: when("data.kind", arrays, "npy, npz"),
        doc: "the labels or targets (n or n × 1): an .npy file relative to the study file, or an array of data.path" },
    Key { section: "data", name: "max_rows", ty: int(0, 1_000_000_000), default: Default::Is(Val::Int(0)), applies: when("data.kind", read_rows, "tables, images, arrays"),
        doc: "keep this many rows of the training split, a subset stratified by class and drawn from data.seed, before a validation fraction is held out; 0 = all" },
    Key { section: "data", name: "val", ty: Type::Special { read: read_val, allowed: "\"fresh\" (generated kinds only), \"test\" (fashion_mnist, idx with val_images), a fraction in (0, 1), \"none\"" }, default: Default::By(default_val, "\"fresh\" (generated), \"test\" (fashion_mnist, idx with val_images), 0.2 (others)"), applies: None,
        doc: "validation set: an independent draw, the data set's test split, a held-out fraction, or none" },
    Key { section: "data", name: "standardize", ty: Type::Bool, default: Default::By(default_standardize, "false (generated, images), true (tables, arrays)"), applies: None,
        doc: "standardise features with the training split's mean and std" },
    Key { section: "data", name: "preprocess", ty: Type::Choice(PREPROCESS), default: Default::Is(Val::Name("none")), applies: None,
        doc: "after standardising: pca (centre, rotate onto the training covariance's eigenvectors) or whiten (pca, then each component over √(λ + 1e-5)), fitted on the training split" },
    Key { section: "data", name: "seed", ty: int(0, u32::MAX as usize), default: Default::Is(Val::Int(0)), applies: None,
        doc: "seed of the data draw: the data set is drawn once per study" },
    // [model]
    Key { section: "model", name: "depth", ty: int(0, 64), default: Default::Is(Val::Int(1)), applies: None,
        doc: "hidden layers (0 = a linear model)" },
    Key { section: "model", name: "width", ty: int(1, 1 << 16), default: Default::Is(Val::Int(16)), applies: None,
        doc: "units per hidden layer" },
    Key { section: "model", name: "activation", ty: Type::Choice(ACTIVATIONS), default: Default::Is(Val::Name("relu")), applies: None,
        doc: "hidden nonlinearity" },
    Key { section: "model", name: "alpha", ty: Type::Float { ok: |x| x > 0.0 && x < 1.0, allowed: "a slope in (0, 1)" }, default: Default::Is(Val::Float(0.01)), applies: when("model.activation", leaky, "leaky_relu"),
        doc: "negative slope of leaky ReLU" },
    Key { section: "model", name: "pieces", ty: Type::Int { min: 2, max: 16, hint: ": a maxout unit takes the max of at least 2 linear pieces" }, default: Default::Is(Val::Int(2)), applies: when("model.activation", maxout, "maxout"),
        doc: "linear pieces per maxout unit" },
    Key { section: "model", name: "init", ty: Type::Choice(INITS), default: Default::Is(Val::Name("kaiming_normal")), applies: None,
        doc: "weight initialisation (biases start at zero)" },
    Key { section: "model", name: "init_std", ty: Type::Float { ok: |x| x > 0.0, allowed: "a number > 0" }, default: Default::Is(Val::Float(0.01)), applies: when("model.init", normal_init, "normal"),
        doc: "standard deviation of the normal initialisation" },
    Key { section: "model", name: "dropout", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a drop probability in [0, 1)" }, default: Default::Is(Val::Float(0.0)), applies: None,
        doc: "inverted-dropout drop probability on hidden activations (needs depth >= 1)" },
    Key { section: "model", name: "batch_norm", ty: Type::Bool, default: Default::Is(Val::Bool(false)), applies: None,
        doc: "batch normalisation (Ioffe & Szegedy) after each hidden layer's linear map, which then has no bias, before the activation: learned γ, β per unit (per piece with maxout); needs depth >= 1" },
    // [train]
    Key { section: "train", name: "optimizer", ty: Type::Choice(OPTIMIZERS), default: Default::Is(Val::Name("sgd")), applies: None,
        doc: "SGD with (Nesterov) momentum, Adam, Adagrad or RMSprop" },
    Key { section: "train", name: "lr", ty: Type::Float { ok: |x| x > 0.0, allowed: "a learning rate > 0" }, default: Default::By(default_lr, "0.1 (sgd), 0.001 (adam), 0.01 (adagrad, rmsprop)"), applies: None,
        doc: "learning rate (the base rate under a schedule)" },
    Key { section: "train", name: "schedule", ty: Type::Choice(SCHEDULES), default: Default::Is(Val::Name("none")), applies: None,
        doc: "learning-rate schedule per epoch e from 0: step lr·f^⌊e/s⌋, exponential lr·exp(−k·e), inverse_time lr/(1 + k·e), cosine lr·½(1 + cos(πe/E))" },
    Key { section: "train", name: "step_every", ty: int(1, 10_000_000), default: Default::Is(Val::Int(10)), applies: when("train.schedule", step_schedule, "step"),
        doc: "s: epochs between drops of the step schedule" },
    Key { section: "train", name: "step_factor", ty: Type::Float { ok: |x| x > 0.0 && x <= 1.0, allowed: "a factor in (0, 1]" }, default: Default::Is(Val::Float(0.5)), applies: when("train.schedule", step_schedule, "step"),
        doc: "f: the rate's multiplier at each drop of the step schedule" },
    Key { section: "train", name: "decay", ty: Type::Float { ok: |x| x > 0.0, allowed: "a number > 0" }, default: Default::Is(Val::Float(0.01)), applies: when("train.schedule", decaying, "exponential or inverse_time"),
        doc: "k of the exponential and inverse_time schedules, per epoch" },
    Key { section: "train", name: "momentum", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a number in [0, 1)" }, default: Default::Is(Val::Float(0.9)), applies: when("train.optimizer", sgd, "sgd"),
        doc: "momentum μ (0 = plain SGD)" },
    Key { section: "train", name: "nesterov", ty: Type::Bool, default: Default::Is(Val::Bool(false)), applies: when("train.optimizer", sgd, "sgd"),
        doc: "Nesterov momentum (needs momentum > 0)" },
    Key { section: "train", name: "beta1", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a number in [0, 1)" }, default: Default::Is(Val::Float(0.9)), applies: when("train.optimizer", adam, "adam"),
        doc: "decay of Adam's first moment" },
    Key { section: "train", name: "beta2", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a number in [0, 1)" }, default: Default::Is(Val::Float(0.999)), applies: when("train.optimizer", adam, "adam"),
        doc: "decay of Adam's second moment" },
    Key { section: "train", name: "decay_rate", ty: Type::Float { ok: |x| (0.0..1.0).contains(&x), allowed: "a number in [0, 1)" }, default: Default::Is(Val::Float(0.99)), applies: when("train.optimizer", rmsprop, "rmsprop"),
        doc: "ρ: decay of RMSprop's cache of squared gradients" },
    Key { section: "train", name: "eps", ty: Type::Float { ok: |x| x > 0.0, allowed: "a number > 0" }, default: Default::Is(Val::Float(1e-8)), applies: when("train.optimizer", adaptive, "adam, adagrad or rmsprop"),
        doc: "added to the root of Adam's second moment or of the Adagrad/RMSprop cache" },
    Key { section: "train", name: "batch_size", ty: Type::Special { read: read_batch, allowed: "an integer >= 1, or 0 / \"full\" for full batch" }, default: Default::Is(Val::Batch(Batch::Size(64))), applies: None,
        doc: "rows per step (the last minibatch of an epoch may be shorter)" },
    Key { section: "train", name: "epochs", ty: int(1, 10_000_000), default: Default::Is(Val::Int(100)), applies: None,
        doc: "passes over the training set" },
    Key { section: "train", name: "l2", ty: Type::Float { ok: |x| x >= 0.0, allowed: "a number >= 0" }, default: Default::Is(Val::Float(0.0)), applies: None,
        doc: "λ in 0.5·λ·Σ‖W‖² (weights only)" },
    Key { section: "train", name: "l1", ty: Type::Float { ok: |x| x >= 0.0, allowed: "a number >= 0" }, default: Default::Is(Val::Float(0.0)), applies: None,
        doc: "λ₁ in λ₁·Σ|W| (weights only; subgradient sign(W), sign(0) = 0)" },
    Key { section: "train", name: "max_norm", ty: Type::Float { ok: |x| x >= 0.0, allowed: "a number >= 0" }, default: Default::Is(Val::Float(0.0)), applies: None,
        doc: "after every update, scale each unit's incoming weight vector to this norm when longer; 0 = off" },
    Key { section: "train", name: "eval_every", ty: int(1, 10_000_000), default: Default::Is(Val::Int(10)), applies: None,
        doc: "full train/val evaluation period (the last epoch is always evaluated)" },
    Key { section: "train", name: "clip", ty: Type::Float { ok: |x| x >= 0.0, allowed: "a number >= 0" }, default: Default::Is(Val::Float(0.0)), applies: None,
        doc: "gradient-norm clipping: rescale the gradient (L2 term included) to this norm when longer; 0 = off" },
];
