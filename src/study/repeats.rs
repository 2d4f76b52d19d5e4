//! `[search] repeats = R`: R independent searches of the same space and
//! budget, repeat `r` drawn with search seed `seed + r` (everything else
//! equal), so the report can say how much the tuned result owes to the
//! search's own luck (Bouthillier et al. 2021).
//!
//! The repeats' points follow one another on the search axis, repeat 0
//! first: repeat 0 is exactly the search without `repeats`, so `repeats =
//! 1` (the default) keeps every id, and a point drawn by two repeats is
//! one configuration's trials twice over (the plan trains each id once).
//! With `[search.halving]` each repeat walks its own rungs over its own
//! configurations (`halving::rungs`), so its promotions are its own.

use super::arms::Arms;
use super::error::{KeyError, key_err};
use super::fields::Fields;

/// Read `repeats` from the `[search]` table of a random or Sobol search
/// with `arms` (blocks) and, if `reference`, a `[search.halving]
/// reference`, refusing the combinations it cannot run.
pub(super) fn parse(
    table: &Fields,
    arms: Option<&Arms>,
    reference: bool,
) -> Result<usize, KeyError> {
    let repeats = table.int("repeats")?;
    if repeats > 1 && arms.is_some() {
        return Err(key_err(
            "search.repeats",
            "blocks already split one random search into independent searches; \
             use repeats or blocks, not both",
        ));
    }
    if repeats > 1 && reference {
        return Err(key_err(
            "search.repeats",
            "repeats with [search.halving] reference is not supported: the verdict judges \
             one pick against the full grid, and each repeat makes its own; drop one of them",
        ));
    }
    if repeats > 1 && table.int("confirm")? > 0 {
        return Err(key_err(
            "search.repeats",
            "repeats with confirm is not supported yet: confirm retrains one winner, \
             and each repeat has its own; drop one of them",
        ));
    }
    Ok(repeats)
}

#[cfg(test)]
mod tests;
