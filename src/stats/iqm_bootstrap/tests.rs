use super::*;
use crate::stats::iqm;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
    let res = Resamples::draw(n, reps, &mut ChaCha8Rng::seed_from_u64(3));
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
        let got = walk.iqms(&defined, &res);
        let want: Vec<f64> = (0..reps)
            .filter_map(|r| {
                let s: Vec<f64> = res
                    .resample(r)
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
    let draw = || Resamples::draw(4, 2000, &mut ChaCha8Rng::seed_from_u64(7));
    let iv = iqm_intervals(&values, &draw(), 0.8);
    let (lo, hi) = iv[0].unwrap();
    assert!(
        (lo - 0.15).abs() < 1e-12 && (hi - 0.55).abs() < 1e-12,
        "{lo} {hi}"
    );
    assert_eq!(iv[1], Some((2.0 * lo, 2.0 * hi)));
    assert_eq!(iv[2], None);
    assert_eq!(iv[3], Some((0.1 + 0.2, 0.1 + 0.2)));
    let again = iqm_intervals(&values, &draw(), 0.8);
    assert_eq!(iv, again, "seeded");
}
