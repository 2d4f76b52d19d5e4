//! Tuning curves (Dodge et al. 2019, "Show your work"): the expected best
//! score of n configurations of a search, for n = 1..N, estimated from the
//! N configurations it tried. Exact semantics in DESIGN.md, "Tuning curves
//! and the luck of a search".
//!
//! Two estimators over the scores sorted worst first, v₍₁₎ … v₍N₎:
//! - [`expected_best`], without replacement and unbiased (Tang et al.
//!   2020; Dodge et al. 2021): Σᵢ v₍ᵢ₎·C(i − 1, n − 1)/C(N, n), the mean
//!   over all n-subsets of their best. The weights come from a recurrence
//!   of ratios at most 1 (see [`expected_best`]), so no binomial is ever
//!   formed and a large N neither overflows nor loses the small weights'
//!   precision.
//! - [`expected_best_with_replacement`] (Dodge et al. 2019):
//!   Σᵢ v₍ᵢ₎·[(i/N)ⁿ − ((i − 1)/N)ⁿ], the best of n draws with
//!   replacement from the N scores, biased towards the worst at large n.
//!
//! [`expected_best_bands`] gives an interval for every n by a two-stage
//! bootstrap: configurations are resampled, then each drawn
//! configuration's seeds, so both the luck of which configurations were
//! drawn and the seed noise in each score widen it.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::percentile_interval;

/// The scores in ascending order of goodness: ascending when higher is
/// better, descending for a loss.
fn worst_first(scores: &[f64], higher_is_better: bool) -> Vec<f64> {
    let mut v = scores.to_vec();
    if higher_is_better {
        v.sort_by(f64::total_cmp);
    } else {
        v.sort_by(|a, b| b.total_cmp(a));
    }
    v
}

/// The unbiased expected best of n configurations drawn without
/// replacement from `scores`, for n = 1..N (element n − 1). "Best" is the
/// highest score when `higher_is_better`, else the lowest.
///
/// For each n the weight of the i-th worst (1-based) is w(i) = C(i − 1,
/// n − 1)/C(N, n): w(N) = n/N, and w(i − 1) = w(i)·(i − n)/(i − 1), each
/// step a factor in [0, 1). Empty for no scores.
pub fn expected_best(scores: &[f64], higher_is_better: bool) -> Vec<f64> {
    let v = worst_first(scores, higher_is_better);
    let mut out = Vec::with_capacity(v.len());
    curve_of_sorted(&v, &mut out);
    out
}

/// [`expected_best`] of scores already sorted worst first, written into
/// `out` (cleared first).
/// The weights are made on the way (no table), in the order and with the
/// operations of [`weights`], so the same bits as [`curve_with`].
fn curve_of_sorted(v: &[f64], out: &mut Vec<f64>) {
    out.clear();
    let big_n = v.len();
    for n in 1..=big_n {
        let mut w = n as f64 / big_n as f64;
        let mut sum = w * v[big_n - 1];
        for i in (n + 1..=big_n).rev() {
            // w(i − 1) from w(i); the term is v₍ᵢ₋₁₎ (0-based v[i − 2]).
            w *= (i - n) as f64 / (i - 1) as f64;
            sum += w * v[i - 2];
        }
        out.push(sum);
    }
}

/// Largest N whose weight table [`expected_best_bands`] keeps (N²/2
/// values, 16 MB); past it each resample makes its weights on the way.
const TABLE_MAX: usize = 2048;

/// The weights of [`expected_best`] for N scores: row n − 1 holds w(i)
/// for i = N, N − 1, …, n (the order the recurrence makes them), so a
/// bootstrap computes them once, not once per resample.
fn weights(big_n: usize) -> Vec<Vec<f64>> {
    (1..=big_n)
        .map(|n| {
            let mut w = n as f64 / big_n as f64;
            let mut row = Vec::with_capacity(big_n - n + 1);
            row.push(w);
            for i in (n + 1..=big_n).rev() {
                // w(i − 1) from w(i).
                w *= (i - n) as f64 / (i - 1) as f64;
                row.push(w);
            }
            row
        })
        .collect()
}

/// The curve of `v` (sorted worst first, as many as `weights` has rows)
/// into `out`: for each n, Σ w(i)·v₍ᵢ₎ summed from i = N down.
fn curve_with(weights: &[Vec<f64>], v: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(weights.iter().map(|row| {
        row.iter()
            .zip(v.iter().rev())
            .map(|(w, x)| w * x)
            .sum::<f64>()
    }));
}

/// The expected best of n draws with replacement from `scores`, for n =
/// 1..N (element n − 1): Σᵢ v₍ᵢ₎·[(i/N)ⁿ − ((i − 1)/N)ⁿ] over the scores
/// sorted worst first (Dodge et al. 2019). Empty for no scores.
pub fn expected_best_with_replacement(scores: &[f64], higher_is_better: bool) -> Vec<f64> {
    let v = worst_first(scores, higher_is_better);
    let big_n = v.len() as f64;
    (1..=v.len() as i32)
        .map(|n| {
            v.iter()
                .enumerate()
                .map(|(i, x)| {
                    let i = i as f64;
                    x * (((i + 1.0) / big_n).powi(n) - (i / big_n).powi(n))
                })
                .sum()
        })
        .collect()
}

/// Percentile intervals at `level` of [`expected_best`] for n = 1..N, from
/// `reps` two-stage bootstrap resamples drawn from `rng`: each resample
/// draws N configurations with replacement, then each drawn
/// configuration's seeds with replacement, scores it by `stat` of its
/// resampled seeds (the search's ranking statistic) and computes the
/// curve. `seeds` holds each configuration's per-seed values; a
/// configuration without values, or whose `stat` is undefined, counts as
/// none drawn (the resample keeps the others). `None` for an n no
/// resample reached.
pub fn expected_best_bands(
    seeds: &[&[f64]],
    stat: impl Fn(&[f64]) -> Option<f64>,
    higher_is_better: bool,
    reps: usize,
    level: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<(f64, f64)>> {
    let big_n = seeds.len();
    let table = if big_n <= TABLE_MAX {
        weights(big_n)
    } else {
        Vec::new()
    };
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); big_n];
    let (mut scores, mut sample, mut curve) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        scores.clear();
        for _ in 0..big_n {
            let c = seeds[rng.random_range(0..big_n)];
            if c.is_empty() {
                continue;
            }
            sample.clear();
            sample.extend((0..c.len()).map(|_| c[rng.random_range(0..c.len())]));
            scores.extend(stat(&sample));
        }
        let v = worst_first(&scores, higher_is_better);
        if v.len() == big_n && !table.is_empty() {
            curve_with(&table, &v, &mut curve);
        } else {
            curve_of_sorted(&v, &mut curve);
        }
        for (d, x) in draws.iter_mut().zip(&curve) {
            d.push(*x);
        }
    }
    draws
        .iter()
        .map(|d| percentile_interval(d, level))
        .collect()
}

#[cfg(test)]
mod tests;
