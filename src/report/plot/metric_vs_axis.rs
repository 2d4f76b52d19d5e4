//! `<metric>_vs_<axis>.svg`: every seed as a dot, the mean with its
//! Student-t interval at `[report] level`, one series per setting of the
//! other axes. The numbers ([`AxisPlot`]) are computed before any drawing so
//! tests can check them.

use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::scale::{Scale, spans_decade};
use super::{Figure, Row, color, err, range, short};
use crate::metric::Metric;
use crate::plan::Trial;
use crate::report::claims::label;
use crate::report::percent;
use crate::stats;
use crate::study::{Setting, Study};

/// What `<metric>_vs_<axis>.svg` plots, computed before any drawing so the
/// numbers can be tested: the settings of the axis and, per series, its
/// dots and the mean with its Student-t interval at each setting.
pub(in crate::report) struct AxisPlot {
    /// Distinct settings of the axis, sorted; drawn evenly spaced.
    pub settings: Vec<f64>,
    /// One series per combination of the other axes' settings, in plan order.
    pub series: Vec<AxisSeries>,
    /// Confidence level of the intervals: `[report] level`.
    pub level: f64,
}

/// (setting, mean, interval of the mean): one point of a series' mean line.
pub(in crate::report) type MeanPoint = (f64, f64, Option<(f64, f64)>);

/// One series of an [`AxisPlot`].
pub(in crate::report) struct AxisSeries {
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
pub(in crate::report) fn axis_plot(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
) -> Option<AxisPlot> {
    let points = axis_points(exp, rows, m, along);
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
        .map(|name| axis_series(name, &points, level))
        .collect();
    Some(AxisPlot {
        settings: sorted_distinct(points.iter().map(|p| p.0)),
        series,
        level,
    })
}

/// (setting, value, series label) of every trial with the metric and a
/// numeric setting of `along`; the label names the other axes' settings
/// (every key of `along`'s axis is left out, so zipped keys are one axis).
fn axis_points(exp: &Study, rows: &[Row], m: Metric, along: &str) -> Vec<(f64, f64, String)> {
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
    rows.iter()
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
        .collect()
}

/// The series called `name`: its dots, and the mean and Student-t interval
/// at each of its settings.
fn axis_series(name: String, points: &[(f64, f64, String)], level: f64) -> AxisSeries {
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
}

/// The distinct values of `xs`, sorted.
fn sorted_distinct(xs: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// The figure of metric `m` along `along`; `None` when [`axis_plot`] has
/// nothing to draw.
pub(super) fn metric_vs_axis(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
) -> Result<Option<Figure>> {
    let Some(plot) = axis_plot(exp, rows, m, along) else {
        return Ok(None);
    };
    let svg = draw(&plot, m, along)?;
    let log = value_scale(&plot, m).is_log();
    Ok(Some(Figure {
        file: format!("{m}_vs_{}.svg", short(along)),
        caption: format!(
            "Final {} against {} (settings evenly spaced): one dot per seed, the mean with its {} Student-t interval, one series per setting of the other axes{}.",
            m.name().replace('_', " "),
            short(along),
            percent(plot.level),
            if log { "; loss on a log scale" } else { "" }
        ),
        svg,
    }))
}

/// The chart the series are drawn on: categorical x, linear or log y.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Scale>>;

/// The value axis of `plot`: log scale for a loss whose dots span more
/// than a decade, else linear over the dots.
pub(in crate::report) fn value_scale(plot: &AxisPlot, m: Metric) -> Scale {
    let ys: Vec<f64> = plot
        .series
        .iter()
        .flat_map(|s| s.dots.iter().map(|p| p.1))
        .collect();
    if m.is_loss() && spans_decade(ys.iter().copied()) {
        return Scale::fit(&ys, true).expect("positive values");
    }
    let (lo, hi) = range(ys.into_iter()).expect("points exist");
    Scale::linear(lo, hi)
}

/// Draw `plot` as an SVG document: axes, every series, the legend.
fn draw(plot: &AxisPlot, m: Metric, along: &str) -> Result<String> {
    let AxisPlot {
        settings, series, ..
    } = plot;
    // The axis is categorical: settings equally spaced in sorted order,
    // labelled with their values (a sweep's widths 2, 4, ..., 256 are then
    // evenly spread, as on a log axis).
    let (x0, x1) = (-0.5, settings.len() as f64 - 0.5);
    let y = value_scale(plot, m);
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
            .build_cartesian_2d(x0..x1, y.clone())
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
            .y_desc(y.label(&m.name().replace('_', " ")))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .x_labels(settings.len() * 2 + 1)
            .x_label_formatter(&fmt)
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        for (s, line) in series.iter().enumerate() {
            // A small horizontal offset per series keeps overlapping dots apart.
            let offset = (s as f64 - (series.len() as f64 - 1.0) / 2.0) * (x1 - x0) * 0.012;
            draw_series(&mut chart, settings, line, color(s), offset, y.floor())?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// One series: its dots (with a legend entry), an error bar per setting
/// with an interval, and the line through the means; shifted right by
/// `offset` so series do not cover each other; bars are cut at `floor`,
/// the bottom of the value axis (on a log axis an interval can reach 0).
fn draw_series(
    chart: &mut Chart,
    settings: &[f64],
    line: &AxisSeries,
    c: RGBColor,
    offset: f64,
    floor: f64,
) -> Result<()> {
    let tx = |x: f64| settings.iter().position(|s| *s == x).unwrap_or(0) as f64;
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
                    lo.max(floor),
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
    Ok(())
}
