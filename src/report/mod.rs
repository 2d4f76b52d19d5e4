//! Reports: tables of trials and of configurations (seeds aggregated),
//! built with polars and rendered as CSV, Parquet and Markdown.
//!
//! Input: the [`Plan`] and the stored [`TrialRecord`]s. Output: a [`Report`]
//! of polars frames, rendered by the exporters in `csv.rs`, `parquet.rs`
//! and `markdown.rs`, and the figures of `plot/`; [`render`] returns every
//! file's bytes. Everything here is pure: the results folder
//! (`publish`) supplies the provenance line and writes the files.
//!
//! Seeds are replicates: a configuration's row aggregates its seeds' final
//! metrics (mean, sample std with ddof = 1, so one seed gives an empty std).
//! Diverged and failed trials are counted but kept out of the statistics.
//! Wall times vary from run to run, so no table holds them: the same study
//! gives byte-identical tables whatever `--jobs` was.

pub mod broken;
pub mod calibrate;
pub mod claims;
mod claims_json;
pub mod confirm;
mod csv;
mod draws;
pub mod ensemble;
pub mod ensemble_gain;
mod halving;
mod iqm;
mod markdown;
mod parquet;
mod plot;
pub mod reference;
pub mod repeats;
pub mod search;
pub mod settle;
mod stuck;
mod telemetry_csv;
mod trials;
pub mod tuning;
pub mod variance;
mod verdicts;

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::data::Datasets;
use crate::metric::{Aggregate, Metric};
use crate::plan::{Plan, Trial};
use crate::study::Study;
use crate::train::{CurvePoint, Metrics, TrialRecord};
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
    /// Tidy telemetry: one row per (trial, evaluation epoch, layer);
    /// `None` when no stored record has telemetry.
    pub telemetry: Option<DataFrame>,
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
    /// A search's tuning curves, per arm (`None` for a grid or halving
    /// study).
    pub tuning: Option<tuning::TuningCurves>,
    /// A search's repeats and their winners (`None` without `[search]
    /// repeats` above 1).
    pub repeats: Option<repeats::Repeats>,
    /// A halving study's verdict against its reference full grid
    /// (`[search.halving] reference`); set by [`render`], which has the rungs.
    pub halving: Option<reference::HalvingVerdict>,
    /// A `[settle]` study's looks; its verdicts replace the fixed-n ones.
    pub settled: Option<settle::Settled>,
    /// `[search] confirm`: the winner on fresh seeds (the winner's curse).
    pub confirm: Option<confirm::Confirmed>,
    /// The spread and profile figures' bootstraps, done in the IQM pass.
    pub(crate) drawn: draws::Bootstrapped,
}

/// A confidence level as a percentage for captions and evidence, the one
/// spelling of `[report] level` in figures and report.md: 0.95 → "95%",
/// 0.995 → "99.5%".
fn percent(level: f64) -> String {
    format!("{}%", (level * 1000.0).round() / 10.0)
}

/// Build the tables and verdicts from the plan and the records stored for
/// it. Records whose id is not in the plan (damage the store names) are
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
    // Every table is of the selection seeds; the fresh ones only enter `confirm`.
    let selection = confirm::selection(exp, plan);
    let mut report = build_of(exp, selection.as_ref().unwrap_or(plan), records, datasets)?;
    report.confirm = confirm::measure(exp, plan, records, report.search.as_ref());
    Ok(report)
}

