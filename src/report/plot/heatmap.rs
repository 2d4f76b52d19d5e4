//! `heatmap_<metric>.svg`: with two or more listed axes, the first two as
//! a grid of cells, each the median final metric of its finished seeds
//! (configurations pooled over any further axes), coloured on viridis
//! (log when the medians span more than a decade; dark is best), with the
//! share of its seeds that diverged or failed ("2/5 div") and that were
//! flagged collapsed or unstable ("1/5 col") written in the cell. The
//! question "where does training break?" is answered at a glance: a cell
//! with no finished seed is grey and says so. The numbers ([`Cell`]) are
//! computed before drawing.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::canvas::{Frame, font, plot_series, with_strip};
use super::colormap::ColourMap;
use super::positions::Positions;
use super::scale::{Scale, tick};
use super::{Drawn, Figure, Row, short};
use crate::metric::Metric;
use crate::stats;
use crate::study::Study;

/// One cell of the heatmap.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::report) struct Cell {
    /// Position on the first (x) and second (y) axis.
    pub at: (usize, usize),
    /// Median of the finished seeds' values; `None` when none finished.
    pub median: Option<f64>,
    /// Seeds stored, seeds diverged or failed, finished seeds flagged.
    pub n: usize,
    pub broken: usize,
    pub flagged: usize,
}

/// The cells of metric `m` over the first two listed axes (their first
/// keys), from every stored trial and its collapsed-or-unstable flag;
/// `None` with fewer than two listed axes.
pub(in crate::report) fn cells(
    exp: &Study,
    rows: &[Row],
    flagged: &[bool],
    m: Metric,
) -> Option<(Positions, Positions, Vec<Cell>)> {
    let mut listed = exp.axes.iter().filter(|a| !a.sampled);
    let (kx, ky) = (
        listed.next()?.keys[0].clone(),
        listed.next()?.keys[0].clone(),
    );
    let (px, py) = (Positions::of(exp, &kx)?, Positions::of(exp, &ky)?);
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); px.len() * py.len()];
    let mut out: Vec<Cell> = (0..px.len() * py.len())
        .map(|i| Cell {
            at: (i % px.len(), i / px.len()),
            median: None,
            n: 0,
            broken: 0,
            flagged: 0,
        })
        .collect();
    for (i, (t, r)) in rows.iter().enumerate() {
        let at = |k: &str, p: &Positions| {
            t.swept
                .iter()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| p.index(v))
        };
        let (Some(x), Some(y)) = (at(&kx, &px), at(&ky, &py)) else {
            continue;
        };
        let c = y * px.len() + x;
        out[c].n += 1;
        if r.finished().is_none() {
            out[c].broken += 1;
            continue;
        }
        out[c].flagged += usize::from(flagged.get(i).copied().unwrap_or(false));
        if let Some(v) = r.value(m, exp.report.target_acc) {
            values[c].push(v);
        }
    }
    for (cell, v) in out.iter_mut().zip(&values) {
        cell.median = stats::median(v);
    }
    Some((px, py, out))
}

/// The heatmap of `m`, or why not; `None` for a study with fewer than two
/// listed axes (no heatmap belongs in it).
pub(super) fn heatmap(
    exp: &Study,
    rows: &[Row],
    flagged: &[bool],
    m: Metric,
) -> Result<Option<Drawn>> {
    let Some((px, py, cells)) = cells(exp, rows, flagged, m) else {
        return Ok(None);
    };
    let file = format!("heatmap_{m}.svg");
    let medians: Vec<f64> = cells.iter().filter_map(|c| c.median).collect();
    let Some(map) = ColourMap::fit(&medians, m.higher_is_better()) else {
        return Ok(Some(Err(super::NotDrawn {
            file,
            reason: format!("no finished trial has {}", m.name()),
        })));
    };
    let (kx, ky) = (short_key(exp, 0), short_key(exp, 1));
    let svg = draw(&px, &py, &cells, &map, m, (&kx, &ky))?;
    let pooled = exp.axes.iter().filter(|a| !a.sampled).count() > 2;
    Ok(Some(Ok(Figure {
        file,
        caption: format!(
            "Median final {} over the seeds of each {kx} × {ky} cell{} (colour{}; dark is best); \"k/n div\": k of the cell's n seeds diverged or failed (grey: none finished); \"k/n col\": k finished seeds flagged collapsed or unstable.",
            m.name().replace('_', " "),
            if pooled {
                ", configurations pooled over the other axes"
            } else {
                ""
            },
            if map.scale.is_log() {
                ", log scale"
            } else {
                ""
            },
        ),
        svg,
    })))
}

