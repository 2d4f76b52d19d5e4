//! Seeds needed: for an inconclusive comparison, about how many seeds per
//! configuration would settle it if the observed effect and spread held.

use statrs::distribution::{ContinuousCDF, Normal};

/// The power at which [`seeds_needed`] counts: the conventional 0.8.
pub const SEEDS_POWER: f64 = 0.8;

/// Seeds per group at which a two-sided test at `alpha` of a difference in
/// means of standardised size `effect` (δ/σ, σ the common per-seed standard
/// deviation) reaches significance with probability [`SEEDS_POWER`], by the
/// normal approximation n = 2·(z_{1−α/2} + z_{0.8})²/effect², rounded up
/// and at least 2 (a spread needs two seeds). We count at power 0.8 rather
/// than at the n where the observed effect would *just* reach p < α
/// (2·z_{1−α/2}²/effect², power 0.5), because at that n a rerun settles the
/// question only half the time. The normal approximation ignores the t
/// distribution's heavier tails, so for small n it is a slight
/// underestimate ("about n seeds"). `None` when `effect` is 0 or not
/// finite (no number of seeds settles it) or `alpha` is not in (0, 1).
pub fn seeds_needed(effect: f64, alpha: f64) -> Option<usize> {
    let n = 2.0 * z_sum(alpha)?.powi(2) / (effect * effect);
    rounded(n)
}

/// [`seeds_needed`] from the two samples themselves: δ = mean(y) − mean(x)
/// and each group its own variance (ddof 1), n = (z_{1−α/2} + z_{0.8})² ·
/// (s_x² + s_y²)/δ², which is the formula above with σ² the average of the
/// two variances. `None` when either sample has fewer than two values, the
/// means are equal, or `alpha` is not in (0, 1); 2 when neither sample
/// varies but the means differ.
pub fn seeds_needed_for(x: &[f64], y: &[f64], alpha: f64) -> Option<usize> {
    let var = super::std(x)?.powi(2) + super::std(y)?.powi(2);
    seeds_needed_from_variance(super::mean(y) - super::mean(x), var, alpha)
}

/// The seeds at which an effect `delta` whose estimate has variance
/// `var`/n from n seeds reaches z_{1−α/2} + z_{0.8} standard errors:
/// n = (z_{1−α/2} + z_{0.8})²·var/δ², rounded up, at least 2. Both
/// [`seeds_needed_for`] (var = s_x² + s_y²) and [`seeds_needed_from_se`]
/// (var = n·se²) are this. `None` when δ = 0, an input is not finite, or
/// `alpha` is not in (0, 1).
pub fn seeds_needed_from_variance(delta: f64, var: f64, alpha: f64) -> Option<usize> {
    rounded(z_sum(alpha)?.powi(2) * var / (delta * delta))
}

/// [`seeds_needed`] for an estimate from one group of `n` seeds whose
/// standard error `se` (a bootstrap's) shrinks as 1/√n: the n' at which
/// |estimate|/(se·√(n/n')) reaches z_{1−α/2} + z_{0.8}, n' = n·(z·se/δ)².
/// A rough guide when the estimate itself changes with n (an ensemble's
/// gain grows with its size). `None` when `effect` is 0 or either input
/// is not finite.
pub fn seeds_needed_from_se(effect: f64, se: f64, n: usize, alpha: f64) -> Option<usize> {
    rounded(n as f64 * (z_sum(alpha)? * se / effect).powi(2))
}

/// z_{1−α/2} + z_{power}; `None` unless 0 < α < 1.
pub fn z_sum(alpha: f64) -> Option<f64> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return None;
    }
    let z = Normal::standard();
    Some(z.inverse_cdf(1.0 - alpha / 2.0) + z.inverse_cdf(SEEDS_POWER))
}

fn rounded(n: f64) -> Option<usize> {
    n.is_finite().then(|| (n.ceil() as usize).max(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catches n and the ratio swapped or the square dropped: with
    /// z = 2.8015852181 (scipy, above), n = 10, se = 0.01, δ = 0.02:
    /// 10·(2.8016·0.5)² = 19.62 → 20; δ = 0 and a NaN se give no count.
    #[test]
    fn seeds_from_a_standard_error() {
        assert_eq!(seeds_needed_from_se(0.02, 0.01, 10, 0.05), Some(20));
        assert_eq!(seeds_needed_from_se(-0.02, 0.01, 10, 0.05), Some(20));
        assert_eq!(seeds_needed_from_se(0.2, 0.01, 10, 0.05), Some(2));
        assert_eq!(seeds_needed_from_se(0.0, 0.01, 10, 0.05), None);
        assert_eq!(seeds_needed_from_se(0.02, f64::NAN, 10, 0.05), None);
    }

    #[test]
    fn normal_quantiles_match_scipy() {
        // scipy 1.17.1: norm.ppf(0.975) + norm.ppf(0.8)
        // = 1.959963984540054 + 0.8416212335729143;
        // norm.ppf(0.995) = 2.5758293035489004.
        let z = z_sum(0.05).unwrap();
        assert!(
            (z - (1.959963984540054 + 0.8416212335729143)).abs() < 1e-12,
            "{z}"
        );
        let z = z_sum(0.01).unwrap();
        assert!(
            (z - (2.5758293035489004 + 0.8416212335729143)).abs() < 1e-12,
            "{z}"
        );
    }

    #[test]
    fn seeds_needed_matches_the_formula_from_scipy_quantiles() {
        // n = 2*(norm.ppf(1 - a/2) + norm.ppf(0.8))**2 / d**2 in SciPy:
        // d = 0.5, a = 0.05: 62.79103787479271 → 63 (the textbook 63 per
        // group for a medium effect); d = 1: 15.697759468698177 → 16;
        // d = 0.2: 392.44398671745444 → 393; d = 0.5, a = 0.01:
        // 93.43174538939344 → 94.
        assert_eq!(seeds_needed(0.5, 0.05), Some(63));
        assert_eq!(seeds_needed(-0.5, 0.05), Some(63));
        assert_eq!(seeds_needed(1.0, 0.05), Some(16));
        assert_eq!(seeds_needed(0.2, 0.05), Some(393));
        assert_eq!(seeds_needed(0.5, 0.01), Some(94));
        // A huge effect still needs two seeds to show a spread.
        assert_eq!(seeds_needed(10.0, 0.05), Some(2));
        assert_eq!(seeds_needed(0.0, 0.05), None);
        assert_eq!(seeds_needed(f64::NAN, 0.05), None);
        assert_eq!(seeds_needed(0.5, 0.0), None);
        assert_eq!(seeds_needed(0.5, 1.0), None);
    }

    #[test]
    fn seeds_needed_from_samples_matches_numpy() {
        // numpy: d = mean(y) - mean(x) = 0.08833333333333332,
        // v = var(x, ddof=1) + var(y, ddof=1) = 0.01616666666666667,
        // (norm.ppf(0.975) + norm.ppf(0.8))**2 * v / d**2
        // = 16.262185850449168 → 17.
        let x = [0.30, 0.25, 0.40, 0.25, 0.35, 0.20];
        let y = [0.25, 0.45, 0.40, 0.50, 0.30];
        assert_eq!(seeds_needed_for(&x, &y, 0.05), Some(17));
        assert_eq!(seeds_needed_for(&y, &x, 0.05), Some(17));
        assert_eq!(seeds_needed_for(&x, &x, 0.05), None);
        assert_eq!(seeds_needed_for(&[1.0, 1.0], &[2.0, 2.0], 0.05), Some(2));
        assert_eq!(seeds_needed_for(&[1.0], &y, 0.05), None);
    }
}
