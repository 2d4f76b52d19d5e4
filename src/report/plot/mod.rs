//! SVG figures (plotters' SVG backend only: no system libraries), one
//! figure kind a file:
//!
//! - `metric_vs_<axis>.svg` (`metric_vs_axis.rs`): every seed as a dot, the
//!   mean with Student-t interval bars at `[report] level`, one series per
//!   value of the other axes — the figure that shows spread shrinking. One
//!   per claim's (metric, key), plus train loss along the first numeric
//!   axis. Every setting has a place (`positions.rs`), diverged seeds a
//!   marker at the top edge, flagged seeds a hollow dot.
//! - `heatmap_<metric>.svg` (`heatmap.rs`): the first two listed axes as a
//!   grid of median cells, with each cell's diverged and flagged share.
//! - `spread_<metric>_vs_<axis>.svg` (`spread.rs`): std and IQR across
//!   seeds per configuration against the main axis, log scale, with
//!   bootstrap intervals — the spread claim itself (not along a searched
//!   key, whose configurations differ in every key).
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
//! - `tuning_<metric>.svg` (`tuning.rs`): a search's tuning curves, the
//!   expected best of n configurations per arm, against n and epochs.
//! - `repeats_<metric>.svg` (`repeats.rs`): `[search] repeats` only; each
//!   repeat's winner over the spread the pooled draws predict.
//! - `activations.svg` (`activations.rs`): per hidden layer, the mean and
//!   std of the activations at initialisation and at the end, first seed
//!   of each configuration (the notes' initialisation figure).
//! - `boundaries.svg` (`boundaries.rs`): decision regions of the first seed
//!   of chosen configurations, for 2-D classification data, training points
//!   drawn.
//!
//! This file holds what they share: which figures a study gets, the rows
//! they draw (every stored trial, or the finished ones), the padded ranges,
//! the not-drawn notes report.md lists; `canvas.rs` how every figure's SVG
//! is built (canvas, title, framed charts and their fonts, the legend);
//! `scale.rs` the value axis that is linear or log; `palette.rs` the
//! study-wide colour and marker of each setting; `colormap.rs` viridis
//! with its colour bar.
//! Figures are pure: records in, SVG text out.

mod activations;
mod boundaries;
mod canvas;
mod colormap;
mod curves;
mod heatmap;
mod histograms;
mod metric_vs_axis;
mod palette;
mod positions;
mod profile;
mod repeats;
mod scale;
mod search;
mod spread;
mod tuning;
mod variance;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::Report;
use super::draws::{Bootstrapped, Wanted};
use crate::data::Dataset;
use crate::metric::Metric;
use crate::plan::{Plan, Trial};
use crate::study::{Setting, Study};
use crate::train::TrialRecord;

#[cfg(test)]
pub(super) use curves::config_line;
#[cfg(test)]
pub(super) use heatmap::cells as heatmap_cells;
#[cfg(test)]
pub(super) use metric_vs_axis::axis_plot;
#[cfg(test)]
pub(super) use profile::{Profile, profile_plot};
#[cfg(test)]
pub(super) use spread::SpreadSeries;
#[cfg(test)]
pub(super) use spread::{AxisSettings, SpreadPlot, spread_plot};

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

/// A figure that belongs in the report but was not drawn, and why:
/// report.md lists these under the figures, so nothing is left out
/// silently.
#[derive(Debug, Clone, PartialEq)]
pub struct NotDrawn {
    /// The file it would have been.
    pub file: String,
    /// Why it was not drawn.
    pub reason: String,
}

/// A figure, or why it was not drawn.
type Drawn = std::result::Result<Figure, NotDrawn>;

/// Series `i`'s colour in figures whose series are not settings (a
/// figure's own index); see `palette` for settings.
fn color(i: usize) -> RGBColor {
    palette::TABLEAU[i % palette::TABLEAU.len()]
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
    let bootstrapped = bootstrap_figures(exp, plan, records, &report.drawn)?;
    Ok(render_with(exp, plan, records, report, data, bootstrapped)?.0)
}

/// The spread and profile figures of the study's main loss, their
/// bootstraps taken from `drawn` where the IQM pass computed them
/// (`report::draws`). The two figures run on two threads, with the same
/// results.
pub fn bootstrap_figures(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    drawn: &Bootstrapped,
) -> Result<Vec<Figure>> {
    let rows = finished_rows(plan, records);
    let Some((m, along)) = main_loss_axis(exp).filter(|_| !rows.is_empty()) else {
        return Ok(Vec::new());
    };
    // Profiles count every stored seed: one that diverged never gets below τ.
    let stored = stored_rows(plan, records);
    let (spread, profile) = std::thread::scope(|s| {
        let profile = s.spawn(|| profile::profile(exp, &stored, m, &along, drawn));
        let spread = if spread_drawn(exp, &along) {
            spread::spread(exp, &rows, m, &along, drawn)
        } else {
            Ok(None)
        };
        (
            spread,
            profile
                .join()
                .expect("the profile figure's thread finishes"),
        )
    });
    Ok(spread?.into_iter().chain(profile?).collect())
}

