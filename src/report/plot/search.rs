//! The two figures of a random or Sobol search, drawn from the
//! [`SearchSummary`]:
//!
//! - `search_<metric>_vs_keys.svg`: one panel per searched key, one dot
//!   per configuration at its seed median with a bar over the seed IQR,
//!   the key on a log axis when it is drawn log-uniformly, over its whole
//!   `[space]` range (so a cluster at an end shows); the best in red.
//! - `search_parallel.svg`: parallel coordinates, one line per
//!   configuration across the searched keys, each axis spanning its
//!   `[space]` range (log for log keys, choices evenly spaced), coloured
//!   by the statistic (viridis) with a colour bar; the best drawn last.

use anyhow::Result;
use plotters::prelude::*;

use super::Figure;
use super::canvas::{Area, Frame, font, plot_series, svg, with_strip};
use super::colormap::ColourMap;
use super::scale::Scale;
use crate::report::search::{SearchKey, SearchSummary, numeric};
use crate::study::{Dist, Setting};

/// The best configuration's colour; the others are the palette's first.
const BEST: RGBColor = RGBColor(214, 39, 40);

/// The x axis of `key`'s panel: its `[space]` range padded by 3% (of the
/// decades for a log key), or its choices evenly spaced and labelled.
fn key_scale(key: &SearchKey) -> Scale {
    match (&key.dist, key.bounds()) {
        (Dist::Choice(values), _) => Scale::linear(-0.5, values.len() as f64 - 0.5).with_ticks(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, Setting::from_value(v).to_string()))
                .collect(),
        ),
        (_, Some((a, b))) if key.is_log() => {
            let pad = (b / a).powf(0.03);
            Scale::log(a / pad, b * pad)
        }
        (_, Some((a, b))) => {
            let pad = 0.03 * (b - a);
            Scale::linear(a - pad, b + pad)
        }
        _ => unreachable!("a numeric distribution has bounds"),
    }
}

/// Where a configuration sits on `key`'s panel axis.
fn key_x(key: &SearchKey, s: Option<&Setting>) -> f64 {
    match &key.dist {
        Dist::Choice(values) => values
            .iter()
            .position(|v| Some(&Setting::from_value(v)) == s)
            .unwrap_or(0) as f64,
        _ => numeric(s),
    }
}

/// Where a configuration sits on `key`'s parallel axis, from 0 (the low
/// end of the range, or the first choice) to 1.
fn key_unit(key: &SearchKey, s: Option<&Setting>) -> f64 {
    match &key.dist {
        Dist::Choice(values) if values.len() > 1 => key_x(key, s) / (values.len() - 1) as f64,
        Dist::Choice(_) => 0.5,
        _ => key.position(numeric(s)).unwrap_or(0.5),
    }
}

/// The scatter figure.
pub(super) fn scatter(s: &SearchSummary) -> Result<Figure> {
    let metric = s.metric.name().replace('_', " ");
    let n = s.keys.len();
    let cols = n.min(3);
    let rows = n.div_ceil(cols);
    let ys: Vec<f64> = s
        .configs
        .iter()
        .flat_map(|c| [c.median, c.quartiles.0, c.quartiles.1])
        .collect();
    let y = Scale::fit(&ys, s.metric.is_loss()).expect("finite medians");
    let svg = svg((cols as u32 * 420, rows as u32 * 340), |root| {
        for (panel, key) in root.split_evenly((rows, cols)).iter().zip(&s.keys) {
            key_panel(panel, s, key, &y, &metric)?;
        }
        Ok(())
    })?;
    let logs: Vec<&str> = s
        .keys
        .iter()
        .filter(|k| k.is_log())
        .map(|k| k.name())
        .collect();
    Ok(Figure {
        file: format!("search_{}_vs_keys.svg", s.metric.name()),
        caption: format!(
            "Median final {metric} over seeds against each searched key: one dot per configuration \
             ({}), bars from the first to the third quartile of its seeds; each key over its whole \
             [space] range{}; the best configuration in red{}.",
            s.configs.len(),
            if logs.is_empty() {
                String::new()
            } else {
                format!(", on a log scale for {}", logs.join(", "))
            },
            if y.is_log() {
                "; the metric on a log scale"
            } else {
                ""
            }
        ),
        svg,
    })
}