/// The short name of listed axis `i`'s first key.
fn short_key(exp: &Study, i: usize) -> String {
    let a = exp.axes.iter().filter(|a| !a.sampled).nth(i);
    a.map_or(String::new(), |a| short(&a.keys[0]).to_string())
}

/// Draw the cells, their text, and the colour bar.
fn draw(
    px: &Positions,
    py: &Positions,
    cells: &[Cell],
    map: &ColourMap,
    m: Metric,
    (kx, ky): (&str, &str),
) -> Result<String> {
    let ticks = |p: &Positions| {
        (0..p.len())
            .map(|i| (i as f64, p.labels[i].clone()))
            .collect::<Vec<_>>()
    };
    let x = Scale::linear(-0.5, px.len() as f64 - 0.5).with_ticks(ticks(px));
    let y = Scale::linear(-0.5, py.len() as f64 - 0.5).with_ticks(ticks(py));
    let (w, h) = (
        (110 * px.len() as u32).clamp(500, 1100),
        (70 * py.len() as u32).clamp(360, 800),
    );
    with_strip((w, h), 130, |left, right| {
        let metric = m.name().replace('_', " ");
        let title = format!("median final {metric}");
        let mut chart = Frame::HEATMAP.chart(left, Some(&title), x, y)?;
        Frame::HEATMAP.mesh(&mut chart, |mesh| {
            mesh.disable_mesh().x_desc(kx).y_desc(ky);
        })?;
        for c in cells {
            let (cx, cy) = (c.at.0 as f64, c.at.1 as f64);
            let fill = c.median.map_or(RGBColor(200, 200, 200), |v| map.color(v));
            plot_series(
                &mut chart,
                std::iter::once(Rectangle::new(
                    [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                    fill.filled(),
                )),
            )?;
            let dark = c.median.is_some_and(|v| map.t(v) < 0.55);
            let ink = if dark { WHITE } else { BLACK };
            let font = font(13)
                .into_font()
                .color(&ink)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let text = cell_text(c);
            let n = text.len() as i32;
            plot_series(
                &mut chart,
                text.into_iter().enumerate().map(|(i, s)| {
                    EmptyElement::at((cx, cy))
                        + Text::new(s, (0, 15 * i as i32 - 7 * (n - 1)), font.clone())
                }),
            )?;
        }
        map.bar(right, &format!("median {metric}"))
    })
}

/// At most three significant digits (0.288, 4.31, 85.6, 41, 1.2e-5):
/// what a cell has room for.
fn three_digits(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return tick(v);
    }
    let mag = v.abs().log10().floor() as i32;
    if !(-3..5).contains(&mag) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.*}", (2 - mag).max(0) as usize);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A cell's lines: its median, then what did not finish and what broke.
fn cell_text(c: &Cell) -> Vec<String> {
    let mut lines = vec![c.median.map_or("none finished".into(), three_digits)];
    if c.broken > 0 {
        lines.push(format!("{}/{} div", c.broken, c.n));
    }
    if c.flagged > 0 {
        lines.push(format!("{}/{} col", c.flagged, c.n));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches cells printed with four decimals ("85.6426") or padded
    /// zeros ("41.0", "9.00").
    #[test]
    fn cells_print_three_significant_digits() {
        let got: Vec<String> = [0.28814, 4.3077, 85.6426, 41.0, 9.0, 0.25, 1.234e-5]
            .into_iter()
            .map(three_digits)
            .collect();
        assert_eq!(got, ["0.288", "4.31", "85.6", "41", "9", "0.25", "1.23e-5"]);
    }
}
