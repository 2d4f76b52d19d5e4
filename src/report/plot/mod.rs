//! SVG figures (plotters' SVG backend only: no system libraries).
//!
//! - `metric_vs_<axis>.svg`: every seed as a dot, the mean with Student-t
//!   interval bars at `[report] level`, one series per value of the other
//!   axes — the figure that shows spread shrinking. One per trend claim (or
//!   the first numeric axis).
//! - `curves*.svg`: mean train loss per configuration over epochs, with a
//!   ±1 std band; one file per value of the first axis when there are many
//!   configurations.
//! - `hist_train_loss.svg`: a histogram of final train loss per
//!   configuration on a shared x axis (the loss-distribution view).
//! - `boundaries.svg`: decision regions of the first seed of chosen
//!   configurations, for 2-D classification data, training points drawn.
//!
//! Figures are pure: records in, SVG text out.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::claims::label;
use super::{Report, percent};
use crate::data::{Dataset, Targets};
use crate::metric::Metric;
use crate::plan::{Plan, Trial};
use crate::stats;
use crate::study::{self, Expect, Setting, Study};
use crate::train::{Status, TrialRecord};

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

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

fn short(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

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

/// Render every figure the study's data allows.
pub fn render(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    report: &Report,
    data: Option<&Dataset>,
) -> Result<Vec<Figure>> {
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    let rows: Vec<(&Trial, &TrialRecord)> = plan
        .trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .filter(|(_, r)| r.status == Status::Ok && r.metrics.is_some())
        .collect();
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut figures = Vec::new();
    // Metric vs axis: one per distinct (metric, along) of the trend claims,
    // else final train loss along the first numeric axis.
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
    for (m, along) in wanted {
        if let Some(f) = metric_vs_axis(exp, &rows, m, &along)? {
            figures.push(f);
        }
    }
    figures.extend(curves(exp, plan, &rows)?);
    figures.extend(histograms(plan, &rows, report)?);
    if let Some(d) = data {
        figures.extend(boundaries(exp, plan, &rows, d)?);
    }
    Ok(figures)
}

/// What `<metric>_vs_<axis>.svg` plots, computed before any drawing so the
/// numbers can be tested: the settings of the axis and, per series, its
/// dots and the mean with its Student-t interval at each setting.
pub(super) struct AxisPlot {
    /// Distinct settings of the axis, sorted; drawn evenly spaced.
    pub settings: Vec<f64>,
    /// One series per combination of the other axes' settings, in plan order.
    pub series: Vec<AxisSeries>,
    /// Confidence level of the intervals: `[report] level`.
    pub level: f64,
}

/// (setting, mean, interval of the mean): one point of a series' mean line.
pub(super) type MeanPoint = (f64, f64, Option<(f64, f64)>);

/// One series of an [`AxisPlot`].
pub(super) struct AxisSeries {
    /// Legend label: the other axes' settings.
    pub name: String,
    /// (setting, value), one per finished seed, in plan order.
    pub dots: Vec<(f64, f64)>,
    /// (setting, mean, interval of the mean at `level`) per setting, in
    /// sorted order; the interval is `None` for a single seed.
    pub means: Vec<MeanPoint>,
}

/// The numbers behind `<metric>_vs_<axis>.svg`; `None` when no finished
/// trial has the metric and a numeric setting of the axis.
pub(super) fn axis_plot(
    exp: &Study,
    rows: &[(&Trial, &TrialRecord)],
    m: Metric,
    along: &str,
) -> Option<AxisPlot> {
    let axis_keys = exp
        .axes
        .iter()
        .find(|a| a.keys.iter().any(|k| k == along))
        .map(|a| a.keys.clone())
        .unwrap_or_default();
    let x_of = |t: &Trial| match t.swept.iter().find(|(k, _)| k == along).map(|(_, v)| v) {
        Some(Setting::Int(i)) => Some(*i as f64),
        Some(Setting::Float(f)) => Some(*f),
        _ => None,
    };
    let points: Vec<(f64, f64, String)> = rows
        .iter()
        .filter_map(|(t, r)| {
            let y = m.value(r, exp.report.target_acc)?;
            let series: Vec<(String, Setting)> = t
                .swept
                .iter()
                .filter(|(k, _)| !axis_keys.contains(k))
                .cloned()
                .collect();
            Some((x_of(t)?, y, label(&series)))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    let level = exp.report.level;
    let mut names: Vec<String> = Vec::new();
    for (_, _, s) in &points {
        if !names.contains(s) {
            names.push(s.clone());
        }
    }
    let series = names
        .into_iter()
        .map(|name| {
            let dots: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.2 == name)
                .map(|p| (p.0, p.1))
                .collect();
            let means = sorted_distinct(dots.iter().map(|p| p.0))
                .into_iter()
                .map(|x| {
                    let ys: Vec<f64> = dots.iter().filter(|p| p.0 == x).map(|p| p.1).collect();
                    (x, stats::mean(&ys), stats::t_interval(&ys, level))
                })
                .collect();
            AxisSeries { name, dots, means }
        })
        .collect();
    Some(AxisPlot {
        settings: sorted_distinct(points.iter().map(|p| p.0)),
        series,
        level,
    })
}

/// The distinct values of `xs`, sorted.
fn sorted_distinct(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

fn metric_vs_axis(
    exp: &Study,
    rows: &[(&Trial, &TrialRecord)],
    m: Metric,
    along: &str,
) -> Result<Option<Figure>> {
    let Some(AxisPlot {
        settings,
        series,
        level,
    }) = axis_plot(exp, rows, m, along)
    else {
        return Ok(None);
    };
    // The axis is categorical: settings equally spaced in sorted order,
    // labelled with their values (a sweep's widths 2, 4, ..., 256 are then
    // evenly spread, as on a log axis).
    let tx = |x: f64| settings.iter().position(|s| *s == x).unwrap_or(0) as f64;
    let (x0, x1) = (-0.5, settings.len() as f64 - 0.5);
    let (y0, y1) =
        range(series.iter().flat_map(|s| s.dots.iter().map(|p| p.1))).expect("points exist");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("final {} vs {}", m.name().replace('_', " "), short(along)),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let fmt = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                settings
                    .get(i as usize)
                    .map(|s| format!("{s}"))
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc(short(along))
            .y_desc(m.name().replace('_', " "))
            .x_labels(settings.len() * 2 + 1)
            .x_label_formatter(&fmt)
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        let width = x1 - x0;
        for (s, line) in series.iter().enumerate() {
            let c = color(s);
            // A small horizontal offset per series keeps overlapping dots apart.
            let offset = (s as f64 - (series.len() as f64 - 1.0) / 2.0) * width * 0.012;
            chart
                .draw_series(
                    line.dots
                        .iter()
                        .map(|p| Circle::new((tx(p.0) + offset, p.1), 3, c.mix(0.45).filled())),
                )
                .map_err(err)?
                .label(line.name.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
            for &(x, mean, interval) in &line.means {
                if let Some((lo, hi)) = interval {
                    chart
                        .draw_series(std::iter::once(ErrorBar::new_vertical(
                            tx(x) + offset,
                            lo,
                            mean,
                            hi,
                            c.stroke_width(2),
                            8,
                        )))
                        .map_err(err)?;
                }
            }
            chart
                .draw_series(LineSeries::new(
                    line.means.iter().map(|p| (tx(p.0) + offset, p.1)),
                    c.stroke_width(2),
                ))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(Some(Figure {
        file: format!("{m}_vs_{}.svg", short(along)),
        caption: format!(
            "Final {} against {} (settings evenly spaced): one dot per seed, the mean with its {} Student-t interval, one series per setting of the other axes.",
            m.name().replace('_', " "),
            short(along),
            percent(level)
        ),
        svg,
    }))
}

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

fn curves(exp: &Study, plan: &Plan, rows: &[(&Trial, &TrialRecord)]) -> Result<Vec<Figure>> {
    let mut out = Vec::new();
    for (group, configs) in config_groups(exp, plan) {
        // (label, [(epoch, mean, std)])
        type Line = (String, Vec<(f64, f64, f64)>);
        let mut lines: Vec<Line> = Vec::new();
        for &c in &configs {
            let members: Vec<&(&Trial, &TrialRecord)> =
                rows.iter().filter(|(t, _)| t.config_index == c).collect();
            let Some((t0, r0)) = members.first() else {
                continue;
            };
            let swept: Vec<(String, Setting)> = t0
                .swept
                .iter()
                .filter(|(k, _)| group.is_empty() || !exp.axes[0].keys.contains(k))
                .cloned()
                .collect();
            let mut line = Vec::new();
            for (i, p) in r0.curve.iter().enumerate() {
                if p.eval.is_none() {
                    continue;
                }
                let ys: Vec<f64> = members
                    .iter()
                    .filter_map(|(_, r)| r.curve.get(i).and_then(|q| q.eval).map(|e| e.train_loss))
                    .collect();
                line.push((
                    p.epoch as f64,
                    stats::mean(&ys),
                    stats::std(&ys).unwrap_or(0.0),
                ));
            }
            if !line.is_empty() {
                lines.push((label(&swept), line));
            }
        }
        if lines.is_empty() {
            continue;
        }
        let (x0, x1) = range(lines.iter().flat_map(|(_, l)| l.iter().map(|p| p.0))).expect("lines");
        let (y0, y1) = range(
            lines
                .iter()
                .flat_map(|(_, l)| l.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2])),
        )
        .expect("lines");
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, 560)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let title = if group.is_empty() {
                "train loss during training".to_string()
            } else {
                format!("train loss during training, {}", group.replace('_', " "))
            };
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(70)
                .build_cartesian_2d(x0.max(0.0)..x1, y0.max(0.0)..y1)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc("train loss (mean ± std over seeds)")
                .draw()
                .map_err(err)?;
            for (i, (name, line)) in lines.iter().enumerate() {
                let c = color(i);
                let mut band: Vec<(f64, f64)> = line.iter().map(|p| (p.0, p.1 + p.2)).collect();
                band.extend(line.iter().rev().map(|p| (p.0, (p.1 - p.2).max(0.0))));
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                    .map_err(err)?;
                chart
                    .draw_series(LineSeries::new(
                        line.iter().map(|p| (p.0, p.1)),
                        c.stroke_width(2),
                    ))
                    .map_err(err)?
                    .label(name.clone())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
            root.present().map_err(err)?;
        }
        let file = if group.is_empty() {
            "curves.svg".to_string()
        } else {
            format!("curves_{group}.svg")
        };
        out.push(Figure {
            file,
            caption: format!(
                "Train loss (full evaluation) over epochs{}: mean over seeds, band ±1 std.",
                if group.is_empty() {
                    String::new()
                } else {
                    format!(" for {}", group.replace('_', " "))
                }
            ),
            svg,
        });
    }
    Ok(out)
}

fn histograms(
    plan: &Plan,
    rows: &[(&Trial, &TrialRecord)],
    report: &Report,
) -> Result<Vec<Figure>> {
    let configs: Vec<usize> = (0..plan.n_configs)
        .filter(|c| rows.iter().any(|(t, _)| t.config_index == *c))
        .take(48)
        .collect();
    let losses = |c: usize| -> Vec<f64> {
        rows.iter()
            .filter(|(t, _)| t.config_index == c)
            .map(|(_, r)| r.metrics.expect("finished").train_loss)
            .collect()
    };
    let Some((lo, hi)) = range(
        rows.iter()
            .map(|(_, r)| r.metrics.expect("finished").train_loss),
    ) else {
        return Ok(Vec::new());
    };
    let cols = grid_columns(plan, configs.len());
    let nrows = configs.len().div_ceil(cols);
    let bins = 20;
    let w = (hi - lo) / bins as f64;
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
            let ls = losses(c);
            let mut counts = vec![0u32; bins];
            for l in &ls {
                counts[(((l - lo) / w) as usize).min(bins - 1)] += 1;
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
            if let Some(best) = report.best_train_loss {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(best, 0), (best, top + 1)],
                        RED.stroke_width(1),
                    )))
                    .map_err(err)?;
            }
        }
        root.present().map_err(err)?;
    }
    Ok(vec![Figure {
        file: "hist_train_loss.svg".into(),
        caption: "Histograms of final train loss across seeds, one panel per configuration, on a shared axis; the red line is the lowest final loss of the study. A bimodal panel means some seeds fit and some got stuck.".into(),
        svg,
    }])
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

