//! The continuous colour map of the heatmap and the parallel-coordinates
//! figure: viridis over a [`Scale`] that is log when the metric spans
//! more than a decade (on a linear bar over 0.03-2.5 every good
//! configuration is the same colour), dark at the best end, with its
//! colour bar.

use anyhow::Result;
use plotters::prelude::*;

use super::canvas::{Area, Frame, plot_series};
use super::scale::{Scale, spans_decade};

/// Viridis, by linear interpolation between five of its colours; `t` in
/// [0, 1].
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A metric's colours: viridis along `scale`, dark at the best end.
pub(super) struct ColourMap {
    pub scale: Scale,
    pub higher_is_better: bool,
}

impl ColourMap {
    /// The map over `values`: log when they span more than a decade.
    pub(super) fn fit(values: &[f64], higher_is_better: bool) -> Option<ColourMap> {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if lo > hi {
            return None;
        }
        let scale = if spans_decade(values.iter().copied()) && lo > 0.0 {
            Scale::log(lo, hi)
        } else if hi > lo {
            Scale::linear(lo, hi)
        } else {
            Scale::linear(lo - 0.5, hi + 0.5)
        };
        Some(ColourMap {
            scale,
            higher_is_better,
        })
    }

    /// Where `v` sits on the map, 0 (best) to 1 (worst).
    pub(super) fn t(&self, v: f64) -> f64 {
        let u = self.scale.unit(v);
        if self.higher_is_better { 1.0 - u } else { u }
    }

    /// The colour of `v`.
    pub(super) fn color(&self, v: f64) -> RGBColor {
        viridis(self.t(v))
    }

    /// The colour bar in `area`, labelled `metric` (and "log scale").
    pub(super) fn bar(&self, area: &Area, metric: &str) -> Result<()> {
        let mut bar = Frame::COLOUR_BAR.chart(area, None, 0f64..1f64, self.scale.clone())?;
        Frame::COLOUR_BAR.mesh(&mut bar, |mesh| {
            mesh.disable_x_mesh()
                .disable_y_mesh()
                .x_labels(0)
                .y_desc(self.scale.label(metric));
        })?;
        const STEPS: usize = 64;
        let r = plotters::coord::ranged1d::Ranged::range(&self.scale);
        let at = |u: f64| {
            if self.scale.is_log() {
                r.start * (r.end / r.start).powf(u)
            } else {
                r.start + (r.end - r.start) * u
            }
        };
        plot_series(
            &mut bar,
            (0..STEPS).map(|i| {
                let (u0, u1) = (i as f64 / STEPS as f64, (i + 1) as f64 / STEPS as f64);
                let u = (u0 + u1) / 2.0;
                let c = viridis(if self.higher_is_better { 1.0 - u } else { u });
                Rectangle::new([(0.0, at(u0)), (1.0, at(u1))], c.filled())
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ends and the middle are viridis' own colours (matplotlib's
    /// `viridis(0)`, `(0.5)`, `(1)` are #440154, #21918c, #fde725): a
    /// flipped or truncated map fails.
    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(0.5), RGBColor(0x21, 0x91, 0x8c));
        assert_eq!(viridis(1.0), RGBColor(0xfd, 0xe7, 0x25));
    }

    /// Medians from 0.03 to 2.5 (more than a decade) get a log map, so
    /// 0.03 and 0.3 sit a third of the way apart, not 11% (they were the
    /// same colour on the linear bar); a higher-is-better metric is dark at
    /// its top. Catches the linear bar and a flipped direction.
    #[test]
    fn a_map_over_more_than_a_decade_is_log() {
        let m = ColourMap::fit(&[0.03, 0.3, 2.5], false).unwrap();
        assert!(m.scale.is_log());
        let third = (0.3f64 / 0.03).ln() / (2.5f64 / 0.03).ln();
        assert!((m.t(0.3) - third).abs() < 1e-12);
        assert_eq!((m.t(0.03), m.t(2.5)), (0.0, 1.0));
        let acc = ColourMap::fit(&[0.5, 0.9], true).unwrap();
        assert!(!acc.scale.is_log() && acc.t(0.9) == 0.0);
    }
}
