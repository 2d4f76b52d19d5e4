//! One grid point's settings → a checked [`Config`]. Every key of the
//! table is resolved in order (given value, else its default, or nothing
//! where it does not apply), then the typed spec is built from the result.
//! Keys given where they do not apply are returned, for the study to judge
//! (an error when fixed in the file, fine when the deciding key is swept).

use std::path::Path;

use toml::Value;

use super::error::{KeyError, key_err};
use super::keys::{Default, KEYS, Type, Val, Values};
use super::spec::{
    Activation, Batch, Config, DATA_KINDS, DataKind, DataSource, DataSpec, Init, ModelSpec,
    Optimizer, Preprocess, Schedule, TrainSpec, ValSplit,
};
use super::values::{boolean, choice, number_in, show, uint};

/// The configuration of one grid point from its (canonical key, value)
/// pairs (later pairs win), and the keys given that do not apply to it.
pub fn resolve(
    pairs: &[(String, Value)],
    study_dir: &Path,
) -> Result<(Config, Vec<String>), KeyError> {
    let (values, mut unused) = read_values(pairs)?;
    check(&values, &mut unused)?;
    let config = Config {
        data: data(&values, study_dir)?,
        model: model(&values),
        train: train(&values),
    };
    Ok((config, unused))
}

fn read_values(pairs: &[(String, Value)]) -> Result<(Values, Vec<String>), KeyError> {
    let mut values = Values(Vec::with_capacity(KEYS.len()));
    let mut unused = Vec::new();
    for key in KEYS {
        let path = key.path();
        let given = pairs.iter().rev().find(|(k, _)| *k == path).map(|(_, v)| v);
        if let Some(a) = &key.applies
            && !a.holds(&values)
        {
            if given.is_some() {
                unused.push(path);
            }
            values.0.push(None);
            continue;
        }
        let val = match (given, &key.default) {
            (Some(v), _) => read(&key.ty, v).map_err(|m| key_err(&path, m))?,
            (None, Default::Is(x)) => x.clone(),
            (None, Default::By(f, _)) => f(&values),
            (None, Default::Required(why)) => return Err(key_err(&path, *why)),
            (None, Default::Unset(_)) => {
                values.0.push(None);
                continue;
            }
        };
        values.0.push(Some(val));
    }
    Ok((values, unused))
}

