//! `curves*.svg`: mean train loss per configuration over epochs with a
//! ±1 std band over seeds; one file per setting of the first axis when the
//! study has too many configurations for one legend. A grid's curves take
//! their settings' study-wide colours (`palette`), listed in a legend
//! beside the plot; a search's (or more than 20 curves) are coloured by
//! their final loss on viridis with a colour bar, as no legend of 27
//! drawn settings can be read.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{Entry, Frame, LEGEND_WIDTH, PLOT_WIDTH, legend, plot_series, with_strip};
use super::colormap::ColourMap;
use super::palette::Palette;
use super::scale::{Scale, spans_decade};
use super::{Figure, Row, short};
use crate::plan::Plan;
use crate::report::claims::label;
use crate::stats;
use crate::study::{Setting, Study};

/// One configuration's curve: its label and (epoch, mean, std) per
/// evaluated epoch.
pub(in crate::report) type Line = (String, Vec<(f64, f64, f64)>);

/// Group configurations: one group for small studies, else one per value of the first axis.
fn config_groups(exp: &Study, plan: &Plan) -> Vec<(String, Vec<usize>)> {
    let configs: Vec<usize> = (0..plan.n_configs).collect();
    if plan.n_configs <= 12 || exp.axes.len() < 2 {
        return vec![(String::new(), configs)];
    }
    let first = &exp.axes[0];
    let per = plan.n_configs / first.len();
    (0..first.len())
        .map(|i| {
            let name = (0..first.keys.len())
                .map(|k| format!("{}={}", short(&first.keys[k]), first.setting(i, k)))
                .collect::<Vec<_>>()
                .join("_");
            (name, (i * per..(i + 1) * per).collect())
        })
        .collect()
}

/// One `curves*.svg` per configuration group that has a curve to draw.
pub(super) fn curves(exp: &Study, plan: &Plan, rows: &[Row]) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for (group, configs) in config_groups(exp, plan) {
        let lines: Vec<Line> = configs
            .iter()
            .filter_map(|&c| config_line(exp, &group, rows, c))
            .collect();
        if lines.is_empty() {
            continue;
        }
        let colouring = paint(exp, plan, &group, &configs, rows, &lines);
        let (svg, log) = draw(&group, &lines, &colouring)?;
        let file = if group.is_empty() {
            "curves.svg".to_string()
        } else {
            format!("curves_{group}.svg")
        };
        let from_zero = lines
            .iter()
            .any(|(_, l)| l.first().is_some_and(|p| p.0 == 0.0));
        out.push(Figure {
            file,
            caption: format!(
                "Train loss (full evaluation) over epochs{}: mean over seeds, band ±1 std{}{}{}.",
                if group.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", group.replace('_', " "))
                },
                if from_zero {
                    "; epoch 0 is the network before the first update"
                } else {
                    ""
                },
                if log { "; loss on a log scale" } else { "" },
                match colouring {
                    Paint::Legend(_) => "",
                    Paint::ByLoss(..) =>
                        "; each curve coloured by its final mean train loss (the colour bar; dark is lowest)",
                },
            ),
            svg,
        });
    }
    Ok(out)
}

/// How a group's curves are coloured: by their settings with a legend, or
/// by their final loss with a colour bar.
enum Paint {
    Legend(Vec<RGBColor>),
    ByLoss(Vec<RGBColor>, ColourMap),
}

impl Paint {
    fn colors(&self) -> &[RGBColor] {
        match self {
            Paint::Legend(c) | Paint::ByLoss(c, _) => c,
        }
    }
}

/// The colours of a group's `lines` (drawn for those of `configs` with a
/// line): by final mean loss for a search or past 20 curves, else each
/// configuration's settings' study-wide colour.
fn paint(
    exp: &Study,
    plan: &Plan,
    group: &str,
    configs: &[usize],
    rows: &[Row],
    lines: &[Line],
) -> Paint {
    let finals: Vec<f64> = lines
        .iter()
        .map(|(_, l)| l.last().map_or(f64::NAN, |p| p.1))
        .collect();
    if exp.axes.iter().any(|a| a.sampled) || lines.len() > 20 {
        let map = ColourMap::fit(&finals, false).expect("a line has a point");
        return Paint::ByLoss(finals.iter().map(|v| map.color(*v)).collect(), map);
    }
    let palette = Palette::new(exp);
    let colors = configs
        .iter()
        .filter(|&&c| config_line(exp, group, rows, c).is_some())
        .map(|&c| {
            let t = plan.trials.iter().find(|t| t.config_index == c);
            let sel: Vec<(String, Setting)> = t.map_or(Vec::new(), |t| {
                t.swept
                    .iter()
                    .filter(|(k, _)| group.is_empty() || !exp.axes[0].keys.contains(k))
                    .cloned()
                    .collect()
            });
            palette.of(&sel).0
        })
        .collect();
    Paint::Legend(colors)
}

