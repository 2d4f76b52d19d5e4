//! Reports: tables of trials and of configurations (seeds aggregated),
//! built with polars and rendered as CSV and Markdown.
//!
//! Input: the [`Plan`] and the stored [`TrialRecord`]s. Output: a [`Report`]
//! of polars frames, rendered by the exporters in `csv.rs` and
//! `markdown.rs`, and the figures of `plot/`; [`render`] returns every
//! file's bytes. Everything here is pure: the results folder
//! (`store::ResultsDir`) supplies the provenance line and writes the files.
//!
//! Seeds are replicates: a configuration's row aggregates its seeds' final
//! metrics (mean, sample std with ddof = 1, so one seed gives an empty std).
//! Diverged and failed trials are counted but kept out of the statistics.
//! Wall times vary from run to run, so no table holds them: the same study
//! gives byte-identical tables whatever `--jobs` was.

pub mod claims;
mod csv;
pub mod ensemble;
pub mod ensemble_gain;
mod halving;
mod iqm;
mod markdown;
mod plot;
pub mod reference;
pub mod search;
mod stuck;
pub mod variance;
mod verdicts;

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::data::Datasets;
use crate::metric::{Aggregate, Metric};
use crate::plan::{Plan, Trial};
use crate::study::{Setting, Study};
use crate::train::{CurvePoint, Metrics, Status, TrialRecord};
use stuck::Stuck;

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
    /// The lowest final train loss of any finished trial (the histograms' mark).
    pub best_train_loss: Option<f64>,
    /// One verdict per claim of the study.
    pub verdicts: Vec<claims::Verdict>,
    /// Variance components per configuration and metric (`[replicates]`
    /// studies only).
    pub variance: Vec<variance::Decomposition>,
    /// Sum of the stored trials' wall times, in seconds.
    pub trial_seconds: f64,
    /// What a random or Sobol search found (`None` for a grid study).
    pub search: Option<search::SearchSummary>,
    /// A halving study's verdict against its reference full grid
    /// (`[search.halving] reference`); set by [`render`], which has the rungs.
    pub halving: Option<reference::HalvingVerdict>,
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

/// A confidence level as a percentage for captions and evidence, the one
/// spelling of `[report] level` in figures and report.md: 0.95 → "95%",
/// 0.995 → "99.5%".
fn percent(level: f64) -> String {
    format!("{}%", (level * 1000.0).round() / 10.0)
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Diverged => "diverged",
        Status::Failed => "failed",
    }
}

/// Build the tables and verdicts from the plan and the records stored for
/// it. Records whose id is not in the plan (left from an earlier grid) are
/// ignored. Without the data sets there are no ensembles (their targets
/// are not stored); see [`build_with`].
pub fn build(exp: &Study, plan: &Plan, records: &[TrialRecord]) -> Result<Report> {
    build_with(exp, plan, records, None)
}

/// [`build`], with the plan's data sets: their validation targets score
/// each configuration's ensemble of seeds (`ensemble.rs`).
pub fn build_with(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
) -> Result<Report> {
    let by_id: HashMap<&str, &TrialRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let rows: Vec<Row> = plan
        .trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .collect();
    let swept = column_names(&plan.swept_keys);
    let best_train_loss = rows
        .iter()
        .filter_map(|(_, r)| finished(r))
        .map(|m| m.train_loss)
        .reduce(f64::min);
    let stuck = Stuck::new(
        exp,
        rows.iter().filter_map(|(t, r)| Some((*t, finished(r)?))),
    );
    let trials = trials_frame(exp, plan, &rows, &swept, &stuck)?;
    let mut summary = summarise(&trials, &swept, exp.report.level)?;
    iqm::add_iqm(
        &mut summary,
        &trials,
        exp.report.bootstrap,
        exp.report.level,
    )?;
    let ensembles = datasets.map(|d| ensemble::of_configs(&rows, d));
    if let (Some(d), Some(e)) = (datasets, ensembles.as_ref())
        && has_val(plan, d)
    {
        add_ensemble_columns(&mut summary, e)?;
    }
    let variance = variance::decompose(exp, &rows);
    for c in variance::columns(exp, &summary, &variance)? {
        summary.with_column(c)?;
    }
    let ensembles = ensembles.unwrap_or_default();
    let verdicts = verdicts::judge(exp, &rows, &stuck, &variance, &ensembles, datasets);
    let curves = curves_frame(&rows)?;
    let trial_seconds = rows.iter().map(|(_, r)| r.wall_time_s).sum();
    let search = search::summarise(exp, plan, records);
    Ok(Report {
        swept,
        trials,
        summary,
        curves,
        best_train_loss,
        verdicts,
        variance,
        trial_seconds,
        search,
        halving: None,
    })
}

