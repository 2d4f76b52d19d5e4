//! Bootstrap resamples of one configuration's trials, kept as counts: how
//! often each trial was drawn in each resample. Seeds are the replicates,
//! so a resample draws trials with replacement and every statistic of a
//! drawn trial comes along; the report draws each configuration's
//! resamples once per statistic from the configuration's own stream, so
//! the IQM columns, the spread figure and the profile figure all read the
//! same resamples (`report::iqm::resamples`), and no configuration's draws
//! depend on another's.
//!
//! Statistics are read off the counts walked in sorted order, all
//! resamples side by side (vectorised), never building a resample: the
//! IQM (`iqm_bootstrap`), the std and IQR here, the profile's shares
//! (`profile`).

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use crate::dispatch::compiled_for_cpu;

/// `reps` resamples of `n` trials as counts.
pub struct Resamples {
    n: usize,
    reps: usize,
    /// Trial-major: `counts[t·reps + r]` is how often resample r drew trial t.
    counts: Vec<f64>,
}

impl Resamples {
    /// Draw `reps` resamples of `n` trials from `rng`. Each index is an
    /// unbiased draw from 0..n (Lemire's multiply-and-reject on a 32-bit
    /// half of a ChaCha8 word, two draws per word).
    pub fn draw(n: usize, reps: usize, rng: &mut ChaCha8Rng) -> Resamples {
        let mut counts = vec![0.0; n * reps];
        if n > 0 {
            let n32 = u32::try_from(n).expect("fewer than 2^32 trials in a configuration");
            // 2^32 mod n: products whose low half falls below it are redrawn.
            let reject = n32.wrapping_neg() % n32;
            for r in 0..reps {
                let mut drawn = 0;
                while drawn < n {
                    let word = rng.next_u64();
                    for half in [word as u32, (word >> 32) as u32] {
                        let m = u64::from(half) * u64::from(n32);
                        if drawn < n && (m as u32) >= reject {
                            counts[(m >> 32) as usize * reps + r] += 1.0;
                            drawn += 1;
                        }
                    }
                }
            }
        }
        Resamples { n, reps, counts }
    }

    /// Trials per resample.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of resamples.
    pub fn reps(&self) -> usize {
        self.reps
    }

    /// How often each resample drew trial `t`.
    pub fn copies(&self, t: usize) -> &[f64] {
        &self.counts[t * self.reps..(t + 1) * self.reps]
    }

    /// The trials resample `r` drew, in trial order (for tests).
    #[cfg(test)]
    pub(crate) fn resample(&self, r: usize) -> Vec<usize> {
        (0..self.n)
            .flat_map(|t| std::iter::repeat_n(t, self.copies(t)[r] as usize))
            .collect()
    }
}

/// A percentile interval, `None` when the statistic is undefined.
pub type Interval = Option<(f64, f64)>;

