//! `probability_of_outperforming` between a search's arms (Bouthillier et
//! al. 2021's P(A > B) between tuned pipelines): in a study with `[search]
//! blocks` and `grid`, a claim of that statistic without `this`, `than` or
//! `along` compares the random arm (A, `this`) with the grid (B, `than`).
//!
//! A pipeline's run is a search and its winner: each block is one run of
//! the random search, the grid one run of the grid search, and a run's
//! tuned result on seed s is its winner's value on s (the winner found by
//! its seed median over every seed, as the search report ranks). Pairs are
//! (block b's winner on seed s, the grid's winner on seed s) over every
//! block and seed, paired by seed as `best_of_block` pairs its arms (seed s
//! gives every configuration the same streams); P(A > B) is the share of
//! pairs the block's winner wins, ties half.
//!
//! Interval: a percentile bootstrap at 1 − α (as `probability_of_
//! outperforming` between configurations), each replicate resampling the
//! seeds once for the slice and the blocks, redoing every winner on the
//! resampled seeds (selection included, in both arms alike), then the
//! share over the resampled blocks × seeds. The test is the one between
//! configurations (`claims/outperforming.rs`): significantly above ½ and
//! beyond γ.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::blocks::{Config, bests, configs, inconclusive};
use super::compare::{replicate_test, want};
use super::outperforming::meaningful;
use super::{Estimate, Row, SliceVerdict, seed};
use crate::report::percent;
use crate::stats;
use crate::study::{Arm, ClaimSpec, ReportSpec};

/// Each block's winner and the grid's, as configuration positions in
/// `configs`, judged by the median over the replicate indices `seeds`
/// (with repeats, for a bootstrap replicate): blocks in block order.
fn winners(configs: &[Config], seeds: &[usize], higher: bool) -> (Vec<usize>, Option<usize>) {
    let better = |a: f64, b: f64| if higher { a > b } else { a < b };
    let mut blocks: Vec<(usize, usize, f64)> = Vec::new();
    let mut grid: Option<(usize, f64)> = None;
    for (i, c) in configs.iter().enumerate() {
        let xs: Vec<f64> = seeds
            .iter()
            .filter_map(|&s| c.values.get(s).copied().flatten())
            .collect();
        let Some(m) = stats::median(&xs) else {
            continue;
        };
        match c.arm {
            Arm::Grid => match grid {
                Some((_, g)) if !better(m, g) => {}
                _ => grid = Some((i, m)),
            },
            Arm::Block(b) => match blocks.iter_mut().find(|(x, _, _)| *x == b) {
                Some((_, w, v)) if better(m, *v) => (*w, *v) = (i, m),
                Some(_) => {}
                None => blocks.push((b, i, m)),
            },
        }
    }
    blocks.sort_by_key(|(b, _, _)| *b);
    (
        blocks.into_iter().map(|(_, w, _)| w).collect(),
        grid.map(|(g, _)| g),
    )
}

/// The pairs (block's winner, grid's winner) on each of `seeds`, for each
/// of `blocks` (winners' positions), sides swapped for a metric where
/// higher is better, so x < y is always A winning.
fn pairs(
    configs: &[Config],
    blocks: &[usize],
    grid: usize,
    seeds: &[usize],
    higher: bool,
) -> Vec<(f64, f64)> {
    let at = |c: usize, s: usize| configs[c].values.get(s).copied().flatten();
    let mut out = Vec::with_capacity(blocks.len() * seeds.len());
    for &b in blocks {
        for &s in seeds {
            if let (Some(x), Some(y)) = (at(b, s), at(grid, s)) {
                out.push(if higher { (y, x) } else { (x, y) });
            }
        }
    }
    out
}

/// P(A > B) on `seeds` and `blocks` (indices into the block winners).
fn share(
    configs: &[Config],
    seeds: &[usize],
    blocks: Option<&[usize]>,
    higher: bool,
) -> Option<(f64, usize)> {
    let (w, g) = winners(configs, seeds, higher);
    let chosen: Vec<usize> = match blocks {
        Some(idx) => idx.iter().filter_map(|&i| w.get(i).copied()).collect(),
        None => w,
    };
    let p = pairs(configs, &chosen, g?, seeds, higher);
    Some((stats::probability_of_outperforming(&p)?, p.len()))
}

/// A `probability_of_outperforming` claim between the arms on one slice.
pub(super) fn outperforming(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    rows: &[&Row],
) -> SliceVerdict {
    let higher = claim.metric.higher_is_better();
    let (configs, seeds) = configs(rows);
    let (r, g) = bests(&configs, &seeds, higher);
    let mut verdict = inconclusive(slice, rows, &configs, &r, g);
    let Some((q, n)) = share(&configs, &seeds, None, higher).filter(|_| r.len() >= 2) else {
        return verdict;
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed(claim, slice, "arms_outperforming"));
    let (mut drawn, mut picked) = (vec![0; seeds.len()], vec![0; r.len()]);
    let all: Vec<usize> = (0..r.len()).collect();
    let mut reps = Vec::with_capacity(spec.bootstrap);
    for _ in 0..spec.bootstrap {
        stats::resample_into(&mut rng, &seeds, &mut drawn);
        stats::resample_into(&mut rng, &all, &mut picked);
        reps.extend(share(&configs, &drawn, Some(&picked), higher).map(|(p, _)| p));
    }
    let beating = want(claim).map(|w| if (w > 0.0) == higher { 1.0 } else { -1.0 });
    let this_wins = beating.is_none_or(|b| b > 0.0);
    verdict.test =
        replicate_test(&reps, 0.5, beating).map(|h| meaningful(h, &reps, claim.gamma, this_wins));
    let interval = stats::percentile_interval(&reps, 1.0 - claim.alpha);
    verdict.estimate = Some(Estimate {
        kind: "probability_of_outperforming",
        value: q,
        interval,
    });
    let dir = if higher { "higher" } else { "lower" };
    let mut text = format!(
        "a random block's winner beats the grid's winner ({dir} {}) in {:.0}% of {n} block × seed pairs",
        claim.metric,
        100.0 * q
    );
    if let Some((lo, hi)) = interval {
        text.push_str(&format!(
            " [{:.0}%, {:.0}%] ({} bootstrap interval over the seeds and the blocks, every winner chosen again in each replicate, 1 − α)",
            100.0 * lo,
            100.0 * hi,
            percent(1.0 - claim.alpha)
        ));
    }
    let (who, bar) = if this_wins {
        ("random", claim.gamma)
    } else {
        ("the grid", 1.0 - claim.gamma)
    };
    text.push_str(&format!(
        "; a meaningful win for {who} needs the interval {} {:.0}% (γ = {})",
        if this_wins { "above" } else { "below" },
        100.0 * bar,
        claim.gamma
    ));
    verdict.evidence = text;
    verdict
}

#[cfg(test)]
mod tests;
