//! `variance_sources.svg`: where each configuration's spread comes from,
//! as stacked bars of the variance shares (one colour per source,
//! interaction and the residual), along the study's last axis, one panel
//! per setting of the other axes. `[replicates]` studies only.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{Area, Frame, font, plot_series, svg, titled};
use super::{Figure, color, err};
use crate::plan::Plan;
use crate::report::Report;
use crate::report::claims::label;
use crate::report::variance::{Decomposition, shown_metric, term_names};
use crate::study::{Source, Study};

/// The figure, when some configuration was decomposed.
pub(super) fn variance_sources(exp: &Study, plan: &Plan, report: &Report) -> Result<Vec<Figure>> {
    let Some(metric) = shown_metric(exp, report) else {
        return Ok(Vec::new());
    };
    let sources: Vec<Source> = exp.replication.varying().iter().map(|(s, _)| *s).collect();
    let terms = term_names(&sources);
    // Bars along the last axis (innermost, so consecutive configurations);
    // one panel per setting of the axes before it.
    let per_panel = exp.axes.last().map_or(1, |a| a.len());
    let panels = plan.n_configs / per_panel;
    let cols = panels.min(3);
    let nrows = panels.div_ceil(cols);
    let parts: Vec<Option<&Decomposition>> = (0..plan.n_configs)
        .map(|c| {
            report
                .variance
                .iter()
                .find(|d| d.config == c && d.metric == metric)
        })
        .collect();
    let width = (cols * (120 + 46 * per_panel)).max(100 + 80 * terms.len()) as u32;
    let svg = svg((width, (nrows * 300 + 70) as u32), |root| {
        let title = format!(
            "share of the variance of the final {} by source",
            metric.name()
        );
        let root = titled(root, &title, 20)?;
        let (legend, body) = root.split_vertically(34);
        draw_legend(&legend, &terms)?;
        for (p, area) in body
            .split_evenly((nrows, cols))
            .iter()
            .enumerate()
            .take(panels)
        {
            let configs: Vec<usize> = (p * per_panel..(p + 1) * per_panel).collect();
            panel(area, exp, plan, &configs, &parts, &terms)?;
        }
        Ok(())
    })?;
    let last = exp.axes.last().map(|a| a.keys.join("/"));
    Ok(vec![Figure {
        file: "variance_sources.svg".into(),
        caption: format!(
            "Where the spread of the final {} comes from: each bar splits a configuration's variance across replicates into the share due to each source of randomness ({}), their interactions, and the residual (random-effects ANOVA, method of moments; `summary.csv` has the components and their bootstrap intervals){}. A missing bar is a configuration with a replicate unfinished.",
            metric.name(),
            sources
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", "),
            last.map(|k| format!(", along {k}")).unwrap_or_default()
        ),
        svg,
    }])
}

/// The terms' colours in a row above the panels.
fn draw_legend(area: &Area, terms: &[String]) -> Result<()> {
    let mut x = 20;
    for (i, name) in terms.iter().enumerate() {
        area.draw(&Rectangle::new([(x, 10), (x + 14, 24)], color(i).filled()))
            .map_err(err)?;
        area.draw(&Text::new(
            name.replace("_x_", "×"),
            (x + 18, 10),
            font(14).into_font(),
        ))
        .map_err(err)?;
        x += 28 + 7 * name.len() as i32;
    }
    Ok(())
}

/// The bars of `configs`, one panel (a setting of the axes before the last).
fn panel(
    area: &Area,
    exp: &Study,
    plan: &Plan,
    configs: &[usize],
    parts: &[Option<&Decomposition>],
    terms: &[String],
) -> Result<()> {
    let first = |c: usize| plan.trials.iter().find(|t| t.config_index == c);
    let title = first(configs[0])
        .map(|t| {
            let others = &t.swept[..t
                .swept
                .len()
                .saturating_sub(exp.axes.last().map_or(0, |a| a.keys.len()))];
            if others.is_empty() {
                String::new()
            } else {
                label(others)
            }
        })
        .unwrap_or_default();
    let bar_label = |i: usize| -> String {
        first(configs[i])
            .and_then(|t| t.swept.last().map(|(_, v)| v.to_string()))
            .unwrap_or_default()
    };
    let n = configs.len() as i32;
    let x = (0..n - 1).into_segmented();
    let mut chart = Frame::VARIANCE.chart(area, Some(&title), x, 0f64..1f64)?;
    let bar_labels = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n => bar_label(*i as usize),
        _ => String::new(),
    };
    Frame::VARIANCE.mesh(&mut chart, |mesh| {
        mesh.disable_x_mesh()
            .x_desc(
                exp.axes
                    .last()
                    .map(|a| a.keys.join("/"))
                    .unwrap_or_default(),
            )
            .y_desc("share of variance")
            .x_label_formatter(&bar_labels);
    })?;
    for (i, part) in configs.iter().map(|&c| parts[c]).enumerate() {
        let Some(d) = part else { continue };
        let mut bottom = 0.0;
        for (k, name) in terms.iter().enumerate() {
            let share = d.get(name).map_or(0.0, |c| c.share);
            if !share.is_finite() || share <= 0.0 {
                continue;
            }
            let top = (bottom + share).min(1.0);
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i as i32), bottom),
                    (SegmentValue::Exact(i as i32 + 1), top),
                ],
                color(k).filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            plot_series(&mut chart, std::iter::once(bar))?;
            bottom = top;
        }
    }
    Ok(())
}
