//! What a trial id and the setting columns of `trials.csv` are made of.
//!
//! A trial id is the FNV-1a hash of one JSON text: the format version, the
//! resolved configuration as the fields below, and the seed. Stored results
//! resume by id, so this text is a contract. It is written out field by
//! field here, not derived from the spec's field names, so renaming a field
//! in the code changes nothing. Fields are the ones of format 3 in their
//! order, `null` where a setting does not apply; keys added since (such as
//! `train.clip`) join only when they differ from their default, which
//! leaves every existing id unchanged. The same fields, flattened, sorted
//! and without the `null`s, are the setting columns of `trials.csv`.

use crate::streams::Seeds;
use crate::study::{
    Activation, Batch, Config, DataSource, DataSpec, Init, LabelColumn, ModelSpec, Optimizer,
    Preprocess, Schedule, Task, TrainSpec, ValSplit, fnv1a,
};

/// A JSON value of the identity text.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// `null`: the setting does not apply.
    Null,
    /// A flag.
    Bool(bool),
    /// A count, written as an integer.
    Int(u64),
    /// A number, written as serde_json writes an f64 (`0.1`, `1.0`, `1e-8`).
    Float(f64),
    /// A string.
    Str(String),
    /// An object whose keys keep this order.
    Obj(Vec<(&'static str, Field)>),
}

impl Field {
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Field) -> Field {
        v.map_or(Field::Null, f)
    }

    /// The JSON text.
    pub fn json(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Field::Null => out.push_str("null"),
            Field::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Field::Int(i) => out.push_str(&i.to_string()),
            Field::Float(x) => out.push_str(&serde_json::to_string(x).expect("finite")),
            Field::Str(s) => out.push_str(&serde_json::to_string(s).expect("a string")),
            Field::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&format!("\"{k}\":"));
                    v.write(out);
                }
                out.push('}');
            }
        }
    }

    /// Scalar text for a table cell (strings unquoted).
    fn cell(&self) -> String {
        match self {
            Field::Str(s) => s.clone(),
            other => other.json(),
        }
    }
}

/// The id of `config` trained with `seeds`, under format `format`: 16 hex
/// digits. One seed for every source is written `"seed": n`, as ever; seeds
/// that differ (a `[replicates]` study) are written `"seeds": {...}`. The
/// same training gives the same id whichever way the study asked for it.
pub fn trial_id(format: u32, config: &Config, seeds: &Seeds) -> String {
    trial_id_of(format, &config_fields(config).json(), seeds)
}

/// [`trial_id`] from `config_json`, the configuration's fields as JSON
/// (`config_fields(config).json()`): a plan writes it once per
/// configuration, not once per seed (P3: 40,000 trials of 1,000
/// configurations). The same text is hashed, so the same id.
pub fn trial_id_of(format: u32, config_json: &str, seeds: &Seeds) -> String {
    let (key, seed) = if *seeds == Seeds::all(seeds.init) {
        ("seed", Field::Int(seeds.init))
    } else {
        (
            "seeds",
            Field::Obj(vec![
                ("init", Field::Int(seeds.init)),
                ("order", Field::Int(seeds.order)),
                ("dropout", Field::Int(seeds.dropout)),
            ]),
        )
    };
    // As `Field::Obj([format, config, seed]).json()` writes it.
    let mut text = String::with_capacity(config_json.len() + 80);
    text.push_str("{\"format\":");
    text.push_str(&format.to_string());
    text.push_str(",\"config\":");
    text.push_str(config_json);
    text.push_str(&format!(",\"{key}\":"));
    seed.write(&mut text);
    text.push('}');
    format!("{:016x}", fnv1a(text.as_bytes()))
}