/// A stored trial with its plan entry, in plan order.
type Row<'a> = (&'a Trial, &'a TrialRecord);

/// Whether some trial of the plan has a validation split (the ensemble
/// columns are in summary.csv then, empty where a configuration has none).
fn has_val(plan: &Plan, datasets: &Datasets) -> bool {
    plan.trials
        .iter()
        .any(|t| datasets.get(t).is_some_and(|d| d.val.is_some()))
}

/// `ensemble_val_loss` right after `val_loss_mean` and `ensemble_val_acc`
/// right after `val_acc_mean`: the ensemble next to its average member.
fn add_ensemble_columns(
    summary: &mut DataFrame,
    ensembles: &HashMap<usize, ensemble::Ensemble>,
) -> Result<()> {
    let configs: Vec<Option<u64>> = summary.column("config")?.u64()?.iter().collect();
    let at = |f: fn(&ensemble::Ensemble) -> Option<f64>| -> Vec<Option<f64>> {
        configs
            .iter()
            .map(|c| ensembles.get(&((*c)? as usize)).and_then(f))
            .collect()
    };
    for (name, after, values) in [
        (ENSEMBLE_VAL_LOSS, Metric::ValLoss, at(|e| Some(e.loss))),
        (ENSEMBLE_VAL_ACC, Metric::ValAcc, at(|e| e.acc)),
    ] {
        let index = summary
            .get_column_index(&after.column(Aggregate::Mean))
            .map_or(summary.width(), |i| i + 1);
        summary.insert_column(index, Column::new(name.into(), values))?;
    }
    Ok(())
}

/// summary.csv's column of each configuration's ensemble validation loss.
pub const ENSEMBLE_VAL_LOSS: &str = "ensemble_val_loss";
/// summary.csv's column of each configuration's ensemble validation accuracy.
pub const ENSEMBLE_VAL_ACC: &str = "ensemble_val_acc";

/// A trial's final metrics if it finished: diverged and failed trials are
/// counted but never enter a statistic.
fn finished(r: &TrialRecord) -> Option<Metrics> {
    if r.status == Status::Ok {
        r.metrics
    } else {
        None
    }
}