/// `key`'s panel of the scatter figure: each configuration's seed median
/// with its quartiles' bar, the best last (on top, in red).
fn key_panel(
    area: &Area,
    s: &SearchSummary,
    key: &SearchKey,
    y: &Scale,
    metric: &str,
) -> Result<()> {
    let x = key_scale(key);
    let mut chart = Frame::SEARCH.chart(area, Some(key.name()), x.clone(), y.clone())?;
    Frame::SEARCH.mesh(&mut chart, |mesh| {
        mesh.x_desc(x.label(key.name()))
            .y_desc(y.label(&format!("median {metric}")));
    })?;
    let best = s.order[0];
    let order = (0..s.configs.len())
        .filter(|i| *i != best)
        .chain(std::iter::once(best));
    for i in order {
        let c = &s.configs[i];
        let color = if i == best { BEST } else { super::color(0) };
        let px = key_x(key, c.setting(&key.key));
        plot_series(
            &mut chart,
            std::iter::once(ErrorBar::new_vertical(
                px,
                c.quartiles.0.max(y.floor()),
                c.median,
                c.quartiles.1,
                color.mix(0.6).stroke_width(1),
                6,
            )),
        )?;
        plot_series(
            &mut chart,
            std::iter::once(Circle::new((px, c.median), 4, color.filled())),
        )?;
    }
    Ok(())
}

/// The parallel-coordinates figure.
pub(super) fn parallel(s: &SearchSummary) -> Result<Figure> {
    let metric = s.metric.name().replace('_', " ");
    let n = s.keys.len();
    let medians: Vec<f64> = s.configs.iter().map(|c| c.median).collect();
    let map = ColourMap::fit(&medians, s.metric.higher_is_better()).expect("finite medians");
    let width = (n as u32 * 170).max(500);
    let svg = with_strip((width, 520), 110, |left, right| {
        let x = Scale::linear(-0.3, n as f64 - 0.7).with_ticks(key_ticks(s));
        let title = format!("searched configurations, coloured by median {metric}");
        let mut chart = Frame::PARALLEL.chart(left, Some(&title), x, -0.08f64..1.08f64)?;
        Frame::PARALLEL.mesh(&mut chart, |mesh| {
            mesh.disable_y_mesh().disable_x_mesh().disable_y_axis();
        })?;
        let label = font(12).into_font().color(&BLACK);
        for (i, k) in s.keys.iter().enumerate() {
            let xi = i as f64;
            plot_series(
                &mut chart,
                std::iter::once(PathElement::new(
                    vec![(xi, 0.0), (xi, 1.0)],
                    BLACK.stroke_width(1),
                )),
            )?;
            let (bottom, top) = axis_ends(k);
            plot_series(
                &mut chart,
                [
                    Text::new(bottom, (xi + 0.03, -0.05), label.clone()),
                    Text::new(top, (xi + 0.03, 1.06), label.clone()),
                ],
            )?;
        }
        // Worst first, so the best lines lie on top.
        for &i in s.order.iter().rev() {
            let c = &s.configs[i];
            let points: Vec<(f64, f64)> = s
                .keys
                .iter()
                .enumerate()
                .map(|(j, k)| (j as f64, key_unit(k, c.setting(&k.key))))
                .collect();
            plot_series(
                &mut chart,
                LineSeries::new(points, map.color(c.median).mix(0.85).stroke_width(2)),
            )?;
        }
        map.bar(right, &format!("median {metric}"))
    })?;
    Ok(Figure {
        file: "search_parallel.svg".into(),
        caption: parallel_caption(s, &metric, map.scale.is_log()),
        svg,
    })
}

/// The parallel-coordinates axes' labels: each key's name, `(log)` if
/// drawn log-uniformly.
fn key_ticks(s: &SearchSummary) -> Vec<(f64, String)> {
    s.keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let log = if k.is_log() { " (log)" } else { "" };
            (i as f64, format!("{}{log}", k.name()))
        })
        .collect()
}

