//! Statistics for reports and claims: descriptive summaries, Student-t
//! confidence intervals, Spearman's rank correlation, the Brown–Forsythe
//! test for equal spread; in submodules,
//! one concern each and all re-exported here: every bootstrap draw
//! (`bootstrap`), variance components of a
//! crossed design of seed sources (`variance`), the interquartile mean and
//! the stratified bootstrap (`robust`), a configuration's resamples as
//! counts and the spread read off them (`resample`), the probability of improvement
//! (`improvement`), the bootstrap p-value (`pvalue`), Holm's adjustment
//! (`holm`), the seeds needed to settle a comparison (`seeds`) and
//! performance profiles with their bootstrap bands (`profile`), the one
//! statistic enum every use names statistics by (`statistic`), a
//! search key's main-effect share of the variance (`importance`) and
//! tuning curves, the expected best of n configurations (`tuning`), and the
//! spread of the best of n (`best_of_n`). Their exact semantics are in DESIGN.md,
//! "Sources of randomness, variance components, statistics".
//!
//! Conventions follow NumPy/SciPy so numbers can be checked there: sample
//! std with ddof = 1; quantiles by linear interpolation (NumPy's default);
//! Spearman's p-value from the t distribution with n − 2 degrees of freedom
//! (`scipy.stats.spearmanr`); Brown–Forsythe is Levene's test centred on
//! the median (`scipy.stats.levene(..., center="median")`). The expected
//! values in the tests were computed with SciPy 1.17.1 and statsmodels
//! 0.15.0.

mod best_of_n;
mod bootstrap;
mod holm;
mod importance;
mod improvement;
mod iqm_bootstrap;
mod profile;
mod pvalue;
mod resample;
mod robust;
mod seeds;
mod statistic;
mod tuning;
mod variance;

pub use best_of_n::best_of_n_moments;
pub use bootstrap::{
    bootstrap, counts_into, indices_into, paired_resample_into, resample_into,
    two_sample_differences,
};
pub use holm::holm;
pub use importance::{main_effect_share, quantile_bins};
pub use improvement::{
    probability_of_improvement, probability_of_improvement_interval,
    probability_of_improvement_replicates, probability_of_outperforming,
    probability_of_outperforming_replicates,
};
pub use iqm_bootstrap::iqm_intervals;
pub use profile::{share_below, share_below_bands};
pub use pvalue::bootstrap_p_value;
pub use resample::{Resamples, spread_intervals};
pub use robust::{iqm, stratified_bootstrap};
pub use seeds::{
    SEEDS_POWER, seeds_needed, seeds_needed_for, seeds_needed_from_se, seeds_needed_from_variance,
    z_sum,
};
pub use statistic::Statistic;
pub use tuning::{expected_best, expected_best_bands, expected_best_with_replacement};
pub use variance::{
    Term, TermInterval, VarianceComponents, VarianceError, bootstrap_components,
    variance_components,
};

use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};

/// Arithmetic mean (NaN for no values).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (ddof = 1); `None` for fewer than two values.
pub fn std(xs: &[f64]) -> Option<f64> {
    if xs.len() < 2 {
        return None;
    }
    let m = mean(xs);
    Some((xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt())
}

/// Quantile `q` in [0, 1] by linear interpolation between order statistics
/// (NumPy's default method). `None` for no values.
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    quantile_of_sorted(&s, q)
}

/// [`quantile`] of values already in ascending order.
fn quantile_of_sorted(s: &[f64], q: f64) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let pos = q * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(s[lo] + (s[hi] - s[lo]) * (pos - lo as f64))
}

/// The median.
pub fn median(xs: &[f64]) -> Option<f64> {
    quantile(xs, 0.5)
}

/// Interquartile range, Q3 − Q1.
pub fn iqr(xs: &[f64]) -> Option<f64> {
    let mut s = xs.to_vec();
    s.sort_by(f64::total_cmp);
    Some(quantile_of_sorted(&s, 0.75)? - quantile_of_sorted(&s, 0.25)?)
}

/// Two-sided `level` confidence interval of the mean, mean ± t·s/√n with
/// Student's t at n − 1 degrees of freedom. `None` for fewer than two values.
pub fn t_interval(xs: &[f64], level: f64) -> Option<(f64, f64)> {
    let s = std(xs)?;
    let n = xs.len() as f64;
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .ok()?
        .inverse_cdf(0.5 + level / 2.0);
    let m = mean(xs);
    Some((m - t * s / n.sqrt(), m + t * s / n.sqrt()))
}

