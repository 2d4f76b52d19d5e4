//! Tuning curves driven through the binary: `tuning.csv` parsed back and
//! checked against the configurations' medians in `summary.csv`, by a
//! direct enumeration of every n-subset (the unbiased estimator's
//! definition) and the with-replacement formula written out again here.

mod common;

use common::{csv, run_study_ok, temp_study};

/// 2 blocks of 3 random points and a 3-point grid over lr: arms `random`
/// (N = 6, the blocks pooled) and `grid` (N = 3); 3 seeds, so a median
/// is a stored value.
const STUDY: &str = r#"
name = "tuning"
seeds = 3
[data]
kind = "spiral"
points_per_class = 20
[model]
width = 8
[train]
epochs = 3
batch_size = 20
[search]
strategy = "random"
samples = 6
blocks = 2
grid = 3
seed = 1
[space]
lr = { log_uniform = [1e-3, 1.0] }
"#;

/// The mean over every n-subset of `v` of its smallest value.
fn mean_best_of_subsets(v: &[f64], n: usize) -> f64 {
    let (mut sum, mut count) = (0.0, 0.0);
    for mask in 1u32..(1 << v.len()) {
        if mask.count_ones() as usize == n {
            let best = (0..v.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| v[i])
                .fold(f64::INFINITY, f64::min);
            sum += best;
            count += 1.0;
        }
    }
    sum / count
}

/// Expected minimum of n draws with replacement: P(min ≥ x) over the
/// values, summed as E[min] = Σ x·[P(min ≥ x) − P(min > x)].
fn with_replacement(v: &[f64], n: i32) -> f64 {
    let big_n = v.len() as f64;
    v.iter()
        .map(|&x| {
            let at_least = v.iter().filter(|&&y| y >= x).count() as f64 / big_n;
            let above = v.iter().filter(|&&y| y > x).count() as f64 / big_n;
            x * (at_least.powi(n) - above.powi(n))
        })
        .sum()
}

#[test]
fn tuning_csv_matches_the_medians_by_enumeration() {
    let (tmp, file) = temp_study("t.toml", STUDY);
    let out = tmp.path().join("out");
    run_study_ok(&file, &out, &[]);
    let summary = csv(&out.join("summary.csv"));
    let col = summary[0]
        .iter()
        .position(|c| c == "val_loss_median")
        .unwrap();
    let medians: Vec<f64> = summary[1..]
        .iter()
        .map(|r| r[col].parse().unwrap())
        .collect();
    assert_eq!(medians.len(), 9, "6 random points, then the 3-point grid");
    let tuning = csv(&out.join("tuning.csv"));
    assert_eq!(
        tuning[0].join(","),
        "arm,n,expected_best,expected_best_with_replacement,lo,hi,train_epochs"
    );
    assert_eq!(tuning.len(), 1 + 6 + 3);
    for (arm, values) in [("random", &medians[..6]), ("grid", &medians[6..])] {
        let rows: Vec<&Vec<String>> = tuning[1..].iter().filter(|r| r[0] == arm).collect();
        assert_eq!(rows.len(), values.len(), "{arm}");
        for (i, r) in rows.iter().enumerate() {
            let n = i + 1;
            let num = |k: usize| r[k].parse::<f64>().unwrap();
            assert_eq!(r[1], n.to_string());
            let want = mean_best_of_subsets(values, n);
            assert!(
                (num(2) - want).abs() < 1e-12,
                "{arm} n = {n}: {} vs {want}",
                num(2)
            );
            let want = with_replacement(values, n as i32);
            assert!(
                (num(3) - want).abs() < 1e-12,
                "{arm} n = {n}: {} vs {want}",
                num(3)
            );
            assert!(num(4) <= num(5), "{arm} n = {n}: band in order");
            // 3 seeds × 3 epochs per configuration.
            assert_eq!(num(6), (n * 9) as f64);
        }
        let best = values.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(rows.last().unwrap()[2].parse::<f64>().unwrap(), best);
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Tuning curves"), "{report}");
    assert!(report.contains("**Who is ahead**"), "{report}");
    assert!(
        report.contains("](figures/tuning_val_loss.svg)"),
        "{report}"
    );
    assert!(out.join("figures/tuning_val_loss.svg").exists());
}

/// A grid study has no search and so no tuning curves: no file, no
/// section (the reports of grid studies keep their bytes).
#[test]
fn a_grid_study_has_no_tuning_curves() {
    let grid = STUDY
        .replace(
            "[search]\nstrategy = \"random\"\nsamples = 6\nblocks = 2\ngrid = 3\nseed = 1\n",
            "",
        )
        .replace(
            "[space]\nlr = { log_uniform = [1e-3, 1.0] }",
            "[grid]\nlr = [0.01, 0.1]",
        );
    let (tmp, file) = temp_study("g.toml", &grid);
    let out = tmp.path().join("out");
    run_study_ok(&file, &out, &[]);
    assert!(!out.join("tuning.csv").exists());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!report.contains("Tuning curves"));
}

