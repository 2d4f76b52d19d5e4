//! SVG figures (plotters' SVG backend only: no system libraries), one
//! figure kind a file:
//!
//! - `metric_vs_<axis>.svg` (`metric_vs_axis.rs`): every seed as a dot, the
//!   mean with Student-t interval bars at `[report] level`, one series per
//!   value of the other axes — the figure that shows spread shrinking. One
//!   per trend claim (or the first numeric axis).
//! - `spread_<metric>_vs_<axis>.svg` (`spread.rs`): std and IQR across
//!   seeds per configuration against the main axis, log scale, with
//!   bootstrap intervals — the spread claim itself.
//! - `profile_<metric>.svg` (`profile.rs`): the share of each
//!   configuration's seeds whose final loss is below τ, along τ, with
//!   bootstrap bands (rliable's performance profiles).
//! - `curves*.svg` (`curves.rs`): mean train loss per configuration over
//!   epochs, with a ±1 std band; one file per value of the first axis when
//!   there are many configurations.
//! - `hist_train_loss.svg` (`histograms.rs`): a histogram of final train
//!   loss per configuration on a shared x axis (the loss-distribution view).
//! - `variance_sources.svg` (`variance.rs`): stacked bars of the variance
//!   shares per source of randomness, `[replicates]` studies only.
//! - `search_<metric>_vs_keys.svg` and `search_parallel.svg` (`search.rs`):
//!   random and Sobol searches only; each configuration's seed median
//!   against each searched key, and parallel coordinates coloured by it.
//! - `activations.svg` (`activations.rs`): per hidden layer, the mean and
//!   std of the activations at initialisation and at the end, first seed
//!   of each configuration (the notes' initialisation figure).
//! - `boundaries.svg` (`boundaries.rs`): decision regions of the first seed
//!   of chosen configurations, for 2-D classification data, training points
//!   drawn.
//!
//! This file holds what they share: the palette, the padded ranges, the
//! error type; `scale.rs` the value axis that is linear or log. Figures are pure: records in, SVG text out.

mod activations;
mod boundaries;
mod curves;
mod histograms;
mod metric_vs_axis;
mod profile;
mod scale;
mod search;
mod spread;
mod variance;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::Report;
use crate::data::Dataset;
use crate::metric::Metric;
use crate::plan::{Plan, Trial};
use crate::study::{Expect, Setting, Study};
use crate::train::{Status, TrialRecord};

#[cfg(test)]
pub(super) use curves::config_line;
#[cfg(test)]
pub(super) use metric_vs_axis::axis_plot;
#[cfg(test)]
pub(super) use profile::profile_plot;
#[cfg(test)]
pub(super) use spread::{AxisSettings, spread_plot};

/// A finished trial with its plan entry: what every figure draws from.
pub(in crate::report) type Row<'a> = (&'a Trial, &'a TrialRecord);

/// One rendered figure.
pub struct Figure {
    /// File name inside `figures/`.
    pub file: String,
    /// Caption for report.md.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// Tableau 10: distinguishable, print-friendly.
const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Series `i`'s colour; the palette repeats past ten series.
fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// A key without its section (`model.width` → `width`), for titles and
/// file names.
fn short(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// plotters' errors are generic over the backend; flatten them to anyhow.
fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("plotting: {e}")
}

/// Padded [lo, hi] of some values (a unit range when they are all equal).
fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
    Some((lo - pad, hi + pad))
}

/// Render every figure the study's data allows (the report renders them
/// through [`render_with`], with the bootstrap figures made earlier).
#[cfg(test)]
pub fn render(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    report: &Report,
    data: Option<&Dataset>,
) -> Result<Vec<Figure>> {
    let bootstrapped = bootstrap_figures(exp, plan, records)?;
    render_with(exp, plan, records, report, data, bootstrapped)
}

