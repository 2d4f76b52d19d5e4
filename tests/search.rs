//! Random and Sobol searches driven through the binary: the same points
//! in every process, a grown search trains only its new points, and a
//! merge of shards equals a single run, repeated points included.

mod common;

use std::fs;

use common::{arg, run_ok, run_study_ok, stderr, stdout, stored_ids, tables, temp_study};

const SEARCH: &str = r#"
name = "search"
seeds = 2
[train]
epochs = 2
eval_every = 1
[grid]
depth = [1, 2]
[search]
strategy = "random"
samples = 3
seed = 5
[space]
lr = { log_uniform = [1e-3, 1.0] }
width = { int_uniform = [2, 3] }
"#;

#[test]
fn points_are_the_same_in_every_process() {
    let (_tmp, file) = temp_study("s.toml", SEARCH);
    for strategy in ["random", "sobol"] {
        let set = format!("search.strategy={strategy}");
        let plan = || stdout(&run_ok(&["plan", arg(&file), "--set", &set]));
        let first = plan();
        assert_eq!(first, plan(), "{strategy}");
        assert_eq!(first.matches("[missing]").count(), 2 * 3 * 2, "{first}");
    }
}

/// 3 then 6 points: the second run trains only the trials of points 3..6
/// (ids not drawn before), and its tables equal a fresh run of 6 points.
#[test]
fn a_grown_search_resumes_and_trains_only_the_new_points() {
    let (tmp, file) = temp_study("s.toml", SEARCH);
    let out = tmp.path().join("grown");
    run_study_ok(&file, &out, &[]);
    let before = stored_ids(&out);
    let o = run_study_ok(&file, &out, &["--set", "search.samples=6"]);
    let after = stored_ids(&out);
    assert_eq!(after[..before.len()], before[..]);
    let new = after.len() - before.len();
    assert!(
        stderr(&o).contains(&format!("trained {new} trials")),
        "{}",
        stderr(&o)
    );
    let fresh = tmp.path().join("fresh");
    run_study_ok(&file, &fresh, &["--set", "search.samples=6"]);
    let mut a = stored_ids(&fresh);
    let mut b = after.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same distinct trials");
    // study.toml differs (the override), the tables do not.
    assert_eq!(tables(&out), tables(&fresh));
}

/// Widths 2 and 3 over 8 points repeat: every distinct id is stored once,
/// and shards merged equal one run.
#[test]
fn repeated_points_train_once_and_shards_merge_to_one_run() {
    let (tmp, file) = temp_study("s.toml", SEARCH);
    let set = ["--set", "search.samples=8", "--set", "lr=0.1"];
    let whole = tmp.path().join("whole");
    run_study_ok(&file, &whole, &set);
    let ids = stored_ids(&whole);
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(ids.len(), distinct.len(), "no id trained twice");
    // 2 depths × 2 widths × 2 seeds: lr is pinned, so width alone varies.
    assert_eq!(ids.len(), 8);
    let mut shards = Vec::new();
    for i in 1..=3 {
        let dir = tmp.path().join(format!("shard{i}"));
        let shard = format!("{i}/3");
        run_study_ok(&file, &dir, &[&set[..], &["--shard", &shard]].concat());
        shards.push(dir);
    }
    let merged = tmp.path().join("merged");
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(|d| arg(d)));
    args.extend(["--out", arg(&merged)]);
    let o = run_ok(&args);
    assert!(
        stderr(&o).contains("merged 8 of 8 trials"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tables(&merged), tables(&whole));
    assert!(fs::read_to_string(merged.join("summary.md")).is_ok());
}