/// The labels at a key axis' bottom and top: its first and last choice,
/// or its range's bounds.
fn axis_ends(k: &SearchKey) -> (String, String) {
    match (&k.dist, k.bounds()) {
        (Dist::Choice(v), _) => (
            Setting::from_value(&v[0]).to_string(),
            Setting::from_value(&v[v.len() - 1]).to_string(),
        ),
        (_, Some((a, b))) => (crate::study::short_float(a), crate::study::short_float(b)),
        _ => unreachable!("a numeric distribution has bounds"),
    }
}

/// The parallel-coordinates caption; `log`: the colour bar is log-scaled.
fn parallel_caption(s: &SearchSummary, metric: &str, log: bool) -> String {
    format!(
        "Parallel coordinates: one line per configuration ({}) through its value of each searched \
         key, each axis spanning the key's [space] range (bottom to top; log scale for keys drawn \
         log-uniformly, choices evenly spaced), coloured by the median final {metric} over its \
         seeds (the colour bar{}; dark is best), the best drawn on top.",
        s.configs.len(),
        if log { ", log scale" } else { "" }
    )
}

#[cfg(test)]
mod figure_tests {
    use super::*;
    use crate::report::search::synthetic;
    use toml::Value;

    /// 7 configurations over 3 keys (a log key, a linear key, a choice).
    fn summary() -> SearchSummary {
        let keys = vec![
            SearchKey {
                key: "train.lr".into(),
                dist: Dist::LogUniform(1e-3, 1.0),
            },
            SearchKey {
                key: "model.dropout".into(),
                dist: Dist::Uniform(0.0, 0.5),
            },
            SearchKey {
                key: "model.activation".into(),
                dist: Dist::Choice(vec![
                    Value::String("relu".into()),
                    Value::String("tanh".into()),
                ]),
            },
        ];
        let configs = (0..7)
            .map(|i| {
                (
                    vec![
                        ("train.lr".to_string(), Setting::Float(1e-3 * 2f64.powi(i))),
                        ("model.dropout".to_string(), Setting::Float(0.05 * i as f64)),
                        (
                            "model.activation".to_string(),
                            Setting::Str(["relu", "tanh"][i as usize % 2].into()),
                        ),
                    ],
                    vec![1.0 + 0.1 * i as f64, 1.05 + 0.1 * i as f64, 1.2],
                )
            })
            .collect();
        synthetic(keys, configs)
    }

    /// Count elements of `tag` with `attr` = `value` in a parsed SVG.
    fn count(svg: &str, tag: &str, attr: &str, value: &str) -> usize {
        let doc = roxmltree::Document::parse(svg).expect("valid SVG");
        doc.descendants()
            .filter(|n| n.has_tag_name(tag) && n.attribute(attr) == Some(value))
            .count()
    }

    /// One filled dot (radius 4) per configuration in each of the 3
    /// panels, exactly one of them red (the best), and a log x axis for
    /// lr only. Catches a panel per configuration, a lost best mark, and
    /// log axes on every key.
    #[test]
    fn scatter_has_a_dot_per_configuration_and_key() {
        let f = scatter(&summary()).unwrap();
        assert_eq!(count(&f.svg, "circle", "r", "4"), 3 * 7);
        assert_eq!(count(&f.svg, "circle", "fill", "#D62728"), 3);
        assert_eq!(f.svg.matches("(log scale)").count(), 1);
        assert!(f.caption.contains("log scale for lr"), "{}", f.caption);
    }

    /// One 2-px line per configuration; 64 colour-bar cells.
    #[test]
    fn parallel_has_a_line_per_configuration_and_a_colour_bar() {
        let f = parallel(&summary()).unwrap();
        assert_eq!(count(&f.svg, "polyline", "stroke-width", "2"), 7);
        let doc = roxmltree::Document::parse(&f.svg).unwrap();
        let rects = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("stroke") == Some("none"))
            .count();
        assert!(rects >= 64, "{rects}");
    }
}
