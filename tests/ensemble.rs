//! Ensembles of seeds end to end: a small study runs through the binary,
//! and summary.csv's `ensemble_val_loss` / `ensemble_val_acc` are
//! recomputed here from the predictions stored in trials.jsonl and the
//! validation targets, with the formulas written out again (mean of the
//! seeds' probabilities, cross-entropy with the 1e-12 floor, first
//! argmax; MSE of the mean output for regression).

mod common;

use std::collections::BTreeMap;
use std::fs;

use common::{csv, run_study_ok, temp_study};
use mlpsweep::data::Targets;
use mlpsweep::plan::Plan;
use mlpsweep::store::ResultsDir;
use mlpsweep::train::{Status, TrialRecord};

/// (config, ensemble loss, ensemble accuracy) recomputed from the stored
/// predictions of every configuration's finished seeds.
fn recompute(
    study: &std::path::Path,
    out: &std::path::Path,
) -> BTreeMap<usize, (f64, Option<f64>)> {
    let exp = mlpsweep::study::load(study, &[]).unwrap();
    let plan = Plan::new(&exp).unwrap();
    let records: Vec<TrialRecord> = ResultsDir::new(out).read_history().unwrap();
    let mut by_config: BTreeMap<usize, Vec<(&mlpsweep::plan::Trial, &TrialRecord)>> =
        BTreeMap::new();
    for t in &plan.trials {
        let r = records.iter().find(|r| r.id == t.id).expect("stored");
        assert_eq!(r.status, Status::Ok);
        by_config.entry(t.config_index).or_default().push((t, r));
    }
    let mut out = BTreeMap::new();
    for (config, members) in by_config {
        let data = mlpsweep::data::load(&members[0].0.config.data).unwrap();
        let val = data.val.unwrap();
        let preds: Vec<_> = members
            .iter()
            .map(|(_, r)| r.val_predictions.as_ref().expect("predictions stored"))
            .collect();
        let k = preds[0].outputs;
        let n = preds[0].values.len() / k;
        let mean = |i: usize, c: usize| -> f64 {
            preds
                .iter()
                .map(|p| f64::from(p.values[i * k + c]))
                .sum::<f64>()
                / preds.len() as f64
        };
        let value = match &val.y {
            Targets::Classes(y) => {
                assert_eq!(y.len(), n);
                let mut loss = 0.0;
                let mut hits = 0;
                for (i, &t) in y.iter().enumerate() {
                    let row: Vec<f64> = (0..k).map(|c| mean(i, c)).collect();
                    loss += -row[t as usize].max(1e-12).ln();
                    let mut best = 0;
                    for c in 1..k {
                        if row[c] > row[best] {
                            best = c;
                        }
                    }
                    hits += usize::from(best == t as usize);
                }
                (loss / n as f64, Some(hits as f64 / n as f64))
            }
            Targets::Values(y) => {
                assert_eq!((y.len(), k), (n, 1));
                let sq: f64 = y
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (mean(i, 0) - f64::from(*t)).powi(2))
                    .sum();
                (sq / n as f64, None)
            }
        };
        out.insert(config, value);
    }
    out
}