fn boundaries(
    exp: &Study,
    plan: &Plan,
    rows: &[(&Trial, &TrialRecord)],
    data: &Dataset,
) -> Result<Vec<Figure>> {
    // The first seed's trial of each configuration that has a boundary and
    // matches `[report] boundaries`; at most 16, evenly spaced over the plan.
    let firsts: Vec<&(&Trial, &TrialRecord)> = (0..plan.n_configs)
        .filter_map(|c| {
            rows.iter()
                .find(|(t, r)| t.config_index == c && r.boundary.is_some())
        })
        .filter(|(t, _)| study::matches(&t.swept, &exp.report.boundaries))
        .collect();
    if firsts.is_empty() || data.n_features != 2 {
        return Ok(Vec::new());
    }
    let step = firsts.len().div_ceil(16);
    let chosen: Vec<&&(&Trial, &TrialRecord)> = firsts.iter().step_by(step).collect();
    let Targets::Classes(labels) = &data.train.y else {
        return Ok(Vec::new());
    };
    let cols = (chosen.len() as f64).sqrt().ceil() as usize;
    let nrows = chosen.len().div_ceil(cols);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, ((cols * 280) as u32, (nrows * 290 + 40) as u32))
                .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let root = root
            .titled(
                "decision regions (first seed), training points",
                ("sans-serif", 20),
            )
            .map_err(err)?;
        for (area, (t, r)) in root
            .split_evenly((nrows, cols))
            .iter()
            .zip(chosen.iter().map(|x| **x))
        {
            let b = r.boundary.as_ref().expect("chosen for its boundary");
            let acc = r
                .metrics
                .and_then(|m| m.train_acc)
                .map(|a| format!(" ({:.0}%)", 100.0 * a))
                .unwrap_or_default();
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{}{acc}", label(&t.swept)), ("sans-serif", 13))
                .margin(6)
                .build_cartesian_2d(b.x.0..b.x.1, b.y.0..b.y.1)
                .map_err(err)?;
            let (dx, dy) = (
                (b.x.1 - b.x.0) / b.res as f64,
                (b.y.1 - b.y.0) / b.res as f64,
            );
            // One rectangle per run of equal cells in a row keeps the SVG
            // small (a few hundred shapes a panel instead of 3,600).
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
            chart
                .draw_series(runs.into_iter().map(|(row, c0, c1, ch)| {
                    let y = b.y.0 + row as f64 * dy;
                    let (x0, x1) = (b.x.0 + c0 as f64 * dx, b.x.0 + c1 as f64 * dx);
                    Rectangle::new(
                        [(x0, y), (x1, y + dy)],
                        color(usize::from(ch - b'0')).mix(0.3).filled(),
                    )
                }))
                .map_err(err)?;
            chart
                .draw_series(data.train.x.chunks(2).zip(labels).map(|(p, &l)| {
                    Circle::new(
                        (f64::from(p[0]), f64::from(p[1])),
                        2,
                        color(l as usize).filled(),
                    )
                }))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(vec![Figure {
        file: "boundaries.svg".into(),
        caption: "Decision regions of the first seed of each configuration (evenly chosen when there are more than 16), with the training points; training accuracy in brackets.".into(),
        svg,
    }])
}
