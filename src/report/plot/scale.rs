//! Value axes that are linear or logarithmic, chosen at run time: a loss
//! that spans more than a decade is unreadable on a linear axis (every
//! wide network's loss sits on one flat line near zero), so such axes go
//! log scale. [`Scale`] is one plotters coordinate for both, so a figure
//! draws the same code either way; [`spans_decade`] is the rule.

use std::ops::Range;

use plotters::coord::ranged1d::{
    KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;

/// Whether an axis over `values` goes log scale: the finite positive
/// values (the only ones a log axis can place) span more than a decade,
/// max/min > 10.
pub(in crate::report) fn spans_decade(values: impl IntoIterator<Item = f64>) -> bool {
    let (lo, hi) = positive_extent(values);
    lo <= hi && hi / lo > 10.0
}

/// (min, max) of the finite positive values; (∞, −∞) when there are none.
fn positive_extent(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        })
}

/// A linear or base-10 logarithmic value axis over [lo, hi].
#[derive(Clone, Debug, PartialEq)]
pub(in crate::report) struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
    /// Ticks at given positions with given labels (a swept axis's
    /// settings); `None`: round numbers.
    ticks: Option<Vec<(f64, String)>>,
}

impl Scale {
    /// The axis for `values`, padded by 5% of the span (on a log axis, of
    /// the span in decades): log scale when [`spans_decade`] says so, and
    /// never below 0 when `floor_zero` (losses, counts) on a linear axis.
    /// `None` when no value is finite.
    pub(in crate::report) fn fit(values: &[f64], floor_zero: bool) -> Option<Scale> {
        if spans_decade(values.iter().copied()) {
            let (lo, hi) = positive_extent(values.iter().copied());
            let pad = (hi / lo).powf(0.05);
            return Some(Scale::log(lo / pad, hi * pad));
        }
        let (lo, hi) = super::range(values.iter().copied())?;
        let lo = if floor_zero { lo.max(0.0) } else { lo };
        Some(Scale::linear(lo, hi))
    }

    /// A linear axis over [lo, hi].
    pub(in crate::report) fn linear(lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            log: false,
            ticks: None,
        }
    }

    /// A log axis over [lo, hi], both positive.
    pub(in crate::report) fn log(lo: f64, hi: f64) -> Scale {
        Scale {
            lo,
            hi,
            log: true,
            ticks: None,
        }
    }

    /// The same axis with ticks only at `ticks`, labelled as given.
    pub(in crate::report) fn with_ticks(self, ticks: Vec<(f64, String)>) -> Scale {
        Scale {
            ticks: Some(ticks),
            ..self
        }
    }

    /// The same axis with `share` of its span (in decades on a log axis)
    /// added at the top: room for the markers of seeds that did not finish.
    pub(in crate::report) fn headroom(self, share: f64) -> Scale {
        let hi = if self.log {
            self.hi * (self.hi / self.lo).powf(share)
        } else {
            self.hi + share * (self.hi - self.lo)
        };
        Scale { hi, ..self }
    }

    /// The highest value the axis shows: where markers of seeds without a
    /// value sit.
    pub(in crate::report) fn top(&self) -> f64 {
        self.hi
    }

    /// Whether the axis is logarithmic (captions say so).
    pub(in crate::report) fn is_log(&self) -> bool {
        self.log
    }

    /// The lowest value the axis shows: where bands and bars that reach
    /// 0 or below are cut on a log axis.
    pub(in crate::report) fn floor(&self) -> f64 {
        self.lo
    }

    /// An axis label with " (log scale)" appended when it is.
    pub(in crate::report) fn label(&self, text: &str) -> String {
        if self.log {
            format!("{text} (log scale)")
        } else {
            text.to_string()
        }
    }

    /// Where `v` sits from the bottom (0) to the top (1) of the axis,
    /// clamped: a colour map's position.
    pub(in crate::report) fn unit(&self, v: f64) -> f64 {
        self.position(v).clamp(0.0, 1.0)
    }

    /// Where `v` sits, as a share of the axis from lo (0) to hi (1); values
    /// a log axis cannot place (≤ 0) sit at its floor.
    fn position(&self, v: f64) -> f64 {
        if self.log {
            (v.max(self.lo).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

/// Ticks of a log axis over [lo, hi]: the powers of ten, with 2 and 5
/// times them when fewer than three decades leave room for more; at most
/// `max` ticks (every other decade, and so on, beyond that).
fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let (first, last) = (lo.log10().ceil() as i32, hi.log10().floor() as i32);
    let decades: Vec<i32> = (first..=last).collect();
    let mut ticks: Vec<f64> = Vec::new();
    if decades.len() < 3 {
        for e in lo.log10().floor() as i32..=last {
            for m in [1.0, 2.0, 5.0] {
                // Divide for negative exponents: 5 / 100 is the double
                // nearest 0.05, 5 · 0.01 is not.
                let v = if e >= 0 {
                    m * 10f64.powi(e)
                } else {
                    m / 10f64.powi(-e)
                };
                if v >= lo && v <= hi {
                    ticks.push(v);
                }
            }
        }
    }
    if ticks.is_empty() || ticks.len() > max.max(1) {
        let step = decades.len().div_ceil(max.max(1)).max(1);
        ticks = decades
            .iter()
            .step_by(step)
            .map(|&e| {
                if e >= 0 {
                    10f64.powi(e)
                } else {
                    1.0 / 10f64.powi(-e)
                }
            })
            .collect();
    }
    ticks
}

/// A tick label: the shortest of a few plain or scientific spellings,
/// 0.001, 0.05, 2, 100, 1e-5, 2e6.
pub(in crate::report) fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:e}");
        return match s.split_once('e') {
            Some((m, e)) => format!(
                "{}e{e}",
                trim(&format!("{:.2}", m.parse::<f64>().unwrap_or(0.0)))
            ),
            None => s,
        };
    }
    trim(&format!("{v:.4}"))
}

