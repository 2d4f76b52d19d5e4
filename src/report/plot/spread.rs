//! `spread_<metric>_vs_<axis>.svg`: how much the final loss varies across
//! seeds, against the study's main axis. The CS231n claim is about spread
//! ("large networks' minima vary little"), and on a linear loss axis every
//! wide network's spread is a flat line at zero; here the std and the IQR
//! of each configuration's seeds are drawn on a log axis (and the axis
//! itself on a log axis when it is numeric and spans more than a decade),
//! with percentile bootstrap intervals at `[report] level`: the seeds of
//! each configuration resampled within it, the same resamples as its IQM
//! columns (`report::iqm::resamples`, `stats::spread_intervals`), so
//! reports are byte-identical run to run. The numbers ([`SpreadPlot`]) are computed
//! before any drawing so tests can check them.

use anyhow::Result;
use plotters::prelude::*;
use std::collections::HashMap;

use super::canvas::{
    Area, Entry, Frame, LEGEND_WIDTH, font, legend, plot_series, svg, titled, with_strip,
};
use super::palette::Palette;
use super::scale::{Scale, spans_decade};
use super::{Figure, Row, err, short};
use crate::metric::Metric;
use crate::report::claims::label;
use crate::report::draws::Bootstrapped;
use crate::report::iqm::resamples;
use crate::report::percent;
use crate::stats;
use crate::study::{Setting, Study};

/// The settings of a swept axis, in the order a figure shows them.
pub(in crate::report) struct AxisSettings {
    /// Each setting as written (`8`, `relu`), sorted by value when every
    /// setting is a number, else in the study's order.
    pub labels: Vec<String>,
    /// The numbers, when every setting is one.
    pub values: Option<Vec<f64>>,
}

impl AxisSettings {
    /// The distinct settings of `along` among `rows`.
    fn of(rows: &[Row], along: &str) -> AxisSettings {
        let mut seen: Vec<Setting> = Vec::new();
        for (t, _) in rows {
            if let Some((_, v)) = t.swept.iter().find(|(k, _)| k == along)
                && !seen.contains(v)
            {
                seen.push(v.clone());
            }
        }
        let numbers: Option<Vec<f64>> = seen.iter().map(number).collect();
        match numbers {
            Some(mut v) => {
                v.sort_by(f64::total_cmp);
                AxisSettings {
                    labels: v.iter().map(|x| super::scale::tick(*x)).collect(),
                    values: Some(v),
                }
            }
            None => AxisSettings {
                labels: seen.iter().map(|s| s.to_string()).collect(),
                values: None,
            },
        }
    }

    /// Whether the axis is drawn on a log scale: numeric, positive, and
    /// spanning more than a decade.
    pub fn is_log(&self) -> bool {
        self.values
            .as_ref()
            .is_some_and(|v| v.iter().all(|x| *x > 0.0) && spans_decade(v.iter().copied()))
    }

    /// Where setting `i` sits on the x axis: its value on a log axis, else
    /// its position (settings evenly spaced, as in `<metric>_vs_<axis>`).
    pub fn x(&self, i: usize) -> f64 {
        match &self.values {
            Some(v) if self.is_log() => v[i],
            _ => i as f64,
        }
    }

    /// The x axis, ticks at the settings.
    fn scale(&self) -> Scale {
        let n = self.labels.len();
        let ticks: Vec<(f64, String)> = (0..n)
            .map(|i| (self.x(i), self.labels[i].clone()))
            .collect();
        let axis = if self.is_log() {
            let (lo, hi) = (self.x(0), self.x(n - 1));
            let pad = (hi / lo).powf(0.06);
            Scale::log(lo / pad, hi * pad)
        } else {
            Scale::linear(-0.5, n as f64 - 0.5)
        };
        axis.with_ticks(ticks)
    }
}

/// A setting's number, if it is one.
fn number(s: &Setting) -> Option<f64> {
    match s {
        Setting::Int(i) => Some(*i as f64),
        Setting::Float(f) => Some(*f),
        _ => None,
    }
}

/// A statistic with its bootstrap interval (`None` when undefined, as for
/// one seed).
pub(in crate::report) type Estimate = (f64, Option<(f64, f64)>);

