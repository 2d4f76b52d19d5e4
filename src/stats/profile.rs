//! Performance profiles (Agarwal et al. 2021, the rliable library's
//! "run-score distributions"): for each threshold τ, the share of runs
//! that beat it. For a loss, beating τ means ending below it. The whole
//! distribution shows what a mean hides, such as a configuration where
//! most seeds fit and a few get stuck.
//!
//! The band of a profile is a stratified bootstrap: each group (a
//! configuration's seeds) is resampled with replacement within itself, and
//! the whole curve is computed from each resample, so a band is a band of
//! curves, not of independent points.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The share of `xs` strictly below each of `taus` (NaN for no values).
pub fn share_below(xs: &[f64], taus: &[f64]) -> Vec<f64> {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    shares_of_sorted(&s, taus)
}

/// [`share_below`] of values already sorted.
fn shares_of_sorted(sorted: &[f64], taus: &[f64]) -> Vec<f64> {
    let n = sorted.len() as f64;
    taus.iter()
        .map(|t| sorted.partition_point(|x| x < t) as f64 / n)
        .collect()
}

/// The `level` percentile band of the profile of the pooled `groups` at
/// each of `taus`, over `reps` stratified resamples (each group resampled
/// within itself at its own size, one group after another, from `rng`).
/// `None` at every τ when there are no values.
///
/// A resample's share below τ is k/n for a whole k, so each τ keeps a
/// histogram of k over the resamples instead of the resamples' shares,
/// and its percentiles are read off the histogram: the order statistics a
/// sort of the shares would give, so the same bits as sorting (tested
/// against the sorting version), in time linear in `reps`. A resample is
/// kept as counts of each group's sorted positions (the draws are those of
/// drawing values one by one): its values below τ are the counts up to
/// the group's own partition point of τ.
pub fn share_below_bands(
    groups: &[&[f64]],
    taus: &[f64],
    reps: usize,
    level: f64,
    rng: &mut ChaCha8Rng,
) -> Vec<Option<(f64, f64)>> {
    let groups: Vec<&[f64]> = groups.iter().copied().filter(|g| !g.is_empty()).collect();
    let total: usize = groups.iter().map(|g| g.len()).sum();
    if total == 0 || reps == 0 {
        return vec![None; taus.len()];
    }
    // Per group: each value's sorted position, and each τ's partition point.
    let ranked: Vec<(Vec<usize>, Vec<usize>)> = groups
        .iter()
        .map(|g| {
            let mut order: Vec<usize> = (0..g.len()).collect();
            order.sort_by(|&a, &b| g[a].total_cmp(&g[b]));
            let mut rank = vec![0; g.len()];
            for (pos, &i) in order.iter().enumerate() {
                rank[i] = pos;
            }
            let sorted: Vec<f64> = order.iter().map(|&i| g[i]).collect();
            let below = taus
                .iter()
                .map(|t| sorted.partition_point(|x| x < t))
                .collect();
            (rank, below)
        })
        .collect();
    // τs with the same partition point in every group have the same share
    // in every resample: each such class is counted once (a band's τs
    // mostly fall where a configuration has no values, all below or all
    // above, so there are far fewer classes than τs).
    let mut classes: Vec<Vec<usize>> = Vec::new();
    let class_of: Vec<usize> = (0..taus.len())
        .map(|t| {
            let points: Vec<usize> = ranked.iter().map(|(_, below)| below[t]).collect();
            classes
                .iter()
                .position(|c| *c == points)
                .unwrap_or_else(|| {
                    classes.push(points);
                    classes.len() - 1
                })
        })
        .collect();
    // hist[class · (total + 1) + k]: resamples with k values below its τs.
    let mut hist = vec![0u32; classes.len() * (total + 1)];
    let mut below_now = vec![0usize; classes.len()];
    let mut cum: Vec<Vec<usize>> = groups.iter().map(|g| vec![0; g.len() + 1]).collect();
    for _ in 0..reps {
        below_now.fill(0);
        for (g, ((rank, _), cum)) in ranked.iter().zip(&mut cum).enumerate() {
            let len = rank.len();
            // Counts per sorted position, then their running sums in place.
            cum.fill(0);
            for _ in 0..len {
                cum[rank[rng.random_range(0..len)] + 1] += 1;
            }
            for j in 1..=len {
                cum[j] += cum[j - 1];
            }
            for (k, points) in below_now.iter_mut().zip(&classes) {
                *k += cum[points[g]];
            }
        }
        for (c, &k) in below_now.iter().enumerate() {
            hist[c * (total + 1) + k] += 1;
        }
    }
    let a = (1.0 - level) / 2.0;
    let bands: Vec<Option<(f64, f64)>> = hist
        .chunks_exact(total + 1)
        .map(|h| {
            let q = |q: f64| {
                let pos = q * (reps - 1) as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                let (x_lo, x_hi) = (nth_share(h, lo, total), nth_share(h, hi, total));
                x_lo + (x_hi - x_lo) * (pos - lo as f64)
            };
            Some((q(a), q(1.0 - a)))
        })
        .collect();
    class_of.iter().map(|&c| bands[c]).collect()
}

