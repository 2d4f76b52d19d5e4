//! The two ends of a percentile interval without a selection over the
//! whole slice. A 95% interval of 2,000 bootstrap values needs only the
//! 51 least and the 51 greatest; one pass that keeps them in two bounded
//! heaps does about n comparisons, where two `select_nth_unstable` passes
//! move most of the slice (26% of a P3 report's instructions under
//! callgrind, docs/performance.md). The order statistics are those of a
//! sort under `f64::total_cmp`, so the interval has the same bits.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// `f64::total_cmp`'s order as an integer: the same transform the
/// standard library applies before comparing.
fn key(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

/// The inverse of [`key`] (the transform is its own inverse).
fn value(k: i64) -> f64 {
    f64::from_bits((k ^ ((((k >> 63) as u64) >> 1) as i64)) as u64)
}

/// The order statistics at sorted positions `0..low` and `n - high..n`
/// of `values` (n of them), each part ascending; `None` when the tails
/// are not small beside n (selection is then as cheap).
pub(super) fn tails(values: &[f64], low: usize, high: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let n = values.len();
    if low == 0 || high == 0 || 8 * low.max(high) > n {
        return None;
    }
    let mut least: BinaryHeap<i64> = BinaryHeap::with_capacity(low + 1);
    let mut greatest: BinaryHeap<Reverse<i64>> = BinaryHeap::with_capacity(high + 1);
    for &v in values {
        let k = key(v);
        if least.len() < low {
            least.push(k);
        } else if k < *least.peek().expect("low > 0") {
            least.pop();
            least.push(k);
        }
        if greatest.len() < high {
            greatest.push(Reverse(k));
        } else if k > greatest.peek().expect("high > 0").0 {
            greatest.pop();
            greatest.push(Reverse(k));
        }
    }
    let least: Vec<f64> = least.into_sorted_vec().into_iter().map(value).collect();
    let mut greatest: Vec<f64> = greatest.into_iter().map(|Reverse(k)| value(k)).collect();
    greatest.sort_by(f64::total_cmp);
    Some((least, greatest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn key_orders_as_total_cmp_and_inverts() {
        let vs = [
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            1e-300,
            2.0,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for &a in &vs {
            assert_eq!(value(key(a)).to_bits(), a.to_bits());
            for &b in &vs {
                assert_eq!(key(a).cmp(&key(b)), a.total_cmp(&b), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn tails_are_a_sorts_ends_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for n in [16, 17, 100, 999, 2000] {
            for shape in 0..4 {
                let mut v: Vec<f64> = (0..n)
                    .map(|_| match shape {
                        0 => rng.random::<f64>(),
                        1 => (rng.random_range(0..5) as f64) * 0.5, // ties
                        _ => rng.random::<f64>() - 0.5,
                    })
                    .collect();
                if shape == 2 {
                    v.sort_by(f64::total_cmp); // ascending input: every value enters `greatest`
                } else if shape == 3 {
                    v.sort_by(|a, b| b.total_cmp(a));
                    v[0] = -0.0;
                    v[1] = 0.0;
                }
                let mut sorted = v.clone();
                sorted.sort_by(f64::total_cmp);
                let (low, high) = (n / 8, n / 10 + 1);
                let (least, greatest) = tails(&v, low, high).unwrap();
                let bits = |s: &[f64]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&least), bits(&sorted[..low]), "n {n} shape {shape}");
                assert_eq!(
                    bits(&greatest),
                    bits(&sorted[n - high..]),
                    "n {n} shape {shape}"
                );
            }
        }
        assert!(
            tails(&[1.0; 15], 2, 2).is_none(),
            "tails not small beside n"
        );
        assert!(tails(&[1.0; 100], 0, 2).is_none());
    }
}
