//! Colours and marker shapes that mean one thing for the whole study.
//!
//! A series' colour is fixed by *its settings*, not by its place in a
//! panel: [`Palette::of`] numbers a selection of settings by its position
//! among every combination of the axes it names (mixed radix, first axis
//! outermost), so `lr=3` has one colour in every panel and every figure,
//! even where `lr=1` is missing. Up to ten combinations take Tableau 10;
//! more take evenly spaced hues with alternating lightness (no colour
//! repeats in a figure), and [`marker`] adds a shape so neighbours differ
//! twice. The legend that names them is drawn by `canvas::legend`, in a
//! strip beside the plot, so a legend never covers data.

use anyhow::Result;
use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::err;
use crate::study::{Setting, Study};

/// Tableau 10: distinguishable, print-friendly.
pub(super) const TABLEAU: [RGBColor; 10] = [
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

/// Colour `i` of `n` distinct series: Tableau 10 up to ten, else `n`
/// evenly spaced hues (lightness alternating so neighbours differ).
pub(super) fn nth(i: usize, n: usize) -> RGBColor {
    if n <= TABLEAU.len() {
        return TABLEAU[i % TABLEAU.len()];
    }
    let h = (i % n) as f64 / n as f64;
    let l = if i.is_multiple_of(2) { 0.42 } else { 0.58 };
    hsl(h, 0.7, l)
}

/// HSL (each in [0, 1]) to RGB.
fn hsl(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h * 6.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as usize {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

/// A marker shape, varied past ten series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Shape {
    Circle,
    Square,
    Triangle,
    Cross,
}

/// Shape of series `i` of `n`: circles up to ten series, else cycling.
pub(super) fn marker(i: usize, n: usize) -> Shape {
    if n <= TABLEAU.len() {
        return Shape::Circle;
    }
    [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Cross][i % 4]
}

/// Draw a marker of `shape` and radius `r` at each of `points` (data
/// points of a chart's plotting area, or pixels of a plain area), filled
/// or hollow (hollow: a collapsed or unstable seed).
pub(super) fn glyphs<DB, CT>(
    area: &DrawingArea<DB, CT>,
    shape: Shape,
    points: impl IntoIterator<Item = CT::From>,
    r: i32,
    c: impl Color,
    filled: bool,
) -> Result<()>
where
    DB: DrawingBackend,
    CT: CoordTranslate,
    CT::From: Clone,
{
    let style = if filled {
        c.filled()
    } else {
        c.stroke_width(2)
    };
    let line = ShapeStyle {
        filled: false,
        stroke_width: 2,
        ..style
    };
    let tri = vec![(0, -r - 1), (-r - 1, r), (r + 1, r), (0, -r - 1)];
    for p in points {
        let at = EmptyElement::at(p);
        match shape {
            Shape::Circle => area.draw(&(at + Circle::new((0, 0), r, style))),
            Shape::Square => area.draw(&(at + Rectangle::new([(-r, -r), (r, r)], style))),
            Shape::Triangle if filled => area.draw(&(at + Polygon::new(tri.clone(), style))),
            Shape::Triangle => area.draw(&(at + PathElement::new(tri.clone(), line))),
            Shape::Cross => area.draw(
                &(at + PathElement::new(vec![(-r, -r), (r, r)], line)
                    + PathElement::new(vec![(-r, r), (r, -r)], line)),
            ),
        }
        .map_err(err)?;
    }
    Ok(())
}

/// The study's colours: where each selection of settings sits among every
/// combination of the axes it names.
pub(super) struct Palette<'a> {
    exp: &'a Study,
}

impl<'a> Palette<'a> {
    pub(super) fn new(exp: &'a Study) -> Palette<'a> {
        Palette { exp }
    }

    /// (index, count) of `sel` among the combinations of the axes its keys
    /// belong to; (0, 1) for an empty selection.
    pub(super) fn index(&self, sel: &[(String, Setting)]) -> (usize, usize) {
        let (mut i, mut n) = (0, 1);
        for axis in &self.exp.axes {
            // Every key of the axis that `sel` names: a zipped axis's points
            // may share one key's value (depth 1 with widths 10 and 100).
            let named: Vec<(usize, &Setting)> = axis
                .keys
                .iter()
                .enumerate()
                .filter_map(|(k, key)| sel.iter().find(|(s, _)| s == key).map(|(_, v)| (k, v)))
                .collect();
            if named.is_empty() {
                continue;
            }
            let at = (0..axis.len())
                .find(|&p| named.iter().all(|&(k, v)| axis.setting(p, k) == *v))
                .unwrap_or(0);
            i = i * axis.len() + at;
            n *= axis.len();
        }
        (i, n)
    }

    /// The colour and shape of `sel` for the whole study.
    pub(super) fn of(&self, sel: &[(String, Setting)]) -> (RGBColor, Shape) {
        let (i, n) = self.index(sel);
        (nth(i, n), marker(i, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The points of a zipped axis that share one key's value still get a
    /// colour each: catches a position found by the axis's first key alone
    /// (fashion_sklearn_grid drew depth 1 × width 10 and × width 100 alike).
    #[test]
    fn zipped_points_that_share_a_value_differ() {
        let exp = crate::testkit::study(
            "[data]\nkind = \"spiral\"\n[[zip]]\ndepth = [1, 1, 2, 2]\nwidth = [10, 100, 10, 100]\n",
        );
        let sel = |d: i64, w: i64| {
            vec![
                ("model.depth".to_string(), Setting::Int(d)),
                ("model.width".to_string(), Setting::Int(w)),
            ]
        };
        let palette = Palette::new(&exp);
        let at: Vec<(usize, usize)> = [(1, 10), (1, 100), (2, 10), (2, 100)]
            .iter()
            .map(|&(d, w)| palette.index(&sel(d, w)))
            .collect();
        assert_eq!(at, vec![(0, 4), (1, 4), (2, 4), (3, 4)]);
        // One key alone still finds its first point, as before.
        let depth_only = vec![("model.depth".to_string(), Setting::Int(2))];
        assert_eq!(palette.index(&depth_only), (2, 4));
    }

    /// Past ten series every colour differs: catches a palette that
    /// repeats (`i % 10`) within a figure.
    #[test]
    fn no_colour_repeats_among_many_series() {
        for n in [3, 10, 11, 27, 64] {
            let mut seen: Vec<RGBColor> = (0..n).map(|i| nth(i, n)).collect();
            seen.sort_by_key(|c| (c.0, c.1, c.2));
            seen.dedup();
            assert_eq!(seen.len(), n, "n = {n}");
        }
    }
}
