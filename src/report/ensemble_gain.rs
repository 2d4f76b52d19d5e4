//! How much a configuration's ensemble of seeds beats its average member
//! (CS231n Part 3: "a few percent"), with a bootstrap over the seeds, for
//! `statistic = "ensemble_gain"` claims.
//!
//! - Each member is scored alone exactly as the ensemble is
//!   (`ensemble::ensemble` of one member: the same floor, the same
//!   argmax, from the same stored probabilities), so identical seeds give
//!   a gain of exactly 0. The stored `val_loss` comes from logits and
//!   agrees with it to f32 precision only.
//! - Gain, signed so that positive means the ensemble is better: for a
//!   loss, mean member loss − ensemble loss; for an accuracy, ensemble
//!   accuracy − mean member accuracy.
//! - Bootstrap: draw the configuration's n seeds n times with
//!   replacement, and recompute on the draw both the ensemble (a seed
//!   drawn twice weighs twice) and the mean member; the replicates give a
//!   percentile interval, a two-sided bootstrap p-value against 0
//!   (`stats::bootstrap_p_value`) and a standard error.
//!
//! The loss gain is never negative: cross-entropy and squared error are
//! convex in the prediction, so by Jensen's inequality the loss of the
//! mean prediction is at most the mean of the members' losses, with
//! equality only when the members agree on every example. Its size is the
//! finding; the accuracy gain can have either sign.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::ensemble::{Ensemble, ensemble, score};
use crate::data::Targets;
use crate::predictions::Predictions;
use crate::stats;

/// One configuration's ensemble gain and its bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gain {
    /// Seeds in the ensemble.
    pub seeds: usize,
    /// The mean over the seeds of each one's own loss (or accuracy).
    pub member: f64,
    /// The ensemble's loss (or accuracy).
    pub ensemble: f64,
    /// `member − ensemble` for a loss, `ensemble − member` for an
    /// accuracy: positive when the ensemble is better.
    pub gain: f64,
    /// Percentile bootstrap interval of the gain at the report's level.
    pub ci: Option<(f64, f64)>,
    /// Two-sided bootstrap p-value of the gain against 0, and whether the
    /// replicates lie above it (`None` when split evenly).
    pub test: Option<(f64, Option<bool>)>,
    /// Standard deviation of the bootstrap replicates.
    pub se: Option<f64>,
}

/// The ensemble's score, the mean member's, and `reps` bootstrap
/// replicates of the gain (see [`gain`]).
pub(crate) fn bootstrap(
    members: &[&Predictions],
    targets: &Targets,
    accuracy: bool,
    reps: usize,
    seed: u64,
) -> Option<(f64, f64, Vec<f64>)> {
    if members.len() < 2 {
        return None;
    }
    let value = |e: Ensemble| if accuracy { e.acc } else { Some(e.loss) };
    let own: Vec<f64> = members
        .iter()
        .map(|m| value(ensemble(&[*m], targets)?))
        .collect::<Option<_>>()?;
    let point = |weights: &[usize], sum: &mut Vec<f64>| -> Option<f64> {
        let n: usize = weights.iter().sum();
        sum.iter_mut().for_each(|s| *s = 0.0);
        let mut member = 0.0;
        for ((m, &w), s) in members.iter().zip(weights).zip(&own) {
            if w == 0 {
                continue;
            }
            let w = w as f64;
            for (a, v) in sum.iter_mut().zip(&m.values) {
                *a += w * f64::from(*v);
            }
            member += w * s;
        }
        sum.iter_mut().for_each(|s| *s /= n as f64);
        let ens = value(score(sum, members[0].outputs, targets)?)?;
        let member = member / n as f64;
        Some(if accuracy { ens - member } else { member - ens })
    };
    let k = members.len();
    let mut sum = vec![0.0; members[0].values.len()];
    if members.iter().any(|m| m.values.len() != sum.len()) {
        return None;
    }
    let ens = value(ensemble(members, targets)?)?;
    let member = stats::mean(&own);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut weights = vec![0usize; k];
    let mut replicates = Vec::with_capacity(reps);
    for _ in 0..reps {
        stats::counts_into(&mut rng, &mut weights);
        replicates.extend(point(&weights, &mut sum));
    }
    Some((ens, member, replicates))
}

/// The gain of `members`' ensemble on `targets`, scored on the accuracy
/// when `accuracy`, else on the loss; `reps` bootstrap resamples from a
/// ChaCha8 stream seeded with `seed`. `None` with fewer than two members,
/// shapes that disagree, or an accuracy asked of a regression.
pub fn gain(
    members: &[&Predictions],
    targets: &Targets,
    accuracy: bool,
    reps: usize,
    level: f64,
    seed: u64,
) -> Option<Gain> {
    let (ens, member, replicates) = bootstrap(members, targets, accuracy, reps, seed)?;
    Some(Gain {
        seeds: members.len(),
        member,
        ensemble: ens,
        gain: if accuracy { ens - member } else { member - ens },
        ci: stats::percentile_interval(&replicates, level),
        test: stats::bootstrap_p_value(&replicates, 0.0),
        se: stats::std(&replicates),
    })
}

#[cfg(test)]
mod tests;