/// trials.csv's frame: one row per stored trial, identity and swept
/// settings first, then outcome, sizes, metrics, and every other resolved
/// setting so a row stands alone.
fn trials_frame(
    exp: &Study,
    plan: &Plan,
    rows: &[Row],
    swept: &[String],
    stuck: &Stuck,
) -> Result<DataFrame> {
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
    cols.extend(seed_columns(exp, rows));
    cols.push(Column::new(
        "status".into(),
        rows.iter()
            .map(|(_, r)| status_name(r.status))
            .collect::<Vec<_>>(),
    ));
    if exp.halving.is_some() {
        // How far successive halving took each trial: the last rung's
        // budget it reached (metrics are at that epoch), or where it diverged.
        cols.push(Column::new(
            "epochs_trained".into(),
            rows.iter()
                .map(|(t, r)| match r.status {
                    Status::Ok => Some(r.epochs_trained.unwrap_or(t.config.train.epochs) as u64),
                    Status::Diverged => r.diverged_epoch.map(|e| e as u64),
                    Status::Failed => None,
                })
                .collect::<Vec<_>>(),
        ));
    }
    cols.extend(size_columns(rows));
    cols.extend(metric_columns(rows, exp.report.target_acc, stuck));
    cols.extend(resolved_columns(plan, rows));
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// `seed`, or under `[replicates]` one `seed_<source>` column per varying
/// source: what a reader needs to tell replicates apart.
fn seed_columns(exp: &Study, rows: &[Row]) -> Vec<Column> {
    let varying = exp.replication.varying();
    if varying.is_empty() {
        return vec![Column::new(
            "seed".into(),
            rows.iter().map(|(t, _)| t.seed).collect::<Vec<_>>(),
        )];
    }
    let replicates = exp.replication.replicates();
    varying
        .iter()
        .map(|(source, _)| {
            Column::new(
                format!("seed_{}", source.name()).into(),
                rows.iter()
                    .map(|(t, _)| replicates[t.replicate].source_seed(*source))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// The parameter counts of each trial's network.
fn size_columns(rows: &[Row]) -> Vec<Column> {
    type Count = fn(&TrialRecord) -> usize;
    let counts: [(&str, Count); 4] = [
        ("weights", |r| r.params.weights),
        ("biases", |r| r.params.biases),
        ("params", |r| r.params.total),
        ("hidden_neurons", |r| r.params.hidden_neurons),
    ];
    counts
        .into_iter()
        .map(|(name, get)| {
            Column::new(
                name.into(),
                rows.iter().map(|(_, r)| get(r) as u64).collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Every metric (empty unless the trial finished), then whether it is
/// stuck, the epoch it diverged at and its error message.
fn metric_columns(rows: &[Row], target: f64, stuck: &Stuck) -> Vec<Column> {
    let mut cols = Vec::new();
    for m in Metric::ALL {
        let v: Vec<Option<f64>> = rows
            .iter()
            .map(|(_, r)| finished(r).and_then(|_| m.value(r, target)))
            .collect();
        cols.push(Column::new(m.name().into(), v));
    }
    cols.push(Column::new(
        "stuck".into(),
        rows.iter()
            .map(|(t, r)| finished(r).map(|m| stuck.of(t, &m)))
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
    cols
}

/// Every resolved setting that is not swept, so a row of trials.csv
/// stands alone; the keys are the first trial's.
fn resolved_columns(plan: &Plan, rows: &[Row]) -> Vec<Column> {
    // Seeds of a configuration share its settings: work them out once per
    // configuration, not once per trial.
    let mut by_config: HashMap<usize, HashMap<String, String>> = HashMap::new();
    for (t, _) in rows {
        by_config.entry(t.config_index).or_insert_with(|| {
            crate::identity::setting_columns(&t.config)
                .into_iter()
                .collect()
        });
    }
    let Some((first, _)) = rows.first() else {
        return Vec::new();
    };
    crate::identity::setting_columns(&first.config)
        .into_iter()
        .filter(|(key, _)| !plan.swept_keys.contains(key))
        .map(|(key, _)| {
            let v: Vec<Option<String>> = rows
                .iter()
                .map(|(t, _)| by_config[&t.config_index].get(&key).cloned())
                .collect();
            Column::new(key.as_str().into(), v)
        })
        .collect()
}

/// curves.csv's frame: tidy training curves, one row per (trial, epoch).
/// Epoch 0 is the evaluation before the first update, without a batch
/// loss; records stored before it was kept start at epoch 1.
fn curves_frame(rows: &[Row]) -> Result<DataFrame> {
    let mut c = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (t, r) in rows {
        let initial = r.initial.map(|m| CurvePoint {
            epoch: 0,
            batch_loss: f64::NAN,
            eval: Some(m),
        });
        for p in initial.iter().chain(&r.curve) {
            c.0.push(t.index as u64);
            c.1.push(p.epoch as u64);
            c.2.push((p.epoch > 0).then_some(p.batch_loss));
            c.3.push(p.eval.map(|e| e.train_loss));
            c.4.push(p.eval.and_then(|e| e.val_loss));
            c.5.push(p.eval.and_then(|e| e.train_acc));
            c.6.push(p.eval.and_then(|e| e.val_acc));
        }
    }
    let n = c.0.len();
    Ok(DataFrame::new(
        n,
        vec![
            Column::new("trial".into(), c.0),
            Column::new("epoch".into(), c.1),
            Column::new("batch_loss".into(), c.2),
            Column::new(Metric::TrainLoss.name().into(), c.3),
            Column::new(Metric::ValLoss.name().into(), c.4),
            Column::new(Metric::TrainAcc.name().into(), c.5),
            Column::new(Metric::ValAcc.name().into(), c.6),
        ],
    )?)
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
    for m in Metric::ALL {
        let c = || col(m.name());
        let q = |p: f64| c().quantile(lit(p), QuantileMethod::Linear);
        aggs.push(c().mean().alias(m.column(Aggregate::Mean)));
        aggs.push(c().std(1).alias(m.column(Aggregate::Std)));
        aggs.push(c().median().alias(m.column(Aggregate::Median)));
        aggs.push((q(0.75) - q(0.25)).alias(m.column(Aggregate::Iqr)));
        aggs.push(c().min().alias(m.column(Aggregate::Min)));
        aggs.push(c().max().alias(m.column(Aggregate::Max)));
        aggs.push(c().count().cast(DataType::UInt64).alias(summary_count(m)));
    }
    let mut summary = trials
        .clone()
        .lazy()
        .group_by([col("config")])
        .agg(aggs)
        .sort(["config"], SortMultipleOptions::default())
        .collect()?;
    add_t_intervals(&mut summary, level)?;
    Ok(summary)
}

/// A metric's seed count in the summary, needed for its interval only.
fn summary_count(m: Metric) -> String {
    format!("{}_count", m.name())
}

/// Add each metric's Student-t interval of the mean at `level`, in place
/// of the helper `<metric>_count` column: polars has no t distribution, so
/// the t quantile for each group's n is computed here.
fn add_t_intervals(summary: &mut DataFrame, level: f64) -> Result<()> {
    for m in Metric::ALL {
        let mean = summary.column(&m.column(Aggregate::Mean))?.f64()?.clone();
        let std = summary.column(&m.column(Aggregate::Std))?.f64()?.clone();
        let counts = summary.column(&summary_count(m))?.u64()?.clone();
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        for i in 0..summary.height() {
            let half = match (std.get(i), counts.get(i)) {
                (Some(s), Some(n)) if n >= 2 => StudentsT::new(0.0, 1.0, (n - 1) as f64)
                    .ok()
                    .map(|t| t.inverse_cdf(0.5 + level / 2.0) * s / (n as f64).sqrt()),
                _ => None,
            };
            lo.push(mean.get(i).zip(half).map(|(m, h)| m - h));
            hi.push(mean.get(i).zip(half).map(|(m, h)| m + h));
        }
        summary.with_column(Column::new(m.column(Aggregate::CiLo).into(), lo))?;
        summary.with_column(Column::new(m.column(Aggregate::CiHi).into(), hi))?;
        *summary = summary.drop(&summary_count(m))?;
    }
    Ok(())
}

/// A rendered file: its path in the results folder and its bytes.
pub type File = (String, Vec<u8>);

/// Build the report and render its files: `trials.csv`, `summary.csv`,
/// `curves.csv`, `summary.md`, `report.md` and `figures/*.svg`, as (path in
/// the results folder, bytes). Pure: the results folder writes them
/// (`store::ResultsDir::write_report`). `datasets` are the plan's data
/// sets: the first configuration's training points are drawn in
/// decision-region figures, and the validation targets score the
/// ensembles; `provenance` is the line `report.md` ends with. A halving
/// study passes its `rungs`, and what its `reference` folder held
/// (`crate::reference::load`) for the verdict against the full grid.
pub fn render(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
    provenance: &str,
    rungs: Option<&crate::halving::Progress>,
    reference: Option<&crate::reference::Found>,
) -> Result<(Report, Vec<File>)> {
    // The spread and profile figures' bootstraps need only the trials: they
    // run while the summary (and its own bootstrap) is built.
    let (report, bootstrapped) = std::thread::scope(|s| {
        let figures = s.spawn(|| plot::bootstrap_figures(exp, plan, records));
        let report = build_with(exp, plan, records, datasets);
        (
            report,
            figures.join().expect("the figures' thread finishes"),
        )
    });
    let mut report = report?;
    if let (Some(rungs), Some(found)) = (rungs, reference) {
        report.halving = reference::judge(exp, plan, rungs, records, found, datasets);
    }
    let data = datasets.and_then(|d| d.first(plan));
    let bootstrapped = bootstrapped?;
    // The two large tables are written while the figures are drawn.
    let (figures, tables) = std::thread::scope(|s| {
        let tables = s.spawn(|| -> Result<_> {
            Ok((csv::render(&report.trials)?, csv::render(&report.curves)?))
        });
        let figures = plot::render_with(exp, plan, records, &report, data, bootstrapped);
        (figures, tables.join().expect("the tables' thread finishes"))
    });
    let ((figures, not_drawn), (trials_csv, curves_csv)) = (figures?, tables?);
    let mut files: Vec<File> = vec![
        ("trials.csv".into(), trials_csv),
        ("summary.csv".into(), csv::render(&report.summary)?),
        ("curves.csv".into(), curves_csv),
        (
            "summary.md".into(),
            markdown::render_summary(exp, plan, &report)?,
        ),
        (
            "report.md".into(),
            markdown::render_report(exp, plan, &report, &figures, &not_drawn, provenance)?,
        ),
    ];
    if let Some(rungs) = rungs {
        // The halving section goes before the results table.
        let (_, md) = files
            .iter_mut()
            .find(|(n, _)| n == "report.md")
            .expect("report.md");
        let text = String::from_utf8(std::mem::take(md)).expect("utf-8");
        let at = text.find("\n## Results\n").map_or(text.len(), |i| i + 1);
        *md = format!(
            "{}{}{}",
            &text[..at],
            halving::section(exp, plan, rungs),
            &text[at..]
        )
        .into_bytes();
        files.push(("rungs.csv".into(), halving::csv(exp, rungs)));
    }
    for f in figures {
        files.push((format!("figures/{}", f.file), f.svg.into_bytes()));
    }
    Ok((report, files))
}

#[cfg(test)]
mod tests;