/// Read one value as its key's type.
pub fn read(ty: &Type, v: &Value) -> Result<Val, String> {
    match ty {
        Type::Int { min, max, hint } => uint(v, *min, *max)
            .map(Val::Int)
            .map_err(|e| format!("{e}{hint}")),
        Type::Float { ok, allowed } => number_in(v, ok, allowed).map(Val::Float),
        Type::Bool => boolean(v).map(Val::Bool),
        Type::Choice(names) => {
            let options: Vec<(&str, &'static str)> = names.iter().map(|n| (*n, *n)).collect();
            choice(v, &options).map(Val::Name)
        }
        Type::Special { read, .. } => read(v),
        Type::Text => match v {
            Value::String(s) => Ok(Val::Text(s.clone())),
            other => Err(format!("expected a string, got {}", show(other))),
        },
        // Read by their section's code, never as one value.
        Type::Table(allowed) | Type::Own(allowed) => Err(format!("expected {allowed}")),
    }
}

/// Rules between keys that the table's ranges cannot say.
fn check(v: &Values, unused: &mut Vec<String>) -> Result<(), KeyError> {
    if v.get("train.nesterov") == Some(&Val::Bool(true))
        && v.get("train.momentum") == Some(&Val::Float(0.0))
    {
        return Err(key_err(
            "train.nesterov",
            "Nesterov momentum needs train.momentum > 0",
        ));
    }
    let kind = kind_named(v.name("data.kind"));
    super::sources::check_splits(v)?;
    if v.get("data.val") == Some(&Val::Split(ValSplit::Fresh)) && !kind.is_synthetic() {
        return Err(key_err(
            "data.val",
            format!(
                "\"fresh\" needs a generator, but kind = \"{}\" is a fixed table; use a fraction such as 0.2",
                kind.name()
            ),
        ));
    }
    // Label noise flips class labels; a CSV regression has none to flip,
    // and the key would be silently ignored.
    if v.name("data.task") == "regression"
        && matches!(v.get("data.label_noise"), Some(Val::Float(x)) if *x > 0.0)
    {
        return Err(key_err(
            "data.label_noise",
            "flips class labels, but data.task = \"regression\" has none; remove it",
        ));
    }
    // Dropout on a linear model has no effect; it stays in the spec (and
    // the id) but counts as not applying, listed before the train keys.
    if v.float("model.dropout") > 0.0 && v.int("model.depth") == 0 {
        let at = unused
            .iter()
            .position(|k| k.starts_with("train."))
            .unwrap_or(unused.len());
        unused.insert(at, "model.dropout".into());
    }
    // Batch norm likewise: it normalises hidden layers, and there are none.
    if v.flag("model.batch_norm") && v.int("model.depth") == 0 {
        let at = unused
            .iter()
            .position(|k| k.starts_with("train."))
            .unwrap_or(unused.len());
        unused.insert(at, "model.batch_norm".into());
    }
    Ok(())
}

fn kind_named(name: &str) -> DataKind {
    DATA_KINDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .expect("data.kind is a choice of DATA_KINDS")
}

fn data(v: &Values, study_dir: &Path) -> Result<DataSpec, KeyError> {
    let kind = kind_named(v.name("data.kind"));
    let points_per_class = || v.int("data.points_per_class");
    let noise = || v.float("data.noise");
    let source = match kind {
        DataKind::Spiral => DataSource::Spiral {
            classes: v.int("data.classes"),
            points_per_class: points_per_class(),
            noise: noise(),
        },
        DataKind::Circles => DataSource::Circles {
            points_per_class: points_per_class(),
            noise: noise(),
            factor: v.float("data.factor"),
        },
        DataKind::Moons => DataSource::Moons {
            points_per_class: points_per_class(),
            noise: noise(),
        },
        DataKind::Xor => DataSource::Xor {
            points_per_class: points_per_class(),
            noise: noise(),
        },
        DataKind::Blobs => DataSource::Blobs {
            classes: v.int("data.classes"),
            points_per_class: points_per_class(),
            noise: noise(),
            dims: v.int("data.dims"),
        },
        DataKind::Sine => DataSource::Sine {
            points: v.int("data.points"),
            noise: noise(),
            frequency: v.float("data.frequency"),
        },
        DataKind::FashionMnist => DataSource::FashionMnist,
        DataKind::Csv | DataKind::Idx | DataKind::Npy | DataKind::Npz | DataKind::Parquet => {
            super::sources::file_source(kind.name(), v, study_dir)?
        }
        table => DataSource::Table(table),
    };
    let Some(Val::Split(val)) = v.get("data.val") else {
        unreachable!("data.val always resolves to a split")
    };
    Ok(DataSpec {
        source,
        label_noise: match v.get("data.label_noise") {
            Some(Val::Float(x)) => *x,
            _ => 0.0, // sine: no labels to flip
        },
        val: *val,
        standardize: v.flag("data.standardize"),
        preprocess: match v.name("data.preprocess") {
            "none" => Preprocess::None,
            "pca" => Preprocess::Pca,
            "whiten" => Preprocess::Whiten,
            other => unreachable!("preprocess {other} is not in the key table"),
        },
        seed: v.int("data.seed") as u64,
        max_rows: v.get("data.max_rows").map_or(0, |_| v.int("data.max_rows")),
    })
}

fn model(v: &Values) -> ModelSpec {
    let activation = match v.name("model.activation") {
        "sigmoid" => Activation::Sigmoid,
        "tanh" => Activation::Tanh,
        "relu" => Activation::Relu,
        "leaky_relu" => Activation::LeakyRelu {
            alpha: v.float("model.alpha"),
        },
        "maxout" => Activation::Maxout {
            pieces: v.int("model.pieces"),
        },
        other => unreachable!("activation {other} is not in the key table"),
    };
    let init = match v.name("model.init") {
        "kaiming_normal" => Init::KaimingNormal,
        "xavier_uniform" => Init::XavierUniform,
        "normal" => Init::Normal {
            std: v.float("model.init_std"),
        },
        other => unreachable!("init {other} is not in the key table"),
    };
    ModelSpec {
        depth: v.int("model.depth"),
        width: v.int("model.width"),
        activation,
        init,
        dropout: v.float("model.dropout"),
        batch_norm: v.flag("model.batch_norm"),
    }
}

fn train(v: &Values) -> TrainSpec {
    let optimizer = match v.name("train.optimizer") {
        "sgd" => Optimizer::Sgd {
            momentum: v.float("train.momentum"),
            nesterov: v.flag("train.nesterov"),
        },
        "adam" => Optimizer::Adam {
            beta1: v.float("train.beta1"),
            beta2: v.float("train.beta2"),
            eps: v.float("train.eps"),
        },
        "adagrad" => Optimizer::Adagrad {
            eps: v.float("train.eps"),
        },
        "rmsprop" => Optimizer::Rmsprop {
            decay_rate: v.float("train.decay_rate"),
            eps: v.float("train.eps"),
        },
        other => unreachable!("optimizer {other} is not in the key table"),
    };
    let schedule = match v.name("train.schedule") {
        "none" => Schedule::Constant,
        "step" => Schedule::Step {
            every: v.int("train.step_every"),
            factor: v.float("train.step_factor"),
        },
        "exponential" => Schedule::Exponential {
            decay: v.float("train.decay"),
        },
        "inverse_time" => Schedule::InverseTime {
            decay: v.float("train.decay"),
        },
        "cosine" => Schedule::Cosine,
        other => unreachable!("schedule {other} is not in the key table"),
    };
    let batch = match v.get("train.batch_size") {
        Some(Val::Batch(b)) => *b,
        _ => Batch::Full,
    };
    TrainSpec {
        optimizer,
        lr: v.float("train.lr"),
        schedule,
        batch,
        epochs: v.int("train.epochs"),
        l2: v.float("train.l2"),
        l1: v.float("train.l1"),
        max_norm: v.float("train.max_norm"),
        clip: v.float("train.clip"),
        eval_every: v.int("train.eval_every"),
    }
}
