//! The spread of a search's result, predicted from pooled draws: the mean
//! and variance of the best of n configurations drawn without replacement
//! from N scored ones, over all C(N, n) subsets alike. The weights are the
//! unbiased tuning curve's (Tang et al. 2020; `tuning.rs`): the i-th worst
//! of N is a subset's best with probability C(i − 1, n − 1)/C(N, n), so
//! E[best] = Σᵢ w(i)·v₍ᵢ₎ and E[best²] = Σᵢ w(i)·v₍ᵢ₎².

/// (mean, variance) of the best of `n` of `scores`, every n-subset equally
/// likely (variance over the subsets, ddof 0); best is the highest score
/// when `higher_is_better`, else the lowest. `None` unless 1 <= n <= N.
pub fn best_of_n_moments(scores: &[f64], n: usize, higher_is_better: bool) -> Option<(f64, f64)> {
    let big_n = scores.len();
    if n == 0 || n > big_n {
        return None;
    }
    let mut v = scores.to_vec();
    if higher_is_better {
        v.sort_by(f64::total_cmp);
    } else {
        v.sort_by(|a, b| b.total_cmp(a));
    }
    // w(N) = n/N, w(i − 1) = w(i)·(i − n)/(i − 1): the tuning curve's recurrence.
    let mut w = n as f64 / big_n as f64;
    let (mut m1, mut m2) = (w * v[big_n - 1], w * v[big_n - 1] * v[big_n - 1]);
    for i in (n + 1..=big_n).rev() {
        w *= (i - n) as f64 / (i - 1) as f64;
        m1 += w * v[i - 2];
        m2 += w * v[i - 2] * v[i - 2];
    }
    Some((m1, (m2 - m1 * m1).max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every n-subset of `xs` by bit masks: the mean and population
    /// variance of their minima (or maxima), computed directly.
    fn enumerate(xs: &[f64], n: usize, higher: bool) -> (f64, f64) {
        let mut bests = Vec::new();
        for mask in 0u32..(1 << xs.len()) {
            if mask.count_ones() as usize != n {
                continue;
            }
            let picked = xs.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1);
            let best = picked
                .map(|(_, &x)| x)
                .reduce(|a, b| if higher { a.max(b) } else { a.min(b) })
                .unwrap();
            bests.push(best);
        }
        let k = bests.len() as f64;
        let mean = bests.iter().sum::<f64>() / k;
        let var = bests.iter().map(|b| (b - mean).powi(2)).sum::<f64>() / k;
        (mean, var)
    }

    #[test]
    fn moments_equal_those_over_every_subset() {
        let xs = [0.31, 0.07, 0.52, 0.12, 0.07, 0.9, 0.044, 0.2];
        for higher in [false, true] {
            for n in 1..=xs.len() {
                let (m, v) = best_of_n_moments(&xs, n, higher).unwrap();
                let (em, ev) = enumerate(&xs, n, higher);
                assert!((m - em).abs() < 1e-12, "n={n} {higher}: {m} vs {em}");
                assert!((v - ev).abs() < 1e-12, "n={n} {higher}: {v} vs {ev}");
            }
        }
        // The mean is the tuning curve's unbiased expected best.
        let curve = super::super::expected_best(&xs, false);
        assert!((best_of_n_moments(&xs, 3, false).unwrap().0 - curve[2]).abs() < 1e-15);
        // n = N: always the best, no spread; n out of range: none.
        assert_eq!(best_of_n_moments(&xs, 8, false), Some((0.044, 0.0)));
        assert_eq!(best_of_n_moments(&xs, 0, false), None);
        assert_eq!(best_of_n_moments(&xs, 9, false), None);
    }
}
