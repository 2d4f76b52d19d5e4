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

use super::percentile_interval;

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
pub fn share_below_bands(
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
    let mut by_tau: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); taus.len()];
    let mut sample = Vec::with_capacity(total);
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
        .map(|v| percentile_interval(v, level))
        .collect()
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
