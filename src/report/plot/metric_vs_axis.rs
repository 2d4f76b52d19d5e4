//! `<metric>_vs_<axis>.svg`: every seed as a dot, the mean with its
//! Student-t interval at `[report] level`, one series per setting of the
//! other axes. Every setting of the axis has its place (numbers sorted,
//! then `"full"` and names; `positions.rs`), so a configuration whose
//! every seed diverged is still on the axis: seeds that diverged or failed
//! are a triangle at the top edge with "k/n div" beside it, and finished
//! seeds flagged collapsed or unstable (`trials.csv`) are hollow. The
//! numbers ([`AxisPlot`]) are computed before any drawing so tests can
//! check them.

use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::HashMap;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{
    self, Entry, Frame, LEGEND_WIDTH, PLOT_WIDTH, font, legend, plot_series, with_strip,
};
use super::palette::{self, Palette, Shape, glyphs};
use super::positions::Positions;
use super::scale::{Scale, spans_decade};
use super::{Drawn, Figure, NotDrawn, Row, range, short};
use crate::metric::Metric;
use crate::report::claims::label;
use crate::report::percent;
use crate::stats;
use crate::study::{Setting, Study};

/// What `<metric>_vs_<axis>.svg` plots, computed before any drawing so the
/// numbers can be tested.
pub(in crate::report) struct AxisPlot {
    /// Every setting of the axis, in figure order, evenly spaced.
    pub positions: Positions,
    /// One series per combination of the other axes' settings, in plan order.
    pub series: Vec<AxisSeries>,
    /// Confidence level of the intervals: `[report] level`.
    pub level: f64,
}

/// (position, mean, interval of the mean): one point of a series' mean line.
pub(in crate::report) type MeanPoint = (usize, f64, Option<(f64, f64)>);

/// One finished seed: its position, value, and whether it is flagged
/// collapsed or unstable (drawn hollow).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::report) struct Dot {
    pub at: usize,
    pub value: f64,
    pub flagged: bool,
}

/// One series of an [`AxisPlot`].
pub(in crate::report) struct AxisSeries {
    /// Legend label: the other axes' settings.
    pub name: String,
    /// The other axes' settings (the study-wide colour is read from them).
    pub selection: Vec<(String, Setting)>,
    /// One per finished seed with the metric, in plan order.
    pub dots: Vec<Dot>,
    /// (position, mean, interval at `level`) per position with a dot, in
    /// order; the interval is `None` for a single seed.
    pub means: Vec<MeanPoint>,
    /// (position, seeds diverged or failed, seeds stored) per position
    /// where some seed did not finish.
    pub broken: Vec<(usize, usize, usize)>,
}

/// The numbers behind `<metric>_vs_<axis>.svg`, from every stored trial
/// (`rows`, plan order) and `flagged`, the collapsed-or-unstable flag of
/// each (empty when the report has no such columns). `None` with the
/// reason when there is nothing to draw.
pub(in crate::report) fn axis_plot(
    exp: &Study,
    rows: &[Row],
    flagged: &[bool],
    m: Metric,
    along: &str,
) -> std::result::Result<AxisPlot, String> {
    let positions = Positions::of(exp, along).ok_or(format!("{along} is not swept"))?;
    let axis_keys = super::axis_keys(exp, along);
    let mut series: Vec<AxisSeries> = Vec::new();
    // A configuration's seeds share a series and a position: looked up once
    // per configuration, not once per seed.
    let mut place_of: HashMap<usize, Option<(usize, usize)>> = HashMap::new();
    for (i, (t, r)) in rows.iter().enumerate() {
        let place = *place_of
            .entry(t.config_index)
            .or_insert_with(|| place(t, along, &positions, &axis_keys, &mut series));
        let Some((s, at)) = place else {
            continue;
        };
        let s = &mut series[s];
        let ok = r.finished().is_some();
        match s.broken.iter_mut().find(|b| b.0 == at) {
            Some(b) => {
                b.1 += usize::from(!ok);
                b.2 += 1;
            }
            None => s.broken.push((at, usize::from(!ok), 1)),
        }
        if let Some(value) = r.value(m, exp.report.target_acc).filter(|_| ok) {
            let flagged = flagged.get(i).copied().unwrap_or(false);
            s.dots.push(Dot { at, value, flagged });
        }
    }
    if !series.iter().any(|s| !s.dots.is_empty()) {
        return Err(format!("no finished trial has {}", m.name()));
    }
    let level = exp.report.level;
    for s in &mut series {
        s.broken.retain(|b| b.1 > 0);
        s.broken.sort();
        s.means = (0..positions.len())
            .filter_map(|at| {
                let ys: Vec<f64> = s
                    .dots
                    .iter()
                    .filter(|d| d.at == at)
                    .map(|d| d.value)
                    .collect();
                (!ys.is_empty()).then(|| (at, stats::mean(&ys), stats::t_interval(&ys, level)))
            })
            .collect();
    }
    Ok(AxisPlot {
        positions,
        series,
        level,
    })
}

