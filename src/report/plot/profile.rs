//! `profile_<metric>.svg`: performance profiles (rliable's run-score
//! distributions) of the final loss: for each τ on the x axis, the share
//! of a configuration's seeds whose final loss is below τ, with a
//! percentile bootstrap band at `[report] level` (the seeds resampled
//! within the configuration, the same resamples as its IQM columns;
//! `stats::share_below_bands`). A mean and a
//! std hide a configuration where most seeds fit and a few get stuck; its
//! profile shows the step. Up to 10 configurations share one panel; more
//! get one panel per setting of the other axes, one curve per setting of
//! the main axis. The numbers ([`Profile`]) are computed before drawing.

use std::collections::HashMap;

use anyhow::Result;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;

use super::canvas::{Area, Entry, Frame, LEGEND_WIDTH, legend, plot_series, titled, with_strip};
use super::palette::Palette;
use super::scale::Scale;
use super::{Figure, Row, short};
use crate::metric::Metric;
use crate::report::claims::label;
use crate::report::draws::Bootstrapped;
use crate::report::iqm::resamples;
use crate::report::percent;
use crate::stats;
use crate::study::{Setting, Study};

/// Some swept keys' settings.
type Selection = Vec<(String, Setting)>;

/// Thresholds along the x axis.
const TAUS: usize = 120;
/// Configurations drawn in one panel before the figure splits into panels.
const ONE_PANEL: usize = 10;
/// At most this many panels (the first ones in plan order).
const MAX_PANELS: usize = 12;

/// One curve: a configuration's profile and its band at each τ.
pub(in crate::report) struct Curve {
    /// Legend label.
    pub name: String,
    /// The settings it names (its colour, the same in every panel).
    pub selection: Selection,
    /// Share of the seeds below each τ.
    pub share: Vec<f64>,
    /// Its percentile bootstrap band at each τ.
    pub band: Vec<Option<(f64, f64)>>,
}

/// One panel: its title (the other axes' settings, or empty) and curves.
pub(in crate::report) struct Panel {
    pub title: String,
    pub curves: Vec<Curve>,
}

/// What `profile_<metric>.svg` plots.
pub(in crate::report) struct Profile {
    /// The x axis: linear, or log when the losses span more than a decade.
    pub scale: Scale,
    /// The thresholds, evenly spaced on that axis.
    pub taus: Vec<f64>,
    pub panels: Vec<Panel>,
    /// Panels left out past [`MAX_PANELS`].
    pub dropped: usize,
}

/// `n` thresholds evenly spaced over the axis (in log τ on a log axis).
fn thresholds(scale: &Scale, n: usize) -> Vec<f64> {
    let r = scale.range();
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            if scale.is_log() {
                r.start * (r.end / r.start).powf(t)
            } else {
                r.start + (r.end - r.start) * t
            }
        })
        .collect()
}

/// The profiles of `m`'s final values, per configuration; panels by the
/// settings of the axes other than `along`'s when there are more than
/// [`ONE_PANEL`] configurations. Bands from `[report] bootstrap`
/// resamples of each configuration's seeds (`report::iqm::resamples`),
/// computed only for the curves of the panels drawn. `None` when no
/// finished trial has the metric.
pub(in crate::report) fn profile_plot(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
    drawn: &Bootstrapped,
) -> Option<Profile> {
    let configs = seeds(exp, rows, m, along);
    if configs.is_empty() {
        return None;
    }
    let one_panel = configs.len() <= ONE_PANEL;
    let (taus, scale) = taus_of(&configs)?;
    let (level, reps) = (exp.report.level, exp.report.bootstrap);
    let mut panels: Vec<Panel> = Vec::new();
    for (config, others, mine, values) in &configs {
        let title = title(one_panel, others);
        let (name, selection) = if one_panel {
            let all: Selection = mine.iter().chain(others).cloned().collect();
            (combine(&label(mine), &label(others)), all)
        } else {
            (label(mine), mine.clone())
        };
        let at = panels.iter().position(|p| p.title == title);
        let at = at.unwrap_or_else(|| {
            panels.push(Panel {
                title,
                curves: Vec::new(),
            });
            panels.len() - 1
        });
        if at >= MAX_PANELS {
            // Not drawn: no band to compute.
            continue;
        }
        let band = drawn
            .profile(*config as u64, values, &taus)
            .unwrap_or_else(|| {
                let res = resamples(*config as u64, values.len(), reps);
                stats::share_below_bands(values, &taus, &res, level)
            });
        panels[at].curves.push(Curve {
            name,
            selection,
            share: stats::share_below(values, &taus),
            band,
        });
    }
    let dropped = panels.len().saturating_sub(MAX_PANELS);
    panels.truncate(MAX_PANELS);
    Some(Profile {
        scale,
        taus,
        panels,
        dropped,
    })
}

