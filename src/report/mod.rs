//! Reports: tables of trials and of configurations (seeds aggregated),
//! built with polars and rendered as CSV and Markdown.
//!
//! Input: the [`Plan`] and the stored [`TrialRecord`]s. Output: a [`Report`]
//! of polars frames, rendered by the exporters in `csv.rs` and
//! `markdown.rs` and written by [`write`]. Renderers are pure (frame →
//! bytes); only `write` does I/O, each file written whole or not at all.
//!
//! Seeds are replicates: a configuration's row aggregates its seeds' final
//! metrics (mean, sample std with ddof = 1, so one seed gives an empty std).
//! Diverged and failed trials are counted but kept out of the statistics.
//! Wall times vary from run to run, so no table holds them: the same study
//! gives byte-identical tables whatever `--jobs` was.

pub mod claims;
mod csv;
mod markdown;
mod plot;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::data::Dataset;
use crate::experiment::{Experiment, Setting};
use crate::plan::{Plan, Trial};
use crate::train::{Metrics, Status, TrialRecord};

/// The metrics aggregated across seeds, in table order: the final
/// values of each trial (`gap` = val loss − train loss).
pub use crate::experiment::METRICS;

/// The report's tables and verdicts.
pub struct Report {
    /// Column names of the swept keys, in axis order.
    pub swept: Vec<String>,
    /// One row per stored trial of the plan, in plan order.
    pub trials: DataFrame,
    /// One row per configuration, in plan order.
    pub summary: DataFrame,
    /// Tidy training curves: one row per (trial, epoch).
    pub curves: DataFrame,
    /// The lowest final train loss of any finished trial (for `stuck`).
    pub best_train_loss: Option<f64>,
    /// One verdict per claim of the study.
    pub verdicts: Vec<claims::Verdict>,
    /// Sum of the stored trials' wall times, in seconds.
    pub trial_seconds: f64,
}

/// Name of a swept key's column: the bare key where it is unique, else dotted.
fn column_names(keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            let short = k.rsplit('.').next().unwrap_or(k);
            let clash = keys
                .iter()
                .filter(|o| o.rsplit('.').next() == Some(short))
                .count()
                > 1;
            if clash || short == "seed" {
                k.replace('.', "_")
            } else {
                short.to_string()
            }
        })
        .collect()
}

/// A column of swept values, typed: integers, floats, booleans, or text.
fn setting_column(name: &str, values: &[&Setting]) -> Column {
    let all = |f: fn(&Setting) -> bool| values.iter().all(|v| f(v));
    if all(|v| matches!(v, Setting::Int(_))) {
        let v: Vec<i64> = values
            .iter()
            .map(|s| if let Setting::Int(i) = s { *i } else { 0 })
            .collect();
        Column::new(name.into(), v)
    } else if all(|v| matches!(v, Setting::Int(_) | Setting::Float(_))) {
        let v: Vec<f64> = values
            .iter()
            .map(|s| match s {
                Setting::Int(i) => *i as f64,
                Setting::Float(f) => *f,
                _ => 0.0,
            })
            .collect();
        Column::new(name.into(), v)
    } else if all(|v| matches!(v, Setting::Bool(_))) {
        let v: Vec<bool> = values
            .iter()
            .map(|s| matches!(s, Setting::Bool(true)))
            .collect();
        Column::new(name.into(), v)
    } else {
        let v: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        Column::new(name.into(), v)
    }
}

/// A finished trial's value of `name` (one of [`METRICS`]).
/// `epochs_to_target` is the first evaluated epoch whose train accuracy
/// reaches `target`; a trial that never does counts as the epoch budget + 1
/// (censored at the budget).
pub fn metric(r: &TrialRecord, name: &str, target: f64) -> Option<f64> {
    let m = r.metrics.as_ref()?;
    match name {
        "epochs_to_target" => {
            m.train_acc?;
            let reached = r.curve.iter().find(|p| {
                p.eval
                    .and_then(|e| e.train_acc)
                    .is_some_and(|a| a >= target)
            });
            Some(reached.map_or(r.curve.len() as f64 + 1.0, |p| p.epoch as f64))
        }
        "train_loss" => Some(m.train_loss),
        "val_loss" => m.val_loss,
        "train_acc" => m.train_acc,
        "val_acc" => m.val_acc,
        "gap" => m.val_loss.map(|v| v - m.train_loss),
        "dead_fraction" => m.dead_fraction,
        "weight_norm" => Some(m.weight_norm),
        "l2_term" => Some(m.l2_term),
        _ => None,
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Diverged => "diverged",
        Status::Failed => "failed",
    }
}

