//! Runs that broke without a NaN: the `collapsed` and `unstable` flags.
//!
//! A diverged trial is a status (its loss became NaN or infinite); these
//! two are flags on a trial that *finished*, for the runs a reader would
//! otherwise take for results: a net that ends at chance with most of its
//! ReLUs dead, or one that reached a low loss and then climbed far above
//! it. Both trials still count in every statistic; the tables say how many
//! of each configuration's seeds carry each flag, figures mark them, and
//! `collapsed_fraction` / `unstable_fraction` claims test where they occur.
//!
//! - **collapsed**: training made no progress. The final train loss is not
//!   at least [`PROGRESS`] (5%) below the initial loss (the loss before the
//!   first update), or, for classification with K classes, it is at or
//!   above [`CHANCE_SHARE`] of chance, ln K (a net predicting the uniform
//!   distribution scores exactly ln K; 1% below it is still chance within
//!   float and label-balance noise).
//! - **unstable**: the run got much worse after its best. With `best` the
//!   lowest train loss of any full evaluation the stored curve holds
//!   (every `eval_every` epochs, and the final one), the final train loss
//!   is above `best + max(stuck_delta, best)`: more than double its best
//!   and more than `[report] stuck_delta` above it, so a run that wobbles
//!   near zero is not flagged.

use crate::train::{Metrics, TrialRecord};

/// Relative improvement over the initial loss below which a run counts as
/// having made no progress.
pub const PROGRESS: f64 = 0.05;

/// Share of ln K at and above which a classification run counts as at
/// chance.
pub const CHANCE_SHARE: f64 = 0.99;

/// The flags of one finished trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// No progress: see the module doc.
    pub collapsed: bool,
    /// Much worse at the end than at its best: see the module doc.
    pub unstable: bool,
}

/// The flags of a trial whose final metrics are `m`; `classes` is K for a
/// classification task (`None` for regression), `stuck_delta` the
/// `[report]` threshold.
pub fn flags(r: &TrialRecord, m: &Metrics, classes: Option<usize>, stuck_delta: f64) -> Flags {
    Flags {
        collapsed: collapsed(m.train_loss, r.initial.map(|i| i.train_loss), classes),
        unstable: unstable(
            r.curve.iter().filter_map(|p| p.eval.map(|e| e.train_loss)),
            m.train_loss,
            stuck_delta,
        ),
    }
}

/// Whether a final train loss `last` shows no progress from `initial`, or
/// sits at chance for `classes` classes.
pub fn collapsed(last: f64, initial: Option<f64>, classes: Option<usize>) -> bool {
    let no_progress = initial.is_some_and(|i| last >= (1.0 - PROGRESS) * i);
    let at_chance = classes
        .filter(|k| *k >= 2)
        .is_some_and(|k| last >= CHANCE_SHARE * (k as f64).ln());
    no_progress || at_chance
}

/// Whether the final train loss `last` is far above the lowest of the
/// curve's evaluated train losses `curve` (see the module doc).
pub fn unstable(curve: impl IntoIterator<Item = f64>, last: f64, stuck_delta: f64) -> bool {
    let best = curve
        .into_iter()
        .chain(std::iter::once(last))
        .filter(|l| l.is_finite())
        .fold(f64::INFINITY, f64::min);
    best.is_finite() && last > best + stuck_delta.max(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ln 2 = 0.693147…, so 99% of it is 0.686216; ln 3 = 1.098612.
    #[test]
    fn collapsed_at_chance_or_without_progress() {
        // A moons net ending at ln 2 after starting at 0.70: both rules.
        assert!(collapsed(std::f64::consts::LN_2, Some(0.70), Some(2)));
        // 0.69 is above 0.99·ln 2 = 0.6862 though 10% below its start.
        assert!(collapsed(0.69, Some(0.80), Some(2)));
        // 0.68 is below 0.6862 and 15% below 0.80: progress.
        assert!(!collapsed(0.68, Some(0.80), Some(2)));
        // 4% below the start is not the 5% required (0.95 · 1.0 = 0.95).
        assert!(collapsed(0.96, Some(1.0), None));
        assert!(!collapsed(0.94, Some(1.0), None));
        // Three classes: chance is ln 3, so 1.0 < 1.0876 is not chance.
        assert!(!collapsed(1.0, Some(2.0), Some(3)));
        assert!(collapsed(1.09, Some(2.0), Some(3)));
        // No initial loss stored: only chance can flag it.
        assert!(!collapsed(0.5, None, Some(2)));
        assert!(!collapsed(5.0, None, None));
    }

    #[test]
    fn unstable_when_far_above_its_best() {
        // Best 0.05, δ = 0.1: the bar is 0.05 + max(0.1, 0.05) = 0.15.
        assert!(unstable([0.5, 0.05, 0.3], 0.16, 0.1));
        assert!(!unstable([0.5, 0.05, 0.3], 0.14, 0.1));
        // Best 0.4: the bar is 0.4 + max(0.1, 0.4) = 0.8 (double the best).
        assert!(!unstable([0.9, 0.4], 0.79, 0.1));
        assert!(unstable([0.9, 0.4], 0.81, 0.1));
        // The final value is its own best: never unstable; NaNs are skipped.
        assert!(!unstable([f64::NAN], 3.0, 0.1));
        assert!(!unstable(Vec::<f64>::new(), 3.0, 0.1));
    }
}
