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

mod claims;
mod csv;
mod markdown;

use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::*;

use crate::experiment::{Experiment, Setting};
use crate::plan::Plan;
use crate::train::{Status, TrialRecord};

/// The metrics aggregated across seeds, in table order.
pub const METRICS: &[&str] = &[
    "train_loss",
    "val_loss",
    "train_acc",
    "val_acc",
    "l2_term",
    "weight_norm",
    "dead_fraction",
];

/// The report's tables.
pub struct Report {
    /// Column names of the swept keys, in axis order.
    pub swept: Vec<String>,
    /// One row per stored trial of the plan, in plan order.
    pub trials: DataFrame,
    /// One row per configuration, in plan order.
    pub summary: DataFrame,
    /// Tidy training curves: one row per (trial, epoch).
    pub curves: DataFrame,
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

/// Build the tables from the plan and the records stored for it. Records
/// whose id is not in the plan (left from an earlier grid) are ignored.
pub fn build(plan: &Plan, records: &[TrialRecord]) -> Result<Report> {
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    let rows: Vec<(&crate::plan::Trial, &TrialRecord)> = plan
        .trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .collect();
    let swept = column_names(&plan.swept_keys);

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
    let status = |s: Status| match s {
        Status::Ok => "ok",
        Status::Diverged => "diverged",
        Status::Failed => "failed",
    };
    cols.push(Column::new(
        "seed".into(),
        rows.iter().map(|(t, _)| t.seed).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "status".into(),
        rows.iter()
            .map(|(_, r)| status(r.status))
            .collect::<Vec<_>>(),
    ));
    for (name, get) in [
        (
            "weights",
            (|r: &TrialRecord| r.params.weights) as fn(&TrialRecord) -> usize,
        ),
        ("biases", |r| r.params.biases),
        ("params", |r| r.params.total),
        ("hidden_neurons", |r| r.params.hidden_neurons),
    ] {
        cols.push(Column::new(
            name.into(),
            rows.iter().map(|(_, r)| get(r) as u64).collect::<Vec<_>>(),
        ));
    }
    for &m in METRICS {
        let v: Vec<Option<f64>> = rows
            .iter()
            .map(|(_, r)| {
                r.metrics.and_then(|x| match m {
                    "train_loss" => Some(x.train_loss),
                    "val_loss" => x.val_loss,
                    "train_acc" => x.train_acc,
                    "val_acc" => x.val_acc,
                    "l2_term" => Some(x.l2_term),
                    "weight_norm" => Some(x.weight_norm),
                    _ => x.dead_fraction,
                })
            })
            .collect();
        cols.push(Column::new(m.into(), v));
    }
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
    let trials = DataFrame::new(rows.len(), cols)?;

    // One row per configuration: swept values and counts taken from the
    // first trial; metrics aggregated over the seeds that finished.
    let mut aggs: Vec<Expr> = swept.iter().map(|s| col(s.as_str()).first()).collect();
    aggs.push(
        col("status")
            .eq(lit("ok"))
            .sum()
            .cast(DataType::UInt64)
            .alias("n"),
    );
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
        aggs.push(col(p).filter(col("status").eq(lit("ok"))).first().alias(p));
    }
    for &m in METRICS {
        aggs.push(col(m).mean().alias(format!("{m}_mean")));
        aggs.push(col(m).std(1).alias(format!("{m}_std")));
        aggs.push(col(m).min().alias(format!("{m}_min")));
        aggs.push(col(m).max().alias(format!("{m}_max")));
    }
    let summary = trials
        .clone()
        .lazy()
        .group_by([col("config")])
        .agg(aggs)
        .sort(["config"], SortMultipleOptions::default())
        .collect()?;

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
    Ok(Report {
        swept,
        trials,
        summary,
        curves,
    })
}

/// Build the report and write `trials.csv`, `summary.csv`, `curves.csv` and
/// `summary.md` into `dir`.
pub fn write(exp: &Experiment, plan: &Plan, records: &[TrialRecord], dir: &Path) -> Result<()> {
    let report = build(plan, records)?;
    let files: [(&str, Vec<u8>); 4] = [
        ("trials.csv", csv::render(&report.trials)?),
        ("summary.csv", csv::render(&report.summary)?),
        ("curves.csv", csv::render(&report.curves)?),
        ("summary.md", markdown::render(exp, plan, &report)?),
    ];
    for (name, bytes) in files {
        write_atomic(&dir.join(name), &bytes).with_context(|| format!("writing {name}"))?;
    }
    Ok(())
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
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