/// One configuration's point of a [`SpreadSeries`].
#[derive(Debug, Clone, PartialEq)]
pub(in crate::report) struct SpreadPoint {
    /// Index of the setting in [`AxisSettings`].
    pub setting: usize,
    /// Finished seeds.
    pub n: usize,
    /// Sample std (ddof 1) of the final values, with its interval.
    pub std: Option<Estimate>,
    /// Interquartile range, with its interval.
    pub iqr: Option<Estimate>,
}

/// One series: the configurations sharing the other axes' settings.
pub(in crate::report) struct SpreadSeries {
    /// Legend label: the other axes' settings.
    pub name: String,
    /// Those settings (the series' study-wide colour).
    pub selection: Vec<(String, Setting)>,
    /// One point per setting that has finished seeds, in axis order.
    pub points: Vec<SpreadPoint>,
}

/// What the spread figure plots.
pub(in crate::report) struct SpreadPlot {
    /// The settings of the axis.
    pub axis: AxisSettings,
    /// One series per combination of the other axes' settings, plan order.
    pub series: Vec<SpreadSeries>,
    /// Interval level: `[report] level`.
    pub level: f64,
}

/// The numbers behind the spread figure of metric `m` along `along`:
/// per configuration, the std and IQR of its seeds' final values with
/// percentile bootstrap intervals (`[report] bootstrap` resamples of the
/// seeds within each configuration, from the configuration's own stream;
/// the std and the IQR read the same resamples). `None` when no trial has
/// the metric.
pub(in crate::report) fn spread_plot(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
    drawn: &Bootstrapped,
) -> Option<SpreadPlot> {
    let axis = AxisSettings::of(rows, along);
    let (names, cells) = cells(exp, rows, m, along, &axis);
    if cells.is_empty() {
        return None;
    }
    let (level, reps) = (exp.report.level, exp.report.bootstrap);
    let (std_iv, iqr_iv): (Vec<_>, Vec<_>) = cells
        .iter()
        .map(|c| {
            drawn.spread(c.3 as u64, &c.2).unwrap_or_else(|| {
                let res = resamples(c.3 as u64, c.2.len(), reps);
                stats::spread_intervals(&c.2, &res, level)
            })
        })
        .unzip();
    let series = names
        .into_iter()
        .enumerate()
        .map(|(s, selection)| {
            let mut points: Vec<SpreadPoint> = cells
                .iter()
                .enumerate()
                .filter(|(_, c)| c.0 == s)
                .map(|(i, c)| SpreadPoint {
                    setting: c.1,
                    n: c.2.len(),
                    std: stats::std(&c.2).map(|v| (v, std_iv[i])),
                    iqr: (c.2.len() > 1)
                        .then(|| stats::iqr(&c.2))
                        .flatten()
                        .map(|v| (v, iqr_iv[i])),
                })
                .collect();
            points.sort_by_key(|p| p.setting);
            SpreadSeries {
                name: label(&selection),
                selection,
                points,
            }
        })
        .collect();
    Some(SpreadPlot {
        axis,
        series,
        level,
    })
}

/// Each configuration's values of `m` in `rows` (finished seeds, plan
/// order): a cell's values when the cell is one configuration.
pub(super) fn wanted(exp: &Study, rows: &[Row], m: Metric) -> HashMap<u64, Vec<f64>> {
    let mut values: HashMap<u64, Vec<f64>> = HashMap::new();
    for (t, r) in rows {
        if let Some(y) = r.value(m, exp.report.target_acc) {
            values.entry(t.config_index as u64).or_default().push(y);
        }
    }
    values
}

/// One configuration's values: (series, setting, values, the first
/// trial's configuration).
type Cell = (usize, usize, Vec<f64>, usize);

