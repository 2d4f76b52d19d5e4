//! What more seeds would do for an inconclusive slice. A slice's judge
//! records the observed [`Effect`]; once the whole study's family of
//! slice tests is known (`claims::adjust`), [`settle`] says which case
//! applies ([`SeedsNeeded`]):
//!
//! - the effect points against the claim: more seeds would most likely
//!   make it fail, so no count is given;
//! - otherwise about n seeds per configuration at power 0.8, the normal
//!   approximation n = (z_{1−α'/2} + z_{0.8})²·var/δ², at α' = α/m for
//!   the m slice tests of the family: the first and strictest step of
//!   Holm, which the slice may need (conservative: a slice adjusted later
//!   in the order needs less);
//! - when that n is at or below the seeds already run, the slice already
//!   had the seeds the approximation asks for and still did not settle
//!   (its own test, over every setting or a bootstrap, is not the z-test
//!   the count assumes), so more seeds at this effect size would not be
//!   expected to settle it; no count at or below the seeds run is printed.

use super::{Outcome, Test, effect_sample};
use crate::stats;
use crate::study::Statistic;

/// What more seeds would do for an inconclusive slice (see the module
/// docs). `None` in a [`super::SliceVerdict`] means the effect is zero or
/// undefined, or the slice is not inconclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedsNeeded {
    /// About this many seeds per configuration would settle it (more than
    /// were run), at the claim's α over the Holm family, power 0.8.
    About(usize),
    /// The observed effect points the other way: more seeds would most
    /// likely make the slice fail.
    OtherWay,
    /// The count comes out at or below the `run` seeds already run: more
    /// seeds at this effect size would not be expected to settle it.
    NotBySeeds {
        /// Seeds (trials per group) the slice already had.
        run: usize,
    },
}

/// An observed effect and its per-seed variance: δ estimated from n seeds
/// with variance `var`/n.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    /// The observed effect δ.
    pub delta: f64,
    /// n × the variance of its estimate: s_A² + s_B² for two samples,
    /// n·se² for one bootstrapped estimate.
    pub var: f64,
    /// Seeds already run: the smaller of the two samples.
    pub run: usize,
    /// Whether the slice's test includes a two-sample permutation test,
    /// whose smallest p with n seeds a group is 2/C(2n, n): no count below
    /// the n at which that floor reaches the level can settle it.
    pub permuted: bool,
}

impl Effect {
    /// The effect from sample `a` to sample `b` of a statistic: for spread
    /// statistics the difference of the Brown–Forsythe variable |x −
    /// median|, else of the values. `None` when either sample has fewer
    /// than two values.
    pub(crate) fn between(statistic: Statistic, a: &[f64], b: &[f64]) -> Option<Effect> {
        let (a, b) = (effect_sample(statistic, a), effect_sample(statistic, b));
        let var = stats::std(&a)?.powi(2) + stats::std(&b)?.powi(2);
        Some(Effect {
            delta: stats::mean(&b) - stats::mean(&a),
            var,
            run: a.len().min(b.len()),
            permuted: false,
        })
    }

    /// One estimate `delta` from `n` seeds with bootstrap standard error `se`.
    pub(crate) fn from_se(delta: f64, se: f64, n: usize) -> Effect {
        Effect {
            delta,
            var: n as f64 * se * se,
            run: n,
            permuted: false,
        }
    }
}

/// Which [`SeedsNeeded`] case applies to a slice with this outcome, test
/// and effect, for a claim at `alpha` in a family of `family` slice tests.
pub(crate) fn settle(
    outcome: Outcome,
    test: Option<Test>,
    effect: Option<Effect>,
    alpha: f64,
    family: usize,
) -> Option<SeedsNeeded> {
    if outcome != Outcome::Inconclusive {
        return None;
    }
    // A test without a direction (p = 1, an effect of exactly 0) points
    // no way at all.
    let against = test.is_some_and(|t| !t.expected && t.p < 1.0);
    if against && effect.is_none_or(|e| e.delta != 0.0) {
        return Some(SeedsNeeded::OtherWay);
    }
    let e = effect?;
    let level = alpha / family.max(1) as f64;
    let mut n = stats::seeds_needed_from_variance(e.delta, e.var, level)?;
    if e.permuted {
        n = n.max(permutation_floor(level));
    }
    Some(if n <= e.run {
        SeedsNeeded::NotBySeeds { run: e.run }
    } else {
        SeedsNeeded::About(n)
    })
}