/// [`build_with`] of the trials of `plan` (without a winner's fresh seeds).
fn build_of(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
) -> Result<Report> {
    let rows = plot::stored_rows(plan, records);
    let swept = trials::column_names(&plan.swept_keys);
    let stuck = Stuck::new(
        exp,
        rows.iter().filter_map(|(t, r)| Some((*t, finished(r)?))),
    );
    let flags = trials::flags_of(exp, &rows, datasets);
    // What needs only the trials is computed beside the trials table and
    // the summary, which are serial (benches/p3.toml: 0.2 s each side).
    let (tables, beside) = std::thread::scope(|s| {
        let beside = s.spawn(|| Beside::of(exp, plan, records, &rows, datasets));
        let tables = trials::frame(exp, plan, &rows, &swept, &stuck, &flags).and_then(|trials| {
            let summary = summarise(&trials, &swept, exp.report.level)?;
            Ok((trials, summary))
        });
        (
            tables,
            beside
                .join()
                .expect("the thread beside the tables finishes"),
        )
    });
    let ((trials, mut summary), beside) = (tables?, beside?);
    let spec = (exp.report.bootstrap, exp.report.level);
    let drawn = iqm::add_iqm(&mut summary, &trials, spec, &beside.wanted)?;
    if let (Some(d), Some(e)) = (datasets, beside.ensembles.as_ref())
        && has_val(plan, d)
    {
        add_ensemble_columns(&mut summary, e)?;
    }
    for c in variance::columns(exp, &summary, &beside.variance)? {
        summary.with_column(c)?;
    }
    let ensembles = beside.ensembles.unwrap_or_default();
    let verdicts = verdicts::judge(&verdicts::Inputs {
        exp,
        rows: &rows,
        stuck: &stuck,
        flags: &flags,
        variance: &beside.variance,
        ensembles: &ensembles,
        datasets,
    });
    let settled = beside.settled;
    let verdicts = match settled.as_ref().and_then(|s| s.verdicts.clone()) {
        Some(sequential) => sequential,
        None => verdicts,
    };
    Ok(Report {
        swept,
        trials,
        summary,
        curves: beside.curves,
        telemetry: beside.telemetry,
        best_train_loss: beside.best_train_loss,
        verdicts,
        variance: beside.variance,
        trial_seconds: beside.trial_seconds,
        search: beside.search,
        tuning: beside.tuning,
        repeats: beside.repeats,
        halving: None,
        settled,
        confirm: None,
        drawn,
    })
}

/// The parts of a report that read only the trials, not the trials table
/// or the summary.
struct Beside {
    wanted: draws::Wanted,
    ensembles: Option<HashMap<usize, ensemble::Ensemble>>,
    variance: Vec<variance::Decomposition>,
    settled: Option<settle::Settled>,
    curves: DataFrame,
    telemetry: Option<DataFrame>,
    best_train_loss: Option<f64>,
    trial_seconds: f64,
    search: Option<search::SearchSummary>,
    tuning: Option<tuning::TuningCurves>,
    repeats: Option<repeats::Repeats>,
}

impl Beside {
    fn of(
        exp: &Study,
        plan: &Plan,
        records: &[TrialRecord],
        rows: &[Row],
        datasets: Option<&Datasets>,
    ) -> Result<Beside> {
        let search = search::summarise(exp, plan, records);
        Ok(Beside {
            wanted: plot::wanted(exp, rows),
            ensembles: datasets.map(|d| ensemble::of_configs(rows, d)),
            variance: variance::decompose(exp, rows),
            settled: settle::walk(exp, plan, records, datasets),
            curves: curves_frame(rows)?,
            telemetry: telemetry_csv::frame(rows)?,
            best_train_loss: rows
                .iter()
                .filter_map(|(_, r)| finished(r))
                .map(|m| m.train_loss)
                .reduce(f64::min),
            trial_seconds: rows.iter().map(|(_, r)| r.wall_time_s).sum(),
            tuning: search.as_ref().and_then(|s| tuning::curves(exp, plan, s)),
            repeats: search.as_ref().and_then(|s| repeats::of(exp, s)),
            search,
        })
    }
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
    r.finished().copied()
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
    if trials.get_column_index("epochs_trained").is_some() {
        // Halving: the budget the configuration's seeds reached, beside
        // its settings, so no row is read as if trained to the end.
        aggs.push(col("epochs_trained").max().alias("epochs_trained"));
    }
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
    for flag in ["collapsed", "unstable"] {
        aggs.push(
            col(flag)
                .fill_null(lit(false))
                .sum()
                .cast(DataType::UInt64)
                .alias(format!("n_{flag}")),
        );
    }
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

/// What the caller gathered for `report.md` that the records do not say
/// (the report stays pure: it reads no clock, git or file).
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    /// The line under "What was run": version, git revision, cores.
    pub provenance: &'a str,
    /// Lines of trials.jsonl that no table uses, located, for the
    /// "Damaged records" note (empty: no note).
    pub damaged: &'a [String],
}

/// A rendered file: its path in the results folder and its bytes.
pub type File = (String, Vec<u8>);