/// Every resolved setting of a configuration as (dotted key, text), for
/// the constant columns of `trials.csv`.
fn resolved_settings(config: &crate::experiment::Config) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, x, out);
                }
            }
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            other => out.push((prefix.to_string(), other.to_string())),
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &serde_json::to_value(config).expect("configs serialise"),
        &mut out,
    );
    out
}

/// Build the tables and verdicts from the plan and the records stored for
/// it. Records whose id is not in the plan (left from an earlier grid) are
/// ignored.
pub fn build(exp: &Experiment, plan: &Plan, records: &[TrialRecord]) -> Result<Report> {
    let by_id: HashMap<&str, &TrialRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let rows: Vec<(&Trial, &TrialRecord)> = plan
        .trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .collect();
    let swept = column_names(&plan.swept_keys);
    let finished = |r: &TrialRecord| {
        if r.status == Status::Ok {
            r.metrics
        } else {
            None
        }
    };
    let best_train_loss = rows
        .iter()
        .filter_map(|(_, r)| finished(r))
        .map(|m| m.train_loss)
        .reduce(f64::min);
    let delta = exp.report.stuck_delta;
    let target = exp.report.target_acc;
    let is_stuck = |m: &Metrics| best_train_loss.is_some_and(|b| m.train_loss > b + delta);

    let mut cols = vec![
        Column::new(
            "trial".into(),
            rows.iter().map(|(t, _)| t.index as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "id".into(),
            rows.iter().map(|(t, _)| t.id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "config".into(),
            rows.iter()
                .map(|(t, _)| t.config_index as u64)
                .collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in swept.iter().enumerate() {
        let values: Vec<&Setting> = rows.iter().map(|(t, _)| &t.swept[k].1).collect();
        cols.push(setting_column(name, &values));
    }
    cols.push(Column::new(
        "seed".into(),
        rows.iter().map(|(t, _)| t.seed).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "status".into(),
        rows.iter()
            .map(|(_, r)| status_name(r.status))
            .collect::<Vec<_>>(),
    ));
    type Count = fn(&TrialRecord) -> usize;
    let counts: [(&str, Count); 4] = [
        ("weights", |r| r.params.weights),
        ("biases", |r| r.params.biases),
        ("params", |r| r.params.total),
        ("hidden_neurons", |r| r.params.hidden_neurons),
    ];
    for (name, get) in counts {
        cols.push(Column::new(
            name.into(),
            rows.iter().map(|(_, r)| get(r) as u64).collect::<Vec<_>>(),
        ));
    }
    for &m in METRICS {
        let v: Vec<Option<f64>> = rows
            .iter()
            .map(|(_, r)| finished(r).and_then(|_| metric(r, m, target)))
            .collect();
        cols.push(Column::new(m.into(), v));
    }
    cols.push(Column::new(
        "stuck".into(),
        rows.iter()
            .map(|(_, r)| finished(r).map(|m| is_stuck(&m)))
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "diverged_epoch".into(),
        rows.iter()
            .map(|(_, r)| r.diverged_epoch.map(|e| e as u64))
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "message".into(),
        rows.iter()
            .map(|(_, r)| r.message.clone())
            .collect::<Vec<_>>(),
    ));
    // Every other resolved setting, so a row of trials.csv stands alone.
    let resolved: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|(t, _)| resolved_settings(&t.config))
        .collect();
    if let Some(first) = resolved.first() {
        for (key, _) in first {
            if plan.swept_keys.contains(key) {
                continue;
            }
            let v: Vec<Option<String>> = resolved
                .iter()
                .map(|r| r.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
                .collect();
            cols.push(Column::new(key.as_str().into(), v));
        }
    }
    let trials = DataFrame::new(rows.len(), cols)?;

    let summary = summarise(&trials, &swept, exp.report.level)?;

    let axes_keys: Vec<Vec<String>> = exp.axes.iter().map(|a| a.keys.clone()).collect();
    let verdicts = claims::judge(&exp.report, &axes_keys, |m| {
        rows.iter()
            .filter_map(|(t, r)| {
                finished(r).map(|x| claims::Row {
                    swept: &t.swept,
                    value: metric(r, m, target),
                    stuck: is_stuck(&x),
                })
            })
            .collect()
    });

    let mut c = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (t, r) in &rows {
        for p in &r.curve {
            c.0.push(t.index as u64);
            c.1.push(p.epoch as u64);
            c.2.push(p.batch_loss);
            c.3.push(p.eval.map(|e| e.train_loss));
            c.4.push(p.eval.and_then(|e| e.val_loss));
            c.5.push(p.eval.and_then(|e| e.train_acc));
            c.6.push(p.eval.and_then(|e| e.val_acc));
        }
    }
    let n = c.0.len();
    let curves = DataFrame::new(
        n,
        vec![
            Column::new("trial".into(), c.0),
            Column::new("epoch".into(), c.1),
            Column::new("batch_loss".into(), c.2),
            Column::new("train_loss".into(), c.3),
            Column::new("val_loss".into(), c.4),
            Column::new("train_acc".into(), c.5),
            Column::new("val_acc".into(), c.6),
        ],
    )?;
    let trial_seconds = rows.iter().map(|(_, r)| r.wall_time_s).sum();
    Ok(Report {
        swept,
        trials,
        summary,
        curves,
        best_train_loss,
        verdicts,
        trial_seconds,
    })
}

/// One row per configuration: swept values and parameter counts from the
/// first finished trial; each metric's mean, std (ddof 1), median, IQR,
/// min, max and Student-t interval of the mean over the seeds that
/// finished; the stuck fraction.
fn summarise(trials: &DataFrame, swept: &[String], level: f64) -> Result<DataFrame> {
    let ok = || col("status").eq(lit("ok"));
    let mut aggs: Vec<Expr> = swept.iter().map(|s| col(s.as_str()).first()).collect();
    aggs.push(ok().sum().cast(DataType::UInt64).alias("n"));
    aggs.push(
        col("status")
            .eq(lit("diverged"))
            .sum()
            .cast(DataType::UInt64)
            .alias("n_diverged"),
    );
    aggs.push(
        col("status")
            .eq(lit("failed"))
            .sum()
            .cast(DataType::UInt64)
            .alias("n_failed"),
    );
    for p in ["weights", "biases", "params", "hidden_neurons"] {
        aggs.push(col(p).first().alias(p));
    }
    aggs.push(
        col("stuck")
            .cast(DataType::Float64)
            .mean()
            .alias("stuck_fraction"),
    );
    for &m in METRICS {
        aggs.push(col(m).mean().alias(format!("{m}_mean")));
        aggs.push(col(m).std(1).alias(format!("{m}_std")));
        aggs.push(col(m).median().alias(format!("{m}_median")));
        aggs.push(
            (col(m).quantile(lit(0.75), QuantileMethod::Linear)
                - col(m).quantile(lit(0.25), QuantileMethod::Linear))
            .alias(format!("{m}_iqr")),
        );
        aggs.push(col(m).min().alias(format!("{m}_min")));
        aggs.push(col(m).max().alias(format!("{m}_max")));
        aggs.push(
            col(m)
                .count()
                .cast(DataType::UInt64)
                .alias(format!("{m}_count")),
        );
    }
    let mut summary = trials
        .clone()
        .lazy()
        .group_by([col("config")])
        .agg(aggs)
        .sort(["config"], SortMultipleOptions::default())
        .collect()?;
    // Student-t intervals need the t quantile for each group's n: polars has
    // no t distribution, so they are added here.
    for &m in METRICS {
        let mean = summary.column(&format!("{m}_mean"))?.f64()?.clone();
        let std = summary.column(&format!("{m}_std"))?.f64()?.clone();
        let count = summary.column(&format!("{m}_count"))?.u64()?.clone();
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for i in 0..summary.height() {
            let half = match (std.get(i), count.get(i)) {
                (Some(s), Some(n)) if n >= 2 => StudentsT::new(0.0, 1.0, (n - 1) as f64)
                    .ok()
                    .map(|t| t.inverse_cdf(0.5 + level / 2.0) * s / (n as f64).sqrt()),
                _ => None,
            };
            lo.push(mean.get(i).zip(half).map(|(m, h)| m - h));
            hi.push(mean.get(i).zip(half).map(|(m, h)| m + h));
        }
        summary.with_column(Column::new(format!("{m}_ci_lo").into(), lo))?;
        summary.with_column(Column::new(format!("{m}_ci_hi").into(), hi))?;
        summary = summary.drop(&format!("{m}_count"))?;
    }
    Ok(summary)
}

/// Build the report and write `trials.csv`, `summary.csv`, `curves.csv`,
/// `summary.md`, `report.md` and the figures into `dir`. Returns the report
/// (its verdicts are printed by the caller).
/// `data` is the study's data set (of the first configuration), for the
/// training points in decision-boundary figures.
pub fn write(
    exp: &Experiment,
    plan: &Plan,
    records: &[TrialRecord],
    dir: &Path,
    data: Option<&Dataset>,
) -> Result<Report> {
    let report = build(exp, plan, records)?;
    let figures = plot::render(exp, plan, records, &report, data)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("trials.csv".into(), csv::render(&report.trials)?),
        ("summary.csv".into(), csv::render(&report.summary)?),
        ("curves.csv".into(), csv::render(&report.curves)?),
        (
            "summary.md".into(),
            markdown::render_summary(exp, plan, &report)?,
        ),
        (
            "report.md".into(),
            markdown::render_report(exp, plan, &report, &figures)?,
        ),
    ];
    if !figures.is_empty() {
        std::fs::create_dir_all(dir.join("figures")).context("creating figures/")?;
    }
    for f in figures {
        files.push((format!("figures/{}", f.file), f.svg.into_bytes()));
    }
    for (name, bytes) in files {
        write_atomic(&dir.join(&name), &bytes).with_context(|| format!("writing {name}"))?;
    }
    Ok(report)
}

/// Write a file whole or not at all: a temporary name, then rename, so a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    test_kill_before_rename(path);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Testing hook (like `MLPSWEEP_TEST_PANIC_SEED`): with
/// `MLPSWEEP_TEST_KILL_BEFORE_RENAME=summary.csv` the process SIGKILLs
/// itself once that file's temporary copy is written, before the rename,
/// so tests/durability.rs can land a kill inside the report write. Not for
/// everyday use.
fn test_kill_before_rename(path: &Path) {
    if let Some(name) = std::env::var_os("MLPSWEEP_TEST_KILL_BEFORE_RENAME")
        && path.ends_with(&name)
    {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        // Not reached once the signal lands; never go on to the rename.
        std::process::abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::from_str;
    use crate::model::ParamCount;
    use crate::train::Metrics;

    fn record(t: &Trial, train_loss: f64, status: Status) -> TrialRecord {
        let ok = status == Status::Ok;
        TrialRecord {
            format: crate::plan::FORMAT_VERSION,
            id: t.id.clone(),
            index: t.index,
            seed: t.seed,
            status,
            message: None,
            diverged_epoch: (!ok).then_some(3),
            params: ParamCount {
                weights: 10,
                biases: 5,
                total: 15,
                hidden_neurons: 2,
            },
            metrics: ok.then_some(Metrics {
                train_loss,
                val_loss: Some(train_loss + 0.1),
                train_acc: Some(0.5),
                val_acc: Some(0.4),
                l2_term: 0.0,
                weight_norm: 1.0,
                dead_fraction: Some(0.0),
            }),
            curve: Vec::new(),
            wall_time_s: 1.0,
            boundary: None,
        }
    }

    /// A study of widths 2 and 8 with four seeds, `extra` appended, and a
    /// stored record per value in plan order: NaN stands for a diverged
    /// trial; trials past the values are not stored.
    fn stored_study(extra: &str, losses: &[f64]) -> (Experiment, Plan, Vec<TrialRecord>) {
        let src = format!("name = \"a\"\nseeds = 4\n[grid]\nwidth = [2, 8]\n{extra}");
        let e = from_str(&src, Path::new("s.toml"), &[]).unwrap();
        let plan = Plan::new(&e).unwrap();
        let records = plan
            .trials
            .iter()
            .zip(losses)
            .map(|(t, &loss)| {
                let status = if loss.is_nan() {
                    Status::Diverged
                } else {
                    Status::Ok
                };
                record(t, loss, status)
            })
            .collect();
        (e, plan, records)
    }

    /// Every metric a table, claim or figure can name reads its own field
    /// of the record: each field holds a different value here, so a name
    /// mapped to the wrong field, or to none, shows. Catches a deleted or
    /// crossed arm in `metric`.
    #[test]
    fn each_metric_name_reads_its_own_field() {
        let (_, plan, _) = stored_study("", &[]);
        let mut r = record(&plan.trials[0], 0.5, Status::Ok);
        r.metrics = Some(Metrics {
            train_loss: 0.5,
            val_loss: Some(0.75),
            train_acc: Some(0.8),
            val_acc: Some(0.7),
            l2_term: 0.125,
            weight_norm: 3.0,
            dead_fraction: Some(0.25),
        });
        let want = [
            ("train_loss", 0.5),
            ("val_loss", 0.75),
            ("train_acc", 0.8),
            ("val_acc", 0.7),
            ("gap", 0.25),
            ("dead_fraction", 0.25),
            ("weight_norm", 3.0),
            ("l2_term", 0.125),
        ];
        for (name, value) in want {
            assert_eq!(metric(&r, name, 0.9), Some(value), "{name}");
        }
        // Every listed metric is one of these, or epochs_to_target.
        for m in METRICS {
            assert!(
                *m == "epochs_to_target" || want.iter().any(|(n, _)| n == m),
                "{m} is not checked here"
            );
        }
        assert_eq!(metric(&r, "no_such_metric", 0.9), None);
    }

    #[test]
    fn aggregates_match_independent_values() {
        // width=2: three finished seeds (0.5, 0.2, 0.9) and one diverged;
        // width=8: only one seed stored.
        let (e, plan, records) = stored_study("", &[0.5, 0.2, 0.9, f64::NAN, 0.25]);
        let r = build(&e, &plan, &records).unwrap();
        let s = &r.summary;
        let f = |c: &str, i: usize| s.column(c).unwrap().f64().unwrap().get(i);
        let u = |c: &str, i: usize| s.column(c).unwrap().u64().unwrap().get(i);
        assert_eq!(
            (u("n", 0), u("n_diverged", 0), u("n_failed", 0)),
            (Some(3), Some(1), Some(0))
        );
        // Values computed with NumPy/SciPy: mean, std(ddof=1), median,
        // quantile(.75) - quantile(.25), mean ± t.ppf(0.975, 2)·s/√3.
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
        assert!(close(f("train_loss_mean", 0), 0.5333333333333333));
        assert!(close(f("train_loss_std", 0), 0.35118845842842467));
        assert!(close(f("train_loss_median", 0), 0.5));
        assert!(close(f("train_loss_iqr", 0), 0.35));
        assert!(close(f("train_loss_min", 0), 0.2) && close(f("train_loss_max", 0), 0.9));
        assert!((f("train_loss_ci_lo", 0).unwrap() - -0.33906716018017946).abs() < 1e-7);
        assert!((f("train_loss_ci_hi", 0).unwrap() - 1.4057338268468462).abs() < 1e-7);
        assert!(close(f("gap_mean", 0), 0.1));
        // Stuck: final train loss more than 0.1 above the best (0.2): 0.5 and 0.9 of three.
        assert_eq!(r.best_train_loss, Some(0.2));
        assert!(close(f("stuck_fraction", 0), 2.0 / 3.0));
        // One seed: the mean is its value, the std and interval are empty.
        assert_eq!(
            (u("n", 1), f("train_loss_mean", 1), f("train_loss_std", 1)),
            (Some(1), Some(0.25), None)
        );
        assert_eq!(f("train_loss_ci_lo", 1), None);
        let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
        assert!(!md.contains("NaN") && !md.contains("nan"), "{md}");
        assert!(
            md.contains("| 2 | 3 | 15 | 0.5333 ± 0.3512 | 0.5000 [0.3500] | 67% |"),
            "{md}"
        );
        assert!(
            md.contains("| 8 | 1 | 15 | 0.2500 | 0.2500 [0] | 0% |"),
            "{md}"
        );
        assert!(
            md.contains("diverged / failed") && md.contains("| 1 / 0 |"),
            "{md}"
        );
        let csv = String::from_utf8(csv::render(s).unwrap()).unwrap();
        assert!(!csv.contains("NaN"), "{csv}");
    }

    /// `[report] level` other than the default reaches both summary.csv and
    /// the metric-vs-axis figure. With level = 0.8, width=2 has three
    /// finished seeds (0.5, 0.2, 0.9; one diverged, left out) and width=8
    /// four (0.25, 0.4, 0.3, 0.7). Reference intervals from SciPy 1.17.1:
    /// `stats.t.interval(0.8, n - 1, loc=mean, scale=stats.sem(xs))`, i.e.
    /// mean ± t.ppf(0.9, n − 1)·s/√n with t.ppf(0.9, 2) = 1.8856180831641272
    /// and t.ppf(0.9, 3) = 1.637744353696209. Catches: `summarise(.., 0.95)`
    /// ignoring the level, the figure's bars drawn at a fixed 95 % (as they
    /// were before), and a wrong quantile (`level` instead of
    /// `0.5 + level / 2`, or n degrees of freedom instead of n − 1).
    #[test]
    fn report_level_sets_the_summary_and_figure_intervals() {
        let (e, plan, records) = stored_study(
            "[report]\nlevel = 0.8\n",
            &[0.5, 0.2, 0.9, f64::NAN, 0.25, 0.4, 0.3, 0.7],
        );
        let t = &plan.trials;
        let want = [
            (0.15100776590921638, 0.9156589007574503),
            (0.24745103618350672, 0.5775489638164932),
        ];
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // summary.csv, as written.
        let r = build(&e, &plan, &records).unwrap();
        let text = String::from_utf8(csv::render(&r.summary).unwrap()).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (lo, hi) = (at("train_loss_ci_lo"), at("train_loss_ci_hi"));
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), 2);
        for (row, (wlo, whi)) in rows.iter().zip(want) {
            let (glo, ghi): (f64, f64) = (row[lo].parse().unwrap(), row[hi].parse().unwrap());
            assert!(
                close(glo, wlo) && close(ghi, whi),
                "summary.csv width={}: ({glo}, {ghi}), want ({wlo}, {whi})",
                row[at("width")]
            );
        }
        // The figure: the numbers its bars are drawn from, and its caption.
        let rows: Vec<(&Trial, &TrialRecord)> = t
            .iter()
            .zip(&records)
            .filter(|(_, r)| r.status == Status::Ok)
            .collect();
        let fig = plot::axis_plot(&e, &rows, "train_loss", "model.width").unwrap();
        assert_eq!(fig.settings, vec![2.0, 8.0]);
        assert_eq!(fig.series.len(), 1);
        let means = &fig.series[0].means;
        assert_eq!(means.len(), 2);
        for (&(x, mean, interval), (wlo, whi)) in means.iter().zip(want) {
            let (glo, ghi) = interval.unwrap();
            assert!(
                close(glo, wlo) && close(ghi, whi) && close(mean, (wlo + whi) / 2.0),
                "figure width={x}: {mean} ({glo}, {ghi}), want ({wlo}, {whi})"
            );
        }
        let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
        let f = figures
            .iter()
            .find(|f| f.file == "train_loss_vs_width.svg")
            .unwrap();
        assert!(
            f.caption
                .contains("the mean with its 80% Student-t interval"),
            "{}",
            f.caption
        );
    }

    #[test]
    fn epochs_to_target_is_the_first_epoch_reaching_it_or_the_budget_plus_one() {
        let e = from_str("name = \"a\"\n", Path::new("s.toml"), &[]).unwrap();
        let plan = Plan::new(&e).unwrap();
        let mut r = record(&plan.trials[0], 0.3, Status::Ok);
        let eval = |acc: f64| {
            Some(Metrics {
                train_acc: Some(acc),
                ..r.metrics.unwrap()
            })
        };
        r.curve = [0.5, 0.85, 0.92, 0.95]
            .iter()
            .enumerate()
            .map(|(i, a)| crate::train::CurvePoint {
                epoch: i + 1,
                batch_loss: 1.0,
                eval: eval(*a),
            })
            .collect();
        assert_eq!(metric(&r, "epochs_to_target", 0.9), Some(3.0));
        assert_eq!(
            metric(&r, "epochs_to_target", 0.99),
            Some(5.0),
            "never reached: censored at 4 + 1"
        );
        assert_eq!(metric(&r, "gap", 0.9), Some(0.3 + 0.1 - 0.3));
    }
}
