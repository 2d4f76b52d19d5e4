//! Pins of the identity contract. The literal ids are those of the
//! committed results (format 4, printed by `mlpsweep plan`); at format 3
//! the same pins, made while ids still came from serde, held through the
//! schema redesign. Resume depends on them staying put.

use std::path::Path;

use super::*;
use crate::plan::{FORMAT_VERSION, Plan};
use crate::study::{self, from_str};

fn plan_of(study: &str, sets: &[&str]) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("experiments")
        .join(study);
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    Plan::new(&study::load(&path, &sets).unwrap()).unwrap()
}

#[test]
fn shipped_studies_keep_their_trial_ids() {
    assert_eq!(
        FORMAT_VERSION, 4,
        "a new format changes every id: update these pins"
    );
    let pins = [
        ("depth_vs_width.toml", 0, "7b2d1c84fcf227cf"),
        ("depth_vs_width.toml", 639, "8a5bb9ade48cb761"),
        ("digits.toml", 0, "7e188eee11b47086"),
        ("activations.toml", 90, "2f4b14185f6ef95f"),
        ("activations.toml", 120, "03c979bbfdc6dae3"),
        ("universal_approximation.toml", 0, "0f70bd5b76c585a3"),
        ("regularization.toml", 0, "32d3630fb298101f"),
        ("dropout.toml", 0, "dda764460960b733"),
        ("depth.toml", 0, "39d35e0a7a739aba"),
    ];
    for (study, index, id) in pins {
        assert_eq!(
            plan_of(study, &[]).trials[index].id,
            id,
            "{study} trial {index}"
        );
    }
}

/// The identity text of the default study, field by field: what a trial
/// id hashes. Catches a renamed, reordered, dropped or reformatted field.
#[test]
fn the_identity_text_of_the_defaults() {
    let e = from_str("name = \"a\"\n", Path::new("s.toml"), &[]).unwrap();
    let c = e.config_at(&[]).unwrap();
    assert_eq!(
        config_fields(&c).json(),
        concat!(
            r#"{"data":{"kind":"spiral","classes":3,"points_per_class":100,"points":null,"#,
            r#""noise":0.2,"factor":null,"dims":null,"frequency":null,"label_noise":0.0,"#,
            r#""file_hash":null,"label_column":null,"task":"classification","val":"fresh","#,
            r#""standardize":false,"seed":0},"#,
            r#""model":{"depth":1,"width":16,"activation":"relu","alpha":null,"pieces":null,"#,
            r#""init":"kaiming_normal","init_std":null,"dropout":0.0},"#,
            r#""train":{"optimizer":"sgd","lr":0.1,"momentum":0.9,"nesterov":false,"#,
            r#""beta1":null,"beta2":null,"eps":null,"batch_size":64,"epochs":100,"#,
            r#""l2":0.0,"eval_every":10}}"#
        )
    );
}

/// A key added after format 3 changes nothing at its default: the same ids
/// and the same trials.csv columns; away from it, it joins both.
#[test]
fn a_new_key_at_its_default_leaves_ids_and_columns_unchanged() {
    let ids = |p: &Plan| p.trials.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    let plain = plan_of("depth.toml", &[]);
    let explicit = plan_of("depth.toml", &["train.clip=0"]);
    let clipped = plan_of("depth.toml", &["train.clip=1.5"]);
    assert_eq!(ids(&plain), ids(&explicit));
    assert!(ids(&plain).iter().zip(ids(&clipped)).all(|(a, b)| *a != b));
    let columns = |p: &Plan| setting_columns(&p.trials[0].config);
    assert_eq!(columns(&plain), columns(&explicit));
    assert!(!columns(&plain).iter().any(|(k, _)| k == "train.clip"));
    assert!(columns(&clipped).contains(&("train.clip".into(), "1.5".into())));
}

/// Columns are the identity's fields, sorted segment by segment, without
/// the ones that do not apply; values as tables show them.
#[test]
fn setting_columns_are_the_sorted_fields_that_apply() {
    let src = "name = \"a\"\n[data]\nkind = \"iris\"\n[model]\nactivation = \"leaky_relu\"\n";
    let e = crate::testkit::study(src);
    let cols = setting_columns(&e.config_at(&[]).unwrap());
    let keys: Vec<&str> = cols.iter().map(|(k, _)| k.as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort_by_key(|k| k.split('.').map(String::from).collect::<Vec<_>>());
    assert_eq!(keys, sorted);
    assert!(cols.contains(&("data.val.fraction".into(), "0.2".into())));
    assert!(cols.contains(&("model.alpha".into(), "0.01".into())));
    assert!(cols.contains(&("data.kind".into(), "iris".into())));
    assert!(!keys.contains(&"data.noise") && !keys.contains(&"model.pieces"));
}

/// Trials share a data set exactly when their data settings agree: the
/// cache key follows `[data]` and ignores the model and training.
#[test]
fn the_data_key_follows_the_data_settings_only() {
    let src = "name = \"a\"\n[grid]\nnoise = [0.1, 0.3]\nwidth = [4, 8]\n";
    let e = crate::testkit::study(src);
    let keys: Vec<String> = (0..4)
        .map(|i| data_key(&e.config_at(&e.coords(i)).unwrap().data))
        .collect();
    assert_eq!(keys[0], keys[1], "same data, other width");
    assert_eq!(keys[2], keys[3]);
    assert_ne!(keys[0], keys[2], "other noise");
    assert!(keys[0].contains("\"noise\":0.1") && keys[2].contains("\"noise\":0.3"));
}

/// `model.batch_norm` (added after format 3) at its default false leaves
/// every id and column as before; true changes every id and joins the
/// columns. Catches writing the flag into the identity unconditionally
/// (every stored id would change) or never (batch-norm trials would share
/// the ids of plain ones and resume from their results).
#[test]
fn batch_norm_joins_the_id_only_when_on() {
    let ids = |p: &Plan| p.trials.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    let plain = plan_of("depth.toml", &[]);
    let explicit = plan_of("depth.toml", &["model.batch_norm=false"]);
    let normed = plan_of("depth.toml", &["model.batch_norm=true"]);
    assert_eq!(ids(&plain), ids(&explicit));
    assert!(ids(&plain).iter().zip(ids(&normed)).all(|(a, b)| *a != b));
    let columns = |p: &Plan| setting_columns(&p.trials[0].config);
    assert_eq!(columns(&plain), columns(&explicit));
    assert!(!columns(&plain).iter().any(|(k, _)| k == "model.batch_norm"));
    assert!(columns(&normed).contains(&("model.batch_norm".into(), "true".into())));
}

/// The plan writes each configuration's identity text once and hashes it
/// with each trial's seeds: every id and data key is the one computed from
/// the trial alone, in a `[replicates]` study (ids written with `"seeds"`,
/// configurations per data seed) and a plain one (`"seed"`). Catches the
/// shared text drifting from `trial_id`'s, or a data seed's key shared.
#[test]
fn ids_written_once_per_configuration_are_the_trials_own() {
    for study in ["variance_sources.toml", "depth_vs_width.toml"] {
        let plan = plan_of(study, &[]);
        let mut keys = std::collections::HashSet::new();
        for t in &plan.trials {
            assert_eq!(
                t.id,
                trial_id(FORMAT_VERSION, &t.config, &t.seeds),
                "{study}"
            );
            assert_eq!(&*t.data_key, data_key(&t.config.data), "{study}");
            keys.insert(t.data_key.clone());
        }
        let data_seeds = if study == "variance_sources.toml" {
            4
        } else {
            1
        };
        assert_eq!(keys.len(), data_seeds, "{study}");
    }
}