/// The spread and profile figures of the study's main loss: they need the
/// trials but not the built report, and their bootstraps are the slowest
/// part of a report with many configurations, so `report::render` starts
/// them while it builds the summary. Their two bootstraps (each its own
/// seeded stream) run on two threads, with the same results.
pub fn bootstrap_figures(exp: &Study, plan: &Plan, records: &[TrialRecord]) -> Result<Vec<Figure>> {
    let rows = finished_rows(plan, records);
    let Some((m, along)) = main_loss_axis(exp).filter(|_| !rows.is_empty()) else {
        return Ok(Vec::new());
    };
    let (spread, profile) = std::thread::scope(|s| {
        let profile = s.spawn(|| profile::profile(exp, &rows, m, &along));
        let spread = spread::spread(exp, &rows, m, &along);
        (
            spread,
            profile
                .join()
                .expect("the profile figure's thread finishes"),
        )
    });
    Ok(spread?.into_iter().chain(profile?).collect())
}

/// [`render`] with the figures of [`bootstrap_figures`] already made; they
/// go after the metric-vs-axis figures.
pub fn render_with(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    report: &Report,
    data: Option<&Dataset>,
    bootstrapped: Vec<Figure>,
) -> Result<Vec<Figure>> {
    let rows = finished_rows(plan, records);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut figures = Vec::new();
    for (m, along) in axis_figures(exp) {
        if let Some(f) = metric_vs_axis::metric_vs_axis(exp, &rows, m, &along)? {
            figures.push(f);
        }
    }
    figures.extend(bootstrapped);
    figures.extend(curves::curves(exp, plan, &rows)?);
    figures.extend(histograms::histograms(plan, &rows, report)?);
    figures.extend(variance::variance_sources(exp, plan, report)?);
    figures.extend(activations::activations(plan, &rows)?);
    if let Some(d) = data {
        figures.extend(boundaries::boundaries(exp, plan, &rows, d)?);
    }
    // Last, so a search's other figures keep their numbers.
    if let Some(s) = &report.search {
        figures.push(search::scatter(s)?);
        figures.push(search::parallel(s)?);
    }
    Ok(figures)
}

/// The plan's trials that finished with metrics, in plan order: figures
/// draw nothing from diverged, failed or missing trials.
pub(in crate::report) fn finished_rows<'a>(
    plan: &'a Plan,
    records: &'a [TrialRecord],
) -> Vec<Row<'a>> {
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    plan.trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .filter(|(_, r)| r.status == Status::Ok && r.metrics.is_some())
        .collect()
}

/// Which metric-vs-axis figures to draw: one per distinct (metric, along)
/// of the trend claims, else final train loss along the first numeric axis,
/// so a study without claims still shows its main effect.
fn axis_figures(exp: &Study) -> Vec<(Metric, String)> {
    let mut wanted: Vec<(Metric, String)> = exp
        .report
        .claims
        .iter()
        .filter(|c| matches!(c.expect, Expect::Increasing | Expect::Decreasing))
        .filter_map(|c| c.along.clone().map(|a| (c.metric, a)))
        .collect();
    wanted.dedup();
    if wanted.is_empty()
        && let Some(a) = exp.axes.iter().find(|a| {
            (0..a.len()).all(|i| matches!(a.setting(i, 0), Setting::Int(_) | Setting::Float(_)))
        })
    {
        wanted.push((Metric::TrainLoss, a.keys[0].clone()));
    }
    wanted
}

/// The study's main loss and axis, for the spread and profile figures:
/// the first trend claim about a loss, else the final train loss along
/// the axis the metric-vs-axis figures use, else along the first axis;
/// `None` without a swept axis.
fn main_loss_axis(exp: &Study) -> Option<(Metric, String)> {
    axis_figures(exp)
        .into_iter()
        .find(|(m, _)| m.is_loss())
        .or_else(|| {
            let first = exp.axes.first()?;
            Some((Metric::TrainLoss, first.keys[0].clone()))
        })
}
