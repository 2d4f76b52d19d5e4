//! `hist_train_loss.svg`: a histogram of final train loss across seeds,
//! one panel per configuration on a shared x axis, so bimodal
//! configurations (some seeds fit, some stuck) stand out.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{Figure, Row, color, err, range};
use crate::plan::Plan;
use crate::report::Report;
use crate::report::claims::label;

/// Bins per panel.
const BINS: usize = 20;

/// The one histogram figure: up to 48 configurations with finished trials,
/// in plan order; none when no trial finished.
pub(super) fn histograms(plan: &Plan, rows: &[Row], report: &Report) -> Result<Vec<Figure>> {
    let configs: Vec<usize> = (0..plan.n_configs)
        .filter(|c| rows.iter().any(|(t, _)| t.config_index == *c))
        .take(48)
        .collect();
    let Some((lo, hi)) = range(
        rows.iter()
            .map(|(_, r)| r.metrics.expect("finished").train_loss),
    ) else {
        return Ok(Vec::new());
    };
    let cols = grid_columns(plan, configs.len());
    let nrows = configs.len().div_ceil(cols);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, ((cols * 260) as u32, (nrows * 200 + 40) as u32))
                .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                "final train loss across seeds, per configuration",
                ("sans-serif", 20),
            )
            .map_err(err)?;
        for (area, &c) in root.split_evenly((nrows, cols)).iter().zip(&configs) {
            panel(area, rows, c, (lo, hi), report.best_train_loss)?;
        }
        root.present().map_err(err)?;
    }
    Ok(vec![Figure {
        file: "hist_train_loss.svg".into(),
        caption: "Histograms of final train loss across seeds, one panel per configuration, on a shared axis; the red line is the lowest final loss of the study. A bimodal panel means some seeds fit and some got stuck.".into(),
        svg,
    }])
}

/// Configuration `c`'s panel: its seeds' final train losses binned on the
/// shared `[lo, hi]`, and a red line at the study's best loss.
fn panel(
    area: &DrawingArea<SVGBackend, Shift>,
    rows: &[Row],
    c: usize,
    (lo, hi): (f64, f64),
    best: Option<f64>,
) -> Result<()> {
    let w = (hi - lo) / BINS as f64;
    let mut counts = [0u32; BINS];
    for (_, r) in rows.iter().filter(|(t, _)| t.config_index == c) {
        let l = r.metrics.expect("finished").train_loss;
        counts[(((l - lo) / w) as usize).min(BINS - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let trial = rows
        .iter()
        .find(|(t, _)| t.config_index == c)
        .map(|(t, _)| *t)
        .expect("config has trials");
    let mut chart = ChartBuilder::on(area)
        .caption(label(&trial.swept), ("sans-serif", 13))
        .margin(6)
        .x_label_area_size(22)
        .y_label_area_size(28)
        .build_cartesian_2d(lo..hi, 0u32..top + 1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(4)
        .y_labels(3)
        .label_style(("sans-serif", 10))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(
            counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(b, n)| {
                    let x = lo + b as f64 * w;
                    Rectangle::new([(x, 0), (x + w, *n)], color(0).mix(0.7).filled())
                }),
        )
        .map_err(err)?;
    if let Some(best) = best {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(best, 0), (best, top + 1)],
                RED.stroke_width(1),
            )))
            .map_err(err)?;
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