/// The `i`-th smallest share (0-based) of the resamples whose counts of
/// values below τ are histogrammed in `hist`: k/`total` for the first k at
/// which the running count passes i.
fn nth_share(hist: &[u32], i: usize, total: usize) -> f64 {
    let mut seen = 0usize;
    for (k, &c) in hist.iter().enumerate() {
        seen += c as usize;
        if seen > i {
            return k as f64 / total as f64;
        }
    }
    unreachable!("i is below the number of resamples")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Counted by hand: of [0.3, 0.1, 0.2, 0.2], none is below 0.1, one
    /// below 0.15, one below 0.2 (strictly), three below 0.25, all below 1.
    /// Catches `<=` for `<` and an unsorted search.
    #[test]
    fn share_below_counts_strictly_smaller_values() {
        let got = share_below(&[0.3, 0.1, 0.2, 0.2], &[0.1, 0.15, 0.2, 0.25, 1.0]);
        assert_eq!(got, [0.0, 0.25, 0.25, 0.75, 1.0]);
    }

    /// Hand cases. A constant group's band is a step: [0, 0] below its
    /// value, [1, 1] above. For [0, 10] at τ = 5 a resample of two has
    /// share 0, ½ or 1 with odds ¼, ½, ¼: over 4000 resamples the 95% band
    /// is [0, 1] and the 40% band (the 30% and 70% quantiles) [½, ½].
    /// Two constant groups [0, 0] and [10, 10] pooled: resampled within
    /// each group, every resample has share ½ at τ = 5, so the band is
    /// [½, ½]; resampling the pool as one (not stratified) would give
    /// [0, 1]. Catches an unstratified resample, and bands of the wrong
    /// level.
    #[test]
    fn bands_by_hand() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let b = share_below_bands(&[&[2.0, 2.0, 2.0]], &[1.0, 3.0], 100, 0.95, &mut rng);
        assert_eq!(b, [Some((0.0, 0.0)), Some((1.0, 1.0))]);
        let b = share_below_bands(&[&[0.0, 10.0]], &[5.0], 4000, 0.95, &mut rng);
        assert_eq!(b, [Some((0.0, 1.0))]);
        let b = share_below_bands(&[&[0.0, 10.0]], &[5.0], 4000, 0.4, &mut rng);
        assert_eq!(b, [Some((0.5, 0.5))]);
        let b = share_below_bands(&[&[0.0, 0.0], &[10.0, 10.0]], &[5.0], 500, 0.95, &mut rng);
        assert_eq!(b, [Some((0.5, 0.5))]);
        assert_eq!(
            share_below_bands(&[&[]], &[1.0], 10, 0.95, &mut rng),
            [None]
        );
    }

    /// The sorting version `share_below_bands` replaced: resample values,
    /// sort, take each τ's share, sort each τ's shares for the interval.
    fn bands_by_sorting(
        groups: &[&[f64]],
        taus: &[f64],
        reps: usize,
        level: f64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Option<(f64, f64)>> {
        let total: usize = groups.iter().map(|g| g.len()).sum();
        if total == 0 {
            return vec![None; taus.len()];
        }
        let mut by_tau: Vec<Vec<f64>> = vec![Vec::new(); taus.len()];
        let mut sample = Vec::new();
        for _ in 0..reps {
            sample.clear();
            for g in groups.iter().filter(|g| !g.is_empty()) {
                sample.extend((0..g.len()).map(|_| g[rng.random_range(0..g.len())]));
            }
            sample.sort_by(f64::total_cmp);
            for (values, share) in by_tau.iter_mut().zip(shares_of_sorted(&sample, taus)) {
                values.push(share);
            }
        }
        by_tau
            .iter()
            .map(|v| crate::stats::percentile_interval(v, level))
            .collect()
    }

    /// The histogram version gives the sorting version's bits, from the
    /// same seed, with ties, both zeros, an empty group among others, τ
    /// equal to data values, and levels whose quantiles interpolate; and it
    /// leaves the generator where the sorting version does. Catches a
    /// counting slip (k off by a position: `<=` for `<`), an order
    /// statistic off by one, and draws in another order.
    #[test]
    fn histogram_bands_equal_the_sorting_ones() {
        let a = [0.3, -0.0, 0.0, 1.5, 0.3, 2.0, -1.0];
        let b = [5.0, 4.0, 4.0];
        let groups: [&[f64]; 3] = [&a, &[], &b];
        let taus = [-2.0, 0.0, 0.3, 0.31, 1.0, 4.0, 4.5, 10.0];
        for (reps, level) in [(1, 0.95), (7, 0.5), (300, 0.9), (2001, 0.95)] {
            for gs in [&groups[..], &groups[..1], &groups[2..]] {
                let mut r1 = ChaCha8Rng::seed_from_u64(5);
                let mut r2 = ChaCha8Rng::seed_from_u64(5);
                let want = bands_by_sorting(gs, &taus, reps, level, &mut r1);
                let got = share_below_bands(gs, &taus, reps, level, &mut r2);
                let bits = |v: &[Option<(f64, f64)>]| -> Vec<Option<(u64, u64)>> {
                    v.iter()
                        .map(|x| x.map(|(l, h)| (l.to_bits(), h.to_bits())))
                        .collect()
                };
                assert_eq!(bits(&got), bits(&want), "reps {reps}, level {level}");
                assert_eq!(r1.random::<u64>(), r2.random::<u64>());
            }
        }
    }

    /// The same seed gives the same bands, another seed others, and the
    /// band holds the profile of the data itself.
    #[test]
    fn bands_are_seeded_and_hold_the_profile() {
        let x = [0.31, 0.12, 0.95, 0.44, 0.27, 0.60, 0.05, 0.38];
        let taus = [0.1, 0.3, 0.5];
        let run =
            |s| share_below_bands(&[&x], &taus, 1000, 0.95, &mut ChaCha8Rng::seed_from_u64(s));
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        for (band, share) in run(1).iter().zip(share_below(&x, &taus)) {
            let (lo, hi) = band.unwrap();
            assert!(lo <= share && share <= hi, "{lo} {share} {hi}");
        }
    }
}
