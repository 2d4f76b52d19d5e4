//! `[search] blocks` and `[search] grid`: a random search read as several
//! independent searches, and the grid of the same budget over the same
//! `[space]` that they are compared with — the two arms of Bergstra &
//! Bengio's random-versus-grid question, judged by `statistic =
//! "best_of_block"` claims (`report/claims/blocks.rs`).
//!
//! Random point `i` has a generator of its own (`streams::search_rng`), so
//! the points of block `b`, draws `b·B .. (b+1)·B − 1` with `B = samples /
//! blocks`, are a random search of `B` points independent of every other
//! block's. Sobol points are not independent (a block of a Sobol sequence
//! is no Sobol search), so blocks need `strategy = "random"`.
//!
//! The grid takes `grid` levels per `[space]` key, at the middles of `grid`
//! equally likely bins of the key's distribution (`u = (j + ½)/grid`, so
//! log keys get log-spaced levels), first key outermost: the evenly spread
//! grid a user would write over that space. Its `grid^keys` points must
//! equal one block's `B` draws (equal budgets) and follow the draws on the
//! search axis. Without `grid` the axis is exactly the draws, so studies
//! without these keys keep every id.

use toml::Value;

use super::error::{KeyError, key_err};
use super::fields::Fields;
use super::search::{Dist, Strategy};
use super::values::{same_value, show};

/// The blocks of a random search and the grid they are compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Arms {
    /// Independent searches the draws are split into.
    pub blocks: usize,
    /// Draws per block (`samples / blocks`): each search's budget.
    pub per_block: usize,
    /// Levels per `[space]` key of the comparison grid, if any.
    pub grid: Option<usize>,
}

/// Which arm a point of the search axis belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    /// Block `b` of the random draws.
    Block(usize),
    /// The comparison grid.
    Grid,
}

impl Arms {
    /// The arm of position `i` on the search axis (draws first, then the grid).
    pub fn arm(&self, i: usize) -> Arm {
        if i < self.blocks * self.per_block {
            Arm::Block(i / self.per_block)
        } else {
            Arm::Grid
        }
    }

    /// The grid's points, first key outermost, or none without a grid.
    pub fn grid_points(&self, space: &[(String, Dist)]) -> Vec<Vec<Value>> {
        let Some(k) = self.grid else {
            return Vec::new();
        };
        let levels: Vec<Vec<Value>> = space.iter().map(|(_, d)| levels(d, k)).collect();
        let n = k.pow(space.len() as u32);
        (0..n)
            .map(|mut i| {
                let mut digits = vec![0; space.len()];
                for d in digits.iter_mut().rev() {
                    *d = i % k;
                    i /= k;
                }
                digits
                    .iter()
                    .zip(&levels)
                    .map(|(&j, l)| l[j].clone())
                    .collect()
            })
            .collect()
    }
}

/// The `k` grid levels of a distribution: its values at the middles of
/// `k` equally likely bins.
pub fn levels(dist: &Dist, k: usize) -> Vec<Value> {
    (0..k)
        .map(|j| dist.value((j as f64 + 0.5) / k as f64))
        .collect()
}

/// Read `blocks` and `grid` from the `[search]` table, given the search's
/// strategy, samples and space (with each key's path, for errors).
pub(super) fn parse(
    table: &Fields,
    strategy: Strategy,
    samples: usize,
    space: &[(String, Dist)],
    paths: &[String],
) -> Result<Option<Arms>, KeyError> {
    // `grid` without `blocks` was refused by its row.
    if !table.given("blocks") {
        return Ok(None);
    }
    if strategy != Strategy::Random {
        return Err(key_err(
            "search.blocks",
            "blocks split a random search into independent searches; Sobol points are not \
             independent (a block of a Sobol sequence is not a Sobol search): use strategy = \"random\"",
        ));
    }
    let blocks = table
        .int_to("blocks", samples, "")?
        .expect("blocks is given");
    if !samples.is_multiple_of(blocks) {
        return Err(key_err(
            "search.blocks",
            format!(
                "samples = {samples} does not split into {blocks} blocks of equal size: \
                 samples must be a multiple of blocks"
            ),
        ));
    }
    let per_block = samples / blocks;
    let grid = match table.get("grid")? {
        None => None,
        Some(_) => Some(grid_levels(table.int("grid")?, per_block, space, paths)?),
    };
    Ok(Some(Arms {
        blocks,
        per_block,
        grid,
    }))
}

/// `grid` (at least 2 levels, the row's range): `levels^keys` equal to a
/// block's draws, and `levels` distinct values for every key.
fn grid_levels(
    k: usize,
    per_block: usize,
    space: &[(String, Dist)],
    paths: &[String],
) -> Result<usize, KeyError> {
    let points = (k as u128).checked_pow(space.len() as u32);
    if points != Some(per_block as u128) {
        let shown = points.map_or_else(|| "too many".to_string(), |p| p.to_string());
        return Err(key_err(
            "search.grid",
            format!(
                "a grid of {k} levels over {} [space] keys has {shown} points, but each block \
                 draws {per_block}: equal budgets need samples = blocks × {shown}",
                space.len()
            ),
        ));
    }
    for ((_, dist), path) in space.iter().zip(paths) {
        let l = levels(dist, k);
        if (1..l.len()).any(|i| l[..i].iter().any(|y| same_value(&l[i], y))) {
            return Err(key_err(
                path,
                format!(
                    "{} has fewer than {k} distinct grid levels ({}); widen it or lower search.grid",
                    dist.describe(),
                    l.iter().map(show).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(k)
}

/// A `best_of_block` claim's shape: the study has blocks and a grid
/// (`grid_arm`), the claim is a comparison (not `trend`), and sets none
/// of the keys `given` as (name, present). The error names the claim's
/// key at fault.
pub(super) fn check_claim(
    grid_arm: bool,
    trend: bool,
    given: &[(&'static str, bool)],
) -> Result<(), (&'static str, &'static str)> {
    if !grid_arm {
        return Err((
            "statistic",
            "best_of_block compares the blocks of a random search with a grid of the same \
             budget: it needs [search] strategy = \"random\" with blocks and grid",
        ));
    }
    if trend {
        return Err((
            "expect",
            "best_of_block compares the random blocks with the grid: use expect = \
             \"less_than\" or \"greater_than\" (random below or above the grid)",
        ));
    }
    match given.iter().find(|(_, present)| *present) {
        Some((k, _)) => Err((
            k,
            "a best_of_block claim's groups are the random blocks (this) and the grid \
             (than); it takes no this, than, along or tune",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
