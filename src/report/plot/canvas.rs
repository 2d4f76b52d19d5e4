//! What every figure's SVG is built from, stated once: a white canvas of a
//! given size (with a strip to the right of the plot for a legend or a
//! colour bar), a title band, charts framed in one of a few named
//! [`Frame`]s (caption font, margins, label areas, tick and description
//! fonts), the mesh in its frame's fonts, series drawn with plotters'
//! backend-generic errors flattened here, and the legend in the strip.
//! A figure names its frame instead of restating a dozen numbers.

use std::borrow::Borrow;

use anyhow::Result;
use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::{CoordMapper, Drawable, PointCollection};
use plotters::prelude::*;

use super::err;
use super::palette::{Shape, glyphs};

/// An area of a figure's SVG canvas.
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// A chart with x and y axes on an [`Area`].
pub(super) type Chart<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

/// The one font family of every figure.
const SANS: &str = "sans-serif";

/// A `size`-pixel font of the figures' family.
pub(super) fn font(size: u32) -> (&'static str, u32) {
    (SANS, size)
}

/// Width of the plot of a figure with one large chart (the legend strip
/// is added to it).
pub(super) const PLOT_WIDTH: u32 = 900;

/// Width of the legend strip beside a plot.
pub(super) const LEGEND_WIDTH: u32 = 210;

/// A figure of `size` pixels: a white canvas that `draw` fills; its SVG
/// text.
pub(super) fn svg(size: (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A figure whose plot (`plot` pixels) has a strip `strip` pixels wide to
/// its right, for a legend or a colour bar: `draw` gets (plot, strip).
pub(super) fn with_strip(
    plot: (u32, u32),
    strip: u32,
    draw: impl FnOnce(&Area, &Area) -> Result<()>,
) -> Result<String> {
    svg((plot.0 + strip, plot.1), |root| {
        let (left, right) = root.split_horizontally(plot.0);
        draw(&left, &right)
    })
}

/// `area` below a band holding `title` in a `size`-pixel font.
pub(super) fn titled<'a>(area: &Area<'a>, title: &str, size: u32) -> Result<Area<'a>> {
    area.titled(title, font(size)).map_err(err)
}

/// Draw `series` on `chart`: plotters' `draw_series`, its error flattened.
pub(super) fn plot_series<'a, 'b, CT, B, E, R, S>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    series: S,
) -> Result<()>
where
    CT: CoordTranslate,
    B: CoordMapper,
    for<'c> &'c E: PointCollection<'c, CT::From, B>,
    E: Drawable<SVGBackend<'b>, B>,
    R: Borrow<E>,
    S: IntoIterator<Item = R>,
{
    chart.draw_series(series).map(|_| ()).map_err(err)
}

/// How a chart is framed: sizes in pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    /// The caption's font.
    pub caption: u32,
    /// The margin on every side but the top…
    pub margin: u32,
    /// … and on top.
    pub top: u32,
    /// Height of the x tick labels' area (0: none).
    pub x_area: u32,
    /// Width of the y tick labels' area (0: none).
    pub y_area: u32,
    /// The tick labels' font.
    pub ticks: u32,
    /// The axis descriptions' font.
    pub desc: u32,
}

impl Frame {
    /// A figure's one large chart: metric vs axis, curves, the spread panels.
    pub(super) const LARGE: Frame = Frame {
        caption: 22,
        margin: 12,
        top: 12,
        x_area: 45,
        y_area: 70,
        ticks: 15,
        desc: 17,
    };
    /// The heatmap: the large frame with smaller fonts for long labels.
    pub(super) const HEATMAP: Frame = Frame {
        caption: 20,
        ticks: 14,
        desc: 16,
        ..Frame::LARGE
    };
    /// A profile panel (up to three a row).
    pub(super) const PROFILE: Frame = Frame {
        caption: 17,
        margin: 10,
        top: 10,
        x_area: 45,
        y_area: 60,
        ticks: 14,
        desc: 16,
    };
    /// A tuning-curve panel (two a row), room for long y values.
    pub(super) const TUNING: Frame = Frame {
        y_area: 70,
        ..Frame::PROFILE
    };
    /// A search key's panel (three a row).
    pub(super) const SEARCH: Frame = Frame {
        caption: 18,
        margin: 10,
        top: 10,
        x_area: 40,
        y_area: 60,
        ticks: 12,
        desc: 14,
    };
    /// Parallel coordinates: no y axis, room on top for the axes' ends.
    pub(super) const PARALLEL: Frame = Frame {
        caption: 18,
        margin: 12,
        top: 30,
        x_area: 30,
        y_area: 0,
        ticks: 13,
        desc: 13,
    };
    /// One of four small activation panels.
    pub(super) const SMALL: Frame = Frame {
        caption: 14,
        margin: 8,
        top: 8,
        x_area: 28,
        y_area: 48,
        ticks: 10,
        desc: 10,
    };
    /// A variance panel: a small panel with bar labels below.
    pub(super) const VARIANCE: Frame = Frame {
        x_area: 34,
        y_area: 44,
        ticks: 12,
        desc: 12,
        ..Frame::SMALL
    };
    /// A histogram of a grid of up to 48.
    pub(super) const HISTOGRAM: Frame = Frame {
        caption: 13,
        margin: 6,
        top: 6,
        x_area: 22,
        y_area: 28,
        ticks: 10,
        desc: 10,
    };
    /// A decision-region panel: no axes.
    pub(super) const BOUNDARY: Frame = Frame {
        x_area: 0,
        y_area: 0,
        ..Frame::HISTOGRAM
    };
    /// A colour bar in the strip beside a plot.
    pub(super) const COLOUR_BAR: Frame = Frame {
        caption: 0,
        margin: 12,
        top: 40,
        x_area: 30,
        y_area: 55,
        ticks: 11,
        desc: 12,
    };

