//! Markdown exporter: `summary.md`, a header saying what was run and one
//! table row per configuration, formatted for people (mean ± std, sensible
//! precision, thousands separators).

mod claims;
mod confirm;
mod repeats;
mod search;
mod settle;
mod tuning;
mod variance;

use anyhow::Result;
use polars::prelude::*;

use super::Report;
use super::plot::{Figure, NotDrawn};
use crate::metric::{Aggregate, Metric};
use crate::plan::Plan;
use crate::study::Study;

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A loss-like number with four significant digits.
pub fn number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e-3 && x.abs() < 1e4 {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

/// A share as a whole percentage: 0.734 → `73%`.
pub fn percent_cell(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// `mean ± std`, or the mean alone where std is undefined (one seed).
pub fn mean_std(mean: Option<f64>, std: Option<f64>, percent: bool) -> String {
    let f = |x: f64| {
        if percent {
            format!("{:.1}", 100.0 * x)
        } else {
            number(x)
        }
    };
    match (mean, std) {
        (None, _) => "–".into(),
        (Some(m), None) => f(m),
        (Some(m), Some(s)) => format!("{} ± {}", f(m), f(s)),
    }
}

fn f64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<f64>> {
    Ok(df.column(name)?.f64()?.get(i))
}

/// Row `i`'s `aggregate` of metric `m`, read from the column the summary
/// writer named with the same [`Metric::column`].
fn agg_at(df: &DataFrame, m: Metric, aggregate: Aggregate, i: usize) -> Result<Option<f64>> {
    f64_at(df, &m.column(aggregate), i)
}

fn u64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<u64>> {
    Ok(df.column(name)?.u64()?.get(i))
}

fn header(exp: &Study, plan: &Plan, report: &Report) -> String {
    let mut md = match &report.settled {
        Some(s) => settle::header(exp, plan, report.trials.height(), s),
        None => format!(
            "- {} configurations × {} = {} trials; {} stored.\n",
            plan.n_configs,
            exp.replication.describe(),
            plan.len(),
            report.trials.height()
        ),
    };
    if !report.swept.is_empty() {
        let axes: Vec<String> = exp
            .axes
            .iter()
            .map(|a| {
                if let Some(search) = exp.search.as_ref().filter(|_| a.sampled) {
                    return format!("`{}` drawn: {}", a.keys.join("/"), search.describe());
                }
                let vals: Vec<String> = (0..a.len())
                    .map(|i| {
                        (0..a.keys.len())
                            .map(|k| a.setting(i, k).to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .collect();
                format!("`{}` ∈ {{{}}}", a.keys.join("/"), vals.join(", "))
            })
            .collect();
        md.push_str(&format!("- Swept: {}.\n", axes.join("; ")));
    }
    let fixed = exp.fixed_settings();
    if !fixed.is_empty() {
        let f: Vec<String> = fixed.iter().map(|(k, v)| format!("`{k}` = {v}")).collect();
        md.push_str(&format!("- Fixed: {}.\n", f.join(", ")));
    }
    md
}

/// The table's legend; the stuck rule in it follows `[report] stuck_relative`.
/// With batch norm in some configuration it says what `params` counts.
fn legend(exp: &Study) -> String {
    // Read off the settings (resolving every configuration would read a
    // CSV file per configuration).
    let key = "model.batch_norm";
    let normed = exp
        .fixed_settings()
        .iter()
        .any(|(k, v)| k == key && matches!(v, crate::study::Setting::Bool(true)))
        || exp.axes.iter().any(|a| {
            a.keys.iter().enumerate().any(|(k, name)| {
                name == key && a.points.iter().any(|p| p[k].as_bool() == Some(true))
            })
        });
    let params = if normed {
        " With batch norm (`model.batch_norm`), params counts γ and β (two per hidden \
         unit, per piece with maxout) instead of the hidden layers' biases, which such a \
         network does not have; the running statistics are state, not parameters."
    } else {
        ""
    };
    let text = format!(
        "Depth counts hidden layers. Losses are mean data losses at the last epoch \
         (cross-entropy or MSE, without the L2 term), evaluated without dropout; accuracies in %. \
         Cells are mean ± sample std (ddof = 1) over the seeds that finished, then median [IQR] of \
         the train loss and the stuck share: seeds whose final train loss is more than δ = {} above \
         {} (`stuck_relative = \"{}\"`). Dead units (where any) are the mean share of hidden units \
         that output 0 on every training point. Diverged or failed trials are counted, not averaged. \
         Collapsed / unstable (where any) count finished seeds that made no progress (final train \
         loss not 5% below the initial loss, or at chance, ≥ 0.99·ln K) and seeds that ended far \
         above their best (final train loss above best + max(δ, best)); they stay in the statistics. \
         When some configuration's validation losses spread so far that their std exceeds their \
         mean, the val loss column shows median [IQR] for every configuration instead.",
        exp.report.stuck_delta,
        super::stuck::compared_with(exp.report.stuck_relative),
        exp.report.stuck_relative.name()
    );
    text + params
}

/// The legend's sentence on the ensemble columns, when the table has them.
fn ensemble_legend(report: &Report) -> Result<&'static str> {
    Ok(if OptionalColumns::of(&report.summary)?.ensemble {
        " The ensemble averages the predicted class probabilities (regression: outputs) of a \
         configuration's finished seeds on the validation split and scores that mean: \
         cross-entropy with probabilities floored at 1e-12, accuracy of its argmax; \
         \"–\" where fewer than two seeds finished or one has no stored predictions."
    } else {
        ""
    })
}

/// The per-configuration table, shared by summary.md and report.md.
fn table(report: &Report) -> Result<String> {
    let s = &report.summary;
    let cols = OptionalColumns::of(s)?;
    let mut header: Vec<String> = report.swept.clone();
    if cols.epochs {
        header.push("epochs".into());
    }
    header.extend(
        [
            "n",
            "params",
            "train loss",
            "median [IQR]",
            "stuck",
            if cols.val_median {
                "val loss median [IQR]"
            } else {
                "val loss"
            },
            "train acc (%)",
            "val acc (%)",
        ]
        .map(String::from),
    );
    if cols.ensemble {
        header.extend(["ensemble val loss", "ensemble val acc (%)"].map(String::from));
    }
    if cols.dead {
        header.push("dead units".into());
    }
    if cols.bad {
        header.push("diverged / failed".into());
    }
    if cols.broken {
        header.push("collapsed / unstable".into());
    }
    let mut md = table_head(&header, report.swept.len());
    for i in 0..s.height() {
        let row = table_row(report, cols, i)?;
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    Ok(md)
}

/// A Markdown table's header row and alignment row: the first `left`
/// columns (the swept settings) left-aligned, the numbers right-aligned.
pub fn table_head(header: &[String], left: usize) -> String {
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i < left { "---" } else { "---:" })
        .collect();
    format!("| {} |\n|{}|\n", header.join(" | "), align.join("|"))
}

/// A configuration's validation loss spreads too far for mean ± std when
/// its std exceeds this multiple of its mean (one seed at 7e5 among
/// seeds near 0.1): the whole column then shows median [IQR].
const HEAVY_SPREAD: f64 = 1.0;

/// The table's columns shown only where some configuration needs them.
/// Every column is looked up with `?`: a column the summary does not have
/// is an error, never a silently empty cell or a hidden column.
#[derive(Clone, Copy)]
struct OptionalColumns {
    /// Dead units, where any (ReLU at high learning rates).
    dead: bool,
    /// Diverged / failed counts, where any trial diverged or failed.
    bad: bool,
    /// Collapsed / unstable counts, where any finished trial is flagged.
    broken: bool,
    /// The epochs each configuration was trained to (halving studies).
    epochs: bool,
    /// Validation loss as median [IQR]: some configuration's seeds spread
    /// so far that mean ± std misleads (see [`HEAVY_SPREAD`]).
    val_median: bool,
    /// The ensemble of the seeds, where some configuration has one (its
    /// column is absent from summary.csv without a validation split).
    ensemble: bool,
}

impl OptionalColumns {
    fn of(s: &DataFrame) -> Result<Self> {
        let mut cols = OptionalColumns {
            dead: false,
            bad: false,
            broken: false,
            epochs: s.get_column_index("epochs_trained").is_some(),
            val_median: false,
            ensemble: false,
        };
        if let Ok(c) = s.column(super::ENSEMBLE_VAL_LOSS) {
            cols.ensemble = c.f64()?.iter().any(|v| v.is_some());
        }
        for i in 0..s.height() {
            let bad =
                u64_at(s, "n_diverged", i)?.unwrap_or(0) + u64_at(s, "n_failed", i)?.unwrap_or(0);
            cols.bad |= bad > 0;
            let broken = u64_at(s, "n_collapsed", i)?.unwrap_or(0)
                + u64_at(s, "n_unstable", i)?.unwrap_or(0);
            cols.broken |= broken > 0;
            let (mean, std) = (
                agg_at(s, Metric::ValLoss, Aggregate::Mean, i)?,
                agg_at(s, Metric::ValLoss, Aggregate::Std, i)?,
            );
            cols.val_median |= mean.zip(std).is_some_and(|(m, sd)| sd > HEAVY_SPREAD * m);
            cols.dead |= agg_at(s, Metric::DeadFraction, Aggregate::Mean, i)?.unwrap_or(0.0) > 0.0;
        }
        Ok(cols)
    }
}

/// "median [IQR]", or "–" without finished seeds.
fn median_iqr(median: Option<f64>, iqr: Option<f64>) -> String {
    match (median, iqr) {
        (Some(m), Some(q)) => format!("{} [{}]", number(m), number(q)),
        _ => "–".into(),
    }
}

/// Configuration `i`'s cells, in the header's order.
fn table_row(report: &Report, cols: OptionalColumns, i: usize) -> Result<Vec<String>> {
    let mut row = setting_cells(report, cols, i)?;
    row.extend(metric_cells(&report.summary, cols, i)?);
    row.extend(flag_cells(&report.summary, cols, i)?);
    Ok(row)
}

/// What configuration `i` is: its swept values, the epochs it was trained
/// to (halving), its finished seeds and its parameter count.
fn setting_cells(report: &Report, cols: OptionalColumns, i: usize) -> Result<Vec<String>> {
    let s = &report.summary;
    let mut row: Vec<String> = Vec::new();
    for name in &report.swept {
        // Drawn floats shown to 4 significant digits; summary.csv keeps them exact.
        row.push(match s.column(name)?.get(i)? {
            AnyValue::Float64(x) => crate::study::short_float(x),
            v => super::csv::cell(&v),
        });
    }
    if cols.epochs {
        row.push(u64_at(s, "epochs_trained", i)?.map_or("–".into(), |e| e.to_string()));
    }
    row.push(u64_at(s, "n", i)?.unwrap_or(0).to_string());
    row.push(
        u64_at(s, "params", i)?
            .map(thousands)
            .unwrap_or_else(|| "–".into()),
    );
    Ok(row)
}

/// Configuration `i`'s losses and accuracies over its seeds, and its
/// stuck share.
fn metric_cells(s: &DataFrame, cols: OptionalColumns, i: usize) -> Result<Vec<String>> {
    let at = |m: Metric, a: Aggregate| agg_at(s, m, a, i);
    let mut row = vec![
        mean_std(
            at(Metric::TrainLoss, Aggregate::Mean)?,
            at(Metric::TrainLoss, Aggregate::Std)?,
            false,
        ),
        median_iqr(
            at(Metric::TrainLoss, Aggregate::Median)?,
            at(Metric::TrainLoss, Aggregate::Iqr)?,
        ),
        f64_at(s, "stuck_fraction", i)?
            .map(|f| format!("{:.0}%", 100.0 * f))
            .unwrap_or_else(|| "–".into()),
    ];
    row.push(if cols.val_median {
        median_iqr(
            at(Metric::ValLoss, Aggregate::Median)?,
            at(Metric::ValLoss, Aggregate::Iqr)?,
        )
    } else {
        mean_std(
            at(Metric::ValLoss, Aggregate::Mean)?,
            at(Metric::ValLoss, Aggregate::Std)?,
            false,
        )
    });
    for m in [Metric::TrainAcc, Metric::ValAcc] {
        row.push(mean_std(
            at(m, Aggregate::Mean)?,
            at(m, Aggregate::Std)?,
            true,
        ));
    }
    Ok(row)
}

/// The optional columns' cells: the seeds' ensemble, dead units, diverged
/// / failed and collapsed / unstable counts.
fn flag_cells(s: &DataFrame, cols: OptionalColumns, i: usize) -> Result<Vec<String>> {
    let mut row = Vec::new();
    if cols.ensemble {
        let cell = |name: &str, percent: bool| -> Result<String> {
            Ok(match f64_at(s, name, i)? {
                Some(x) if percent => format!("{:.1}", 100.0 * x),
                Some(x) => number(x),
                None => "–".into(),
            })
        };
        row.push(cell(super::ENSEMBLE_VAL_LOSS, false)?);
        row.push(cell(super::ENSEMBLE_VAL_ACC, true)?);
    }
    if cols.dead {
        row.push(
            agg_at(s, Metric::DeadFraction, Aggregate::Mean, i)?
                .map(|f| format!("{:.1}%", 100.0 * f))
                .unwrap_or_else(|| "–".into()),
        );
    }
    if cols.bad {
        row.push(format!(
            "{} / {}",
            u64_at(s, "n_diverged", i)?.unwrap_or(0),
            u64_at(s, "n_failed", i)?.unwrap_or(0)
        ));
    }
    if cols.broken {
        row.push(format!(
            "{} / {}",
            u64_at(s, "n_collapsed", i)?.unwrap_or(0),
            u64_at(s, "n_unstable", i)?.unwrap_or(0)
        ));
    }
    Ok(row)
}

/// The reports' heading: `[report] title`, else the study's name.
fn title(exp: &Study) -> &str {
    exp.report.title.as_deref().unwrap_or(&exp.name)
}

/// Render `summary.md`: what was run and the table.
pub fn render_summary(exp: &Study, plan: &Plan, report: &Report) -> Result<Vec<u8>> {
    let mut md = format!("# {}\n\n", title(exp));
    if !exp.description.is_empty() {
        md.push_str(&format!("{}\n\n", exp.description));
    }
    md.push_str(&header(exp, plan, report));
    md.push_str(&format!(
        "\n{}{}\n\n",
        legend(exp),
        ensemble_legend(report)?
    ));
    md.push_str(&table(report)?);
    Ok(md.into_bytes())
}

/// Render `report.md`: claims and verdicts first, then what was run, the
/// table and the figures, then the figures that were not drawn and why.
/// `provenance` is the version, git revision and core count (gathered by
/// the caller, so rendering stays pure).
pub fn render_report(
    exp: &Study,
    plan: &Plan,
    report: &Report,
    (figures, not_drawn): (&[Figure], &[NotDrawn]),
    about: &super::About,
    rungs: Option<&crate::halving::Progress>,
) -> Result<Vec<u8>> {
    let (provenance, damaged) = (about.provenance, about.damaged);
    let mut md = format!("# {}\n\n", title(exp));
    if !exp.description.is_empty() {
        md.push_str(&format!("{}\n\n", exp.description));
    }
    if !report.verdicts.is_empty() || report.halving.is_some() {
        md.push_str(&claims::section_with(
            &report.verdicts,
            exp.report.level,
            report.halving.as_ref(),
            report.settled.as_ref().map(|s| settle::note(exp, s)),
        ));
    }
    md.push_str("## What was run\n\n");
    md.push_str(&header(exp, plan, report));
    md.push_str(&outcomes_line(report)?);
    md.push_str(&format!("- Provenance: {provenance}.\n"));
    md.push_str(&damaged_note(damaged));
    md.push('\n');
    if let Some(s) = &report.settled {
        md.push_str(&settle::section(exp, s));
    }
    if let Some(rungs) = rungs {
        // A halving study's rungs come before the results they produced;
        // the section ends with its own blank line.
        md.push_str(&super::halving::section(exp, plan, rungs));
    }
    md.push_str(&format!(
        "## Results\n\n{}{}\n\n",
        legend(exp),
        ensemble_legend(report)?
    ));
    md.push_str(&table(report)?);
    md.push_str(&variance::section(exp, plan, report, exp.report.level));
    md.push_str(&search::section(report.search.as_ref(), &report.swept));
    md.push_str(&tuning::section(report.tuning.as_ref()));
    md.push_str(&confirm::section(report.confirm.as_ref()));
    md.push_str(&repeats::section(
        report.repeats.as_ref(),
        report.search.as_ref(),
    ));
    if !figures.is_empty() {
        md.push_str("\n## Figures\n\n");
        for (i, f) in figures.iter().enumerate() {
            md.push_str(&format!(
                "![{}](figures/{})\n\n*Figure {}.* {}\n\n",
                f.caption,
                f.file,
                i + 1,
                f.caption
            ));
        }
    }
    md.push_str(&not_drawn_section(not_drawn));
    Ok(md.into_bytes())
}

/// The figures that belong in the report but were not drawn, with why;
/// empty when every figure was drawn.
fn not_drawn_section(not_drawn: &[NotDrawn]) -> String {
    if not_drawn.is_empty() {
        return String::new();
    }
    let mut md = String::from("\n### Figures not drawn\n\n");
    for n in not_drawn {
        md.push_str(&format!("- `{}`: {}.\n", n.file, n.reason));
    }
    md
}

/// The "Damaged records" note: lines of trials.jsonl that no table uses
/// (the store locates them; empty when there are none). Said here, beside
/// the trial counts, because a damaged line is usually a trial missing
/// from every table.
fn damaged_note(damaged: &[String]) -> String {
    if damaged.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "- Damaged records: {} line(s) of trials.jsonl were not used (repair or remove them; \
         a trial whose record is lost reruns with `mlpsweep run`):\n",
        damaged.len()
    );
    for d in damaged.iter().take(20) {
        md.push_str(&format!("  - {d}\n"));
    }
    if damaged.len() > 20 {
        md.push_str(&format!("  - … and {} more\n", damaged.len() - 20));
    }
    md
}

/// How the stored trials ended, and the training time they took.
fn outcomes_line(report: &Report) -> Result<String> {
    let status = report.trials.column("status")?.str()?.clone();
    let count = |s: &str| {
        (0..status.len())
            .filter(|i| status.get(*i) == Some(s))
            .count()
    };
    Ok(format!(
        "- Finished: {}, diverged: {}, failed: {}. Compute: {:.1} s of training over all stored trials.\n",
        count("ok"),
        count("diverged"),
        count("failed"),
        report.trial_seconds
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legend says what `params` counts when batch norm is on in some
    /// configuration (fixed, or swept), and says nothing of it otherwise.
    /// Catches the note missing from a swept `batch_norm` or shown for
    /// every study.
    #[test]
    fn the_legend_explains_params_under_batch_norm() {
        let legend_of = |body: &str| {
            let src = format!("name = \"l\"\n{body}");
            legend(&crate::study::from_str(&src, std::path::Path::new("s.toml"), &[]).unwrap())
        };
        let note = "params counts γ and β";
        assert!(!legend_of("").contains(note));
        assert!(!legend_of("[model]\nbatch_norm = false\n").contains(note));
        assert!(legend_of("[model]\nbatch_norm = true\n").contains(note));
        assert!(legend_of("[grid]\nbatch_norm = [false, true]\n").contains(note));
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.3456), "12.35");
        assert_eq!(number(0.00001234), "1.234e-5");
        assert_eq!(mean_std(Some(0.5), None, false), "0.5000");
        assert_eq!(mean_std(Some(0.975), Some(0.0124), true), "97.5 ± 1.2");
        assert_eq!(mean_std(None, None, false), "–");
    }
}
