//! Blocks and the comparison grid: where each point sits on the search
//! axis, the grid's levels against their formula (worked out by hand in
//! the comments), ids unchanged, and the errors of the new keys.
use std::path::Path;

use super::*;
use crate::plan::Plan;
use crate::study::{Study, StudyError, from_str};

fn study(src: &str) -> Result<Study, StudyError> {
    from_str(src, Path::new("s.toml"), &[])
}

/// Two keys, 2 levels each: 4 grid points = a block of 4; 3 blocks.
const ARMS: &str = r#"
name = "a"
seeds = 2
[search]
strategy = "random"
samples = 12
blocks = 3
grid = 2
seed = 9
[space]
lr = { log_uniform = [1e-3, 1e-1] }
width = { int_uniform = [4, 7] }
"#;

fn floats(points: &[Vec<Value>], k: usize) -> Vec<f64> {
    points
        .iter()
        .map(|p| match &p[k] {
            Value::Float(x) => *x,
            Value::Integer(i) => *i as f64,
            other => panic!("{other}"),
        })
        .collect()
}

#[test]
fn the_grid_follows_the_draws_with_levels_at_bin_middles() {
    let s = study(ARMS).unwrap();
    let search = s.search.as_ref().unwrap();
    let axis = search.axis();
    assert_eq!(axis.len(), 12 + 4);
    let grid = &axis.points[12..];
    // lr: u = 1/4, 3/4 of log [1e-3, 1e-1] → 10^-2.5, 10^-1.5, first key
    // outermost; width: floor(u·4) → 4 + 1, 4 + 3 = 5, 7, innermost.
    let lr = floats(grid, 0);
    let want = [
        10f64.powf(-2.5),
        10f64.powf(-2.5),
        10f64.powf(-1.5),
        10f64.powf(-1.5),
    ];
    for (a, b) in lr.iter().zip(want) {
        assert!((a - b).abs() < 1e-15, "{lr:?}");
    }
    assert_eq!(floats(grid, 1), [5.0, 7.0, 5.0, 7.0]);
    // Draws 0..3 are block 0, 4..7 block 1, 8..11 block 2, the rest the grid.
    let arms: Vec<Arm> = (0..16).map(|i| search.arm(i).unwrap()).collect();
    assert_eq!(arms[..4], [Arm::Block(0); 4]);
    assert_eq!(arms[4..8], [Arm::Block(1); 4]);
    assert_eq!(arms[8..12], [Arm::Block(2); 4]);
    assert_eq!(arms[12..], [Arm::Grid; 4]);
}

/// The draws are the same points, with the same ids, as the plain search
/// of 12 samples: blocks and the grid only add trials after them.
#[test]
fn blocks_and_grid_leave_the_draws_and_their_ids_unchanged() {
    let with = Plan::new(&study(ARMS).unwrap()).unwrap();
    let plain_src = ARMS.replace("blocks = 3\n", "").replace("grid = 2\n", "");
    let plain = Plan::new(&study(&plain_src).unwrap()).unwrap();
    let ids = |p: &Plan| p.trials.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&with)[..24], ids(&plain)[..]);
    assert_eq!(with.len(), 24 + 8);
    assert_eq!(study(&plain_src).unwrap().search.unwrap().arm(3), None);
}

#[test]
fn blocks_without_a_grid_only_label_the_draws() {
    let s = study(&ARMS.replace("grid = 2\n", "")).unwrap();
    let search = s.search.unwrap();
    assert_eq!(search.axis().len(), 12);
    assert!(!search.has_grid_arm());
    assert_eq!(search.arm(11), Some(Arm::Block(2)));
}

fn error(src: &str) -> StudyError {
    study(src).unwrap_err()
}

#[test]
fn the_new_keys_refuse_what_cannot_be_compared() {
    let e = error(&ARMS.replace("blocks = 3\n", ""));
    assert_eq!(e.key, "search.grid");
    assert!(e.message.contains("set search.blocks too"), "{}", e.message);
    let e = error(&ARMS.replace("\"random\"", "\"sobol\""));
    assert_eq!(e.key, "search.blocks");
    assert!(
        e.message.contains("Sobol points are not independent"),
        "{}",
        e.message
    );
    let e = error(&ARMS.replace("blocks = 3", "blocks = 5"));
    assert!(
        e.message
            .contains("samples = 12 does not split into 5 blocks"),
        "{}",
        e.message
    );
    let e = error(&ARMS.replace("blocks = 3", "blocks = 0"));
    assert_eq!(e.key, "search.blocks");
    let e = error(&ARMS.replace("blocks = 3", "blocks = 2"));
    assert_eq!(e.key, "search.grid");
    assert!(
        e.message.contains("has 4 points, but each block draws 6"),
        "{}",
        e.message
    );
    let e = error(&ARMS.replace("grid = 2", "grid = 1"));
    assert_eq!(e.key, "search.grid");
    // int_uniform [4, 5] at 2 levels is 4, 5; at 3 levels floor(u·2) for
    // u = 1/6, 1/2, 5/6 is 0, 1, 1: width 5 twice.
    let three = ARMS
        .replace("samples = 12", "samples = 27")
        .replace("grid = 2", "grid = 3")
        .replace("[4, 7]", "[4, 5]");
    let e = error(&three);
    assert_eq!((e.key.as_str(), e.line), ("space.width", Some(12)));
    assert!(
        e.message
            .contains("fewer than 3 distinct grid levels (4, 5, 5)"),
        "{}",
        e.message
    );
    let e = error(
        &ARMS
            .replace("strategy = \"random\"\nsamples = 12\n", "")
            .replace("seed = 9\n", ""),
    );
    assert_eq!(e.key, "search.blocks");
}

#[test]
fn a_best_of_block_claim_needs_the_grid_and_no_groups() {
    let claim = "[[claims]]\nname = \"x\"\nmetric = \"val_loss\"\nstatistic = \"best_of_block\"\n";
    let ok = format!("{ARMS}{claim}expect = \"less_than\"\n");
    let s = study(&ok).unwrap();
    assert_eq!(
        s.report.claims[0].statistic,
        crate::study::Statistic::BestOfBlock
    );
    let e = error(&format!(
        "{}{claim}expect = \"less_than\"\n",
        ARMS.replace("grid = 2\n", "")
    ));
    assert_eq!(e.key, "claims[0].statistic");
    assert!(
        e.message
            .contains("needs [search] strategy = \"random\" with blocks and grid")
    );
    let e = error(&format!("{ARMS}{claim}expect = \"decreasing\"\n"));
    assert_eq!(e.key, "claims[0].expect");
    let e = error(&format!(
        "{ARMS}{claim}expect = \"less_than\"\nalong = \"lr\"\n"
    ));
    assert_eq!(e.key, "claims[0].along");
    let e = error(&format!(
        "{ARMS}{claim}expect = \"less_than\"\nthis = {{ width = 5 }}\n"
    ));
    assert_eq!(e.key, "claims[0].this");
}