/// relu against tanh at width 2, run for run: `claims.json`'s
/// `probability_of_outperforming` estimate equals the share of seeds at
/// which relu's final train loss is below tanh's (ties half), recomputed
/// here from `trials.csv`, and its evidence states γ.
#[test]
fn probability_of_outperforming_pairs_runs_by_seed() {
    let study = r#"
name = "outperform"
seeds = 6
[data]
kind = "spiral"
points_per_class = 20
[model]
width = 4
[train]
epochs = 3
batch_size = 20
[grid]
activation = ["relu", "tanh"]
[[claims]]
name = "relu beats tanh run for run"
statistic = "probability_of_outperforming"
expect = "less_than"
this = { activation = "relu" }
than = { activation = "tanh" }
gamma = 0.8
"#;
    let (tmp, file) = temp_study("o.toml", study);
    let out = tmp.path().join("out");
    run_study_ok(&file, &out, &[]);
    let trials = csv(&out.join("trials.csv"));
    let at = |name: &str| trials[0].iter().position(|c| c == name).unwrap();
    let (act, seed, loss) = (at("activation"), at("seed"), at("train_loss"));
    let of = |a: &str| -> Vec<(String, f64)> {
        trials[1..]
            .iter()
            .filter(|r| r[act] == a)
            .map(|r| (r[seed].clone(), r[loss].parse().unwrap()))
            .collect()
    };
    let (relu, tanh) = (of("relu"), of("tanh"));
    assert_eq!(relu.len(), 6);
    let wins: f64 = relu
        .iter()
        .map(|(s, x)| {
            let y = tanh.iter().find(|(t, _)| t == s).unwrap().1;
            if *x < y {
                1.0
            } else if *x == y {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("claims.json")).unwrap()).unwrap();
    let c = &doc["claims"][0];
    assert_eq!(c["estimate"], "probability_of_outperforming");
    assert_eq!(c["effect"].as_f64().unwrap(), wins / 6.0, "{c}");
    assert_eq!(c["gamma"].as_f64(), Some(0.8));
    let evidence = c["evidence"].as_str().unwrap();
    assert!(evidence.contains("of 6 paired runs"), "{evidence}");
    assert!(evidence.contains("(γ = 0.8)"), "{evidence}");
}

/// A Sobol search crossed with a `[grid]` axis: one arm per depth, named
/// by the depth and the strategy, each of the search's 3 points; with no
/// second arm in a slice, no "Who is ahead".
#[test]
fn a_crossed_search_has_one_arm_per_setting_of_the_grid() {
    let study = r#"
name = "crossed"
seeds = 2
[data]
kind = "spiral"
points_per_class = 20
[train]
epochs = 2
batch_size = 20
[grid]
depth = [1, 2]
[search]
strategy = "sobol"
samples = 3
seed = 5
[space]
lr = { log_uniform = [1e-3, 0.3] }
"#;
    let (tmp, file) = temp_study("c.toml", study);
    let out = tmp.path().join("out");
    run_study_ok(&file, &out, &[]);
    let tuning = csv(&out.join("tuning.csv"));
    let arms: Vec<(&str, &str)> = tuning[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        arms,
        [
            ("depth=1 sobol", "1"),
            ("depth=1 sobol", "2"),
            ("depth=1 sobol", "3"),
            ("depth=2 sobol", "1"),
            ("depth=2 sobol", "2"),
            ("depth=2 sobol", "3")
        ]
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("| n | depth=1 sobol (N = 3) | depth=2 sobol (N = 3) |"),
        "{report}"
    );
    assert!(!report.contains("Who is ahead"));
}

/// A random search under successive halving stops configurations at
/// different budgets: no tuning curves, and report.md says why under
/// "Figures not drawn" rather than leaving them out silently.
#[test]
fn a_halving_search_says_why_it_has_no_tuning_curves() {
    let study = r#"
name = "hs"
seeds = 2
[data]
kind = "spiral"
points_per_class = 20
[train]
epochs = 4
batch_size = 16
[search]
strategy = "random"
samples = 4
seed = 0
[space]
lr = { log_uniform = [0.01, 1.0] }
[search.halving]
min_epochs = 1
eta = 2
"#;
    let (tmp, file) = temp_study("h.toml", study);
    let out = tmp.path().join("out");
    run_study_ok(&file, &out, &[]);
    assert!(!out.join("tuning.csv").exists());
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!report.contains("## Tuning curves"));
    assert!(
        report.contains("- `tuning_val_loss.svg`: successive halving stopped configurations"),
        "{report}"
    );
}