/// The `level` percentile intervals of the sample std (ddof 1) and of the
/// IQR (`super::iqr`) of `values` (one per trial) over `res`'s resamples.
/// `None` for fewer than two values; a group of equal values has (0, 0)
/// for both. Each resample's IQR is that of the resample built and sorted
/// (same order statistics, same interpolation); its std is the resample's
/// up to rounding (the counts weight each value).
pub fn spread_intervals(values: &[f64], res: &Resamples, level: f64) -> (Interval, Interval) {
    let n = values.len();
    assert_eq!(n, res.n(), "one count per value");
    if n < 2 || res.reps() == 0 {
        return (None, None);
    }
    if values.iter().all(|v| v.to_bits() == values[0].to_bits()) {
        return (Some((0.0, 0.0)), Some((0.0, 0.0)));
    }
    let reps = res.reps();
    // Std: the resample's mean, then its squared deviations.
    let mut mean = vec![0.0; reps];
    for (t, &v) in values.iter().enumerate() {
        for (m, c) in mean.iter_mut().zip(res.copies(t)) {
            *m += c * v;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let mut ss = vec![0.0; reps];
    for (t, &v) in values.iter().enumerate() {
        for ((s, c), m) in ss.iter_mut().zip(res.copies(t)).zip(&mean) {
            let d = v - m;
            *s += c * d * d;
        }
    }
    let std: Vec<f64> = ss.iter().map(|s| (s / (n - 1) as f64).sqrt()).collect();
    // IQR: the four order statistics the quartiles interpolate between.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let at = |q: f64| {
        let pos = q * (n - 1) as f64;
        (pos.floor(), pos.ceil(), pos - pos.floor())
    };
    let (q1, q3) = (at(0.25), at(0.75));
    let wanted = [q1.0, q1.1, q3.0, q3.1];
    let mut nth = [
        vec![0.0; reps],
        vec![0.0; reps],
        vec![0.0; reps],
        vec![0.0; reps],
    ];
    let mut passed = vec![0.0; reps];
    for &t in &order {
        walk_order_statistics(values[t], res.copies(t), &wanted, &mut passed, &mut nth);
    }
    let [x1, x2, x3, x4] = &nth;
    let iqr: Vec<f64> = (0..reps)
        .map(|r| (x3[r] + (x4[r] - x3[r]) * q3.2) - (x1[r] + (x2[r] - x1[r]) * q1.2))
        .collect();
    (
        super::percentile_interval(&std, level),
        super::percentile_interval(&iqr, level),
    )
}

compiled_for_cpu! {
    /// [`walk_portable`] compiled for the widest vector unit this CPU has
    /// (`crate::dispatch`): the same operations, the same bits.
    fn walk_order_statistics(
        v: f64,
        copies: &[f64],
        wanted: &[f64; 4],
        passed: &mut [f64],
        nth: &mut [Vec<f64>; 4],
    ) => walk_portable, walk_avx512, walk_avx2
}

/// One sorted value drawn `copies[r]` times in resample r, at positions
/// passed[r] .. passed[r] + copies[r]: it is resample r's order statistic
/// `wanted[k]` (0-based) when that position is among them. Plain
/// comparisons over equal-length slices, so it vectorises.
#[inline(always)]
fn walk_portable(
    v: f64,
    copies: &[f64],
    wanted: &[f64; 4],
    passed: &mut [f64],
    nth: &mut [Vec<f64>; 4],
) {
    let k = copies.len();
    let passed = &mut passed[..k];
    for (x, &i) in nth.iter_mut().zip(wanted) {
        let x = &mut x[..k];
        for r in 0..k {
            let p = passed[r];
            x[r] = if p <= i && i < p + copies[r] { v } else { x[r] };
        }
    }
    for r in 0..k {
        passed[r] += copies[r];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The draws are uniform: every resample has n trials, and over 20,000
    /// resamples of 5 trials each trial is drawn 20,000 times ± 4σ (σ =
    /// √(100,000 · 0.2 · 0.8) ≈ 126). Catches the index taken from the
    /// wrong half of the product (always 0) and a modulo that favours low
    /// indices by more than the bound.
    #[test]
    fn draws_are_uniform_and_fill_each_resample() {
        let (n, reps) = (5, 20_000);
        let res = Resamples::draw(n, reps, &mut ChaCha8Rng::seed_from_u64(1));
        for r in 0..reps {
            assert_eq!(res.resample(r).len(), n);
        }
        for t in 0..n {
            let total: f64 = res.copies(t).iter().sum();
            assert!((total - 20_000.0).abs() < 4.0 * 126.5, "trial {t}: {total}");
        }
        // The rejection threshold is 2^32 mod n (2^32 = 858,993,459 · 5 + 1).
        assert_eq!(5u32.wrapping_neg() % 5, 1);
        // Seeded: the same stream draws the same resamples.
        let again = Resamples::draw(n, reps, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(res.counts, again.counts);
    }

    /// Each resample's IQR read off the counts is `stats::iqr` of the
    /// resample built the slow way, bit for bit, and its std is
    /// `stats::std`'s to rounding; so the intervals are those of the
    /// per-resample values (ties, both zeros, n = 2..9). A constant group
    /// has (0, 0); one value has none. Catches an order statistic off by
    /// one, a copy straddling a quartile missed, ddof 0 for 1, and a
    /// resample's mean taken over the group instead of the resample.
    #[test]
    fn spread_equals_std_and_iqr_of_each_resample() {
        let data = [0.3, -0.0, 0.0, 1.5, 0.3, 2.0, -1.0, 7.25, 0.3];
        for n in 2..=data.len() {
            let values = &data[..n];
            let res = Resamples::draw(n, 400, &mut ChaCha8Rng::seed_from_u64(n as u64));
            let (std_iv, iqr_iv) = spread_intervals(values, &res, 0.9);
            let built: Vec<Vec<f64>> = (0..400)
                .map(|r| res.resample(r).iter().map(|&t| values[t]).collect())
                .collect();
            let iqrs: Vec<f64> = built
                .iter()
                .map(|s| crate::stats::iqr(s).unwrap())
                .collect();
            let want = crate::stats::percentile_interval(&iqrs, 0.9);
            let bits = |x: Option<(f64, f64)>| x.map(|(a, b)| (a.to_bits(), b.to_bits()));
            assert_eq!(bits(iqr_iv), bits(want), "n = {n}");
            let stds: Vec<f64> = built
                .iter()
                .map(|s| crate::stats::std(s).unwrap())
                .collect();
            let (lo, hi) = crate::stats::percentile_interval(&stds, 0.9).unwrap();
            let (glo, ghi) = std_iv.unwrap();
            assert!(
                (glo - lo).abs() < 1e-12 && (ghi - hi).abs() < 1e-12,
                "n = {n}"
            );
        }
        let res = Resamples::draw(3, 50, &mut ChaCha8Rng::seed_from_u64(2));
        let zero = Some((0.0, 0.0));
        assert_eq!(spread_intervals(&[0.1; 3], &res, 0.9), (zero, zero));
        let one = Resamples::draw(1, 50, &mut ChaCha8Rng::seed_from_u64(2));
        assert_eq!(spread_intervals(&[0.1], &one, 0.9), (None, None));
    }
}
