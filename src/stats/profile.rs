//! Performance profiles (Agarwal et al. 2021, the rliable library's
//! "run-score distributions"): for each threshold τ, the share of runs
//! that beat it. For a loss, beating τ means ending below it. The whole
//! distribution shows what a mean hides, such as a configuration where
//! most seeds fit and a few get stuck.
//!
//! The band of a profile is a bootstrap of the configuration's seeds
//! (`Resamples`), and the whole curve is computed from each resample, so
//! a band is a band of curves, not of independent points.

use super::Resamples;

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

/// The `level` percentile band of the profile of `values` (one
/// configuration's seeds) at each of `taus`, over the resamples `res` of
/// those seeds. `None` at every τ when there are no values.
///
/// A resample's share below τ is k/n for a whole k: the copies it drew of
/// the values sorted before τ's partition point. So each partition point
/// keeps a histogram of k over the resamples (walking the sorted values,
/// all resamples side by side), and its percentiles are read off the
/// histogram: the order statistics a sort of the shares would give, so
/// the same bits as sorting each resample (tested). τs below every value
/// or above every value have the share 0 or 1 in every resample.
pub fn share_below_bands(
    values: &[f64],
    taus: &[f64],
    res: &Resamples,
    level: f64,
) -> Vec<Option<(f64, f64)>> {
    let n = values.len();
    assert_eq!(n, res.n(), "one count per value");
    let reps = res.reps();
    if n == 0 || reps == 0 {
        return vec![None; taus.len()];
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
    let points: Vec<usize> = taus
        .iter()
        .map(|t| sorted.partition_point(|x| x < t))
        .collect();
    let mut cut = vec![false; n + 1];
    for &p in &points {
        cut[p] = true;
    }
    // hist[p · (n + 1) + k]: resamples with k values before position p.
    let mut hist = vec![0u32; (n + 1) * (n + 1)];
    let mut passed = vec![0.0; reps];
    for (j, &t) in order.iter().enumerate() {
        for (p, c) in passed.iter_mut().zip(res.copies(t)) {
            *p += c;
        }
        if j + 1 < n && cut[j + 1] {
            let h = &mut hist[(j + 1) * (n + 1)..(j + 2) * (n + 1)];
            for &k in &passed {
                h[k as usize] += 1;
            }
        }
    }
    let a = (1.0 - level) / 2.0;
    points
        .iter()
        .map(|&p| {
            if p == 0 || p == n {
                let share = p as f64 / n as f64;
                return Some((share, share));
            }
            let h = &hist[p * (n + 1)..(p + 1) * (n + 1)];
            let q = |q: f64| {
                let pos = q * (reps - 1) as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                let (x_lo, x_hi) = (nth_share(h, lo, n), nth_share(h, hi, n));
                x_lo + (x_hi - x_lo) * (pos - lo as f64)
            };
            Some((q(a), q(1.0 - a)))
        })
        .collect()
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
    use rand_chacha::ChaCha8Rng;

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
    /// Catches bands of the wrong level and the ends (τ below or above
    /// every value) given the wrong share.
    #[test]
    fn bands_by_hand() {
        let draw = |n, reps, s| Resamples::draw(n, reps, &mut ChaCha8Rng::seed_from_u64(s));
        let b = share_below_bands(&[2.0, 2.0, 2.0], &[1.0, 3.0], &draw(3, 100, 3), 0.95);
        assert_eq!(b, [Some((0.0, 0.0)), Some((1.0, 1.0))]);
        let b = share_below_bands(&[0.0, 10.0], &[5.0], &draw(2, 4000, 3), 0.95);
        assert_eq!(b, [Some((0.0, 1.0))]);
        let b = share_below_bands(&[0.0, 10.0], &[5.0], &draw(2, 4000, 4), 0.4);
        assert_eq!(b, [Some((0.5, 0.5))]);
        assert_eq!(
            share_below_bands(&[], &[1.0], &draw(0, 10, 3), 0.95),
            [None]
        );
    }

    /// The sorting way: build each resample, sort it, take each τ's share,
    /// then each τ's percentile interval of the shares.
    fn bands_by_sorting(
        values: &[f64],
        taus: &[f64],
        res: &Resamples,
        level: f64,
    ) -> Vec<Option<(f64, f64)>> {
        let mut by_tau: Vec<Vec<f64>> = vec![Vec::new(); taus.len()];
        for r in 0..res.reps() {
            let sample: Vec<f64> = res.resample(r).iter().map(|&t| values[t]).collect();
            for (v, share) in by_tau.iter_mut().zip(share_below(&sample, taus)) {
                v.push(share);
            }
        }
        by_tau
            .iter()
            .map(|v| crate::stats::percentile_interval(v, level))
            .collect()
    }

    /// The histogram version gives the sorting version's bits on the same
    /// resamples, with ties, both zeros, τ equal to data values and beyond
    /// them, and levels whose quantiles interpolate. Catches a counting
    /// slip (k off by a position: `<=` for `<`), an order statistic off by
    /// one, and a histogram row read for the wrong partition point.
    #[test]
    fn histogram_bands_equal_the_sorting_ones() {
        let a = [0.3, -0.0, 0.0, 1.5, 0.3, 2.0, -1.0, 5.0, 4.0, 4.0];
        let taus = [-2.0, 0.0, 0.3, 0.31, 1.0, 4.0, 4.5, 10.0];
        for (reps, level) in [(1, 0.95), (7, 0.5), (300, 0.9), (2001, 0.95)] {
            for values in [&a[..], &a[..3], &a[7..]] {
                let res = Resamples::draw(values.len(), reps, &mut ChaCha8Rng::seed_from_u64(5));
                let want = bands_by_sorting(values, &taus, &res, level);
                let got = share_below_bands(values, &taus, &res, level);
                let bits = |v: &[Option<(f64, f64)>]| -> Vec<Option<(u64, u64)>> {
                    v.iter()
                        .map(|x| x.map(|(l, h)| (l.to_bits(), h.to_bits())))
                        .collect()
                };
                assert_eq!(bits(&got), bits(&want), "reps {reps}, level {level}");
            }
        }
    }

    /// Other resamples give other bands, and the band holds the profile
    /// of the data itself.
    #[test]
    fn bands_follow_the_resamples_and_hold_the_profile() {
        let x = [0.31, 0.12, 0.95, 0.44, 0.27, 0.60, 0.05, 0.38];
        let taus = [0.1, 0.3, 0.5];
        let run = |s| {
            let res = Resamples::draw(8, 1000, &mut ChaCha8Rng::seed_from_u64(s));
            share_below_bands(&x, &taus, &res, 0.95)
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        for (band, share) in run(1).iter().zip(share_below(&x, &taus)) {
            let (lo, hi) = band.unwrap();
            assert!(lo <= share && share <= hi, "{lo} {share} {hi}");
        }
    }
}
