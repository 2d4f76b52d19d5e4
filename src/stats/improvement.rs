//! Probability of improvement: how often one configuration beats another
//! seed for seed (Agarwal et al. 2021), a statistic a reader can say in one
//! sentence ("wins in 80% of seed pairs") and that does not assume normal
//! losses.

use rand_chacha::ChaCha8Rng;

use super::percentile_interval;

/// P(X < Y) estimated over all pairs: (#{x < y} + ½·#{x = y}) / (n_x·n_y),
/// the Mann–Whitney U of `y` against `x` over n_x·n_y
/// (`scipy.stats.mannwhitneyu(y, x).statistic / (n_x * n_y)`: SciPy's
/// statistic counts the pairs where its *first* argument is larger). For
/// losses, lower is better, so this is the probability that X improves on
/// Y; for accuracies swap the arguments, P(X > Y) =
/// `probability_of_improvement(y, x)`. `None` when either sample is empty.
pub fn probability_of_improvement(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let wins: f64 = x
        .iter()
        .flat_map(|a| y.iter().map(move |b| (a, b)))
        .map(|(a, b)| {
            if a < b {
                1.0
            } else if a == b {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    Some(wins / (x.len() * y.len()) as f64)
}

/// Bootstrap percentile interval at `level` of
/// [`probability_of_improvement`]: the interval of
/// [`probability_of_improvement_replicates`]. `None` when either sample is
/// empty.
pub fn probability_of_improvement_interval(
    x: &[f64],
    y: &[f64],
    reps: usize,
    level: f64,
    rng: &mut ChaCha8Rng,
) -> Option<(f64, f64)> {
    probability_of_improvement(x, y)?;
    percentile_interval(
        &probability_of_improvement_replicates(x, y, reps, rng),
        level,
    )
}

/// The `reps` bootstrap replicates of [`probability_of_improvement`] (for
/// an interval or a bootstrap p-value): each resample draws `x` and then
/// `y` with replacement, independently and at their own sizes (the two
/// configurations' seeds are independent). Draws come from `rng`, which
/// the caller seeds. Empty when either sample is.
pub fn probability_of_improvement_replicates(
    x: &[f64],
    y: &[f64],
    reps: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    if x.is_empty() || y.is_empty() {
        return Vec::new();
    }
    let (mut xs, mut ys) = (vec![0.0; x.len()], vec![0.0; y.len()]);
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        super::resample_into(rng, x, &mut xs);
        super::resample_into(rng, y, &mut ys);
        values.extend(probability_of_improvement(&xs, &ys));
    }
    values
}

/// The probability of outperforming (Bouthillier et al. 2021) over paired
/// runs (x, y), each pair sharing its seed: the share of pairs with x < y,
/// ties counted half, which is the mean over the pairs of
/// [`probability_of_improvement`] of the pair. As there, x < y is x
/// winning on a loss; swap the pair's sides for an accuracy. `None` for no
/// pairs.
pub fn probability_of_outperforming(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.is_empty() {
        return None;
    }
    let wins: f64 = pairs
        .iter()
        .filter_map(|(x, y)| probability_of_improvement(&[*x], &[*y]))
        .sum();
    Some(wins / pairs.len() as f64)
}

/// The `reps` bootstrap replicates of [`probability_of_outperforming`]:
/// each resample draws the pairs with replacement, keeping each pair
/// together (the runs are paired by seed). Draws come from `rng`, which
/// the caller seeds. Empty when there are no pairs.
pub fn probability_of_outperforming_replicates(
    pairs: &[(f64, f64)],
    reps: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<f64> {
    if pairs.is_empty() {
        return Vec::new();
    }
    let mut sample = vec![(0.0, 0.0); pairs.len()];
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        super::resample_into(rng, pairs, &mut sample);
        values.extend(probability_of_outperforming(&sample));
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    // With ties within and across the samples (0.25, 0.30, 0.40 in both).
    const X: [f64; 6] = [0.30, 0.25, 0.40, 0.25, 0.35, 0.20];
    const Y: [f64; 5] = [0.25, 0.45, 0.40, 0.50, 0.30];

    #[test]
    fn matches_scipy_mann_whitney_u() {
        // scipy 1.17.1: mannwhitneyu(Y, X).statistic / (6*5) =
        // 0.7666666666666667 (23 of 30 pairs, ties as halves; counted by
        // hand too: sum((a < b) + 0.5*(a == b) for a in X for b in Y) = 23).
        // The other order, mannwhitneyu(X, Y), gives 0.23333333333333334 =
        // P(X > Y), which is what P(Y < X) must be.
        assert_eq!(probability_of_improvement(&X, &Y), Some(23.0 / 30.0));
        assert!((probability_of_improvement(&X, &Y).unwrap() - 0.7666666666666667).abs() < 1e-15);
        assert!((probability_of_improvement(&Y, &X).unwrap() - 0.23333333333333334).abs() < 1e-15);
        assert_eq!(probability_of_improvement(&[1.0], &[1.0]), Some(0.5));
        assert_eq!(probability_of_improvement(&[], &Y), None);
    }

    #[test]
    fn interval_is_seeded_and_brackets_the_estimate() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            probability_of_improvement_interval(&X, &Y, 2000, 0.95, &mut rng).unwrap()
        };
        let (lo, hi) = run(9);
        assert_eq!((lo, hi), run(9));
        // Quantiles of a statistic on 30 pairs are coarse, so nearby seeds
        // may agree; some seed must not.
        assert!((10..20).any(|seed| run(seed) != (lo, hi)));
        assert!(lo < 23.0 / 30.0 && 23.0 / 30.0 < hi, "{lo} {hi}");
        assert!((0.0..=1.0).contains(&lo) && (0.0..=1.0).contains(&hi));
        // Every x below every y: every resample says 1.
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let iv = probability_of_improvement_interval(&[0.1, 0.2], &[0.3, 0.4], 100, 0.95, &mut rng);
        assert_eq!(iv, Some((1.0, 1.0)));
    }

    /// Pairs counted by hand: (0.30, 0.25) loses, (0.25, 0.45) wins,
    /// (0.40, 0.40) ties, (0.25, 0.50) wins, (0.35, 0.30) loses: (2 + ½)/5
    /// = 0.5 (X's sixth value has no partner). Unpaired, X against Y gives
    /// 23/30 over all pairs (the test above): catches pairs crossed into
    /// all pairs. The bootstrap keeps pairs together: with every pair a win,
    /// every replicate is 1 whatever the draws.
    #[test]
    fn outperforming_counts_paired_runs() {
        let pairs: Vec<(f64, f64)> = X.iter().copied().zip(Y.iter().copied()).collect();
        assert_eq!(probability_of_outperforming(&pairs), Some(0.5));
        assert_eq!(probability_of_outperforming(&[]), None);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let wins = [(0.1, 0.9), (0.5, 0.6), (0.8, 0.85)];
        let reps = probability_of_outperforming_replicates(&wins, 300, &mut rng);
        assert_eq!(reps.len(), 300);
        assert!(reps.iter().all(|r| *r == 1.0));
        let mut a = ChaCha8Rng::seed_from_u64(5);
        let mut b = ChaCha8Rng::seed_from_u64(5);
        let one = probability_of_outperforming_replicates(&pairs, 200, &mut a);
        assert_eq!(
            one,
            probability_of_outperforming_replicates(&pairs, 200, &mut b)
        );
        assert!(one.iter().all(|r| (0.0..=1.0).contains(r)));
        // Resampled pairs give shares in steps of 1/10 (5 pairs, ties ½).
        assert!(
            one.iter()
                .all(|r| (r * 10.0 - (r * 10.0).round()).abs() < 1e-9)
        );
    }
}