/// Trial `t`'s series (added to `series` when new) and position along
/// `along`; `None` when its setting of `along` has no position.
fn place(
    t: &crate::plan::Trial,
    along: &str,
    positions: &Positions,
    axis_keys: &[String],
    series: &mut Vec<AxisSeries>,
) -> Option<(usize, usize)> {
    let at = t
        .swept
        .iter()
        .find(|(k, _)| k == along)
        .and_then(|(_, v)| positions.index(v))?;
    let selection: Vec<(String, Setting)> = t
        .swept
        .iter()
        .filter(|(k, _)| !axis_keys.contains(k))
        .cloned()
        .collect();
    let s = match series.iter().position(|s| s.selection == selection) {
        Some(s) => s,
        None => {
            series.push(AxisSeries {
                name: label(&selection),
                selection,
                dots: Vec::new(),
                means: Vec::new(),
                broken: Vec::new(),
            });
            series.len() - 1
        }
    };
    Some((s, at))
}

/// The figure of metric `m` along `along`, or why it is not drawn.
pub(super) fn metric_vs_axis(
    exp: &Study,
    rows: &[Row],
    flagged: &[bool],
    m: Metric,
    along: &str,
) -> Result<Drawn> {
    let file = format!("{m}_vs_{}.svg", short(along));
    if super::sampled(exp, along) {
        return Ok(Err(NotDrawn {
            file,
            reason: format!(
                "{} is a searched key: each configuration is one point of search_<metric>_vs_keys.svg instead",
                short(along)
            ),
        }));
    }
    let plot = match axis_plot(exp, rows, flagged, m, along) {
        Ok(p) => p,
        Err(reason) => return Ok(Err(NotDrawn { file, reason })),
    };
    let y = value_scale(&plot, m);
    let svg = draw(exp, &plot, &y, m, along)?;
    let broken = plot.series.iter().any(|s| !s.broken.is_empty());
    let hollow = plot.series.iter().any(|s| s.dots.iter().any(|d| d.flagged));
    Ok(Ok(Figure {
        file,
        caption: format!(
            "Final {} against {} (every setting, evenly spaced): one dot per finished seed, the mean with its {} Student-t interval, one series per setting of the other axes (one colour per setting for the whole report){}{}{}.",
            m.name().replace('_', " "),
            short(along),
            percent(plot.level),
            if broken {
                "; a triangle at the top edge marks seeds that diverged or failed, with \"k/n div\" (k of the n seeds run)"
            } else {
                ""
            },
            if hollow {
                "; hollow dots are seeds flagged collapsed or unstable"
            } else {
                ""
            },
            if y.is_log() {
                "; the metric on a log scale"
            } else {
                ""
            }
        ),
        svg,
    }))
}

/// The chart the series are drawn on: categorical x, linear or log y.
type Chart<'a, 'b> = canvas::Chart<'a, 'b, RangedCoordf64, Scale>;

/// The value axis of `plot`: log scale for a loss whose dots span more
/// than a decade, else linear over the dots; with room at the top for the
/// markers of seeds that did not finish.
pub(in crate::report) fn value_scale(plot: &AxisPlot, m: Metric) -> Scale {
    let ys: Vec<f64> = plot
        .series
        .iter()
        .flat_map(|s| s.dots.iter().map(|d| d.value))
        .collect();
    let scale = if m.is_loss() && spans_decade(ys.iter().copied()) {
        Scale::fit(&ys, true).expect("positive values")
    } else {
        let (lo, hi) = range(ys.into_iter()).expect("points exist");
        Scale::linear(lo, hi)
    };
    scale.headroom(headroom(plot))
}

