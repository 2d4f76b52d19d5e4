//! `best_of_block` claims: does a random search of B points find a better
//! configuration than the grid of the same B points? (Bergstra & Bengio
//! 2012.) The study's `[search] blocks` split the draws into R independent
//! random searches of B points and `[search] grid` adds the grid of B points
//! over the same `[space]` (`study/arms.rs`).
//!
//! A search "finds" the configuration with the best seed median of the
//! claim's metric (lowest loss, highest accuracy), as the search report
//! ranks, and its value is that median. Each block gives one such value;
//! the claim compares their mean, the expected best of a B-point random
//! search, with the grid's best.
//!
//! Two things are random: which points a block draws (the blocks are
//! independent draws of it) and the training seeds, which every
//! configuration shares (seed s gives every configuration of the study the
//! same initial-weight, minibatch and dropout streams, so their noise is
//! correlated). Each bootstrap replicate therefore resamples the replicate
//! indices once for the whole slice (the same resampled seeds for every
//! configuration), recomputes every configuration's median, each block's
//! best and the grid's best (selection included, in both arms alike), then
//! resamples the blocks and takes mean of block bests − grid best. Its
//! p-value against 0 (`stats::bootstrap_p_value`) joins the study's Holm
//! family like any slice's.
//!
//! Blocks needed (in the evidence) count for power 0.8 at α by the normal
//! approximation: with s the block bests' standard deviation, R the
//! blocks, v the seeds' part of the difference's bootstrap variance (its
//! total less s²/R: the arms share their seeds, so the grid's seed noise
//! partly cancels) and δ the observed difference,
//! the smallest n with z²·(s²/n + v) ≤ δ² (z = z_{1−α/2} + z_{0.8}); when
//! z²·v ≥ δ² no number of blocks settles it (the seeds' noise does not
//! average out with more blocks), and the evidence counts seeds instead:
//! with v shrinking as 1/seeds and s held (conservatively: it shrinks
//! too), the smallest S' with z²·(s²/R + v·S/S') ≤ δ² for the R blocks run
//! and the S seeds run; when even infinitely many seeds would leave
//! z²·s²/R > δ², half of δ²/z² goes to each term: n = ⌈2z²·s²/δ²⌉ blocks
//! with S' = ⌈2z²·S·v/δ²⌉ seeds.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::compare::{replicate_test, want};
use super::{Outcome, Point, Row, SliceVerdict, seed};
use crate::report::percent;
use crate::stats;
use crate::study::{Arm, ClaimSpec, ReportSpec};

/// One configuration as the claim sees it: its arm and its value at
/// each replicate index (`None` where that seed did not finish).
pub(super) struct Config {
    pub(super) arm: Arm,
    pub(super) config: usize,
    pub(super) values: Vec<Option<f64>>,
}

/// Group the rows' values by configuration; rows without a value or an
/// arm are left out. Also the replicate indices seen, in order.
pub(super) fn configs(rows: &[&Row]) -> (Vec<Config>, Vec<usize>) {
    let mut out: Vec<Config> = Vec::new();
    let mut reps: Vec<usize> = Vec::new();
    for r in rows {
        let (Some((arm, rep)), Some(v)) = (r.arm, r.value) else {
            continue;
        };
        if !reps.contains(&rep) {
            reps.push(rep);
        }
        let i = match out.iter().position(|c| c.config == r.config) {
            Some(i) => i,
            None => {
                out.push(Config {
                    arm,
                    config: r.config,
                    values: Vec::new(),
                });
                out.len() - 1
            }
        };
        let values = &mut out[i].values;
        if values.len() <= rep {
            values.resize(rep + 1, None);
        }
        values[rep] = Some(v);
    }
    reps.sort_unstable();
    (out, reps)
}

/// Each block's best seed median (in block order) and the grid's, from
/// every configuration's values at the replicate indices `seeds` (with
/// repeats, for a bootstrap replicate). Blocks without a finished seed
/// are left out.
pub(super) fn bests(configs: &[Config], seeds: &[usize], higher: bool) -> (Vec<f64>, Option<f64>) {
    let better = |a: f64, b: f64| if higher { a.max(b) } else { a.min(b) };
    let mut blocks: Vec<(usize, f64)> = Vec::new();
    let mut grid: Option<f64> = None;
    let mut xs = Vec::with_capacity(seeds.len());
    for c in configs {
        xs.clear();
        xs.extend(
            seeds
                .iter()
                .filter_map(|&s| c.values.get(s).copied().flatten()),
        );
        let Some(m) = stats::median(&xs) else {
            continue;
        };
        match c.arm {
            Arm::Grid => grid = Some(grid.map_or(m, |g| better(g, m))),
            Arm::Block(b) => match blocks.iter_mut().find(|(x, _)| *x == b) {
                Some((_, v)) => *v = better(*v, m),
                None => blocks.push((b, m)),
            },
        }
    }
    blocks.sort_by_key(|(b, _)| *b);
    (blocks.into_iter().map(|(_, v)| v).collect(), grid)
}

