//! How much of a search's configuration-level variance one key explains:
//! the share its main effect takes, estimated from the configurations'
//! seed medians grouped into bins of the key's values.
//!
//! The share is the ANOVA effect size ε² (Kelley 1935) of a one-way
//! layout, (SS_between − (B − 1)·MS_within) / SS_total, clamped to [0, 1].
//! η² = SS_between / SS_total would be the plain share, but with B bins it
//! credits a key that does nothing with about (B − 1)/(n − 1) of the
//! variance by chance; ε² removes that expected chance part, so a key with
//! no effect lands near 0 rather than near 0.08 (5 bins, 50 points).

/// Bins of a numeric key's values: one bin per distinct value when there
/// are at most `max_bins`, else `max_bins` bins of (nearly) equal counts
/// by rank: a value whose lowest rank among `xs` (ties share the lowest)
/// is r goes to bin ⌊max_bins · r / n⌋, so equal values share a bin.
pub fn quantile_bins(xs: &[f64], max_bins: usize) -> Vec<usize> {
    let mut distinct: Vec<f64> = xs.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if distinct.len() <= max_bins {
        return xs
            .iter()
            .map(|x| distinct.iter().position(|d| d == x).unwrap_or(0))
            .collect();
    }
    let n = xs.len();
    xs.iter()
        .map(|x| {
            let rank = xs.iter().filter(|y| *y < x).count();
            max_bins * rank / n
        })
        .collect()
}

/// ε² of `values` grouped by `bins` (bin numbers, any labels): the share
/// of the variance of `values` the groups explain, chance removed,
/// clamped to [0, 1]. `None` when it is undefined: fewer than two groups,
/// no degrees of freedom within groups (every value alone in its group),
/// or no variance at all.
pub fn main_effect_share(values: &[f64], bins: &[usize]) -> Option<f64> {
    let n = values.len();
    let mut labels: Vec<usize> = bins.to_vec();
    labels.sort_unstable();
    labels.dedup();
    let b = labels.len();
    if b < 2 || n <= b {
        return None;
    }
    let grand = super::mean(values);
    let ss_total: f64 = values.iter().map(|v| (v - grand).powi(2)).sum();
    if ss_total <= 0.0 {
        return None;
    }
    let mut ss_between = 0.0;
    for l in &labels {
        let group: Vec<f64> = values
            .iter()
            .zip(bins)
            .filter(|(_, g)| *g == l)
            .map(|(v, _)| *v)
            .collect();
        ss_between += group.len() as f64 * (super::mean(&group) - grand).powi(2);
    }
    let ms_within = (ss_total - ss_between).max(0.0) / (n - b) as f64;
    Some(((ss_between - (b - 1) as f64 * ms_within) / ss_total).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: values 1, 2, 3, 6 in groups {1, 2} and {3, 6}.
    /// Grand mean 3; group means 1.5 and 4.5; SS_between = 2·1.5² + 2·1.5²
    /// = 9; SS_total = 4 + 1 + 0 + 9 = 14; SS_within = 5, MS_within =
    /// 5/(4 − 2) = 2.5; ε² = (9 − 1·2.5)/14 = 6.5/14. Catches η² in place
    /// of ε² (9/14) and a wrong df (n − 1 instead of n − B).
    #[test]
    fn epsilon_squared_worked_by_hand() {
        let e = main_effect_share(&[1.0, 2.0, 3.0, 6.0], &[0, 0, 1, 1]).unwrap();
        assert!((e - 6.5 / 14.0).abs() < 1e-15, "{e}");
    }

    /// A key whose groups hold the same values (a balanced crossing) has
    /// SS_between = 0: its ε² is clamped at 0, never negative; a key that
    /// determines the value exactly has SS_within = 0: ε² = 1.
    #[test]
    fn no_effect_is_zero_and_a_full_effect_is_one() {
        let y = [1.0, 5.0, 1.0, 5.0, 1.0, 5.0];
        assert_eq!(main_effect_share(&y, &[0, 1, 0, 1, 0, 1]), Some(1.0));
        assert_eq!(main_effect_share(&y, &[0, 0, 1, 1, 2, 2]), Some(0.0));
    }

    #[test]
    fn undefined_without_groups_or_variance() {
        assert_eq!(main_effect_share(&[1.0, 2.0], &[0, 0]), None);
        assert_eq!(main_effect_share(&[1.0, 2.0], &[0, 1]), None);
        assert_eq!(main_effect_share(&[1.0, 1.0, 1.0], &[0, 1, 1]), None);
    }

    /// Ten distinct values in 5 bins: two per bin by rank; three distinct
    /// values: one bin each; ties share the bin of their lowest rank
    /// (ranks 0, 0, 2, 3 of four values in 2 bins → 0, 0, 1, 1).
    #[test]
    fn bins_by_rank_keep_ties_together() {
        let xs: Vec<f64> = (0..10).map(|i| (9 - i) as f64).collect();
        assert_eq!(quantile_bins(&xs, 5), [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]);
        assert_eq!(quantile_bins(&[3.0, 1.0, 3.0, 2.0], 5), [2, 0, 2, 1]);
        assert_eq!(quantile_bins(&[1.0, 1.0, 2.0, 3.0], 2), [0, 0, 1, 1]);
    }
}
