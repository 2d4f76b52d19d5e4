use super::*;
use crate::stats::iqm;
use rand::SeedableRng;

/// The trials a resample drew, from its counts, in trial order.
fn resample(counts: &[f64], n: usize, reps: usize, r: usize) -> Vec<usize> {
    (0..n)
        .flat_map(|t| std::iter::repeat_n(t, counts[t * reps + r] as usize))
        .collect()
}

/// Each resample's IQM read off the counts is `iqm` (scipy's trim_mean,
/// tested in `robust`) of the resample built and sorted the slow way, for
/// a metric defined on every trial (ties and -0.0 included) and for one
/// defined on three of seven (variable resample size; resamples without
/// any left out). Catches an off-by-one in the kept middle (lo/hi), the
/// copies that straddle a boundary miscounted, and the size of a
/// partially defined metric's resample taken as n.
#[test]
fn each_resample_iqm_is_trim_mean_of_the_resample() {
    let full = [0.3, -0.0, 0.0, 1.5, 0.3, 2.0, -1.0];
    let partial = [None, Some(4.0), None, Some(-2.0), None, Some(0.5), None];
    let (n, reps) = (full.len(), 500);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let counts = draw_counts(n, reps, &mut rng);
    let mut walk = Walk::new(reps);
    for metric in [
        full.iter().map(|v| Some(*v)).collect::<Vec<_>>(),
        partial.to_vec(),
    ] {
        let mut defined: Vec<(f64, usize)> = metric
            .iter()
            .enumerate()
            .filter_map(|(t, v)| v.map(|v| (v, t)))
            .collect();
        defined.sort_by(|a, b| a.0.total_cmp(&b.0));
        let got = walk.iqms(&defined, &counts, n);
        let want: Vec<f64> = (0..reps)
            .filter_map(|r| {
                let s: Vec<f64> = resample(&counts, n, reps, r)
                    .into_iter()
                    .filter_map(|t| metric[t])
                    .collect();
                iqm(&s)
            })
            .collect();
        assert_eq!(got.len(), want.len());
        assert!(want.len() > reps / 2, "most resamples draw a defined trial");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-15 * w.abs().max(1.0), "{g} vs {w}");
        }
    }
}

/// The draws are uniform: every resample has n trials, and over 20,000
/// resamples of 5 trials each trial is drawn 20,000 times ± 4σ (σ =
/// √(100,000 · 0.2 · 0.8) ≈ 126). Catches the index taken from the wrong
/// half of the product (always 0) and a modulo that favours low indices
/// by more than the bound.
#[test]
fn draws_are_uniform_and_fill_each_resample() {
    let (n, reps) = (5, 20_000);
    let counts = draw_counts(n, reps, &mut ChaCha8Rng::seed_from_u64(1));
    for r in 0..reps {
        let size: f64 = (0..n).map(|t| counts[t * reps + r]).sum();
        assert_eq!(size, n as f64);
    }
    for t in 0..n {
        let total: f64 = counts[t * reps..(t + 1) * reps].iter().sum();
        assert!((total - 20_000.0).abs() < 4.0 * 126.5, "trial {t}: {total}");
    }
    // The rejection threshold is 2^32 mod n (2^32 = 858,993,459 · 5 + 1).
    assert_eq!(5u32.wrapping_neg() % 5, 1);
}

/// The reference of the report's IQM test, here directly: the exact
/// bootstrap distribution of the IQM of [0.7, 0.2, 0.4, 0.1] (all 4⁴
/// resamples enumerated in Python) puts its 10% and 90% quantiles on the
/// plateaus 0.15 and 0.55. A metric defined on no trial has no interval, a
/// constant one its value; a metric that is exactly twice another has
/// exactly twice its interval, because both read the same resamples.
/// Catches per-metric draws (the doubled metric would differ), a wrong
/// level, and a constant metric resampled into rounding noise.
#[test]
fn intervals_by_hand() {
    let base = [0.7, 0.2, 0.4, 0.1];
    let values = vec![
        base.iter().map(|v| Some(*v)).collect(),
        base.iter().map(|v| Some(2.0 * v)).collect(),
        vec![None; 4],
        vec![Some(0.1 + 0.2); 4],
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let iv = iqm_intervals(&values, 2000, 0.8, &mut rng);
    let (lo, hi) = iv[0].unwrap();
    assert!(
        (lo - 0.15).abs() < 1e-12 && (hi - 0.55).abs() < 1e-12,
        "{lo} {hi}"
    );
    assert_eq!(iv[1], Some((2.0 * lo, 2.0 * hi)));
    assert_eq!(iv[2], None);
    assert_eq!(iv[3], Some((0.1 + 0.2, 0.1 + 0.2)));
    let again = iqm_intervals(&values, 2000, 0.8, &mut ChaCha8Rng::seed_from_u64(7));
    assert_eq!(iv, again, "seeded");
}