/// A `best_of_block` claim on one slice (see the module docs).
pub(super) fn best_of_block(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    rows: &[&Row],
) -> SliceVerdict {
    let higher = claim.metric.higher_is_better();
    let (configs, seeds) = configs(rows);
    let (r, g) = bests(&configs, &seeds, higher);
    let mut verdict = inconclusive(slice, rows, &configs, &r, g);
    let Some(g) = g.filter(|_| r.len() >= 2) else {
        return verdict;
    };
    let reps = replicates(
        &configs,
        &seeds,
        higher,
        spec.bootstrap,
        seed(claim, slice, "best_of_block"),
    );
    let diffs: Vec<f64> = reps.iter().map(|(m, b)| m - b).collect();
    let means: Vec<f64> = reps.iter().map(|(m, _)| *m).collect();
    let grids: Vec<f64> = reps.iter().map(|(_, b)| *b).collect();
    verdict.points[0].ci = stats::percentile_interval(&means, spec.level);
    verdict.points[1].ci = stats::percentile_interval(&grids, spec.level);
    verdict.test = replicate_test(&diffs, 0.0, want(claim));
    let mean = stats::mean(&r);
    verdict.estimate = Some(super::Estimate {
        kind: "best_of_block_difference",
        value: mean - g,
        interval: stats::percentile_interval(&diffs, spec.level),
    });
    verdict.evidence = evidence(claim, spec, &r, g, &diffs, seeds.len());
    verdict
}

/// The slice's verdict before any test: both arms' points (the mean of
/// the block bests `r`, the grid's best `g`), inconclusive for want of
/// trials until the test fills it in.
pub(super) fn inconclusive(
    slice: &str,
    rows: &[&Row],
    configs: &[Config],
    r: &[f64],
    g: Option<f64>,
) -> SliceVerdict {
    let n_grid = configs.iter().filter(|c| c.arm == Arm::Grid).count();
    SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: "too few finished trials: a best_of_block slice needs two blocks and the grid"
            .into(),
        points: vec![
            point(
                "random",
                &arm_rows(rows, false),
                r.len(),
                (!r.is_empty()).then(|| stats::mean(r)),
            ),
            point("grid", &arm_rows(rows, true), n_grid, g),
        ],
        test: None,
        p_adjusted: None,
        estimate: None,
        effect: None,
        seeds_needed: None,
    }
}

/// The evidence: the difference with its interval, the blocks won, and
/// what would settle it at power 0.8.
fn evidence(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    r: &[f64],
    g: f64,
    diffs: &[f64],
    seeds: usize,
) -> String {
    let mean = stats::mean(r);
    let mut evidence = vec![format!(
        "mean over {} blocks of the block's best {} − the grid's best = {:.4}",
        r.len(),
        claim.metric,
        mean - g
    )];
    if let Some((lo, hi)) = stats::percentile_interval(diffs, spec.level) {
        evidence[0].push_str(&format!(
            ", {} bootstrap CI [{lo:.4}, {hi:.4}]",
            percent(spec.level)
        ));
    }
    let wins = wins(r, g, claim.metric.higher_is_better());
    evidence.push(format!(
        "a block's best beats the grid's best in {wins} of {} blocks",
        r.len()
    ));
    evidence.extend(power(r, g, seeds_part(diffs, r), seeds, claim.alpha));
    evidence.join("; ")
}

/// What would settle the claim at power 0.8: more blocks, more seeds with
/// these blocks, or both (see the module docs); `None` when it needs no
/// sentence.
fn power(r: &[f64], g: f64, v: f64, seeds: usize, alpha: f64) -> Option<String> {
    match blocks_needed(r, g, v, alpha)? {
        Some(n) => Some(format!("about {n} blocks would settle it at power 0.8")),
        None => Some(match seeds_needed(r, g, v, seeds, alpha) {
            Some(n) => format!(
                "more blocks alone would not settle it at power 0.8 (the seeds' noise \
                 dominates); about {n} seeds per configuration with these {} blocks would",
                r.len()
            ),
            None => match both_needed(r, g, v, seeds, alpha) {
                Some((n, s)) => format!(
                    "more blocks alone would not settle it at power 0.8 (the seeds' noise \
                     dominates); about {n} blocks with {s} seeds per configuration would"
                ),
                None => "the observed difference is zero or undefined".into(),
            },
        }),
    }
}

/// In how many blocks the best beats the grid's best `g` (`higher`: a
/// larger value is better), a tie counting half.
fn wins(r: &[f64], g: f64, higher: bool) -> f64 {
    r.iter()
        .map(|&x| {
            if x == g {
                0.5
            } else if (x > g) == higher {
                1.0
            } else {
                0.0
            }
        })
        .sum()
}