    /// A chart on `area` over `x` × `y`, framed so, under `caption` (`None`:
    /// no caption band, which an empty caption still has).
    pub(super) fn chart<'a, 'b, X: AsRangedCoord, Y: AsRangedCoord>(
        self,
        area: &'a Area<'b>,
        caption: Option<&str>,
        x: X,
        y: Y,
    ) -> Result<Chart<'a, 'b, X::CoordDescType, Y::CoordDescType>> {
        let mut b = ChartBuilder::on(area);
        b.margin(self.margin)
            .margin_top(self.top)
            .x_label_area_size(self.x_area)
            .y_label_area_size(self.y_area);
        if let Some(c) = caption {
            b.caption(c, font(self.caption));
        }
        b.build_cartesian_2d(x, y).map_err(err)
    }

    /// Draw `chart`'s mesh in the frame's fonts; `set` says the rest (the
    /// axis descriptions, tick counts and formats, which lines).
    pub(super) fn mesh<'a, 'b, 'c, X, Y>(
        self,
        chart: &'c mut Chart<'a, 'b, X, Y>,
        set: impl FnOnce(&mut MeshStyle<'a, 'c, X, Y, SVGBackend<'b>>),
    ) -> Result<()>
    where
        X: Ranged + ValueFormatter<X::ValueType>,
        Y: Ranged + ValueFormatter<Y::ValueType>,
    {
        let mut mesh = chart.configure_mesh();
        mesh.label_style(font(self.ticks))
            .axis_desc_style(font(self.desc));
        set(&mut mesh);
        mesh.draw().map_err(err)
    }
}

/// One legend entry: a label with its colour, drawn as a line (curves)
/// or a marker (dots).
pub(super) struct Entry {
    pub name: String,
    pub color: RGBColor,
    pub shape: Shape,
    pub line: bool,
}

impl Entry {
    /// An entry drawn as a marker.
    pub(super) fn marker(name: String, color: RGBColor, shape: Shape) -> Entry {
        Entry {
            name,
            color,
            shape,
            line: false,
        }
    }

    /// An entry drawn as a short line.
    pub(super) fn line(name: String, color: RGBColor) -> Entry {
        Entry {
            name,
            color,
            shape: Shape::Circle,
            line: true,
        }
    }
}

/// Characters of one legend line: [`LEGEND_WIDTH`] pixels less the
/// glyph's 32, at about 7 pixels a character of the 13-pixel font.
const LEGEND_CHARS: usize = 24;

/// `name` in lines of at most `width` characters, broken at spaces (a word
/// longer than a line is cut): a long series name wraps rather than runs
/// off the figure's edge.
fn wrap(name: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in name.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..width).collect());
        }
        let word: String = word.into_iter().collect();
        let n = line.chars().count();
        if n > 0 && n + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draw `entries` top-down in `area`, a strip beside the plot (never over
/// the data), a long name on several lines; past what fits, "+k more".
pub(super) fn legend(area: &Area, title: &str, entries: &[Entry]) -> Result<()> {
    let font = font(13).into_font();
    area.draw(&Text::new(title.to_string(), (8, 40), font.clone()))
        .map_err(err)?;
    let fits = ((area.dim_in_pixel().1 as i32 - 80) / 18).max(1) as usize;
    let (mut row, mut drawn) = (0, 0);
    for e in entries {
        let lines = wrap(&e.name, LEGEND_CHARS);
        if row + lines.len() > fits {
            break;
        }
        let y = 62 + 18 * row as i32;
        if e.line {
            area.draw(&PathElement::new(
                vec![(8, y), (26, y)],
                e.color.stroke_width(2),
            ))
            .map_err(err)?;
        } else {
            glyphs(area, e.shape, [(17, y)], 4, e.color, true)?;
        }
        for (k, text) in lines.iter().enumerate() {
            let y = 62 + 18 * (row + k) as i32;
            area.draw(&Text::new(text.clone(), (32, y - 7), font.clone()))
                .map_err(err)?;
        }
        row += lines.len();
        drawn += 1;
    }
    if entries.len() > drawn {
        let y = 62 + 18 * row as i32;
        let more = format!("+{} more", entries.len() - drawn);
        area.draw(&Text::new(more, (8, y - 7), font)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wrap;

    /// A name that fits stays one line, byte for byte; a longer one breaks
    /// at the last space that fits; a word longer than a line is cut.
    #[test]
    fn legend_names_wrap_at_spaces() {
        assert_eq!(wrap("depth=1 width=10", 24), vec!["depth=1 width=10"]);
        assert_eq!(wrap("a  b", 24), vec!["a  b"]);
        assert_eq!(
            wrap("optimizer=sgd momentum=0 nesterov=false", 24),
            vec!["optimizer=sgd momentum=0", "nesterov=false"]
        );
        let long = "x".repeat(30);
        assert_eq!(
            wrap(&format!("a {long}"), 24),
            vec!["a".to_string(), "x".repeat(24), "x".repeat(6)]
        );
        assert_eq!(wrap("", 24), vec![""]);
    }
}
