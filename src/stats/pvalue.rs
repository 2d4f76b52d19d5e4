//! The two-sided bootstrap p-value of a statistic against a null value, so
//! a comparison judged by a bootstrap interval also yields a p-value that
//! Holm's adjustment can take.

/// 2·min(share of `replicates` ≤ `null`, share ≥ `null`), clamped to
/// [1/N, 1] for N replicates: a replicate equal to the null counts on both
/// sides (so discrete statistics that often hit the null are judged
/// conservatively), and no finite bootstrap shows a p below 1/N. With
/// percentile intervals, p < α exactly when the null lies outside the
/// 1 − α interval, up to the interpolation between order statistics. Also
/// says on which side the replicates lie: `Some(true)` above the null,
/// `Some(false)` below, `None` when the shares are equal (then p = 1).
/// `None` for no replicates.
pub fn bootstrap_p_value(replicates: &[f64], null: f64) -> Option<(f64, Option<bool>)> {
    if replicates.is_empty() {
        return None;
    }
    let n = replicates.len() as f64;
    let below = replicates.iter().filter(|r| **r <= null).count() as f64;
    let above = replicates.iter().filter(|r| **r >= null).count() as f64;
    let p = (2.0 * below.min(above) / n).clamp(1.0 / n, 1.0);
    let side = if above < below {
        Some(false)
    } else if below < above {
        Some(true)
    } else {
        None
    };
    Some((p, side))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counted by hand: of [−1, 0, 1, 2, 3], 2 are ≤ 0 and 4 are ≥ 0, so
    /// p = 2·2/5 = 0.8, mostly above. All above: 0 of 4 ≤ 0, clamped to
    /// 1/4. Half on each side with none equal: 2·2/4 = 1, no side. Ties
    /// on the null count on both sides: [0, 0, 0, 1] gives 2·3/4 → 1.
    /// Catches the clamp removed (p = 0), a side mislabelled, a strict
    /// comparison where ties should count.
    #[test]
    fn counts_shares_on_each_side_of_the_null() {
        assert_eq!(
            bootstrap_p_value(&[-1.0, 0.0, 1.0, 2.0, 3.0], 0.0),
            Some((0.8, Some(true)))
        );
        assert_eq!(
            bootstrap_p_value(&[0.6, 0.7, 0.8, 0.9], 0.5),
            Some((0.25, Some(true)))
        );
        assert_eq!(
            bootstrap_p_value(&[-3.0, -2.0, -1.0, -0.5], 0.0),
            Some((0.25, Some(false)))
        );
        assert_eq!(
            bootstrap_p_value(&[-1.0, -2.0, 1.0, 2.0], 0.0),
            Some((1.0, None))
        );
        assert_eq!(
            bootstrap_p_value(&[0.0, 0.0, 0.0, 1.0], 0.0),
            Some((1.0, Some(true)))
        );
        assert_eq!(bootstrap_p_value(&[], 0.0), None);
    }
}
