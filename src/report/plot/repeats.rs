//! `repeats_<metric>.svg`: each repeat's winner (report/repeats.rs), its
//! seed-median score against the repeat, over the band the pooled draws
//! predict (mean ± one standard deviation of the best of n), one colour
//! per setting of the other swept axes.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{self, Entry, Frame};
use super::palette::Shape;
use super::scale::Scale;
use super::{Figure, color};
use crate::report::repeats::Repeats;

/// The figure of a study's repeated searches; `None` without a score.
pub(super) fn repeats(r: &Repeats) -> Result<Option<Figure>> {
    let Some(svg) = draw(r)? else {
        return Ok(None);
    };
    let metric = r.metric.name().replace('_', " ");
    Ok(Some(Figure {
        file: format!("repeats_{}.svg", r.metric),
        caption: format!(
            "Repeated searches: each of the {} repeats' winner (its configuration ranked first by \
             the seed-median {metric}) against the repeat, one colour per setting of the other \
             axes. Band and line: the mean ± one standard deviation of the best of a search's \
             points predicted from every repeat's draws pooled (docs/reports.md, \"Repeated \
             searches\").",
            r.repeats
        ),
        svg,
    }))
}

/// The chart with its legend; `None` when no winner has a finite score.
fn draw(r: &Repeats) -> Result<Option<String>> {
    let mut values: Vec<f64> = Vec::new();
    for sl in &r.slices {
        values.extend(sl.winners.iter().map(|w| w.score));
        if let Some(p) = &sl.predicted {
            values.extend([p.mean - p.std, p.mean + p.std]);
        }
    }
    let Some(y) = Scale::fit(&values, true) else {
        return Ok(None);
    };
    let last = r.repeats as f64 - 0.5;
    let ticks = (0..r.repeats).map(|i| (i as f64, i.to_string())).collect();
    let x = Scale::linear(-0.5, last).with_ticks(ticks);
    let name = |s: &str, what: &str| {
        if s == "all" {
            what.to_string()
        } else {
            format!("{s} {what}")
        }
    };
    let mut entries = Vec::new();
    for (i, sl) in r.slices.iter().enumerate() {
        entries.push(Entry::marker(
            name(&sl.slice, "winners"),
            color(i),
            Shape::Circle,
        ));
        if sl.predicted.is_some() {
            entries.push(Entry::line(name(&sl.slice, "predicted ± sd"), color(i)));
        }
    }
    let metric = r.metric.name().replace('_', " ");
    let title = format!("each repeat's winner: seed-median {metric}");
    let svg = canvas::with_strip(
        (canvas::PLOT_WIDTH, 520),
        canvas::LEGEND_WIDTH,
        |root, strip| {
            canvas::legend(strip, "repeats", &entries)?;
            let root = canvas::titled(root, &title, 22)?;
            let mut chart = Frame::LARGE.chart(&root, None, x.clone(), y.clone())?;
            Frame::LARGE.mesh(&mut chart, |m| {
                m.x_desc("repeat (search seed = seed + repeat)")
                    .y_desc(y.label(&format!("winner's {metric}")))
                    .max_light_lines(2);
            })?;
            let k = r.slices.len() as f64;
            for (i, sl) in r.slices.iter().enumerate() {
                let c = color(i);
                if let Some(p) = &sl.predicted {
                    let (lo, hi) = ((p.mean - p.std).max(y.floor()), p.mean + p.std);
                    let band = vec![(-0.5, hi), (last, hi), (last, lo), (-0.5, lo)];
                    canvas::plot_series(
                        &mut chart,
                        std::iter::once(Polygon::new(band, c.mix(0.12).filled())),
                    )?;
                    canvas::plot_series(
                        &mut chart,
                        LineSeries::new([(-0.5, p.mean), (last, p.mean)], c.stroke_width(2)),
                    )?;
                }
                // Slices side by side within a repeat's slot.
                let shift = (i as f64 - (k - 1.0) / 2.0) * 0.6 / k;
                canvas::plot_series(
                    &mut chart,
                    sl.winners
                        .iter()
                        .map(|w| Circle::new((w.repeat as f64 + shift, w.score), 5, c.filled())),
                )?;
            }
            Ok(())
        },
    )?;
    Ok(Some(svg))
}