/// Draw `plot` as an SVG document: axes, every series, the legend beside.
fn draw(exp: &Study, plot: &AxisPlot, y: &Scale, m: Metric, along: &str) -> Result<String> {
    let n = plot.positions.len();
    let (x0, x1) = (-0.5, n as f64 - 0.5);
    let colours = palette::Palette::new(exp);
    with_strip((PLOT_WIDTH, 560), LEGEND_WIDTH, |left, right| {
        let title = format!("final {} vs {}", m.name().replace('_', " "), short(along));
        let mut chart = Frame::LARGE.chart(left, Some(&title), x0..x1, y.clone())?;
        let labels = &plot.positions.labels;
        let fmt = |v: &f64| {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        Frame::LARGE.mesh(&mut chart, |mesh| {
            mesh.x_desc(short(along))
                .y_desc(y.label(&m.name().replace('_', " ")))
                .x_labels(n * 2 + 1)
                .x_label_formatter(&fmt)
                .disable_x_mesh();
        })?;
        let mut entries = Vec::new();
        for (s, line) in plot.series.iter().enumerate() {
            // A small horizontal offset per series keeps overlapping dots
            // apart, all within ±0.4 of their setting however many series.
            let offset = super::dodge(s, plot.series.len(), x1 - x0, 0.012);
            let (c, shape) = colours.of(&line.selection);
            draw_series(&mut chart, plot, line, (c, shape), offset, y)?;
            entries.push(Entry::marker(line.name.clone(), c, shape));
        }
        draw_broken_labels(&mut chart, plot, &colours, y)?;
        let title = format!("series ({})", plot.series.len());
        legend(right, &title, &entries)
    })
}

/// One series: its dots, an error bar per setting with an interval, the
/// line through the means of neighbouring numeric settings, and a
/// triangle at the top edge where seeds did not finish; shifted right by
/// `offset` so series do not cover each other. Interval bars stop below
/// the band the triangles and their labels sit in.
fn draw_series(
    chart: &mut Chart,
    plot: &AxisPlot,
    line: &AxisSeries,
    (c, shape): (RGBColor, Shape),
    offset: f64,
    y: &Scale,
) -> Result<()> {
    let x = |at: usize| at as f64 + offset;
    for filled in [true, false] {
        let dots = line.dots.iter().filter(|d| d.flagged != filled);
        glyphs(
            chart.plotting_area(),
            shape,
            dots.map(|d| (x(d.at), d.value)),
            3,
            c.mix(0.6),
            filled,
        )?;
    }
    for &(at, mean, interval) in &line.means {
        if let Some((lo, hi)) = interval {
            plot_series(
                chart,
                std::iter::once(ErrorBar::new_vertical(
                    x(at),
                    lo.max(y.floor()),
                    mean,
                    hi.min(data_top(y, plot)),
                    c.filled().stroke_width(2),
                    8,
                )),
            )?;
        }
    }
    // Lines join means at neighbouring numeric settings only: a gap (no
    // finished seed) or a named setting breaks the line.
    for pair in line.means.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b.0 == a.0 + 1 && plot.positions.is_number(a.0) && plot.positions.is_number(b.0) {
            plot_series(
                chart,
                LineSeries::new([(x(a.0), a.1), (x(b.0), b.1)], c.stroke_width(2)),
            )?;
        }
    }
    // The triangles of seeds that did not finish, at the top edge.
    plot_series(
        chart,
        line.broken.iter().map(|&(at, _, _)| {
            EmptyElement::at((x(at), y.top()))
                + Polygon::new(vec![(0, 2), (-6, 12), (6, 12)], c.filled())
        }),
    )
}

/// The top of the dots' range: the axis top less the headroom the
/// markers of unfinished seeds take.
fn data_top(y: &Scale, plot: &AxisPlot) -> f64 {
    let share = headroom(plot);
    let r = plotters::coord::ranged1d::Ranged::range(y);
    if y.is_log() {
        // top = hi · (hi/lo)^share  ⇒  hi = (top · lo^share)^(1/(1+share))
        (r.end * r.start.powf(share)).powf(1.0 / (1.0 + share))
    } else {
        (r.end + share * r.start) / (1.0 + share)
    }
}

/// The share of the axis added above the dots for the triangles and one
/// label line per series with unfinished seeds at a position (none when
/// every seed finished).
fn headroom(plot: &AxisPlot) -> f64 {
    let rows = (0..plot.positions.len())
        .map(|at| {
            let broken = |s: &&AxisSeries| s.broken.iter().any(|b| b.0 == at);
            plot.series.iter().filter(broken).count()
        })
        .max()
        .unwrap_or(0);
    if rows == 0 {
        0.0
    } else {
        (16.0 + 13.0 * rows as f64) / 420.0
    }
}

/// "k/n div" under the triangles of each position, one line per series
/// with unfinished seeds there, in the series' colour.
fn draw_broken_labels(
    chart: &mut Chart,
    plot: &AxisPlot,
    colours: &Palette,
    y: &Scale,
) -> Result<()> {
    for at in 0..plot.positions.len() {
        let mut row = 0;
        for line in &plot.series {
            let Some(&(_, k, n)) = line.broken.iter().find(|b| b.0 == at) else {
                continue;
            };
            let c = colours.of(&line.selection).0;
            let font = font(12)
                .into_font()
                .color(&c)
                .pos(Pos::new(HPos::Center, VPos::Top));
            let text = Text::new(format!("{k}/{n} div"), (0, 15 + 13 * row), font);
            plot_series(
                chart,
                std::iter::once(EmptyElement::at((at as f64, y.top())) + text),
            )?;
            row += 1;
        }
    }
    Ok(())
}