/// A search's report gains the Search section and its two figures, and
/// is the same bytes when rebuilt; `refine` writes a study that loads,
/// whose lr range lies inside the old one, and refuses bad input with
/// exit 1: K = 0, K above the configurations, a grid study.
#[test]
fn a_search_report_and_its_refinement() {
    let (tmp, file) = temp_study("s.toml", SEARCH);
    let out = tmp.path().join("r");
    run_study_ok(&file, &out, &[]);
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Search"), "{report}");
    assert!(
        report.contains("### The best 6 of 6 configurations"),
        "{report}"
    );
    assert!(
        report.contains("| width | int_uniform [2, 3] | 2 |"),
        "{report}"
    );
    for f in ["search_val_loss_vs_keys.svg", "search_parallel.svg"] {
        let svg = fs::read_to_string(out.join("figures").join(f)).unwrap();
        roxmltree::Document::parse(&svg).expect("valid SVG");
    }
    run_ok(&["report", arg(&out)]);
    assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), report);

    let refined = tmp.path().join("refined.toml");
    let o = run_ok(&["refine", arg(&out), "--top", "2", "--out", arg(&refined)]);
    assert_eq!(stdout(&o).trim(), arg(&refined));
    let text = fs::read_to_string(&refined).unwrap();
    assert!(text.contains("name = \"search_refined\""), "{text}");
    run_ok(&["plan", arg(&refined)]);
    for (args, message) in [
        (vec!["--top", "0"], "--top 0"),
        (vec!["--top", "7"], "has 6 configurations"),
    ] {
        let mut a = vec!["refine", arg(&out)];
        a.extend(args);
        let o = common::run(&a);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains(message), "{}", stderr(&o));
    }
    let grid_file = common::write_study(
        tmp.path(),
        "g.toml",
        "name = \"g\"\n[train]\nepochs = 1\n[grid]\nwidth = [2, 3]\n",
    );
    let grid = tmp.path().join("g");
    run_study_ok(&grid_file, &grid, &[]);
    let o = common::run(&["refine", arg(&grid)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is a grid, not a search"),
        "{}",
        stderr(&o)
    );
}

/// Two blocks of 4 random points and the 2 × 2 grid over lr and l2.
const ARMS: &str = r#"
name = "arms"
seeds = 3
[train]
epochs = 3
eval_every = 1
[search]
strategy = "random"
samples = 8
blocks = 2
grid = 2
seed = 3
[space]
lr = { log_uniform = [1e-3, 1.0] }
l2 = { log_uniform = [1e-6, 1e-1] }
[[claims]]
name = "random beats the grid"
metric = "val_loss"
statistic = "best_of_block"
expect = "less_than"
"#;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The report's difference and win count, recomputed here from trials.csv
/// parsed back: configurations 0–3 are block 0, 4–7 block 1, 8–11 the grid;
/// each arm's best is its lowest seed median of val_loss.
#[test]
fn best_of_block_is_reported_from_the_stored_trials() {
    let (tmp, file) = temp_study("s.toml", ARMS);
    let out = tmp.path().join("arms");
    run_study_ok(&file, &out, &[]);
    let rows = common::csv(&out.join("trials.csv"));
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (config, val) = (col("config"), col("val_loss"));
    let mut by_config = vec![Vec::new(); 12];
    for r in &rows[1..] {
        let c: usize = r[config].parse().unwrap();
        by_config[c].push(r[val].parse::<f64>().unwrap());
    }
    assert!(by_config.iter().all(|xs| xs.len() == 3), "3 seeds each");
    let medians: Vec<f64> = by_config.into_iter().map(median).collect();
    let best =
        |cs: std::ops::Range<usize>| medians[cs].iter().copied().fold(f64::INFINITY, f64::min);
    let (b0, b1, g) = (best(0..4), best(4..8), best(8..12));
    let diff = (b0 + b1) / 2.0 - g;
    let wins: f64 = [b0, b1]
        .iter()
        .map(|&b| {
            if b < g {
                1.0
            } else if b == g {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    let want =
        format!("mean over 2 blocks of the block's best val_loss − the grid's best = {diff:.4}");
    assert!(report.contains(&want), "{want}\n{report}");
    assert!(
        report.contains(&format!("in {wins} of 2 blocks")),
        "{report}"
    );
    assert!(
        report.contains("in 2 blocks of 4, against a grid of 2 levels per key (4 points)"),
        "{report}"
    );
    // "What each search found": the grid's row names its best configuration.
    let grid_best = (8..12)
        .min_by(|&a, &b| medians[a].total_cmp(&medians[b]))
        .unwrap();
    assert!(report.contains("### What each search found"), "{report}");
    assert!(
        report.contains(&format!("| grid | {grid_best} |")),
        "{report}"
    );
}
