//! The bootstrap's draws, in one place: every resample in a report, in
//! `stats/` and in `report/`, is drawn by these functions, so the draw
//! order (which makes a report's bytes reproducible for a seed) is written
//! once. Each draw is `rng.random_range(0..n)` on a caller-seeded
//! `ChaCha8Rng`, one per resampled slot in slot order; the IQM's
//! vectorised draws as counts are in `resample`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::quantile;

/// Fills `out` with draws from `xs` with replacement, one per slot in
/// order (`out` may be shorter or longer than `xs`). `xs` must not be
/// empty unless `out` is.
pub fn resample_into<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T], out: &mut [T]) {
    for s in out.iter_mut() {
        *s = xs[rng.random_range(0..xs.len())];
    }
}

/// Fills `out` with `out.len()` draws of indices in `0..n`.
pub fn indices_into(rng: &mut ChaCha8Rng, n: usize, out: &mut [usize]) {
    for s in out.iter_mut() {
        *s = rng.random_range(0..n);
    }
}

/// A paired resample: one index per slot, taken from `a` and `b` alike
/// (pairs stay pairs). `sa` and `sb` have the same length, at most the
/// inputs'; draws come from the first `sa.len()` of each.
pub fn paired_resample_into<T: Copy>(
    rng: &mut ChaCha8Rng,
    (a, b): (&[T], &[T]),
    (sa, sb): (&mut [T], &mut [T]),
) {
    let n = sa.len();
    for k in 0..n {
        let i = rng.random_range(0..n);
        sa[k] = a[i];
        sb[k] = b[i];
    }
}

/// A resample of `counts.len()` members as counts: how often each member
/// was drawn (members weighted rather than copied).
pub fn counts_into(rng: &mut ChaCha8Rng, counts: &mut [usize]) {
    counts.iter_mut().for_each(|c| *c = 0);
    let k = counts.len();
    for _ in 0..k {
        counts[rng.random_range(0..k)] += 1;
    }
}

/// `reps` replicates of `stat(a) − stat(b)`, resampling `a` then `b`
/// within each replicate, independently and at their own sizes; replicates
/// where `stat` is undefined on either are dropped. Empty when either
/// group is.
pub fn two_sample_differences(
    rng: &mut ChaCha8Rng,
    (xa, xb): (&[f64], &[f64]),
    reps: usize,
    stat: impl Fn(&[f64]) -> Option<f64>,
) -> Vec<f64> {
    let mut diffs = Vec::with_capacity(reps);
    if xa.is_empty() || xb.is_empty() {
        return diffs;
    }
    let (mut sa, mut sb) = (vec![0.0; xa.len()], vec![0.0; xb.len()]);
    for _ in 0..reps {
        resample_into(rng, xa, &mut sa);
        resample_into(rng, xb, &mut sb);
        if let (Some(x), Some(y)) = (stat(&sa), stat(&sb)) {
            diffs.push(x - y);
        }
    }
    diffs
}

/// Percentile bootstrap interval of `stat` at `level`, from `reps`
/// resamples drawn with a `ChaCha8Rng` seeded by `seed` (so reports are
/// reproducible). `None` when `stat` is undefined on the data.
pub fn bootstrap(
    xs: &[f64],
    stat: impl Fn(&[f64]) -> Option<f64>,
    reps: usize,
    level: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    stat(xs)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = vec![0.0; xs.len()];
    let mut values = Vec::with_capacity(reps);
    for _ in 0..reps {
        resample_into(&mut rng, xs, &mut sample);
        if let Some(v) = stat(&sample) {
            values.push(v);
        }
    }
    let a = (1.0 - level) / 2.0;
    Some((quantile(&values, a)?, quantile(&values, 1.0 - a)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The draws the functions above must make: the indices of a stream
    /// drawn one at a time, written out here independently of them.
    fn raw(seed: u64, n: usize, count: usize) -> Vec<usize> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..count).map(|_| rng.random_range(0..n)).collect()
    }

    #[test]
    fn resample_takes_one_draw_per_slot_in_order() {
        let xs = [10, 11, 12, 13, 14];
        let mut out = [0; 7];
        resample_into(&mut ChaCha8Rng::seed_from_u64(3), &xs, &mut out);
        let want: Vec<i32> = raw(3, 5, 7).iter().map(|&i| xs[i]).collect();
        assert_eq!(out.to_vec(), want);
        let mut idx = [0; 7];
        indices_into(&mut ChaCha8Rng::seed_from_u64(3), 5, &mut idx);
        assert_eq!(idx.to_vec(), raw(3, 5, 7));
    }

    #[test]
    fn paired_resample_keeps_pairs() {
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [-1.0, -2.0, -3.0, -4.0, -5.0]);
        let (mut sa, mut sb) = ([0.0; 4], [0.0; 4]);
        paired_resample_into(
            &mut ChaCha8Rng::seed_from_u64(8),
            (&a, &b),
            (&mut sa, &mut sb),
        );
        let picks = raw(8, 4, 4);
        assert_eq!(sa.to_vec(), picks.iter().map(|&i| a[i]).collect::<Vec<_>>());
        assert_eq!(sb, sa.map(|x| -x));
    }

    #[test]
    fn counts_add_up_to_the_draws() {
        let mut counts = [9; 6];
        counts_into(&mut ChaCha8Rng::seed_from_u64(4), &mut counts);
        let mut want = [0; 6];
        raw(4, 6, 6).into_iter().for_each(|i| want[i] += 1);
        assert_eq!(counts, want);
        assert_eq!(counts.iter().sum::<usize>(), 6);
    }

    #[test]
    fn two_sample_differences_draw_a_then_b() {
        let (xa, xb) = ([1.0, 5.0, 9.0], [2.0, 4.0]);
        let mean = |s: &[f64]| Some(s.iter().sum::<f64>() / s.len() as f64);
        let got = two_sample_differences(&mut ChaCha8Rng::seed_from_u64(6), (&xa, &xb), 3, mean);
        // Replicate r draws 3 indices of a, then 2 of b, from one stream.
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let want: Vec<f64> = (0..3)
            .map(|_| {
                let a: f64 = (0..3).map(|_| xa[rng.random_range(0..3)]).sum::<f64>() / 3.0;
                let b: f64 = (0..2).map(|_| xb[rng.random_range(0..2)]).sum::<f64>() / 2.0;
                a - b
            })
            .collect();
        assert_eq!(got, want);
        assert!(
            two_sample_differences(&mut ChaCha8Rng::seed_from_u64(6), (&[], &xb), 3, mean)
                .is_empty()
        );
    }
}