/// Ranks starting at 1, ties given their average rank.
pub fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Spearman's ρ and its two-sided p-value. `None` for fewer than three
/// pairs or when either variable is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len();
    if n < 3 || y.len() != n {
        return None;
    }
    let rho = pearson(&ranks(x), &ranks(y))?;
    let df = (n - 2) as f64;
    let p = if rho.abs() >= 1.0 {
        0.0
    } else {
        let t = rho * (df / ((1.0 - rho) * (1.0 + rho))).sqrt();
        2.0 * StudentsT::new(0.0, 1.0, df).ok()?.sf(t.abs())
    };
    Some((rho.clamp(-1.0, 1.0), p))
}

/// Brown–Forsythe test that the groups have equal spread: a one-way ANOVA on
/// absolute deviations from each group's median. Returns (F, p). `None`
/// unless there are two or more groups, each with two or more values, and
/// some spread within groups.
pub fn brown_forsythe(groups: &[&[f64]]) -> Option<(f64, f64)> {
    let k = groups.len();
    if k < 2 || groups.iter().any(|g| g.len() < 2) {
        return None;
    }
    let z: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| {
            let m = median(g).unwrap_or(0.0);
            g.iter().map(|x| (x - m).abs()).collect()
        })
        .collect();
    let n: usize = z.iter().map(Vec::len).sum();
    let grand = z.iter().flatten().sum::<f64>() / n as f64;
    let between: f64 = z
        .iter()
        .map(|g| g.len() as f64 * (mean(g) - grand).powi(2))
        .sum();
    let within: f64 = z
        .iter()
        .map(|g| {
            let m = mean(g);
            g.iter().map(|x| (x - m).powi(2)).sum::<f64>()
        })
        .sum();
    let (d1, d2) = ((k - 1) as f64, (n - k) as f64);
    if within <= 0.0 {
        return None;
    }
    let f = (between / d1) / (within / d2);
    let p = FisherSnedecor::new(d1, d2).ok()?.sf(f);
    Some((f, p))
}

/// The `level` percentile interval of bootstrap `values` (the (1 − level)/2
/// and (1 + level)/2 quantiles); `None` for no values. Each end by
/// selection rather than a sort (a report computes tens of thousands of
/// intervals of `[report] bootstrap` values), among integers that order
/// as `f64::total_cmp` orders the values: one compare per step, not
/// total_cmp's bit fiddling on both sides (a large report's selections
/// took 7% of its time, 4% after). The same order statistics and the same
/// interpolation as [`quantile`], so the same bits (tested).
pub fn percentile_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let a = (1.0 - level) / 2.0;
    let mut keys: Vec<i64> = values.iter().map(|v| order_key(*v)).collect();
    Some((
        quantile_by_selection(&mut keys, a),
        quantile_by_selection(&mut keys, 1.0 - a),
    ))
}