/// "0.2500" → "0.25", "2.0000" → "2".
fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        // Far outside the axis is drawn just outside it (plotters clips),
        // never as an overflowing pixel count.
        let t = self.position(*value).clamp(-1.0, 2.0);
        limit.0 + ((limit.1 - limit.0) as f64 * t + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if let Some(t) = &self.ticks {
            // Light grid lines ask too: give them none.
            return match hint.weight() {
                KeyPointWeight::Bold => t.iter().map(|(v, _)| *v).collect(),
                KeyPointWeight::Any if hint.max_num_points() >= t.len() => {
                    t.iter().map(|(v, _)| *v).collect()
                }
                KeyPointWeight::Any => Vec::new(),
            };
        }
        if self.log {
            log_ticks(self.lo, self.hi, hint.max_num_points())
        } else {
            RangedCoordf64::from(self.lo..self.hi).key_points(hint)
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format(value: &f64) -> String {
        tick(*value)
    }

    fn format_ext(&self, value: &f64) -> String {
        match &self.ticks {
            Some(t) => t
                .iter()
                .find(|(v, _)| v == value)
                .map(|(_, l)| l.clone())
                .unwrap_or_default(),
            None => tick(*value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches `>` turned `>=` (a span of exactly 10 is one decade, not
    /// more), zero or negative values counted (a loss of 0 would make
    /// every axis log), and NaN let through.
    #[test]
    fn log_scale_needs_more_than_a_decade_of_positive_values() {
        assert!(!spans_decade([0.1, 1.0]));
        assert!(spans_decade([0.1, 1.0000001]));
        assert!(!spans_decade([0.0, 0.5, 1.0]));
        assert!(!spans_decade([-5.0, 0.2, 1.0]));
        assert!(spans_decade([0.0, 0.01, 1.0]));
        assert!(!spans_decade([f64::NAN, f64::INFINITY, 0.5, 2.0]));
        assert!(!spans_decade([]));
        assert!(!spans_decade([3.0]));
    }

    /// The padding is 5% of the span in decades: over [0.01, 1] (two
    /// decades) that is 10^0.1 on each side. A linear fit never goes below
    /// zero for a loss. Catches a log fit padded additively (which would
    /// go negative) and `floor_zero` ignored.
    #[test]
    fn fit_pads_a_log_axis_by_a_factor() {
        let s = Scale::fit(&[0.01, 0.1, 1.0], true).unwrap();
        assert!(s.is_log());
        let f = 10f64.powf(0.1);
        assert!((s.lo - 0.01 / f).abs() < 1e-15 && (s.hi - f).abs() < 1e-12);
        let s = Scale::fit(&[0.0, 0.04], true).unwrap();
        assert!(!s.is_log() && s.lo == 0.0 && (s.hi - 0.042).abs() < 1e-15);
        let s = Scale::fit(&[0.0, 0.04], false).unwrap();
        assert!((s.lo + 0.002).abs() < 1e-15);
        assert_eq!(Scale::fit(&[f64::NAN], true), None);
    }

    /// Pixel positions on a log axis over [0.01, 100] of 100 pixels: each
    /// decade is 25 pixels (log10 by hand); a value ≤ 0 sits at the floor.
    #[test]
    fn a_log_axis_places_decades_evenly() {
        let s = Scale::log(0.01, 100.0);
        let px: Vec<i32> = [0.01, 0.1, 1.0, 10.0, 100.0, 0.0]
            .iter()
            .map(|v| s.map(v, (0, 100)))
            .collect();
        assert_eq!(px, [0, 25, 50, 75, 100, 0]);
        let lin = Scale::linear(0.0, 2.0);
        assert_eq!(lin.map(&0.5, (0, 100)), 25);
    }

    /// Ticks are powers of ten (with 2 and 5 under three decades), inside
    /// the axis, and at most as many as asked.
    #[test]
    fn log_ticks_are_round_numbers() {
        let t = log_ticks(0.03, 1.5, 10);
        assert_eq!(t, [0.05, 0.1, 0.2, 0.5, 1.0]);
        let t = log_ticks(1e-6, 2.0, 10);
        assert_eq!(t.len(), 7);
        assert!(
            t.iter()
                .zip([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
                .all(|(a, b)| (a / b - 1.0).abs() < 1e-12)
        );
        assert_eq!(log_ticks(1e-6, 2.0, 3).len(), 3);
    }

    #[test]
    fn tick_labels_are_short() {
        let got: Vec<String> = [0.0, 0.05, 0.2, 2.0, 100.0, 1e-5, 2e6, 0.001]
            .into_iter()
            .map(tick)
            .collect();
        assert_eq!(
            got,
            ["0", "0.05", "0.2", "2", "100", "1e-5", "2e6", "0.001"]
        );
    }
}