/// A configuration in plan order: its index, the other axes' settings,
/// the main axis's, and its seeds' values.
type Seeds = (usize, Selection, Selection, Vec<f64>);

/// `rows`' values of `m` per configuration, in plan order. A seed that
/// diverged or failed never gets below τ: it counts as +∞, so it stays
/// in the denominator.
fn seeds(exp: &Study, rows: &[Row], m: Metric, along: &str) -> Vec<Seeds> {
    let axis_keys = super::axis_keys(exp, along);
    let mut configs: Vec<Seeds> = Vec::new();
    // Each configuration's place in `configs`, found once per seed in O(1).
    let mut index: HashMap<usize, usize> = HashMap::new();
    for (t, r) in rows {
        let y = if r.finished().is_some() {
            match r.value(m, exp.report.target_acc) {
                Some(y) => y,
                None => continue,
            }
        } else {
            f64::INFINITY
        };
        match index.get(&t.config_index) {
            Some(&c) => configs[c].3.push(y),
            None => {
                index.insert(t.config_index, configs.len());
                let (mine, others): (Selection, Selection) = t
                    .swept
                    .iter()
                    .cloned()
                    .partition(|(k, _)| axis_keys.contains(k));
                configs.push((t.config_index, others, mine, vec![y]));
            }
        }
    }
    configs
}

/// The thresholds over every configuration's values, and their axis.
fn taus_of(configs: &[Seeds]) -> Option<(Vec<f64>, Scale)> {
    let all: Vec<f64> = configs.iter().flat_map(|c| c.3.iter().copied()).collect();
    let scale = Scale::fit(&all, true)?;
    Some((thresholds(&scale, TAUS), scale))
}

/// The panel a configuration is drawn in: by the other axes' settings,
/// or one panel for all.
fn title(one_panel: bool, others: &Selection) -> String {
    if one_panel {
        String::new()
    } else {
        label(others)
    }
}

/// The thresholds and the values of each configuration the figure draws
/// a band for (those of the first [`MAX_PANELS`] panels), for the IQM
/// pass to bootstrap (`report::draws`).
pub(super) fn wanted(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
) -> (Vec<f64>, HashMap<u64, Vec<f64>>) {
    let configs = seeds(exp, rows, m, along);
    let Some((taus, _)) = taus_of(&configs) else {
        return (Vec::new(), HashMap::new());
    };
    let one_panel = configs.len() <= ONE_PANEL;
    let mut titles: Vec<String> = Vec::new();
    let mut values = HashMap::new();
    for (config, others, _, v) in configs {
        let title = title(one_panel, &others);
        let at = titles.iter().position(|t| *t == title).unwrap_or_else(|| {
            titles.push(title);
            titles.len() - 1
        });
        if at < MAX_PANELS {
            values.insert(config as u64, v);
        }
    }
    (taus, values)
}

/// A configuration's full label: the main axis's settings, then the
/// others' (`claims::label` says "all" for no settings).
fn combine(mine: &str, others: &str) -> String {
    match (mine, others) {
        (m, "all") => m.to_string(),
        ("all", o) => o.to_string(),
        (m, o) => format!("{m} {o}"),
    }
}