/// `rows`' values of `m` grouped by configuration, in plan order, with
/// the series (the other axes' settings) they belong to.
fn cells(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
    axis: &AxisSettings,
) -> (Vec<Vec<(String, Setting)>>, Vec<Cell>) {
    let axis_keys = super::axis_keys(exp, along);
    let mut names: Vec<Vec<(String, Setting)>> = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    // A configuration's seeds share its cell: it is looked up once per
    // configuration, not once per seed (P3: 40,000 rows, 1,000 cells).
    let mut cell_of: HashMap<usize, Option<usize>> = HashMap::new();
    for (t, r) in rows {
        let Some(y) = r.value(m, exp.report.target_acc) else {
            continue;
        };
        let cell = *cell_of.entry(t.config_index).or_insert_with(|| {
            let (_, v) = t.swept.iter().find(|(k, _)| k == along)?;
            let label_of =
                |s: &Setting| number(s).map_or_else(|| s.to_string(), super::scale::tick);
            let setting = axis.labels.iter().position(|l| *l == label_of(v))?;
            let others: Vec<(String, Setting)> = t
                .swept
                .iter()
                .filter(|(k, _)| !axis_keys.contains(k))
                .cloned()
                .collect();
            let s = names.iter().position(|n| *n == others).unwrap_or_else(|| {
                names.push(others);
                names.len() - 1
            });
            Some(
                match cells.iter().position(|c| c.0 == s && c.1 == setting) {
                    Some(c) => c,
                    None => {
                        cells.push((s, setting, Vec::new(), t.config_index));
                        cells.len() - 1
                    }
                },
            )
        });
        if let Some(c) = cell {
            cells[c].2.push(y);
        }
    }
    (names, cells)
}

/// The spread figure of `m` along `along`; `None` when there is nothing
/// to draw (no metric, or no configuration with two seeds).
pub(super) fn spread(
    exp: &Study,
    rows: &[Row],
    m: Metric,
    along: &str,
    drawn: &Bootstrapped,
) -> Result<Option<Figure>> {
    let file = format!("spread_{m}_vs_{}.svg", short(along));
    let Some(plot) = spread_plot(exp, rows, m, along, drawn) else {
        return Ok(None);
    };
    let Some(y) = spread_scale(&plot) else {
        return Ok(None);
    };
    let svg = draw(&Palette::new(exp), &plot, &y, m, along)?;
    let zero = plot.series.iter().flat_map(|s| &s.points).any(|p| {
        [p.std, p.iqr]
            .iter()
            .any(|e| e.is_some_and(|(v, _)| v <= 0.0))
    });
    Ok(Some(Figure {
        file,
        caption: format!(
            "Spread of the final {} across seeds against {}: the standard deviation (left) and interquartile range (right) of each configuration's seeds, with {} percentile bootstrap intervals ({} resamples of the seeds within each configuration), one series per setting of the other axes. Spread on a log scale{}{}.",
            m.name().replace('_', " "),
            short(along),
            percent(plot.level),
            exp.report.bootstrap,
            if plot.axis.is_log() {
                format!(", {} too", short(along))
            } else {
                format!(", {} settings evenly spaced", short(along))
            },
            if zero {
                "; a spread of exactly 0 is not drawn"
            } else {
                ""
            },
        ),
        svg,
    }))
}

/// The shared log axis of both panels, over every positive estimate and
/// interval bound, with room for the legend on top; `None` when no
/// spread is positive.
fn spread_scale(plot: &SpreadPlot) -> Option<Scale> {
    let values: Vec<f64> = plot
        .series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [p.std, p.iqr])
        .flatten()
        .flat_map(|(v, iv)| [Some(v), iv.map(|i| i.0), iv.map(|i| i.1)])
        .flatten()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let lo = values.iter().copied().reduce(f64::min)?;
    let hi = values.iter().copied().reduce(f64::max)?;
    let pad = (hi / lo).powf(0.05).max(1.2);
    let (lo, hi) = (lo / pad, hi * pad);
    // Headroom for the legend in the upper right: about 20 px a series of
    // a ~420 px plot, so it covers no point.
    let share = ((plot.series.len() * 20 + 16) as f64 / 420.0).min(0.5);
    Some(Scale::log(lo, hi * (hi / lo).powf(share / (1.0 - share))))
}

