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
