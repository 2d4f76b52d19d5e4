//! Unit tests of the study layer: grid order, `--set`, zips, inapplicable keys.
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
    assert_eq!(e.replication, Replication::Seeds(vec![0, 1, 2]));
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
    assert_eq!(e.replication, Replication::Seeds(vec![0, 1]));
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

#[test]
fn inapplicable_keys_are_fine_when_their_decider_is_swept() {
    let src =
        "name = \"a\"\n[model]\nalpha = 0.1\n[grid]\nactivation = [\"relu\", \"leaky_relu\"]\n";
    let e = parse(src, &[]).unwrap();
    assert_eq!(
        e.config_at(&[0]).unwrap().model.activation,
        Activation::Relu
    );
    assert_eq!(
        e.config_at(&[1]).unwrap().model.activation,
        Activation::LeakyRelu { alpha: 0.1 }
    );
}

#[test]
fn every_listed_key_resolves_in_the_grid() {
    for section in keys::SECTIONS {
        for k in keys::names(section) {
            assert_eq!(
                keys::canonical(&format!("{section}.{k}")).unwrap(),
                format!("{section}.{k}")
            );
        }
    }
    assert_eq!(keys::canonical("lr").unwrap(), "train.lr");
    assert_eq!(keys::canonical("seed").unwrap(), "data.seed");
}

/// Every name a choice key accepts resolves to a variant that gives the
/// same name back: the key table's lists, the resolver's matches and the
/// specs' `name()` agree (the names are also what trial ids hash).
#[test]
fn every_choice_resolves_to_a_variant_with_its_own_name() {
    use super::spec::{ACTIVATIONS, DATA_KINDS, INITS, OPTIMIZERS};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), "a,b\n1,0\n2,1\n3,0\n4,1\n5,0\n").unwrap();
    let config = |section: &str, key: &str, name: &str| {
        // Files are only hashed when a study resolves: any bytes will do.
        let extra = match name {
            "csv" | "parquet" => "path = \"x.csv\"\n",
            "idx" => "images = \"x.csv\"\nlabels = \"x.csv\"\n",
            "npy" => "x = \"x.csv\"\ny = \"x.csv\"\n",
            "npz" => "path = \"x.csv\"\nx = \"a\"\ny = \"b\"\n",
            _ => "",
        };
        let src = format!("name = \"a\"\n[{section}]\n{key} = \"{name}\"\n{extra}");
        let e = from_str(&src, &dir.path().join("s.toml"), &[]).unwrap();
        e.config_at(&[]).unwrap()
    };
    for name in ACTIVATIONS {
        assert_eq!(
            config("model", "activation", name).model.activation.name(),
            *name
        );
    }
    for name in INITS {
        assert_eq!(config("model", "init", name).model.init.name(), *name);
    }
    for name in OPTIMIZERS {
        assert_eq!(
            config("train", "optimizer", name).train.optimizer.name(),
            *name
        );
    }
    for (name, kind) in DATA_KINDS {
        let c = config("data", "kind", name);
        assert_eq!((c.data.kind(), kind.name()), (*kind, *name));
    }
}

fn load_err(src: &str) -> String {
    parse(src, &[]).unwrap_err().to_string()
}

/// The rules between keys that ranges cannot state, each on both sides of
/// its boundary.
#[test]
fn rules_between_keys_hold_on_both_sides() {
    let cases = [
        (
            "[train]\nmomentum = 0.0\nnesterov = true\n",
            "study.toml:4: train.nesterov: Nesterov momentum needs train.momentum > 0",
        ),
        (
            "[data]\nkind = \"iris\"\nval = \"fresh\"\n",
            "data.val: \"fresh\" needs a generator, but kind = \"iris\" is a fixed table",
        ),
        (
            "[model]\ndepth = 0\ndropout = 0.5\n",
            "model.dropout: has no effect without hidden layers (model.depth = 0)",
        ),
        (
            "[model]\ndepth = 0\nbatch_norm = true\n",
            "model.batch_norm: has no effect without hidden layers (model.depth = 0)",
        ),
    ];
    for (body, want) in cases {
        let got = load_err(&format!("name = \"a\"\n{body}"));
        assert!(got.contains(want), "{body:?}\n got: {got}\nwant: {want}");
    }
    let config = |body: &str| {
        let e = parse(&format!("name = \"a\"\n{body}"), &[]).unwrap();
        e.config_at(&[]).unwrap()
    };
    assert_eq!(
        config("[train]\nmomentum = 0.5\nnesterov = true\n")
            .train
            .optimizer,
        Optimizer::Sgd {
            momentum: 0.5,
            nesterov: true
        }
    );
    assert_eq!(config("[model]\ndepth = 0\ndropout = 0.0\n").model.depth, 0);
    assert_eq!(
        config("[data]\nkind = \"iris\"\nval = 0.3\n").data.val,
        ValSplit::Fraction(0.3)
    );
}

