//! `statistic = "probability_of_outperforming"` and its `gamma`
//! (Bouthillier et al. 2021): a comparison of two groups run by run, whose
//! win must be meaningful (above γ) as well as significant.

use super::{Claim, Expect, KeyError, Statistic, key_err};
use crate::study::keys::Val;

/// Bouthillier et al. (2021)'s threshold for a meaningful win: A beats B
/// in more than 75% of paired runs.
pub const DEFAULT_GAMMA: f64 = 0.75;

impl Claim<'_> {
    /// `gamma`, for `probability_of_outperforming` only (which compares
    /// two groups, so takes no `along`): a share in (0.5, 1), 0.75 when
    /// not given.
    pub(super) fn gamma(&self, statistic: Statistic, trend: bool) -> Result<f64, KeyError> {
        let outperforming = statistic == Statistic::ProbabilityOfOutperforming;
        if outperforming && trend {
            return Err(key_err(
                self.at("statistic"),
                "probability_of_outperforming compares two groups run by run (the same seed); \
                 it needs expect = \"less_than\", \"greater_than\" or \"differs\" with `this` and `than`",
            ));
        }
        match self.t.get("gamma")? {
            None => Ok(DEFAULT_GAMMA),
            Some(_) if !outperforming => Err(key_err(
                self.at("gamma"),
                "gamma is the share a meaningful win must exceed; only statistic = \
                 \"probability_of_outperforming\" takes it",
            )),
            Some(Val::Float(x)) => Ok(x),
            Some(other) => panic!("gamma: expected a number, got {other:?}"),
        }
    }

    /// A probability_of_outperforming claim between a search's arms
    /// (`report/claims/arms.rs`): one side (random below or above the
    /// grid), and no `tune`.
    pub(super) fn check_arms_pair(&self, expect: Expect) -> Result<(), KeyError> {
        let one_sided = matches!(expect, Expect::LessThan | Expect::GreaterThan);
        if one_sided && !self.t.given("tune") {
            return Ok(());
        }
        Err(key_err(
            self.at(if one_sided { "tune" } else { "expect" }),
            "probability_of_outperforming without this and than, in a study with blocks and \
             grid, compares the random blocks' winners with the grid's: it takes expect = \
             \"less_than\" or \"greater_than\" (random below or above the grid) and no tune",
        ))
    }
}