/// Configuration `c`'s line: the mean and std over its seeds of the train
/// loss at epoch 0 (the untrained network, when its first seed stored it)
/// and at each epoch its first seed evaluated. Labelled by its settings,
/// less the first axis when that names the group. `None` when it has no
/// finished trial or no evaluated epoch.
pub(in crate::report) fn config_line(
    exp: &Study,
    group: &str,
    rows: &[Row],
    c: usize,
) -> Option<Line> {
    let members: Vec<&Row> = rows.iter().filter(|(t, _)| t.config_index == c).collect();
    let (t0, r0) = members.first()?;
    let swept: Vec<(String, Setting)> = t0
        .swept
        .iter()
        .filter(|(k, _)| group.is_empty() || !exp.axes[0].keys.contains(k))
        .cloned()
        .collect();
    let point = |epoch: usize, ys: Vec<f64>| {
        (
            epoch as f64,
            stats::mean(&ys),
            stats::std(&ys).unwrap_or(0.0),
        )
    };
    let mut line = Vec::new();
    if r0.initial.is_some() {
        let ys = members
            .iter()
            .filter_map(|(_, r)| r.initial)
            .map(|m| m.train_loss);
        line.push(point(0, ys.collect()));
    }
    for (i, p) in r0.curve.iter().enumerate() {
        if p.eval.is_none() {
            continue;
        }
        let ys: Vec<f64> = members
            .iter()
            .filter_map(|(_, r)| r.curve.get(i).and_then(|q| q.eval).map(|e| e.train_loss))
            .collect();
        line.push(point(p.epoch, ys));
    }
    (!line.is_empty()).then(|| (label(&swept), line))
}

/// The loss axis of a group's lines: log scale when the means and upper
/// band edges span more than a decade (lower edges that reach 0 are cut at
/// the axis floor then), else linear from 0 or the lowest band edge.
pub(super) fn loss_scale(lines: &[Line]) -> Scale {
    let upper: Vec<f64> = lines
        .iter()
        .flat_map(|(_, l)| l.iter().flat_map(|p| [p.1, p.1 + p.2]))
        .collect();
    if spans_decade(upper.iter().copied()) {
        return Scale::fit(&upper, true).expect("positive values");
    }
    let all: Vec<f64> = lines
        .iter()
        .flat_map(|(_, l)| l.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2]))
        .collect();
    Scale::fit(&all, true).unwrap_or(Scale::linear(0.0, 1.0))
}

/// Draw a group's lines, each with its ±1 std band, as an SVG document,
/// and whether the loss axis is log scale. Epochs are whole numbers on the
/// x axis; the legend or colour bar is beside the plot.
fn draw(group: &str, lines: &[Line], paint: &Paint) -> Result<(String, bool)> {
    let epochs = lines.iter().flat_map(|(_, l)| l.iter().map(|p| p.0 as i32));
    let (x0, x1) = epochs.fold((i32::MAX, i32::MIN), |(a, b), e| (a.min(e), b.max(e)));
    let x1 = x1.max(x0 + 1);
    let y = loss_scale(lines);
    let floor = y.floor();
    let svg = with_strip((PLOT_WIDTH, 560), LEGEND_WIDTH, |left, strip| {
        let title = if group.is_empty() {
            "train loss during training".to_string()
        } else {
            format!("train loss during training, {}", group.replace('_', " "))
        };
        let mut chart = Frame::LARGE.chart(left, Some(&title), x0..x1, y.clone())?;
        Frame::LARGE.mesh(&mut chart, |mesh| {
            mesh.x_desc("epoch")
                .y_desc(y.label("train loss, mean ± std over seeds"))
                .max_light_lines(4);
        })?;
        for ((_, line), &c) in lines.iter().zip(paint.colors()) {
            let at = |p: &(f64, f64, f64)| p.0 as i32;
            let mut band: Vec<(i32, f64)> = line.iter().map(|p| (at(p), p.1 + p.2)).collect();
            band.extend(
                line.iter()
                    .rev()
                    .map(|p| (at(p), (p.1 - p.2).max(floor).max(0.0))),
            );
            plot_series(
                &mut chart,
                std::iter::once(Polygon::new(band, c.mix(0.15).filled())),
            )?;
            plot_series(
                &mut chart,
                LineSeries::new(line.iter().map(|p| (at(p), p.1)), c.stroke_width(2)),
            )?;
        }
        match paint {
            Paint::Legend(colors) => {
                let entries: Vec<Entry> = lines
                    .iter()
                    .zip(colors)
                    .map(|((name, _), c)| Entry::line(name.clone(), *c))
                    .collect();
                legend(strip, "configurations", &entries)
            }
            Paint::ByLoss(_, map) => map.bar(strip, "final train loss"),
        }
    })?;
    Ok((svg, y.is_log()))
}
