//! A small `[replicates]` study end to end: the trials it runs, their seed
//! columns, and the variance components in `summary.csv`, parsed back and
//! checked against the two-factor ANOVA worked out here from `trials.csv`.

mod common;

use std::collections::HashMap;

use common::{csv, run_study_ok, temp_study};

const STUDY: &str = r#"
name = "rep"
[data]
kind = "spiral"
points_per_class = 20
[model]
depth = 1
width = 8
[train]
epochs = 6
batch_size = 20
[grid]
dropout = [0.0, 0.5]
[replicates]
init = 3
dropout = 2
"#;

/// Rows of a CSV as maps from header to cell.
fn records(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let rows = csv(path);
    rows[1..]
        .iter()
        .map(|r| rows[0].iter().cloned().zip(r.iter().cloned()).collect())
        .collect()
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row.get(key)
        .unwrap_or_else(|| panic!("no column {key}"))
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {:?}", row[key]))
}

#[test]
fn a_crossed_study_reports_where_its_variance_comes_from() {
    let (tmp, study) = temp_study("rep.toml", STUDY);
    let out = tmp.path().join("out");
    run_study_ok(&study, &out, &["--jobs", "2"]);
    let trials = records(&out.join("trials.csv"));
    assert_eq!(trials.len(), 2 * 6);
    assert!(trials[0].contains_key("seed_init") && trials[0].contains_key("seed_dropout"));
    assert!(!trials[0].contains_key("seed") && !trials[0].contains_key("seed_order"));
    let summary = records(&out.join("summary.csv"));
    assert_eq!(summary.len(), 2);
    for (config, row) in summary.iter().enumerate() {
        // The two-factor random-effects ANOVA with one observation per
        // cell (Montgomery ch. 13): σ²_init = (MS_init − MS_res)/b,
        // σ²_dropout = (MS_dropout − MS_res)/a, MS_res = the interaction.
        let (a, b) = (3usize, 2usize);
        let mut y = vec![vec![0.0; b]; a];
        for t in trials.iter().filter(|t| t["config"] == config.to_string()) {
            let i: usize = t["seed_init"].parse().unwrap();
            let j: usize = t["seed_dropout"].parse().unwrap();
            y[i][j] = num(t, "val_loss");
        }
        let grand = y.iter().flatten().sum::<f64>() / (a * b) as f64;
        let row_mean: Vec<f64> = y.iter().map(|r| r.iter().sum::<f64>() / b as f64).collect();
        let col_mean: Vec<f64> = (0..b)
            .map(|j| y.iter().map(|r| r[j]).sum::<f64>() / a as f64)
            .collect();
        let ms_a =
            b as f64 * row_mean.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (a - 1) as f64;
        let ms_b =
            a as f64 * col_mean.iter().map(|m| (m - grand).powi(2)).sum::<f64>() / (b - 1) as f64;
        let mut ss_res = 0.0;
        for i in 0..a {
            for j in 0..b {
                ss_res += (y[i][j] - row_mean[i] - col_mean[j] + grand).powi(2);
            }
        }
        let ms_res = ss_res / ((a - 1) * (b - 1)) as f64;
        let want_init = ((ms_a - ms_res) / b as f64).max(0.0);
        let want_dropout = ((ms_b - ms_res) / a as f64).max(0.0);
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-9 * want.abs().max(1e-12);
        let got_init = num(row, "var_init_val_loss");
        let got_dropout = num(row, "var_dropout_val_loss");
        assert!(
            close(got_init, want_init),
            "config {config}: {got_init} vs {want_init}"
        );
        assert!(
            close(got_dropout, want_dropout),
            "{got_dropout} vs {want_dropout}"
        );
        assert!(close(num(row, "var_residual_val_loss"), ms_res));
        let shares: f64 = ["init", "dropout", "residual"]
            .iter()
            .map(|s| num(row, &format!("share_{s}_val_loss")))
            .sum();
        assert!((shares - 1.0).abs() < 1e-12, "shares sum to {shares}");
        let (lo, hi) = (
            num(row, "share_init_val_loss_lo"),
            num(row, "share_init_val_loss_hi"),
        );
        assert!((0.0..=1.0).contains(&lo) && lo <= hi && hi <= 1.0);
        if config == 0 {
            // Without dropout the dropout seed changes nothing, bit for bit
            // (its own stream): a component of exactly zero, and no residual.
            assert!(y.iter().all(|r| r[0] == r[1]), "{y:?}");
            assert_eq!(got_dropout, 0.0);
            assert_eq!(num(row, "var_residual_val_loss"), 0.0);
            assert_eq!(num(row, "share_init_val_loss"), 1.0);
        } else {
            assert!(
                y.iter().any(|r| r[0] != r[1]),
                "dropout masks differ per seed"
            );
        }
    }
}