/// Every setting of a configuration as (dotted key, text), sorted by key
/// path, for the constant columns of `trials.csv`.
pub fn setting_columns(config: &Config) -> Vec<(String, String)> {
    fn walk(prefix: &str, f: &Field, out: &mut Vec<(Vec<String>, String)>) {
        match f {
            Field::Null => {}
            Field::Obj(fields) => {
                for (k, v) in fields {
                    let key = if prefix.is_empty() {
                        (*k).to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => out.push((prefix.split('.').map(String::from).collect(), other.cell())),
        }
    }
    let mut out = Vec::new();
    walk("", &config_fields(config), &mut out);
    // Sorted segment by segment, as the format-3 columns were.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.into_iter().map(|(k, v)| (k.join("."), v)).collect()
}

/// The configuration's fields, in format-3 order.
pub fn config_fields(c: &Config) -> Field {
    Field::Obj(vec![
        ("data", data_fields(&c.data)),
        ("model", model_fields(&c.model)),
        ("train", train_fields(&c.train)),
    ])
}

fn data_fields(d: &DataSpec) -> Field {
    let (mut ppc, mut points, mut noise, mut factor, mut dims, mut freq) =
        (None, None, None, None, None, None);
    let (mut file_hash, mut label_column) = (None, None);
    match &d.source {
        DataSource::Spiral {
            points_per_class,
            noise: n,
            ..
        }
        | DataSource::Moons {
            points_per_class,
            noise: n,
        }
        | DataSource::Xor {
            points_per_class,
            noise: n,
        } => (ppc, noise) = (Some(*points_per_class), Some(*n)),
        DataSource::Circles {
            points_per_class,
            noise: n,
            factor: f,
        } => {
            (ppc, noise, factor) = (Some(*points_per_class), Some(*n), Some(*f));
        }
        DataSource::Blobs {
            points_per_class,
            noise: n,
            dims: k,
            ..
        } => {
            (ppc, noise, dims) = (Some(*points_per_class), Some(*n), Some(*k));
        }
        DataSource::Sine {
            points: p,
            noise: n,
            frequency,
        } => {
            (points, noise, freq) = (Some(*p), Some(*n), Some(*frequency));
        }
        DataSource::Csv {
            file_hash: h,
            label_column: l,
            ..
        }
        | DataSource::Parquet {
            file_hash: h,
            label_column: l,
            ..
        } => {
            (file_hash, label_column) = (Some(h.clone()), Some(l.clone()));
        }
        DataSource::Idx { file_hash: h, .. }
        | DataSource::Npy { file_hash: h, .. }
        | DataSource::Npz { file_hash: h, .. } => file_hash = Some(h.clone()),
        DataSource::Table(_) | DataSource::FashionMnist => {}
    }
    let int = |n: usize| Field::Int(n as u64);
    let mut fields = vec![
        ("kind", Field::Str(d.kind().name().into())),
        ("classes", Field::opt(d.source.generated_classes(), int)),
        ("points_per_class", Field::opt(ppc, int)),
        ("points", Field::opt(points, int)),
        ("noise", Field::opt(noise, Field::Float)),
        ("factor", Field::opt(factor, Field::Float)),
        ("dims", Field::opt(dims, int)),
        ("frequency", Field::opt(freq, Field::Float)),
        ("label_noise", Field::Float(d.label_noise)),
        ("file_hash", Field::opt(file_hash, Field::Str)),
        ("label_column", Field::opt(label_column, label_field)),
        ("task", Field::Str(task_name(d.task()).into())),
        ("val", val_field(d.val)),
        ("standardize", Field::Bool(d.standardize)),
        ("seed", Field::Int(d.seed)),
    ];
    added_data_fields(d, &mut fields);
    Field::Obj(fields)
}

/// Keys added after format 3: present only away from their default (or
/// for the kinds added since), so every earlier id stays as it was.
fn added_data_fields(d: &DataSpec, fields: &mut Vec<(&'static str, Field)>) {
    if d.preprocess != Preprocess::None {
        fields.push(("preprocess", Field::Str(d.preprocess.name().into())));
    }
    // The arrays of an archive: its hash covers every array in it.
    if let DataSource::Npz { x, y, .. } = &d.source {
        fields.push(("x", Field::Str(x.clone())));
        fields.push(("y", Field::Str(y.clone())));
    }
    if d.max_rows > 0 {
        fields.push(("max_rows", Field::Int(d.max_rows as u64)));
    }
}

fn label_field(l: LabelColumn) -> Field {
    match l {
        LabelColumn::Last => Field::Str("last".into()),
        LabelColumn::Index(i) => Field::Obj(vec![("index", Field::Int(i as u64))]),
        LabelColumn::Name(n) => Field::Obj(vec![("name", Field::Str(n))]),
    }
}

fn val_field(v: ValSplit) -> Field {
    match v {
        ValSplit::Fresh => Field::Str("fresh".into()),
        ValSplit::None => Field::Str("none".into()),
        ValSplit::Test => Field::Str("test".into()),
        ValSplit::Fraction(f) => Field::Obj(vec![("fraction", Field::Float(f))]),
    }
}

fn task_name(t: Task) -> &'static str {
    match t {
        Task::Classification => "classification",
        Task::Regression => "regression",
    }
}

fn model_fields(m: &ModelSpec) -> Field {
    let mut fields = model_fields_v3(m);
    // Keys added after format 3: present only away from their default.
    if m.batch_norm
        && let Field::Obj(f) = &mut fields
    {
        f.push(("batch_norm", Field::Bool(true)));
    }
    fields
}

fn model_fields_v3(m: &ModelSpec) -> Field {
    let alpha = match m.activation {
        Activation::LeakyRelu { alpha } => Some(alpha),
        _ => None,
    };
    let pieces = match m.activation {
        Activation::Maxout { pieces } => Some(pieces as u64),
        _ => None,
    };
    let init_std = match m.init {
        Init::Normal { std } => Some(std),
        _ => None,
    };
    Field::Obj(vec![
        ("depth", Field::Int(m.depth as u64)),
        ("width", Field::Int(m.width as u64)),
        ("activation", Field::Str(m.activation.name().into())),
        ("alpha", Field::opt(alpha, Field::Float)),
        ("pieces", Field::opt(pieces, Field::Int)),
        ("init", Field::Str(m.init.name().into())),
        ("init_std", Field::opt(init_std, Field::Float)),
        ("dropout", Field::Float(m.dropout)),
    ])
}

fn train_fields(t: &TrainSpec) -> Field {
    let (sgd, adam) = match t.optimizer {
        Optimizer::Sgd { momentum, nesterov } => (Some((momentum, nesterov)), None),
        Optimizer::Adam { beta1, beta2, eps } => (None, Some((beta1, beta2, eps))),
        Optimizer::Adagrad { .. } | Optimizer::Rmsprop { .. } => (None, None),
    };
    let eps = match t.optimizer {
        Optimizer::Adam { eps, .. }
        | Optimizer::Adagrad { eps }
        | Optimizer::Rmsprop { eps, .. } => Some(eps),
        Optimizer::Sgd { .. } => None,
    };
    let batch = match t.batch {
        Batch::Full => None,
        Batch::Size(n) => Some(n as u64),
    };
    let mut fields = vec![
        ("optimizer", Field::Str(t.optimizer.name().into())),
        ("lr", Field::Float(t.lr)),
        ("momentum", Field::opt(sgd.map(|s| s.0), Field::Float)),
        ("nesterov", Field::opt(sgd.map(|s| s.1), Field::Bool)),
        ("beta1", Field::opt(adam.map(|a| a.0), Field::Float)),
        ("beta2", Field::opt(adam.map(|a| a.1), Field::Float)),
        ("eps", Field::opt(eps, Field::Float)),
        ("batch_size", Field::opt(batch, Field::Int)),
        ("epochs", Field::Int(t.epochs as u64)),
        ("l2", Field::Float(t.l2)),
        ("eval_every", Field::Int(t.eval_every as u64)),
    ];
    // Keys added after format 3: present only away from their default.
    if t.clip != 0.0 {
        fields.push(("clip", Field::Float(t.clip)));
    }
    if let Optimizer::Rmsprop { decay_rate, .. } = t.optimizer {
        fields.push(("decay_rate", Field::Float(decay_rate)));
    }
    match t.schedule {
        Schedule::Constant => {}
        s => fields.push(("schedule", Field::Str(s.name().into()))),
    }
    match t.schedule {
        Schedule::Step { every, factor } => {
            fields.push(("step_every", Field::Int(every as u64)));
            fields.push(("step_factor", Field::Float(factor)));
        }
        Schedule::Exponential { decay } | Schedule::InverseTime { decay } => {
            fields.push(("decay", Field::Float(decay)));
        }
        Schedule::Constant | Schedule::Cosine => {}
    }
    if t.l1 != 0.0 {
        fields.push(("l1", Field::Float(t.l1)));
    }
    if t.max_norm != 0.0 {
        fields.push(("max_norm", Field::Float(t.max_norm)));
    }
    Field::Obj(fields)
}

/// The key of a data set in the per-study cache: its fields, so trials with
/// the same data share one draw.
pub fn data_key(d: &DataSpec) -> String {
    data_fields(d).json()
}

#[cfg(test)]
mod tests;