/// The seeds' part of the difference's bootstrap variance: the variance
/// of the replicates `diffs` less the blocks' part, s²/R for the R block
/// bests `r` (never below 0).
fn seeds_part(diffs: &[f64], r: &[f64]) -> f64 {
    let blocks_part = stats::std(r).map_or(0.0, |s| s * s / r.len() as f64);
    (variance(diffs) - blocks_part).max(0.0)
}

/// Sample variance (ddof 1), 0 for fewer than two values.
fn variance(xs: &[f64]) -> f64 {
    stats::std(xs).map_or(0.0, |s| s * s)
}

/// The rows of the grid arm (`grid`) or of the random blocks.
fn arm_rows<'a, 'r>(rows: &[&'a Row<'r>], grid: bool) -> Vec<&'a Row<'r>> {
    rows.iter()
        .copied()
        .filter(|r| r.arm.is_some_and(|(a, _)| (a == Arm::Grid) == grid))
        .collect()
}

/// An arm's point, its diverged and failed trials counted.
fn point(label: &str, rows: &[&Row], n: usize, value: Option<f64>) -> Point {
    Point::of(label.into(), rows, n, value, None)
}

/// Bootstrap replicates of (mean of the block bests, the grid's best):
/// the replicate indices resampled once for all configurations, then the
/// blocks, from one ChaCha8 stream seeded by `seed`. Replicates where the
/// grid or every block lost all its seeds are dropped.
fn replicates(
    configs: &[Config],
    seeds: &[usize],
    higher: bool,
    n: usize,
    seed: u64,
) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut drawn = vec![0; seeds.len()];
    let mut out = Vec::with_capacity(n);
    let mut blocks = Vec::new();
    for _ in 0..n {
        stats::resample_into(&mut rng, seeds, &mut drawn);
        let (r, g) = bests(configs, &drawn, higher);
        if r.is_empty() {
            continue;
        }
        blocks.resize(r.len(), 0.0);
        stats::resample_into(&mut rng, &r, &mut blocks);
        let mean = blocks.iter().sum::<f64>() / r.len() as f64;
        if let Some(g) = g {
            out.push((mean, g));
        }
    }
    out
}

/// Blocks needed for power 0.8 at `alpha` (see the module docs): the
/// smallest n with z²·(s²/n + v) ≤ δ², s the block bests' standard
/// deviation, `v` the seeds' part of the variance, δ = mean − g.
/// `Some(None)` when no number of blocks would do (z²·v ≥ δ²); `None` when
/// the block bests do not vary or δ = 0.
pub(super) fn blocks_needed(r: &[f64], g: f64, v: f64, alpha: f64) -> Option<Option<usize>> {
    let s = stats::std(r).filter(|s| *s > 0.0)?;
    let delta = stats::mean(r) - g;
    if delta == 0.0 || !delta.is_finite() {
        return None;
    }
    let room = delta * delta / stats::z_sum(alpha)?.powi(2) - v;
    if room <= 0.0 {
        return Some(None);
    }
    Some(Some(((s * s / room).ceil() as usize).max(2)))
}

/// Seeds per configuration for power 0.8 at `alpha` with the `r.len()`
/// blocks run, when blocks alone cannot do it (see the module docs):
/// S' = ⌈S·v / (δ²/z² − s²/R)⌉. `None` when the blocks' own spread already
/// exceeds what δ allows (more blocks are needed too) or δ = 0.
pub(super) fn seeds_needed(r: &[f64], g: f64, v: f64, seeds: usize, alpha: f64) -> Option<usize> {
    let s = stats::std(r)?;
    let delta = stats::mean(r) - g;
    let room = delta * delta / stats::z_sum(alpha)?.powi(2) - s * s / r.len() as f64;
    (room > 0.0 && delta != 0.0).then(|| ((seeds as f64 * v / room).ceil() as usize).max(2))
}

/// Blocks and seeds together when neither alone would do: half of the
/// allowed variance δ²/z² to each term, n = ⌈2z²·s²/δ²⌉ blocks and S' =
/// ⌈2z²·S·v/δ²⌉ seeds. `None` when δ = 0 or the blocks do not vary.
pub(super) fn both_needed(
    r: &[f64],
    g: f64,
    v: f64,
    seeds: usize,
    alpha: f64,
) -> Option<(usize, usize)> {
    let s = stats::std(r)?;
    let delta = stats::mean(r) - g;
    if delta == 0.0 || !delta.is_finite() {
        return None;
    }
    let k = 2.0 * stats::z_sum(alpha)?.powi(2) / (delta * delta);
    let count = |x: f64| (x.ceil() as usize).max(2);
    Some((count(k * s * s), count(k * seeds as f64 * v)))
}

#[cfg(test)]
mod tests;
