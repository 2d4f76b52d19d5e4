//! `activations.svg`: per hidden layer, the mean and the standard deviation
//! of the activations over the training split, for the first seed of each
//! configuration (up to [`MAX_CONFIGS`]), at initialisation and at the
//! final evaluation — the CS231n notes' Part 2 initialisation figure
//! (activation statistics collapsing or spreading with depth) in summary
//! form. From the records' telemetry (`telemetry.rs`).

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{
    Area, Entry, Frame, LEGEND_WIDTH, PLOT_WIDTH, legend, plot_series, titled, with_strip,
};
use super::palette::Palette;
use super::{Figure, Row, range};
use crate::plan::Plan;
use crate::report::claims::label;
use crate::study::Study;
use crate::telemetry::LayerActivations;

/// Configurations drawn at most (one colour each).
pub(super) const MAX_CONFIGS: usize = 10;

/// Per drawn configuration: its label, initial and final statistics,
/// and its study-wide colour.
type Series = (
    String,
    Vec<LayerActivations>,
    Vec<LayerActivations>,
    RGBColor,
);

/// The first seed of each configuration (up to [`MAX_CONFIGS`]) with
/// hidden-layer telemetry, in plan order.
fn series_of(exp: &Study, plan: &Plan, rows: &[Row]) -> Vec<Series> {
    let colours = Palette::new(exp);
    (0..plan.n_configs)
        .filter_map(|c| {
            let (t, r) = rows
                .iter()
                .find(|(t, _)| t.config_index == c && t.first_seed)?;
            let tele = r.telemetry.as_ref()?;
            let last = tele.activations.last().cloned().unwrap_or_default();
            (!tele.initial.is_empty() || !last.is_empty()).then(|| {
                let c = colours.of(&t.swept).0;
                (label(&t.swept), tele.initial.clone(), last, c)
            })
        })
        .take(MAX_CONFIGS)
        .collect()
}

/// The figure, or none when no first seed has hidden-layer telemetry.
pub(super) fn activations(exp: &Study, plan: &Plan, rows: &[Row]) -> Result<Vec<Figure>> {
    let series = series_of(exp, plan, rows);
    if series.is_empty() {
        return Ok(Vec::new());
    }
    let layers = series
        .iter()
        .map(|(_, i, f, _)| i.len().max(f.len()))
        .max()
        .unwrap_or(1);
    let svg = with_strip((PLOT_WIDTH, 700), LEGEND_WIDTH, |root, strip| {
        let entries: Vec<Entry> = series
            .iter()
            .map(|s| Entry::line(s.0.clone(), s.3))
            .collect();
        legend(strip, "configurations", &entries)?;
        let root = titled(
            root,
            "activations per hidden layer (training split, first seed of each configuration)",
            18,
        )?;
        let panels = root.split_evenly((2, 2));
        type Stat = fn(&LayerActivations) -> f64;
        let stat: [(&str, Stat); 2] = [("mean", |a| a.mean), ("std", |a| a.std)];
        for (row, (when, pick)) in [
            (
                "initial",
                (|s: &Series| &s.1) as fn(&Series) -> &Vec<LayerActivations>,
            ),
            ("final", |s: &Series| &s.2),
        ]
        .into_iter()
        .enumerate()
        {
            for (col, (name, value)) in stat.iter().enumerate() {
                let lines: Vec<(RGBColor, Vec<(f64, f64)>)> = series
                    .iter()
                    .map(|s| {
                        let pts = pick(s)
                            .iter()
                            .enumerate()
                            .map(|(l, a)| ((l + 1) as f64, value(a)))
                            .collect();
                        (s.3, pts)
                    })
                    .collect();
                panel(
                    &panels[row * 2 + col],
                    &format!("{name}, {when}"),
                    layers,
                    &lines,
                )?;
            }
        }
        Ok(())
    })?;
    Ok(vec![Figure {
        file: "activations.svg".into(),
        caption: caption(series.len()),
        svg,
    }])
}

/// The figure's caption, for `n` configurations drawn.
fn caption(n: usize) -> String {
    format!(
        "Mean and standard deviation of each hidden layer's activations over the training split (evaluation mode), before the first update (top) and at the final evaluation (bottom), for the first seed of {} configuration{}. Statistics that shrink towards 0 with depth are the notes' collapsing activations (too small an initialisation); a std that stays put means the scale survives the layers.",
        n,
        if n == 1 { "" } else { "s" }
    )
}