/// Along a searched key the configurations differ in the other keys too:
/// no line may join them, so there is no spread figure (the search
/// figure has their IQRs).
fn spread_drawn(exp: &Study, along: &str) -> bool {
    !sampled(exp, along)
}

/// What the spread and profile figures will bootstrap, per configuration
/// (`report::draws`), so the IQM pass computes it with its resamples.
/// `stored`: the plan's stored trials ([`stored_rows`]), which the report
/// has already looked up.
pub(in crate::report) fn wanted(exp: &Study, stored: &[Row]) -> Wanted {
    let rows: Vec<Row> = stored
        .iter()
        .copied()
        .filter(|(_, r)| r.finished().is_some())
        .collect();
    let Some((m, along)) = main_loss_axis(exp).filter(|_| !rows.is_empty()) else {
        return Wanted::default();
    };
    let (taus, profile) = profile::wanted(exp, stored, m, &along);
    Wanted {
        spread: if spread_drawn(exp, &along) {
            spread::wanted(exp, &rows, m)
        } else {
            Default::default()
        },
        profile,
        taus,
    }
}

/// [`render`] with the figures of [`bootstrap_figures`] already made; they
/// go after the metric-vs-axis figures and heatmap. Also returns the
/// figures that belong in the report but could not be drawn, with why.
pub fn render_with(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    report: &Report,
    data: Option<&Dataset>,
    bootstrapped: Vec<Figure>,
) -> Result<(Vec<Figure>, Vec<NotDrawn>)> {
    let rows = finished_rows(plan, records);
    if rows.is_empty() {
        let not = |file: &str| NotDrawn {
            file: file.into(),
            reason: "no trial finished".into(),
        };
        return Ok((Vec::new(), vec![not("all figures")]));
    }
    let stored = stored_rows(plan, records);
    let flags = flagged(report, stored.len());
    let (mut figures, mut not_drawn) = (Vec::new(), Vec::new());
    let mut keep = |d: Drawn| match d {
        Ok(f) => figures.push(f),
        Err(n) => not_drawn.push(n),
    };
    for (m, along) in axis_figures(exp) {
        keep(metric_vs_axis::metric_vs_axis(
            exp, &stored, &flags, m, &along,
        )?);
    }
    if let Some(d) = heatmap::heatmap(exp, &stored, &flags, heatmap_metric(exp))? {
        keep(d);
    }
    if let Some((m, along)) = main_loss_axis(exp).filter(|(_, a)| sampled(exp, a)) {
        not_drawn.push(NotDrawn {
            file: format!("spread_{m}_vs_{}.svg", short(&along)),
            reason: "along a searched key the configurations differ in every key; each one's seed quartiles are in search_<metric>_vs_keys.svg".into(),
        });
    }
    figures.extend(bootstrapped);
    figures.extend(curves::curves(exp, plan, &rows)?);
    figures.extend(histograms::histograms(plan, &stored, report)?);
    figures.extend(variance::variance_sources(exp, plan, report)?);
    figures.extend(activations::activations(exp, plan, &rows)?);
    if let Some(d) = data {
        figures.extend(boundaries::boundaries(exp, plan, &rows, d)?);
    }
    // Last, so a search's other figures keep their numbers.
    if let Some(s) = &report.search {
        figures.push(search::scatter(s)?);
        figures.push(search::parallel(s)?);
    }
    if let Some(t) = &report.tuning {
        figures.extend(tuning::tuning(t)?);
    } else if let Some(s) = report.search.as_ref().filter(|_| exp.halving.is_some()) {
        not_drawn.push(NotDrawn {
            file: format!("tuning_{}.svg", s.metric),
            reason: "successive halving stopped configurations at different budgets, so their scores are not draws of one quantity and a search of n has no expected best (no tuning.csv either)".into(),
        });
    }
    if let Some(r) = &report.repeats {
        figures.extend(repeats::repeats(r)?);
    }
    Ok((figures, not_drawn))
}

/// The keys of the axis `along` is on (a zipped axis has several): the
/// settings a figure's series along it leave out of their names.
fn axis_keys(exp: &Study, along: &str) -> Vec<String> {
    exp.axes
        .iter()
        .find(|a| a.keys.iter().any(|k| k == along))
        .map(|a| a.keys.clone())
        .unwrap_or_default()
}

