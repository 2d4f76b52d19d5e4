//! `probability_of_outperforming` comparisons (Bouthillier et al. 2021):
//! P(A > B), the share of paired runs in which `this` (A) beats `than` (B)
//! — the same seed and the same settings of every key the groups do not
//! name, ties counted half — with a paired bootstrap interval at 1 − α.
//!
//! The slice's test is an intersection–union of two: P significantly on
//! the expected side of ½ (the bootstrap p-value against ½), and
//! meaningful, beyond γ (one-sided: 2·the share of replicates at or below
//! γ, for a win expected of `this`; at or above 1 − γ for one expected of
//! `than`). It holds at the larger p (so, with percentile intervals, when
//! the 1 − α interval lies above γ), fails only when P is significantly on
//! the wrong side of ½, and a win that is significant but not beyond γ is
//! inconclusive, the evidence says so.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::compare::{replicate_test, want};
use super::{Effect, Estimate, Row, Test, label, seed};
use crate::report::percent;
use crate::stats;
use crate::study::{ClaimSpec, ReportSpec, Setting};

/// The paired values (this, than): rows paired by replicate and by their
/// settings of every swept key neither group names; rows without a value
/// (diverged, failed) or without a partner are left out, and counted.
fn pairs(claim: &ClaimSpec, a: &[&Row], b: &[&Row]) -> (Vec<(f64, f64)>, usize) {
    let named = |k: &str| claim.this.iter().chain(&claim.than).any(|(n, _)| n == k);
    let key = |r: &Row| {
        let rest: Vec<(String, Setting)> =
            r.swept.iter().filter(|(k, _)| !named(k)).cloned().collect();
        (label(&rest), r.replicate)
    };
    let partners: HashMap<(String, usize), f64> =
        b.iter().filter_map(|r| Some((key(r), r.value?))).collect();
    let paired: Vec<(f64, f64)> = a
        .iter()
        .filter_map(|r| Some((r.value?, *partners.get(&key(r))?)))
        .collect();
    let unpaired = a.len() + b.len() - 2 * paired.len();
    (paired, unpaired)
}

/// What judging a slice yields: its test, estimate, evidence and the
/// effect more seeds are counted from.
type Judged = (Option<Test>, Option<Estimate>, Vec<String>, Option<Effect>);

/// Judge one slice (see the module docs). The effect for the seeds that
/// would settle it is the winner's share beyond γ with the replicates'
/// standard error: the γ test is the one a real win still has to pass;
/// none when the estimate is not beyond γ (more seeds would not make the
/// win meaningful).
pub(super) fn outperforming(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    (la, lb): (&str, &str),
    (a, b): (&[&Row], &[&Row]),
) -> Judged {
    let higher = claim.metric.higher_is_better();
    let (mut paired, unpaired) = pairs(claim, a, b);
    if higher {
        // probability_of_outperforming counts x < y as x winning.
        paired.iter_mut().for_each(|p| *p = (p.1, p.0));
    }
    let Some(q) = stats::probability_of_outperforming(&paired) else {
        return (
            None,
            None,
            vec!["no paired runs (the same seed) in both groups".into()],
            None,
        );
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed(claim, slice, "outperforming"));
    let reps = stats::probability_of_outperforming_replicates(&paired, spec.bootstrap, &mut rng);
    // `this` beating `than` is the expected side for less_than on a loss
    // or greater_than on an accuracy.
    let beating = want(claim).map(|w| if (w > 0.0) == higher { 1.0 } else { -1.0 });
    let half = replicate_test(&reps, 0.5, beating);
    // Whose win must be meaningful: the expected winner, or for `differs`
    // the one the estimate favours.
    let this_wins = beating.map_or(q >= 0.5, |b| b > 0.0);
    let test = half.map(|h| meaningful(h, &reps, claim.gamma, this_wins));
    let interval = stats::percentile_interval(&reps, 1.0 - claim.alpha);
    let dir = if higher { "higher" } else { "lower" };
    let mut text = format!(
        "{la} beats {lb} ({dir} {}) in {:.0}% of {} paired runs",
        claim.metric,
        100.0 * q,
        paired.len()
    );
    if let Some((lo, hi)) = interval {
        text.push_str(&format!(
            " [{:.0}%, {:.0}%] ({} paired bootstrap interval, 1 − α)",
            100.0 * lo,
            100.0 * hi,
            percent(1.0 - claim.alpha)
        ));
    }
    let (winner, bar) = if this_wins {
        (la, claim.gamma)
    } else {
        (lb, 1.0 - claim.gamma)
    };
    text.push_str(&format!(
        "; a meaningful win for {winner} needs the interval {} {:.0}% (γ = {})",
        if this_wins { "above" } else { "below" },
        100.0 * bar,
        claim.gamma
    ));
    let beyond = if this_wins { q } else { 1.0 - q } - claim.gamma;
    let effect = stats::std(&reps)
        .filter(|_| beyond > 0.0)
        .map(|se| Effect::from_se(beyond, se, paired.len()));
    if beyond <= 0.0 {
        text.push_str("; the estimate itself is not beyond γ, so more seeds would not make it a meaningful win");
    }
    if unpaired > 0 {
        text.push_str(&format!(
            "; {unpaired} runs without a finished partner left out"
        ));
    }
    let estimate = Estimate {
        kind: "probability_of_outperforming",
        value: q,
        interval,
    };
    (test, Some(estimate), vec![text], effect)
}

/// The slice's test from the test against ½: unchanged when it points
/// against the claim (it may fail), else at the larger of its p and the
/// one-sided p of the win being beyond γ.
pub(super) fn meaningful(half: Test, reps: &[f64], gamma: f64, this_wins: bool) -> Test {
    if !half.expected {
        return half;
    }
    let short = if this_wins {
        reps.iter().filter(|r| **r <= gamma).count()
    } else {
        reps.iter().filter(|r| **r >= 1.0 - gamma).count()
    };
    let n = reps.len() as f64;
    let p = (2.0 * short as f64 / n).clamp(1.0 / n, 1.0);
    Test {
        p: half.p.max(p),
        expected: true,
    }
}

#[cfg(test)]
mod tests;