/// One panel: one line per configuration over layers 1..=`layers`, in
/// its colour (the legend is beside the panels).
fn panel(
    area: &Area,
    title: &str,
    layers: usize,
    lines: &[(RGBColor, Vec<(f64, f64)>)],
) -> Result<()> {
    let (lo, hi) =
        range(lines.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y))).unwrap_or((-1.0, 1.0));
    let x = 0.5..layers as f64 + 0.5;
    let mut chart = Frame::SMALL.chart(area, Some(title), x, lo..hi)?;
    let whole = |x: &f64| format!("{x:.0}");
    Frame::SMALL.mesh(&mut chart, |mesh| {
        mesh.x_desc("hidden layer")
            .x_labels(layers.min(10) + 1)
            .x_label_formatter(&whole);
    })?;
    for &(c, ref pts) in lines {
        plot_series(
            &mut chart,
            pts.iter().map(|p| Circle::new(*p, 3, c.filled())),
        )?;
        plot_series(
            &mut chart,
            LineSeries::new(pts.iter().copied(), c.stroke_width(2)),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParamCount;
    use crate::plan::Plan;
    use crate::study::from_str;
    use crate::telemetry::Telemetry;
    use crate::train::{Metrics, TrialRecord};
    use std::path::Path;

    /// Two widths × two seeds with telemetry: one figure, drawn from the
    /// first seed of each width only (the second seeds' legend-less means
    /// of 100 would stretch the axis past 10), both labels in the legend;
    /// without telemetry, no figure. Catches every seed drawn, the
    /// figure drawn for records stored before telemetry, and a missing
    /// legend.
    #[test]
    fn one_figure_of_first_seeds_with_telemetry() {
        let e = from_str(
            "name = \"a\"\nseeds = 2\n[model]\ndepth = 3\n[grid]\nwidth = [2, 8]\n",
            Path::new("s.toml"),
            &[],
        )
        .unwrap();
        let plan = Plan::new(&e).unwrap();
        let la = |mean: f64| LayerActivations {
            mean,
            std: mean / 2.0,
            saturated: None,
            dead: Some(0.0),
        };
        let records: Vec<TrialRecord> = plan
            .trials
            .iter()
            .map(|t| {
                let params = ParamCount {
                    weights: 0,
                    biases: 0,
                    total: 0,
                    hidden_neurons: 0,
                    norm: 0,
                };
                let mut r = TrialRecord::new(t, params);
                r.metrics = Some(Metrics {
                    train_loss: 1.0,
                    val_loss: None,
                    train_acc: None,
                    val_acc: None,
                    l2_term: 0.0,
                    weight_norm: 1.0,
                    dead_fraction: None,
                });
                let m = if t.first_seed { 1.0 } else { 100.0 };
                r.telemetry = Some(Telemetry {
                    initial: vec![la(m), la(m / 2.0), la(m / 4.0)],
                    activations: vec![vec![la(m), la(m), la(m)]],
                    update_ratio: vec![vec![1e-3; 4]],
                    weight_sparsity: Some(0.0),
                });
                r
            })
            .collect();
        let rows: Vec<Row> = plan.trials.iter().zip(&records).collect();
        let figs = activations(&e, &plan, &rows).unwrap();
        assert_eq!(figs.len(), 1);
        let f = &figs[0];
        assert_eq!(f.file, "activations.svg");
        assert!(
            f.caption.contains("first seed of 2 configurations"),
            "{}",
            f.caption
        );
        let doc = roxmltree::Document::parse(&f.svg).unwrap();
        let text: Vec<&str> = doc
            .descendants()
            .filter_map(|n| n.text())
            .map(str::trim)
            .collect();
        assert!(
            text.contains(&"width=2") && text.contains(&"width=8"),
            "{text:?}"
        );
        // Axis labels stay below the second seeds' 100 and 50.
        let numbers: Vec<f64> = text.iter().filter_map(|t| t.trim().parse().ok()).collect();
        assert!(numbers.iter().all(|v| *v < 10.0), "{numbers:?}");
        let bare: Vec<TrialRecord> = records
            .into_iter()
            .map(|mut r| {
                r.telemetry = None;
                r
            })
            .collect();
        let rows: Vec<Row> = plan.trials.iter().zip(&bare).collect();
        assert!(activations(&e, &plan, &rows).unwrap().is_empty());
    }
}