/// A CSV source carries its label column, task and content hash.
#[test]
fn csv_settings_reach_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = b"a,b,y\n1,2,0.5\n3,4,1.5\n5,6,2.5\n";
    std::fs::write(dir.path().join("t.csv"), bytes).unwrap();
    let src = "name = \"a\"\n[data]\nkind = \"csv\"\npath = \"t.csv\"\nlabel_column = \"y\"\ntask = \"regression\"\n";
    let e = from_str(src, &dir.path().join("s.toml"), &[]).unwrap();
    let c = e.config_at(&[]).unwrap();
    let DataSource::Csv {
        path,
        file_hash,
        label_column,
        task,
    } = &c.data.source
    else {
        panic!("not a CSV source: {:?}", c.data.source)
    };
    assert_eq!(path, &dir.path().join("t.csv"));
    assert_eq!(file_hash, &format!("{:016x}", fnv1a(bytes)));
    assert_eq!(label_column, &LabelColumn::Name("y".into()));
    assert_eq!((*task, c.data.task()), (Task::Regression, Task::Regression));
    let src = "name = \"a\"\n[data]\nkind = \"csv\"\npath = \"t.csv\"\nlabel_column = 0\n";
    let e = from_str(src, &dir.path().join("s.toml"), &[]).unwrap();
    let DataSource::Csv {
        label_column, task, ..
    } = e.config_at(&[]).unwrap().data.source
    else {
        unreachable!()
    };
    assert_eq!(
        (label_column, task),
        (LabelColumn::Index(0), Task::Classification)
    );
}

/// The schedules' rates at chosen epochs, worked by hand from the formulas
/// in docs/semantics.md (epoch e from 0): step 0.1·0.5^⌊e/10⌋; exponential
/// e^(−0.1·10) = e^(−1) = 0.36787944117144233; inverse_time 1/(1 + 0.5·4)
/// = 1/3; cosine ½(1 + cos(π/4)) = 0.8535533905932737 at e = 25 of 100.
#[test]
fn schedules_follow_their_formulas() {
    let step = Schedule::Step {
        every: 10,
        factor: 0.5,
    };
    assert_eq!(step.rate(0.1, 9, 100), 0.1);
    assert_eq!(step.rate(0.1, 10, 100), 0.05);
    assert_eq!(step.rate(0.1, 25, 100), 0.025);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    assert!(close(
        Schedule::Exponential { decay: 0.1 }.rate(1.0, 10, 100),
        0.36787944117144233
    ));
    assert!(close(
        Schedule::InverseTime { decay: 0.5 }.rate(1.0, 4, 100),
        1.0 / 3.0
    ));
    assert_eq!(Schedule::Cosine.rate(2.0, 0, 100), 2.0);
    assert!(close(
        Schedule::Cosine.rate(1.0, 25, 100),
        0.8535533905932737
    ));
    assert!(close(Schedule::Cosine.rate(1.0, 50, 100), 0.5));
    assert_eq!(
        Schedule::Constant.rate(0.1, 7, 100).to_bits(),
        0.1f64.to_bits()
    );
}

/// New training keys at their defaults leave a configuration's identity
/// unchanged (and so every stored id); away from them they join it.
#[test]
fn training_controls_at_their_defaults_leave_the_identity_alone() {
    let id = |extra: &str| {
        let e = parse(&format!("name = \"t\"\n[train]\n{extra}"), &[]).unwrap();
        crate::identity::config_fields(&e.config_at(&[]).unwrap()).json()
    };
    let plain = id("");
    assert_eq!(id("schedule = \"none\"\nl1 = 0.0\nmax_norm = 0.0\n"), plain);
    for extra in [
        "schedule = \"cosine\"\n",
        "schedule = \"step\"\n",
        "l1 = 0.01\n",
        "max_norm = 3.0\n",
        "optimizer = \"rmsprop\"\n",
        "optimizer = \"adagrad\"\n",
    ] {
        assert_ne!(id(extra), plain, "{extra}");
    }
    assert_ne!(
        id("optimizer = \"adagrad\"\n"),
        id("optimizer = \"rmsprop\"\n")
    );
}

/// `data.preprocess = "none"` is the identity of a study without the key;
/// pca and whiten each make another data set (and id).
#[test]
fn preprocess_joins_the_identity_only_when_on() {
    let id = |extra: &str| {
        let e = parse(&format!("name = \"t\"\n[data]\n{extra}"), &[]).unwrap();
        crate::identity::data_key(&e.config_at(&[]).unwrap().data)
    };
    assert_eq!(id("preprocess = \"none\"\n"), id(""));
    assert_ne!(id("preprocess = \"pca\"\n"), id(""));
    assert_ne!(
        id("preprocess = \"pca\"\n"),
        id("preprocess = \"whiten\"\n")
    );
}

/// `[search.halving]` reads its keys and defaults, over a plain grid, and
/// `--set search.halving.<key>` sets one key (creating the table). Catches
/// a default changed (median, η = 3, val_loss) or an override that lands in
/// `[search]` itself.
#[test]
fn halving_reads_its_keys_and_takes_set_overrides() {
    use crate::metric::Metric;
    use crate::stats::Statistic;
    let src = "name = \"h\"\n[train]\nepochs = 30\n[grid]\nlr = [0.1, 0.3]\n[search.halving]\nmin_epochs = 5\n";
    let h = from_str(src, Path::new("s.toml"), &[])
        .unwrap()
        .halving
        .unwrap();
    assert_eq!(
        (h.metric, h.statistic, h.min_epochs, h.eta),
        (Metric::ValLoss, Statistic::Median, 5, 3)
    );
    let plain = "name = \"h\"\n[train]\nepochs = 30\n[grid]\nlr = [0.1, 0.3]\n";
    assert!(
        from_str(plain, Path::new("s.toml"), &[])
            .unwrap()
            .halving
            .is_none()
    );
    let sets = [
        "search.halving.min_epochs=2".to_string(),
        "search.halving.statistic=iqm".to_string(),
        "search.halving.metric=val_acc".to_string(),
        "search.halving.eta=4".to_string(),
    ];
    let h = from_str(plain, Path::new("s.toml"), &sets)
        .unwrap()
        .halving
        .unwrap();
    assert_eq!(
        (h.metric, h.statistic, h.min_epochs, h.eta),
        (Metric::ValAcc, Statistic::Iqm, 2, 4)
    );
}
