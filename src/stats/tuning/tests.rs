use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

/// The mean over every n-subset of `scores` of its best, by enumerating
/// the subsets as bit masks: the definition the unbiased estimator must
/// equal exactly.
fn brute_force(scores: &[f64], higher: bool) -> Vec<f64> {
    let big_n = scores.len();
    let mut sums = vec![0.0; big_n + 1];
    let mut counts = vec![0u64; big_n + 1];
    for mask in 1u32..(1 << big_n) {
        let members = (0..big_n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| scores[i]);
        let best = if higher {
            members.fold(f64::NEG_INFINITY, f64::max)
        } else {
            members.fold(f64::INFINITY, f64::min)
        };
        let n = mask.count_ones() as usize;
        sums[n] += best;
        counts[n] += 1;
    }
    (1..=big_n).map(|n| sums[n] / counts[n] as f64).collect()
}

/// Unsorted scores with a tie, both directions, every n of N = 9: the
/// estimator is the mean of the 2^9 − 1 subsets' bests (to rounding).
/// Catches a weight off by one in i or n, the wrong end taken as best,
/// and a recurrence that drifts.
#[test]
fn unbiased_equals_the_mean_over_all_subsets() {
    let scores = [0.31, 0.12, 0.57, 0.12, 0.44, 0.90, 0.05, 0.66, 0.23];
    for higher in [false, true] {
        let got = expected_best(&scores, higher);
        let want = brute_force(&scores, higher);
        assert_eq!(got.len(), 9);
        for (n, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() < 1e-12,
                "n = {}, higher {higher}: {g} vs {w}",
                n + 1
            );
        }
    }
    // n = 1 is the mean, n = N the best.
    let loss = expected_best(&scores, false);
    assert!((loss[0] - scores.iter().sum::<f64>() / 9.0).abs() < 1e-12);
    assert_eq!(loss[8], 0.05);
    assert_eq!(expected_best(&scores, true)[8], 0.90);
    assert!(expected_best(&[], true).is_empty());
}

/// Worked by hand for the scores 1, 2, 3. With replacement, best of n
/// draws: P(best = i-th worst) = (i/3)ⁿ − ((i − 1)/3)ⁿ. Higher better:
/// n = 1: 2; n = 2: 1·1/9 + 2·3/9 + 3·5/9 = 22/9; n = 3: 1·1/27 + 2·7/27 +
/// 3·19/27 = 72/27 = 8/3. Lower better (worst first 3, 2, 1): n = 2:
/// 3·1/9 + 2·3/9 + 1·5/9 = 14/9. Without replacement, higher better,
/// n = 2: the subsets {1,2}, {1,3}, {2,3} have bests 2, 3, 3: 8/3.
#[test]
fn with_replacement_matches_hand_worked_values() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    let up = expected_best_with_replacement(&[2.0, 3.0, 1.0], true);
    assert!(close(up[0], 2.0) && close(up[1], 22.0 / 9.0) && close(up[2], 8.0 / 3.0));
    let down = expected_best_with_replacement(&[2.0, 3.0, 1.0], false);
    assert!(
        close(down[0], 2.0) && close(down[1], 14.0 / 9.0),
        "{down:?}"
    );
    let unbiased = expected_best(&[2.0, 3.0, 1.0], true);
    assert!(close(unbiased[1], 8.0 / 3.0) && close(unbiased[2], 3.0));
    // Drawing with replacement repeats configurations, so its best of N
    // falls short of the best: (3 − 8/3) here.
    assert!(up[2] < unbiased[2]);
}

/// N = 3000: C(3000, 1500) is about 10^901, far past f64, yet every
/// weight stays finite. Equal scores give 1 at every n (the weights of
/// each n sum to 1), and scores 1..N give the exact mean best of an
/// n-subset of 1..N, n(N + 1)/(n + 1).
#[test]
fn large_n_neither_overflows_nor_loses_the_weights() {
    let big_n = 3000;
    for (n, x) in expected_best(&vec![1.0; big_n], true).iter().enumerate() {
        assert!((x - 1.0).abs() < 1e-9, "n = {}: {x}", n + 1);
    }
    let ranks: Vec<f64> = (1..=big_n).map(|i| i as f64).collect();
    let curve = expected_best(&ranks, true);
    for n in [1usize, 2, 10, 1500, 2999, 3000] {
        let want = (n * (big_n + 1)) as f64 / (n + 1) as f64;
        assert!(
            (curve[n - 1] - want).abs() < 1e-9 * want,
            "n = {n}: {} vs {want}",
            curve[n - 1]
        );
    }
}

/// The bands are seeded (same stream, same bits), bracket the estimate
/// in the middle of the curve, collapse to a point when every
/// configuration is the same single value (to rounding), and widen when
/// the same medians come with seed noise as large as their spread (the
/// second stage).
#[test]
fn bands_are_seeded_and_carry_seed_noise() {
    let medians = [0.30, 0.10, 0.50, 0.20, 0.40, 0.35, 0.15, 0.25];
    let exact: Vec<Vec<f64>> = medians.iter().map(|m| vec![*m]).collect();
    let noisy: Vec<Vec<f64>> = medians
        .iter()
        .map(|m| vec![m - 0.3, m - 0.1, *m, m + 0.1, m + 0.3])
        .collect();
    let bands = |configs: &[Vec<f64>], seed| {
        let refs: Vec<&[f64]> = configs.iter().map(Vec::as_slice).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        expected_best_bands(&refs, crate::stats::median, false, 1000, 0.9, &mut rng)
    };
    let a = bands(&exact, 3);
    assert_eq!(a, bands(&exact, 3));
    assert_ne!(a, bands(&exact, 4));
    let point = expected_best(&medians, false);
    for n in [2, 4] {
        let (lo, hi) = a[n - 1].unwrap();
        assert!(lo <= point[n - 1] && point[n - 1] <= hi, "n = {n}");
    }
    let width = |b: &[Option<(f64, f64)>], n: usize| b[n - 1].map(|(l, h)| h - l).unwrap();
    let b = bands(&noisy, 3);
    for n in [1, 4, 8] {
        assert!(width(&b, n) > width(&a, n), "n = {n}");
    }
    let same = vec![vec![0.2]; 5];
    for (lo, hi) in bands(&same, 1).into_iter().map(Option::unwrap) {
        assert!(
            (lo - 0.2).abs() < 1e-15 && (hi - 0.2).abs() < 1e-15,
            "{lo} {hi}"
        );
    }
}

/// The bootstrap's weight table gives the bits of the weights made on the
/// way (same operations, same order of the sum), for N = 1, 2, 57 and
/// values of both signs: the bands are those of `expected_best`'s curve.
#[test]
fn the_weight_table_gives_the_same_bits() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for big_n in [1, 2, 57] {
        let mut v: Vec<f64> = (0..big_n).map(|_| rng.random::<f64>() - 0.3).collect();
        v.sort_by(f64::total_cmp);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        curve_of_sorted(&v, &mut a);
        curve_with(&weights(big_n), &v, &mut b);
        let bits = |x: &[f64]| x.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "N = {big_n}");
    }
}
