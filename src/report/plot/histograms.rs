//! `hist_train_loss.svg`: a histogram of final train loss across seeds,
//! one panel per configuration on a shared x axis, so bimodal
//! configurations (some seeds fit, some stuck) stand out. Every stored
//! configuration has its panel: one whose seeds diverged or failed says
//! "k/n diverged" in its title (and has no bars when none finished).

use anyhow::Result;
use plotters::prelude::*;

use plotters::coord::ranged1d::Ranged;

use super::canvas::{Area, Frame, plot_series, svg, titled};
use super::scale::Scale;
use super::{Figure, Row, color};
use crate::plan::Plan;
use crate::report::Report;
use crate::report::claims::label;

/// Bins per panel.
const BINS: usize = 20;

/// The final train loss of a finished trial.
fn loss((_, r): &Row) -> Option<f64> {
    r.finished().map(|m| m.train_loss)
}

/// The one histogram figure: up to 48 configurations with stored trials
/// (every stored trial in `rows`), in plan order; none when no trial
/// finished.
pub(super) fn histograms(plan: &Plan, rows: &[Row], report: &Report) -> Result<Vec<Figure>> {
    let configs: Vec<usize> = (0..plan.n_configs)
        .filter(|c| rows.iter().any(|(t, _)| t.config_index == *c))
        .take(48)
        .collect();
    let losses: Vec<f64> = rows.iter().filter_map(loss).collect();
    let Some(scale) = Scale::fit(&losses, false) else {
        return Ok(Vec::new());
    };
    let edges = bin_edges(&scale);
    let cols = grid_columns(plan, configs.len());
    let nrows = configs.len().div_ceil(cols);
    let size = ((cols * 260) as u32, (nrows * 200 + 40) as u32);
    let svg = svg(size, |root| {
        let title = scale.label("final train loss across seeds, per configuration");
        let root = titled(root, &title, 20)?;
        for (area, &c) in root.split_evenly((nrows, cols)).iter().zip(&configs) {
            panel(area, rows, c, &scale, &edges, report.best_train_loss)?;
        }
        Ok(())
    })?;
    let log = if scale.is_log() {
        " The loss axis is on a log scale (bins of equal width in log loss)."
    } else {
        ""
    };
    Ok(vec![Figure {
        file: "hist_train_loss.svg".into(),
        caption: format!(
            "Histograms of final train loss across seeds, one panel per configuration, on a shared axis; the red line is the lowest final loss of the study. A bimodal panel means some seeds fit and some got stuck; a panel's title counts its seeds that diverged or failed (they have no final loss).{log}"
        ),
        svg,
    }])
}

/// The `BINS + 1` bin edges over the axis: equal widths on a linear axis,
/// equal ratios on a log one, so each bin looks as wide as it is drawn.
pub(in crate::report) fn bin_edges(scale: &Scale) -> Vec<f64> {
    let r = scale.range();
    (0..=BINS)
        .map(|i| {
            let t = i as f64 / BINS as f64;
            if scale.is_log() {
                r.start * (r.end / r.start).powf(t)
            } else {
                r.start + (r.end - r.start) * t
            }
        })
        .collect()
}

/// How many of `values` fall in each bin of `edges` (lower edge
/// inclusive; anything past the last edge in the last bin, anything
/// below the first in the first).
pub(in crate::report) fn bin_counts(values: &[f64], edges: &[f64]) -> Vec<u32> {
    let mut counts = vec![0u32; edges.len() - 1];
    for v in values {
        let b = edges[1..edges.len() - 1].partition_point(|e| e <= v);
        counts[b] += 1;
    }
    counts
}

/// Configuration `c`'s panel: its seeds' final train losses binned on the
/// shared axis, and a red line at the study's best loss.
fn panel(
    area: &Area,
    rows: &[Row],
    c: usize,
    scale: &Scale,
    edges: &[f64],
    best: Option<f64>,
) -> Result<()> {
    let mine: Vec<&Row> = rows.iter().filter(|(t, _)| t.config_index == c).collect();
    let values: Vec<f64> = mine.iter().filter_map(|r| loss(r)).collect();
    let broken = mine.len() - values.len();
    let counts = bin_counts(&values, edges);
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let trial = rows
        .iter()
        .find(|(t, _)| t.config_index == c)
        .map(|(t, _)| *t)
        .expect("config has trials");
    let caption = if broken > 0 {
        format!("{} ({broken}/{} diverged)", label(&trial.swept), mine.len())
    } else {
        label(&trial.swept)
    };
    let y = 0u32..top + 1;
    let mut chart = Frame::HISTOGRAM.chart(area, Some(&caption), scale.clone(), y)?;
    Frame::HISTOGRAM.mesh(&mut chart, |mesh| {
        mesh.x_labels(4).y_labels(3);
    })?;
    plot_series(
        &mut chart,
        counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(b, n)| {
                Rectangle::new(
                    [(edges[b], 0), (edges[b + 1], *n)],
                    color(0).mix(0.7).filled(),
                )
            }),
    )?;
    if let Some(best) = best {
        plot_series(
            &mut chart,
            std::iter::once(PathElement::new(
                vec![(best, 0), (best, top + 1)],
                RED.stroke_width(1),
            )),
        )?;
    }
    Ok(())
}

/// Panels per row: the last axis's length when it makes a tidy grid
/// (one row per setting of the other axes), else about square.
fn grid_columns(plan: &Plan, panels: usize) -> usize {
    let last = plan
        .trials
        .iter()
        .map(|t| t.swept.last().map(|(_, v)| v.to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if (2..=8).contains(&last) && panels.is_multiple_of(last) {
        last
    } else {
        ((panels as f64).sqrt().ceil() as usize).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a log axis over [0.01, 100] each of the 20 bins is 0.2 decades
    /// (log10 by hand): 0.099 is 4.98 bins up, 0.11 is 5.2, 50 is 18.5;
    /// values off the axis land in the end bins. On a linear axis over
    /// [0, 2] bins are 0.1 wide. Catches linear bins on a log axis (every
    /// value below 5 would fall in bin 0) and an off-by-one bin.
    #[test]
    fn log_bins_have_equal_ratios() {
        let edges = bin_edges(&Scale::log(0.01, 100.0));
        assert_eq!(edges.len(), BINS + 1);
        assert!((edges[10] - 1.0).abs() < 1e-12 && (edges[15] - 10.0).abs() < 1e-12);
        let counts = bin_counts(&[0.001, 0.01, 0.099, 0.11, 50.0, 1000.0], &edges);
        let mut want = vec![0; BINS];
        want[0] = 2;
        want[4] = 1;
        want[5] = 1;
        want[18] = 1;
        want[19] = 1;
        assert_eq!(counts, want);
        let edges = bin_edges(&Scale::linear(0.0, 2.0));
        let counts = bin_counts(&[0.25, 1.95, 0.05], &edges);
        assert_eq!((counts[0], counts[2], counts[19]), (1, 1, 1));
    }
}