/// An integer that orders as `f64::total_cmp` orders `v` (its own
/// definition): the bits, with those after the sign flipped when negative.
fn order_key(v: f64) -> i64 {
    let bits = v.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The value of an [`order_key`] (the flip undoes itself).
fn from_order_key(k: i64) -> f64 {
    f64::from_bits(order_key(f64::from_bits(k as u64)) as u64)
}

/// [`quantile`] of a non-empty slice of [`order_key`]s by selection,
/// reordering it.
fn quantile_by_selection(keys: &mut [i64], q: f64) -> f64 {
    let pos = q * (keys.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    let (_, k_lo, above) = keys.select_nth_unstable(lo);
    let x_lo = from_order_key(*k_lo);
    let x_hi = if hi == lo {
        x_lo
    } else {
        // The next order statistic is the least of those after position lo.
        above.iter().min().map_or(x_lo, |k| from_order_key(*k))
    };
    x_lo + (x_hi - x_lo) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn descriptive_statistics_match_numpy() {
        // numpy: std(ddof=1), median, quantile(0.25/0.75) of [0.3, 0.5, 0.2, 0.9, 0.4].
        let d = [0.3, 0.5, 0.2, 0.9, 0.4];
        assert!(close(mean(&d), 0.46));
        assert!(close(std(&d).unwrap(), 0.2701851217221259));
        assert_eq!(median(&d), Some(0.4));
        assert!(close(iqr(&d).unwrap(), 0.2));
        assert_eq!(std(&[1.0]), None, "one seed has no spread");
        // Two seeds do: numpy.std([1.0, 3.5], ddof=1).
        assert!(close(std(&[1.0, 3.5]).unwrap(), 1.7677669529663689));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn t_interval_matches_scipy() {
        // scipy: mean ± t.ppf(0.975, 4)·s/√5.
        let (lo, hi) = t_interval(&[0.3, 0.5, 0.2, 0.9, 0.4], 0.95).unwrap();
        assert!((lo - 0.12452086150733443).abs() < 1e-7, "{lo}");
        assert!((hi - 0.7954791384926655).abs() < 1e-7, "{hi}");
        assert_eq!(t_interval(&[1.0], 0.95), None);
    }

    #[test]
    fn spearman_matches_scipy() {
        let (rho, p) = spearman(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            &[2.0, 1.0, 4.0, 3.0, 7.0, 5.0, 6.0],
        )
        .unwrap();
        assert!(close(rho, 0.8214285714285715));
        assert!((p - 0.0234488083456915).abs() < 1e-7, "{p}");
        // With ties (average ranks).
        let (rho, p) = spearman(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0],
            &[3.0, 3.0, 1.0, 4.0, 6.0, 5.0],
        )
        .unwrap();
        assert!(close(rho, 0.8088235294117647));
        assert!((p - 0.051329063199674334).abs() < 1e-7, "{p}");
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), None);
        let (rho, p) = spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]).unwrap();
        assert_eq!((rho, p), (-1.0, 0.0));
    }

    #[test]
    fn brown_forsythe_matches_scipy_levene_median() {
        let a = [0.52, 0.61, 0.44, 0.90, 0.33, 0.71];
        let b = [0.40, 0.41, 0.39, 0.42, 0.40, 0.38];
        let c = [0.5, 0.55, 0.45, 0.6];
        let (f, p) = brown_forsythe(&[&a, &b]).unwrap();
        assert!(close(f, 9.79425465838509), "{f}");
        assert!((p - 0.01069818230151059).abs() < 1e-7, "{p}");
        let (f, p) = brown_forsythe(&[&a, &b, &c]).unwrap();
        assert!(close(f, 6.436238789237666), "{f}");
        assert!((p - 0.011407347323366356).abs() < 1e-7, "{p}");
        assert_eq!(brown_forsythe(&[&a]), None);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_statistic() {
        let xs: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin()).collect();
        let a = bootstrap(&xs, |s| Some(mean(s)), 2000, 0.95, 7).unwrap();
        let b = bootstrap(&xs, |s| Some(mean(s)), 2000, 0.95, 7).unwrap();
        assert_eq!(a, b);
        assert!(a.0 < mean(&xs) && mean(&xs) < a.1);
        // Close to the t interval for a mean of 40 values.
        let t = t_interval(&xs, 0.95).unwrap();
        assert!(
            (a.0 - t.0).abs() < 0.05 && (a.1 - t.1).abs() < 0.05,
            "{a:?} vs {t:?}"
        );
    }

    /// The interval as it was computed before selection: `quantile`
    /// (a sort) at each end.
    fn sorted_interval(v: &[f64], level: f64) -> Option<(f64, f64)> {
        let a = (1.0 - level) / 2.0;
        Some((quantile(v, a)?, quantile(v, 1.0 - a)?))
    }

    /// Selection gives the bits of the sorting interval (`quantile` at both
    /// ends) on random values with ties, both zeros and −∞, at several
    /// sizes and levels.
    /// Catches the upper neighbour taken from the wrong side of the selected
    /// element, an interpolation that differs from NumPy's, and an order
    /// key that orders negatives backwards or does not undo itself.
    #[test]
    fn selection_equals_the_sorted_percentile_interval() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for len in [1, 2, 3, 10, 401, 2000] {
            for level in [0.5, 0.8, 0.9, 0.95, 0.99] {
                let v: Vec<f64> = (0..len)
                    .map(|_| match rng.random_range(0..10) {
                        0 => 0.0,
                        1 => -0.0,
                        2 => 1.0,
                        3 => f64::NEG_INFINITY,
                        _ => rng.random::<f64>() - 0.5,
                    })
                    .collect();
                let want = sorted_interval(&v, level);
                let got = percentile_interval(&v, level);
                let bits = |x: Option<(f64, f64)>| x.map(|(a, b)| (a.to_bits(), b.to_bits()));
                assert_eq!(bits(got), bits(want), "len {len}, level {level}");
            }
        }
        assert_eq!(percentile_interval(&[], 0.9), None);
    }
}