/// Series `s` of `n`'s offset from its setting: `unit · step` apart,
/// centred, but never more than 0.4 of the spacing between settings
/// either side (P3's 500 series at 8% apart spread twenty settings wide,
/// off the axis). Uncapped, the product is taken in the order the figures
/// always took it, so their bytes do not move.
pub(in crate::report) fn dodge(s: usize, n: usize, unit: f64, step: f64) -> f64 {
    let centred = s as f64 - (n as f64 - 1.0) / 2.0;
    let cap = 0.8 / (n.max(2) - 1) as f64;
    if unit * step > cap {
        centred * cap
    } else {
        centred * unit * step
    }
}

/// Whether `key` is a searched (`[space]`) key.
fn sampled(exp: &Study, key: &str) -> bool {
    exp.axes
        .iter()
        .any(|a| a.sampled && a.keys.iter().any(|k| k == key))
}

/// Whether each stored trial (`report.trials`' rows) is flagged collapsed
/// or unstable; all false while the report has no such columns.
fn flagged(report: &Report, n: usize) -> Vec<bool> {
    let column = |name: &str| -> Vec<bool> {
        let Ok(c) = report.trials.column(name) else {
            return vec![false; n];
        };
        let Ok(b) = c.bool() else {
            return vec![false; n];
        };
        (0..n).map(|i| b.get(i).unwrap_or(false)).collect()
    };
    let (c, u) = (column("collapsed"), column("unstable"));
    c.iter().zip(&u).map(|(a, b)| *a || *b).collect()
}

/// Every stored trial of the plan, whatever its status, in plan order:
/// the rows of `report.trials`, which figures that show every seed draw.
pub(in crate::report) fn stored_rows<'a>(
    plan: &'a Plan,
    records: &'a [TrialRecord],
) -> Vec<Row<'a>> {
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    plan.trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .collect()
}

/// The plan's trials that finished with metrics, in plan order: figures
/// draw nothing from diverged, failed or missing trials.
pub(in crate::report) fn finished_rows<'a>(
    plan: &'a Plan,
    records: &'a [TrialRecord],
) -> Vec<Row<'a>> {
    stored_rows(plan, records)
        .into_iter()
        .filter(|(_, r)| r.finished().is_some())
        .collect()
}

/// Which metric-vs-axis figures to draw: one per distinct (metric, key)
/// of the claims (a trend's `along`, a comparison's compared key), then
/// final train loss along the first swept axis (numeric if any), so the
/// study's main effect is always shown beside what the claims ask.
fn axis_figures(exp: &Study) -> Vec<(Metric, String)> {
    let mut wanted = claim_figures(exp);
    if let Some(d) = default_figure(exp)
        && !wanted.contains(&d)
    {
        wanted.push(d);
    }
    wanted
}

/// The (metric, key) of each claim, first appearance first: a trend's
/// `along`, a comparison's first key whose `this` and `than` differ.
fn claim_figures(exp: &Study) -> Vec<(Metric, String)> {
    let mut wanted: Vec<(Metric, String)> = Vec::new();
    for c in &exp.report.claims {
        // A trend (`differs` too) has `along`; a comparison has groups.
        let key = match &c.along {
            Some(a) => Some(a.clone()),
            None => c
                .this
                .iter()
                .find(|(k, v)| !c.than.iter().any(|(k2, v2)| k2 == k && v2 == v))
                .map(|(k, _)| k.clone()),
        };
        if let Some(k) = key.filter(|k| exp.axes.iter().any(|a| a.keys.contains(k)))
            && !wanted.contains(&(c.metric, k.clone()))
        {
            wanted.push((c.metric, k));
        }
    }
    wanted
}

/// Final train loss along the first listed (not searched) axis whose
/// settings are all numbers, else the first listed axis.
fn default_figure(exp: &Study) -> Option<(Metric, String)> {
    let listed = || exp.axes.iter().filter(|a| !a.sampled);
    let numeric = |a: &&crate::study::Axis| {
        (0..a.len()).all(|i| matches!(a.setting(i, 0), Setting::Int(_) | Setting::Float(_)))
    };
    let a = listed().find(numeric).or_else(|| listed().next())?;
    Some((Metric::TrainLoss, a.keys[0].clone()))
}

/// The heatmap's metric: the first claim's, else final train loss.
fn heatmap_metric(exp: &Study) -> Metric {
    claim_figures(exp)
        .first()
        .map_or(Metric::TrainLoss, |(m, _)| *m)
}

/// The study's main loss and axis, for the spread and profile figures:
/// the first trend claim about a loss, else the final train loss along
/// the first numeric axis, else along the first axis; `None` without a
/// swept axis.
fn main_loss_axis(exp: &Study) -> Option<(Metric, String)> {
    let trend = exp
        .report
        .claims
        .iter()
        .filter(|c| c.along.is_some())
        .filter(|c| c.metric.is_loss())
        .find_map(|c| c.along.clone().map(|a| (c.metric, a)));
    trend.or_else(|| default_figure(exp)).or_else(|| {
        let first = exp.axes.first()?;
        Some((Metric::TrainLoss, first.keys[0].clone()))
    })
}