/// summary.csv's (config, ensemble_val_loss, ensemble_val_acc, val_loss_mean).
fn summary(out: &std::path::Path) -> Vec<(usize, f64, Option<f64>, f64)> {
    let rows = csv(&out.join("summary.csv"));
    let col = |name: &str| rows[0].iter().position(|h| h == name).expect(name);
    let (c, l, a, m) = (
        col("config"),
        col("ensemble_val_loss"),
        col("ensemble_val_acc"),
        col("val_loss_mean"),
    );
    // Right beside the average member.
    assert_eq!(l, m + 1);
    rows[1..]
        .iter()
        .map(|r| {
            (
                r[c].parse().unwrap(),
                r[l].parse().unwrap(),
                r[a].parse().ok(),
                r[m].parse().unwrap(),
            )
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn summary_ensembles_are_the_stored_predictions_averaged_and_scored() {
    let text = r#"name = "ens"
seeds = 3
[data]
points_per_class = 40
[train]
epochs = 30
eval_every = 10
[grid]
width = [2, 8, 32]
[[claims]]
name = "wider nets make better ensembles"
metric = "val_loss"
statistic = "ensemble"
expect = "decreasing"
along = "width"
"#;
    let (tmp, study) = temp_study("ens.toml", text);
    let out = tmp.path().join("out");
    run_study_ok(&study, &out, &[]);
    let want = recompute(&study, &out);
    let got = summary(&out);
    assert_eq!(got.len(), 3);
    for (config, loss, acc, _) in &got {
        let (l, a) = want[config];
        assert!(close(*loss, l), "config {config}: {loss} vs {l}");
        assert_eq!(acc.is_some(), a.is_some());
        assert!(close(acc.unwrap(), a.unwrap()), "config {config}");
    }
    // The claim reads the same per-configuration values.
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("wider nets make better ensembles"),
        "{report}"
    );
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("| ensemble val loss | ensemble val acc (%) |"),
        "{md}"
    );
}

#[test]
fn regression_ensembles_are_the_squared_error_of_the_mean_output() {
    let text = r#"name = "ens_sine"
seeds = 2
[data]
kind = "sine"
points = 60
[model]
width = 8
activation = "tanh"
[train]
lr = 0.05
epochs = 20
"#;
    let (tmp, study) = temp_study("ens_sine.toml", text);
    let out = tmp.path().join("out");
    run_study_ok(&study, &out, &[]);
    let want = recompute(&study, &out);
    let got = summary(&out);
    assert_eq!(got.len(), 1);
    let (config, loss, acc, mean) = got[0];
    assert!(
        close(loss, want[&config].0),
        "{loss} vs {:?}",
        want[&config]
    );
    assert_eq!(acc, None);
    // Two different seeds: the ensemble is not just one of them.
    assert_ne!(loss, mean);
}

/// Per configuration (in plan order): the mean member's and the
/// ensemble's validation (loss, accuracy), each member scored alone from
/// its stored probabilities with the formulas above written out again.
fn member_and_ensemble(
    study: &std::path::Path,
    out: &std::path::Path,
) -> Vec<((f64, f64), (f64, f64))> {
    let exp = mlpsweep::study::load(study, &[]).unwrap();
    let plan = Plan::new(&exp).unwrap();
    let records: Vec<TrialRecord> = ResultsDir::new(out).read_history().unwrap();
    let mut by_config: BTreeMap<usize, Vec<&TrialRecord>> = BTreeMap::new();
    let mut data = None;
    for t in &plan.trials {
        let r = records.iter().find(|r| r.id == t.id).expect("stored");
        by_config.entry(t.config_index).or_default().push(r);
        data.get_or_insert_with(|| mlpsweep::data::load(&t.config.data).unwrap());
    }
    let Targets::Classes(y) = data.unwrap().val.unwrap().y else {
        panic!("classification")
    };
    // (loss, accuracy) of probabilities `p(i, c)`.
    let score = |p: &dyn Fn(usize, usize) -> f64, k: usize| {
        let (mut loss, mut hits) = (0.0, 0);
        for (i, &t) in y.iter().enumerate() {
            loss -= p(i, t as usize).max(1e-12).ln();
            let best = (1..k).fold(0, |b, c| if p(i, c) > p(i, b) { c } else { b });
            hits += usize::from(best == t as usize);
        }
        (loss / y.len() as f64, hits as f64 / y.len() as f64)
    };
    by_config
        .values()
        .map(|members| {
            let preds: Vec<_> = members
                .iter()
                .map(|r| r.val_predictions.as_ref().unwrap())
                .collect();
            let k = preds[0].outputs;
            let own: Vec<(f64, f64)> = preds
                .iter()
                .map(|p| score(&|i, c| f64::from(p.values[i * k + c]), k))
                .collect();
            let n = own.len() as f64;
            let member = (
                own.iter().map(|o| o.0).sum::<f64>() / n,
                own.iter().map(|o| o.1).sum::<f64>() / n,
            );
            let mean = |i: usize, c: usize| {
                preds
                    .iter()
                    .map(|p| f64::from(p.values[i * k + c]))
                    .sum::<f64>()
                    / n
            };
            (member, score(&mean, k))
        })
        .collect()
}

/// End to end: a tiny study with `ensemble_gain` claims on both metrics.
/// report.md states, per configuration, the mean member and the ensemble
/// recomputed here from trials.jsonl (to the 4 decimals it prints), one
/// slice per configuration, and `mlpsweep report` rebuilds the same bytes
/// (the bootstrap is seeded). Catches the members' stored loss used
/// instead of their predictions, a gain of the wrong sign, slices pooled
/// over configurations, and an unseeded bootstrap.
#[test]
fn ensemble_gain_claims_report_each_configurations_gain() {
    let text = r#"name = "gain"
seeds = 4
[data]
points_per_class = 40
[train]
epochs = 30
eval_every = 10
[grid]
width = [2, 16]
[[claims]]
name = "loss gain"
metric = "val_loss"
statistic = "ensemble_gain"
expect = "greater_than"
[[claims]]
name = "accuracy gain"
metric = "val_acc"
statistic = "ensemble_gain"
expect = "greater_than"
"#;
    let (tmp, study) = temp_study("gain.toml", text);
    let out = tmp.path().join("out");
    run_study_ok(&study, &out, &[]);
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    for (w, ((ml, ma), (el, ea))) in [2, 16].iter().zip(member_and_ensemble(&study, &out)) {
        let loss = format!(
            "- **width={w}** — {{}}: mean member val_loss {ml:.4} − ensemble {el:.4} = {:.4} ({:.1}% of the member's) over 4 seeds, 95% bootstrap CI [",
            ml - el,
            100.0 * (ml - el) / ml
        );
        let acc = format!(
            "ensemble val_acc {ea:.4} − mean member {ma:.4} = {:.4} over 4 seeds, 95% bootstrap CI [",
            ea - ma
        );
        let (head, tail) = loss.split_once("{}").unwrap();
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(head) && l.contains(tail)),
            "{loss}\n{report}"
        );
        assert!(report.contains(&acc), "{acc}\n{report}");
        assert!(
            ml > el,
            "Jensen: the ensemble's loss is at most the members' mean"
        );
    }
    assert!(report.contains("| loss gain | **"), "{report}");
    assert!(report.contains("slice tests of this study's claims"));
    assert!(report.contains("family of all 4 slice tests"), "{report}");
    mlpsweep_report_is_unchanged(&out, &report);
}

fn mlpsweep_report_is_unchanged(out: &std::path::Path, before: &str) {
    common::run_ok(&["report", out.to_str().unwrap()]);
    assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), before);
}
