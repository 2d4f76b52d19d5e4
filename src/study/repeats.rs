//! `[search] repeats = R`: R independent searches of the same space and
//! budget, repeat `r` drawn with search seed `seed + r` (everything else
//! equal), so the report can say how much the tuned result owes to the
//! search's own luck (Bouthillier et al. 2021).
//!
//! The repeats' points follow one another on the search axis, repeat 0
//! first: repeat 0 is exactly the search without `repeats`, so `repeats =
//! 1` (the default) keeps every id, and a point drawn by two repeats is
//! one configuration's trials twice over (the plan trains each id once).

use super::arms::Arms;
use super::error::{KeyError, key_err};
use super::fields::Fields;

/// Read `repeats` from the `[search]` table of a random or Sobol search
/// with `arms` (blocks), refusing the combinations it cannot run.
pub(super) fn parse(table: &Fields, arms: Option<&Arms>) -> Result<usize, KeyError> {
    let repeats = table.int("repeats")?;
    if repeats > 1 && arms.is_some() {
        return Err(key_err(
            "search.repeats",
            "blocks already split one random search into independent searches; \
             use repeats or blocks, not both",
        ));
    }
    if repeats > 1 && table.given("halving") {
        return Err(key_err(
            "search.repeats",
            "repeats with [search.halving] is not supported: each repeat would need its \
             own promotions; drop repeats, or run one study per search seed",
        ));
    }
    Ok(repeats)
}

#[cfg(test)]
mod tests;