/// The fewest seeds a group at which a two-sided permutation test of two
/// groups of n can reach `level`: its smallest p is 2/C(2n, n) (one of the
/// C(2n, n) ways to deal the pooled values is the observed split, and its
/// mirror image is as extreme).
fn permutation_floor(level: f64) -> usize {
    let mut n = 1;
    // C(2n, n), updated as C(2n+2, n+1) = C(2n, n)·(2n+1)(2n+2)/(n+1)².
    let mut ways = 2.0;
    while 2.0 / ways > level && n < 1_000 {
        ways *= ((2 * n + 1) * (2 * n + 2)) as f64 / ((n + 1) * (n + 1)) as f64;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// By hand: C(6, 3) = 20, C(8, 4) = 70, C(10, 5) = 252, so the
    /// smallest two-sided p is 0.1, 0.0286 and 0.0079 at 3, 4 and 5 seeds.
    #[test]
    fn a_permutation_test_needs_enough_seeds_to_reach_its_level() {
        assert_eq!(permutation_floor(0.05), 4);
        assert_eq!(permutation_floor(0.05 / 4.0), 5);
        assert_eq!(permutation_floor(0.1), 3);
        let e = Effect {
            delta: 1.0,
            var: 0.01,
            run: 4,
            permuted: true,
        };
        let inc = Outcome::Inconclusive;
        let t = Some(Test {
            p: 0.03,
            expected: true,
        });
        // A large effect asks for 2 seeds; the permutation floor for four
        // slices at 0.05 is 5, so 4 seeds run cannot have settled it.
        assert_eq!(
            settle(inc, t, Some(e), 0.05, 4),
            Some(SeedsNeeded::About(5))
        );
        let plain = Effect {
            permuted: false,
            ..e
        };
        assert_eq!(
            settle(inc, t, Some(plain), 0.05, 4),
            Some(SeedsNeeded::NotBySeeds { run: 4 })
        );
    }

    fn test(expected: bool) -> Option<Test> {
        Some(Test { p: 0.2, expected })
    }

    /// Numbers from Python 3.11's `statistics.NormalDist().inv_cdf`:
    /// (z_{1−a/2} + z_{0.8})² = 7.848879734349086 at a = 0.05 and
    /// 13.31268332301194 at a = 0.05/10 (z_{0.9975} = 2.8070337683438114).
    /// δ = 1, var = 2: 15.70 → 16 seeds alone; 26.63 → 27 in a family of
    /// 10. Catches the Holm family ignored (16), α multiplied by m, the
    /// direction ignored, and a count at or below the seeds run printed.
    #[test]
    fn the_count_accounts_for_the_family_direction_and_the_seeds_run() {
        let e = |run| {
            Some(Effect {
                delta: 1.0,
                var: 2.0,
                run,
                permuted: false,
            })
        };
        let inc = Outcome::Inconclusive;
        assert_eq!(
            settle(inc, test(true), e(5), 0.05, 1),
            Some(SeedsNeeded::About(16))
        );
        assert_eq!(
            settle(inc, test(true), e(5), 0.05, 10),
            Some(SeedsNeeded::About(27))
        );
        assert_eq!(
            settle(inc, test(false), e(5), 0.05, 1),
            Some(SeedsNeeded::OtherWay)
        );
        let flat = Some(Test {
            p: 1.0,
            expected: false,
        });
        assert_eq!(
            settle(inc, flat, e(5), 0.05, 1),
            Some(SeedsNeeded::About(16))
        );
        assert_eq!(
            settle(inc, test(true), e(16), 0.05, 1),
            Some(SeedsNeeded::NotBySeeds { run: 16 })
        );
        assert_eq!(
            settle(inc, test(true), e(15), 0.05, 1),
            Some(SeedsNeeded::About(16))
        );
        assert_eq!(settle(Outcome::Holds, test(true), e(5), 0.05, 1), None);
        let zero = Some(Effect {
            delta: 0.0,
            var: 2.0,
            run: 5,
            permuted: false,
        });
        assert_eq!(settle(inc, test(true), zero, 0.05, 1), None);
        assert_eq!(settle(inc, None, None, 0.05, 1), None);
    }

    /// The effect of two samples is the difference of their means with
    /// the sum of their variances (ddof 1), and a standard error from n
    /// seeds is n·se². Catches the sign of δ flipped (harmless to the
    /// count, not to claims.json) and a variance of the mean used.
    #[test]
    fn effects_from_samples_and_from_a_standard_error() {
        let e = Effect::between(Statistic::Mean, &[1.0, 3.0], &[4.0, 6.0, 8.0]).unwrap();
        assert_eq!((e.delta, e.var, e.run), (4.0, 6.0, 2));
        assert_eq!(Effect::between(Statistic::Mean, &[1.0], &[4.0, 6.0]), None);
        let e = Effect::from_se(0.02, 0.01, 10);
        assert!((e.var - 1e-3).abs() < 1e-15, "{}", e.var);
    }
}
