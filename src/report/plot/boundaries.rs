//! `boundaries.svg`: decision regions of the first seed of chosen
//! configurations, with the training points, for 2-D classification data.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{Area, Frame, plot_series, svg, titled};
use super::{Figure, Row, color};
use crate::data::{Dataset, Targets};
use crate::plan::Plan;
use crate::report::claims::label;
use crate::study::{self, Study};
use crate::train::Boundary;

/// The boundary figure; none unless the data is 2-D with class labels and
/// some chosen trial stored a boundary.
pub(super) fn boundaries(
    exp: &Study,
    plan: &Plan,
    rows: &[Row],
    data: &Dataset,
) -> Result<Vec<Figure>> {
    let chosen = chosen(exp, plan, rows);
    if chosen.is_empty() || data.n_features != 2 {
        return Ok(Vec::new());
    }
    let Targets::Classes(labels) = &data.train.y else {
        return Ok(Vec::new());
    };
    let cols = (chosen.len() as f64).sqrt().ceil() as usize;
    let nrows = chosen.len().div_ceil(cols);
    let size = ((cols * 280) as u32, (nrows * 290 + 40) as u32);
    let svg = svg(size, |root| {
        let root = titled(root, "decision regions (first seed), training points", 20)?;
        for (area, row) in root.split_evenly((nrows, cols)).iter().zip(chosen) {
            panel(area, row, data, labels)?;
        }
        Ok(())
    })?;
    Ok(vec![Figure {
        file: "boundaries.svg".into(),
        caption: "Decision regions of the first seed of each configuration (evenly chosen when there are more than 16), with the training points; training accuracy in brackets.".into(),
        svg,
    }])
}

/// The first seed's trial of each configuration that has a boundary and
/// matches `[report] boundaries`; at most 16, evenly spaced over the plan,
/// so the grid stays readable.
fn chosen<'a>(exp: &Study, plan: &Plan, rows: &'a [Row<'a>]) -> Vec<&'a Row<'a>> {
    let firsts: Vec<&Row> = (0..plan.n_configs)
        .filter_map(|c| {
            rows.iter()
                .find(|(t, r)| t.config_index == c && r.boundary.is_some())
        })
        .filter(|(t, _)| study::matches(&t.swept, &exp.report.boundaries))
        .collect();
    if firsts.is_empty() {
        return firsts;
    }
    let step = firsts.len().div_ceil(16);
    firsts.into_iter().step_by(step).collect()
}

/// One trial's panel: its decision regions, then the training points
/// coloured by class; its training accuracy in the caption.
fn panel(area: &Area, (t, r): &Row, data: &Dataset, labels: &[u32]) -> Result<()> {
    let b = r.boundary.as_ref().expect("chosen for its boundary");
    let acc = r
        .metrics
        .and_then(|m| m.train_acc)
        .map(|a| format!(" ({:.0}%)", 100.0 * a))
        .unwrap_or_default();
    let caption = format!("{}{acc}", label(&t.swept));
    let (x, y) = (b.x.0..b.x.1, b.y.0..b.y.1);
    let mut chart = Frame::BOUNDARY.chart(area, Some(&caption), x, y)?;
    let (dx, dy) = (
        (b.x.1 - b.x.0) / b.res as f64,
        (b.y.1 - b.y.0) / b.res as f64,
    );
    plot_series(
        &mut chart,
        runs(b).into_iter().map(|(row, c0, c1, ch)| {
            let y = b.y.0 + row as f64 * dy;
            let (x0, x1) = (b.x.0 + c0 as f64 * dx, b.x.0 + c1 as f64 * dx);
            Rectangle::new(
                [(x0, y), (x1, y + dy)],
                color(usize::from(ch - b'0')).mix(0.3).filled(),
            )
        }),
    )?;
    plot_series(
        &mut chart,
        data.train.x.chunks(2).zip(labels).map(|(p, &l)| {
            Circle::new(
                (f64::from(p[0]), f64::from(p[1])),
                2,
                color(l as usize).filled(),
            )
        }),
    )
}

/// (row, first column, end column, class) of each run of equal cells in a
/// row of the grid: one rectangle per run keeps the SVG small (a few
/// hundred shapes a panel instead of 3,600).
fn runs(b: &Boundary) -> Vec<(usize, usize, usize, u8)> {
    let cells = b.classes.as_bytes();
    let mut runs = Vec::new();
    for row in 0..b.res {
        let line = &cells[row * b.res..(row + 1) * b.res];
        let mut start = 0;
        for col in 1..=b.res {
            if col == b.res || line[col] != line[start] {
                runs.push((row, start, col, line[start]));
                start = col;
            }
        }
    }
    runs
}