/// The profile figure of `m` (its panels split along `along`).
pub(super) fn profile(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
    drawn: &Bootstrapped,
) -> Result<Option<Figure>> {
    let file = format!("profile_{m}.svg");
    let Some(p) = profile_plot(exp, rows, m, along, drawn) else {
        return Ok(None);
    };
    let svg = draw(exp, &p, m)?;
    let metric = m.name().replace('_', " ");
    let split = if p.panels.len() > 1 || !p.panels[0].title.is_empty() {
        format!(
            "one panel per setting of the other axes, one curve per {}",
            short(along)
        )
    } else {
        "one curve per configuration".to_string()
    };
    Ok(Some(Figure {
        file,
        caption: format!(
            "Performance profiles of the final {metric} (Agarwal et al. 2021, rliable's run-score distributions): for each threshold τ, the share of a configuration's seeds whose final {metric} is below τ; {split}. Bands: {} percentile bootstrap intervals ({} resamples of the seeds within each configuration). Seeds that diverged or failed count in each share and never get below τ, so a configuration with 2 of 5 seeds diverged tops out at 60%. A curve that rises early and steeply is a configuration whose every seed ends low; a plateau below 1 is seeds stuck higher or diverged{}{}.",
            percent(exp.report.level),
            exp.report.bootstrap,
            if p.scale.is_log() {
                "; τ on a log scale"
            } else {
                ""
            },
            if p.dropped > 0 {
                format!(
                    "; the first {MAX_PANELS} panels of {} are shown",
                    MAX_PANELS + p.dropped
                )
            } else {
                String::new()
            },
        ),
        svg,
    }))
}

/// Panels in a grid of up to three columns, sharing the τ axis, with one
/// legend beside them (a curve's colour is its settings', in every panel).
fn draw(exp: &Study, p: &Profile, m: Metric) -> Result<String> {
    let n = p.panels.len();
    let cols = n.min(if n == 4 { 2 } else { 3 });
    let rows = n.div_ceil(cols);
    let (w, h) = if n == 1 { (900, 560) } else { (560, 400) };
    let width = (cols * w) as u32;
    with_strip(
        (width, (rows * h + 40) as u32),
        LEGEND_WIDTH,
        |root, strip| {
            let colours = Palette::new(exp);
            let mut entries: Vec<Entry> = Vec::new();
            for c in p.panels.iter().flat_map(|q| &q.curves) {
                if !entries.iter().any(|e| e.name == c.name) {
                    entries.push(Entry::line(c.name.clone(), colours.of(&c.selection).0));
                }
            }
            legend(strip, "curves", &entries)?;
            let title = format!(
                "share of seeds whose final {} is below τ",
                m.name().replace('_', " ")
            );
            let root = titled(root, &title, 22)?;
            for (area, panel) in root.split_evenly((rows, cols)).iter().zip(&p.panels) {
                draw_panel(area, p, panel, m, &colours)?;
            }
            Ok(())
        },
    )
}

/// One panel: each curve with its band.
fn draw_panel(area: &Area, p: &Profile, panel: &Panel, m: Metric, colours: &Palette) -> Result<()> {
    let (x, y) = (p.scale.clone(), Scale::linear(0.0, 1.0));
    let mut chart = Frame::PROFILE.chart(area, Some(&panel.title), x, y)?;
    Frame::PROFILE.mesh(&mut chart, |mesh| {
        mesh.x_desc(
            p.scale
                .label(&format!("τ (final {})", m.name().replace('_', " "))),
        )
        .y_desc("share of seeds below τ")
        .max_light_lines(2);
    })?;
    for curve in &panel.curves {
        let c = colours.of(&curve.selection).0;
        let mut band: Vec<(f64, f64)> = Vec::new();
        let bounds: Vec<(f64, (f64, f64))> = p
            .taus
            .iter()
            .zip(&curve.band)
            .filter_map(|(t, b)| b.map(|b| (*t, b)))
            .collect();
        band.extend(bounds.iter().map(|(t, b)| (*t, b.1)));
        band.extend(bounds.iter().rev().map(|(t, b)| (*t, b.0)));
        plot_series(
            &mut chart,
            std::iter::once(Polygon::new(band, c.mix(0.12).filled())),
        )?;
        plot_series(
            &mut chart,
            LineSeries::new(
                p.taus.iter().copied().zip(curve.share.iter().copied()),
                c.stroke_width(2),
            ),
        )?;
    }
    Ok(())
}