/// Build the report and render its files: `trials.csv`, `summary.csv`,
/// `curves.csv` (and each as `.parquet`), `summary.md`, `report.md` and
/// `figures/*.svg`, as (path in the results folder, bytes). Pure: the
/// results folder writes them (`publish::write_report`). `datasets` are
/// the plan's data sets: the first configuration's training points are drawn in
/// decision-region figures, and the validation targets score the
/// ensembles; `about` is what the caller knows of the run and its folder.
/// A halving study passes its `rungs`, and what its `reference` folder held
/// (`crate::reference::load`) for the verdict against the full grid.
pub fn render(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
    about: &About,
    rungs: Option<&crate::halving::Progress>,
    reference: Option<&crate::reference::Found>,
) -> Result<(Report, Vec<File>)> {
    let selection = confirm::selection(exp, plan);
    let (full, plan) = (plan, selection.as_ref().unwrap_or(plan));
    let mut report = build_with(exp, full, records, datasets)?;
    let bootstrapped = plot::bootstrap_figures(exp, plan, records, &report.drawn);
    if let (Some(rungs), Some(found)) = (rungs, reference) {
        report.halving = reference::judge(exp, plan, rungs, records, found, datasets);
    }
    let data = datasets.and_then(|d| d.first(plan));
    let bootstrapped = bootstrapped?;
    // The large CSV tables are written on one thread while this one draws
    // the figures, then writes the Markdown (which names the figures), the
    // Parquet files and the small tables: the two sides take about as
    // long (benches/p3.toml: 0.2 s and 0.3 s).
    let (files, tables) = std::thread::scope(|s| {
        let tables = s.spawn(|| large_tables(&report));
        let files = plot::render_with(exp, plan, records, &report, data, bootstrapped);
        let files = files.and_then(|drawn| small_files(exp, plan, &report, drawn, about, rungs));
        (files, tables.join().expect("the tables' thread finishes"))
    });
    let (files, mut tables) = (files?, tables?);
    tables.extend(files);
    Ok((report, tables))
}

/// trials.csv, curves.csv and telemetry.csv.
fn large_tables(report: &Report) -> Result<Vec<File>> {
    let mut files: Vec<File> = vec![
        ("trials.csv".into(), csv::render(&report.trials)?),
        ("curves.csv".into(), csv::render(&report.curves)?),
    ];
    if let Some(t) = &report.telemetry {
        files.push(("telemetry.csv".into(), csv::render(t)?));
    }
    Ok(files)
}

/// summary.csv, summary.md, report.md, claims.json, the Parquet files,
/// the optional tables and the figures `drawn` (with those that could
/// not be).
fn small_files(
    exp: &Study,
    plan: &Plan,
    report: &Report,
    (figures, not_drawn): (Vec<plot::Figure>, Vec<plot::NotDrawn>),
    about: &About,
    rungs: Option<&crate::halving::Progress>,
) -> Result<Vec<File>> {
    let mut files: Vec<File> = vec![
        ("summary.csv".into(), csv::render(&report.summary)?),
        (
            "summary.md".into(),
            markdown::render_summary(exp, plan, report)?,
        ),
        (
            "report.md".into(),
            markdown::render_report(exp, plan, report, (&figures, &not_drawn), about, rungs)?,
        ),
        (
            "claims.json".into(),
            claims_json::render(&report.verdicts, exp.report.level),
        ),
    ];
    files.extend(parquet::files(report)?);
    files.extend(optional_tables(exp, report, rungs)?);
    for f in figures {
        files.push((format!("figures/{}", f.file), f.svg.into_bytes()));
    }
    Ok(files)
}

/// The tables only some studies have: halving's rungs, the confirmed
/// winner, the tuning curves and the repeats' winners.
fn optional_tables(
    exp: &Study,
    report: &Report,
    rungs: Option<&crate::halving::Progress>,
) -> Result<Vec<File>> {
    let mut files: Vec<File> = Vec::new();
    if let Some(rungs) = rungs {
        files.push(("rungs.csv".into(), halving::csv(exp, rungs)));
    }
    if let Some(c) = &report.confirm {
        files.push(("confirm.csv".into(), confirm::csv(c)));
    }
    if let Some(t) = &report.tuning {
        files.push(("tuning.csv".into(), csv::render(&tuning::frame(t)?)?));
    }
    if let (Some(r), Some(s)) = (&report.repeats, &report.search) {
        files.push(("repeats.csv".into(), csv::render(&repeats::frame(r, s)?)?));
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
