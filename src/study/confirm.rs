//! `[search] confirm = k`: after the search picks its winner, the winner is
//! retrained on k fresh seeds, never used for selection, so the report can
//! measure the winner's curse (DESIGN.md, "Tuning curves and the luck of a
//! search"). Only the settings and their rules are here; the phase itself is
//! `schedule/confirm.rs`, the section `report/confirm.rs`.
//!
//! The fresh seeds are the seed numbers right after the study's largest
//! seed (with `seeds = n`: n..n+k−1), so a fresh trial's id is exactly the
//! id the same configuration gets with more seeds. The plan holds them for
//! every configuration (as `[settle]`'s extra seeds), so a folder whose
//! winner was confirmed is still this study's; only the winner's are trained.

use super::Study;
use super::error::{KeyError, key_err};
use super::replicates::Replication;

/// Most fresh seeds `confirm` may ask for: more is a study of its own.
pub const MAX_CONFIRM: usize = 100;

impl Study {
    /// `[search] confirm`: fresh seeds for the winner (0 without a search).
    pub fn confirm(&self) -> usize {
        self.search.as_ref().map_or(0, |s| s.confirm)
    }

    /// The fresh seeds: the next seed numbers after the study's largest.
    pub fn confirm_seeds(&self) -> Vec<u64> {
        let Replication::Seeds(seeds) = &self.replication else {
            return Vec::new();
        };
        let next = seeds.iter().copied().max().map_or(0, |m| m + 1);
        (next..).take(self.confirm()).collect()
    }

    /// Seeds each configuration is selected on (the study's own).
    pub fn selection_seeds(&self) -> usize {
        self.replication.len()
    }
}

/// The rules that tie `confirm` to the rest of the study: it adds seeds,
/// so it needs `seeds`; halving's rungs and `[settle]`'s rounds add trials
/// of their own, which this phase does not combine with (yet).
pub(super) fn check(study: &Study) -> Result<(), KeyError> {
    if study.confirm() == 0 {
        return Ok(());
    }
    let why = if !matches!(study.replication, Replication::Seeds(_)) {
        Some("adds fresh seeds to the winner, so it needs `seeds`, not a [replicates] table")
    } else if study.halving.is_some() {
        Some(
            "cannot be combined with [search.halving] yet (the winner of the last rung would be \
             retrained at full budget; not built)",
        )
    } else if study.settle.is_some() {
        Some("cannot be combined with [settle] (both add seeds after the study's own)")
    } else {
        None
    };
    why.map_or(Ok(()), |m| Err(key_err("search.confirm", m)))
}
