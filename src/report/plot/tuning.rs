//! `tuning_<metric>.svg`: a search's tuning curves (report/tuning.rs),
//! the unbiased expected best of n configurations with its bootstrap band,
//! one line per arm; the left panel against n, the right against the
//! training epochs n configurations cost, where arms whose configurations
//! cost differently part ways.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{self, Area, Entry, Frame};
use super::scale::Scale;
use super::{Figure, color};
use crate::report::percent;
use crate::report::tuning::{TuningCurves, TuningPoint};

/// The figure of a search's tuning curves.
pub(super) fn tuning(t: &TuningCurves) -> Result<Option<Figure>> {
    let Some(svg) = draw(t)? else {
        return Ok(None);
    };
    let metric = t.metric.name().replace('_', " ");
    let best = if t.metric.higher_is_better() {
        "highest"
    } else {
        "lowest"
    };
    Ok(Some(Figure {
        file: format!("tuning_{}.svg", t.metric),
        caption: format!(
            "Tuning curves (Dodge et al. 2019): the expected {best} seed-median {metric} among n \
             configurations drawn from those the search tried, against n (left) and against the \
             training epochs they cost (right), one line per arm. Lines: the unbiased estimator, \
             without replacement (Tang et al. 2020); the with-replacement one is in tuning.csv. \
             Bands: {} percentile intervals of a two-stage bootstrap ({} resamples of the \
             configurations, then of each one's seeds).",
            percent(t.level),
            t.reps
        ),
        svg,
    }))
}

/// Two panels side by side with one legend; `None` when no arm has a
/// finite value.
fn draw(t: &TuningCurves) -> Result<Option<String>> {
    let values: Vec<f64> = t
        .arms
        .iter()
        .flat_map(|a| &a.points)
        .flat_map(|p| {
            [
                Some(p.expected_best),
                p.band.map(|b| b.0),
                p.band.map(|b| b.1),
            ]
        })
        .flatten()
        .collect();
    let Some(y) = Scale::fit(&values, true) else {
        return Ok(None);
    };
    let ns: Vec<f64> = t
        .arms
        .iter()
        .flat_map(|a| &a.points)
        .map(|p| p.n as f64)
        .collect();
    let epochs: Vec<f64> = t
        .arms
        .iter()
        .flat_map(|a| &a.points)
        .map(|p| p.train_epochs)
        .collect();
    let (Some(xn), Some(xe)) = (x_scale(&ns), x_scale(&epochs)) else {
        return Ok(None);
    };
    let entries: Vec<Entry> = t
        .arms
        .iter()
        .enumerate()
        .map(|(i, a)| Entry::line(format!("{} (N = {})", a.name, a.points.len()), color(i)))
        .collect();
    let metric = t.metric.name().replace('_', " ");
    let title = format!("expected best seed-median {metric} of n configurations");
    let svg = canvas::with_strip((1200, 560), canvas::LEGEND_WIDTH, |root, strip| {
        canvas::legend(strip, "arms", &entries)?;
        let root = canvas::titled(root, &title, 22)?;
        let panels = root.split_evenly((1, 2));
        let by_n = |p: &TuningPoint| p.n as f64;
        let by_epochs = |p: &TuningPoint| p.train_epochs;
        panel(&panels[0], t, (&xn, "n configurations"), &y, &by_n)?;
        panel(&panels[1], t, (&xe, "training epochs"), &y, &by_epochs)
    })?;
    Ok(Some(svg))
}

/// A budget axis: log when it spans more than a decade, never below 0.
fn x_scale(values: &[f64]) -> Option<Scale> {
    Scale::fit(values, true)
}

/// One panel: each arm's band and line against `x` of its points.
fn panel(
    area: &Area,
    t: &TuningCurves,
    (xs, x_desc): (&Scale, &str),
    ys: &Scale,
    x: &dyn Fn(&TuningPoint) -> f64,
) -> Result<()> {
    let metric = t.metric.name().replace('_', " ");
    let mut chart = Frame::TUNING.chart(area, None, xs.clone(), ys.clone())?;
    Frame::TUNING.mesh(&mut chart, |m| {
        m.x_desc(xs.label(x_desc))
            .y_desc(ys.label(&format!("expected best {metric}")))
            .max_light_lines(2);
    })?;
    for (i, a) in t.arms.iter().enumerate() {
        let c = color(i);
        let bounds: Vec<(f64, (f64, f64))> = a
            .points
            .iter()
            .filter_map(|p| p.band.map(|b| (x(p), b)))
            .collect();
        let mut band: Vec<(f64, f64)> = bounds.iter().map(|(v, b)| (*v, b.1)).collect();
        band.extend(bounds.iter().rev().map(|(v, b)| (*v, b.0.max(ys.floor()))));
        canvas::plot_series(
            &mut chart,
            std::iter::once(Polygon::new(band, c.mix(0.15).filled())),
        )?;
        canvas::plot_series(
            &mut chart,
            LineSeries::new(
                a.points.iter().map(|p| (x(p), p.expected_best)),
                c.stroke_width(2),
            ),
        )?;
    }
    Ok(())
}