/// Two panels side by side, std and IQR, on the shared `y`.
fn draw(colours: &Palette, plot: &SpreadPlot, y: &Scale, m: Metric, along: &str) -> Result<String> {
    let title = format!(
        "spread of the final {} across seeds vs {}",
        m.name().replace('_', " "),
        short(along)
    );
    let inside = plot.series.len() <= LEGEND_INSIDE;
    let panels = |root: &Area| -> Result<()> {
        let root = titled(root, &title, 22)?;
        let pick: [fn(&SpreadPoint) -> Option<Estimate>; 2] = [|p| p.std, |p| p.iqr];
        for ((area, name), get) in root
            .split_evenly((1, 2))
            .iter()
            .zip(["std", "IQR"])
            .zip(pick)
        {
            let desc = format!("{name} of {}", m.name().replace('_', " "));
            panel(area, colours, plot, y, (&desc, along, inside), get)?;
        }
        Ok(())
    };
    if inside {
        return svg((1200, 560), panels);
    }
    // More series than a legend inside a panel can hold without covering
    // the data: a strip beside the panels, as the metric-vs-axis figure has.
    with_strip((1200, 560), LEGEND_WIDTH, |left, right| {
        panels(left)?;
        let entries: Vec<Entry> = plot
            .series
            .iter()
            .map(|s| Entry::line(s.name.clone(), colours.of(&s.selection).0))
            .collect();
        legend(right, &format!("series ({})", entries.len()), &entries)
    })
}

/// Series whose legend is drawn inside the right panel; more get a strip.
const LEGEND_INSIDE: usize = 12;

/// A spread panel: the large frame, its y labels wider for log ticks,
/// no caption (the figure's title names both panels).
const SPREAD: Frame = Frame {
    y_area: 75,
    ..Frame::LARGE
};

/// One panel: per series a line through the estimates and an error bar
/// per interval; bars are cut at the axis floor, zero spreads left out.
fn panel(
    area: &Area,
    colours: &Palette,
    plot: &SpreadPlot,
    y: &Scale,
    (desc, along, legend): (&str, &str, bool),
    get: fn(&SpreadPoint) -> Option<Estimate>,
) -> Result<()> {
    let mut chart = SPREAD.chart(area, None, plot.axis.scale(), y.clone())?;
    SPREAD.mesh(&mut chart, |mesh| {
        mesh.x_desc(if plot.axis.is_log() {
            format!("{} (log scale)", short(along))
        } else {
            short(along).to_string()
        })
        .y_desc(format!("{desc} (log scale)"))
        .disable_x_mesh();
    })?;
    for (s, series) in plot.series.iter().enumerate() {
        let c = colours.of(&series.selection).0;
        // Series side by side around each setting, so bars do not cover
        // each other: 8% of the spacing between settings apart, closer
        // when more than eleven would leave their setting's slot.
        let frac = super::dodge(s, plot.series.len(), 1.0, 0.08);
        let k = plot.axis.labels.len();
        let at = |i: usize| {
            if plot.axis.is_log() && k > 1 {
                let step = (plot.axis.x(k - 1) / plot.axis.x(0)).powf(1.0 / (k - 1) as f64);
                plot.axis.x(i) * step.powf(frac)
            } else {
                plot.axis.x(i) + frac
            }
        };
        // (x, estimate, interval) of each drawable point.
        let points: Vec<(f64, Estimate)> = series
            .points
            .iter()
            .filter_map(|p| get(p).map(|e| (at(p.setting), e)))
            .filter(|p| p.1.0 > 0.0)
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.1.0)),
                c.stroke_width(2),
            ))
            .map_err(err)?
            .label(series.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        plot_series(
            &mut chart,
            points
                .iter()
                .map(|p| Circle::new((p.0, p.1.0), 4, c.filled())),
        )?;
        plot_series(
            &mut chart,
            points.iter().filter_map(|p| {
                p.1.1.map(|(lo, hi)| {
                    ErrorBar::new_vertical(p.0, lo.max(y.floor()), p.1.0, hi, c.stroke_width(1), 8)
                })
            }),
        )?;
    }
    if !legend {
        return Ok(());
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .label_font(font(14))
        .draw()
        .map_err(err)?;
    Ok(())
}
