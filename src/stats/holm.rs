//! Holm's step-down adjustment of p-values, so that a study judging many
//! claims (or one claim over many slices) keeps its family-wise error rate
//! at α without Bonferroni's loss of power.

/// Holm-adjusted p-values, in the input order: sort the m p-values
/// ascending; the adjusted p₍ᵢ₎ = max over j ≤ i of min(1, (m − j + 1)·p₍ⱼ₎)
/// (DESIGN.md; `statsmodels.stats.multitest.multipletests(p,
/// method='holm')[1]`). Ties get the same adjusted value whichever of them
/// sorts first. The p-values must not be NaN.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (j, &i) in order.iter().enumerate() {
        running = running.max(((m - j) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_statsmodels_multipletests_holm() {
        // statsmodels 0.15.0: multipletests(p, method='holm')[1] for each p.
        let cases: [(&[f64], &[f64]); 6] = [
            (&[0.01, 0.04, 0.03, 0.005], &[0.03, 0.06, 0.06, 0.02]),
            // Ties, and values near 1 capped at 1.
            (
                &[0.02, 0.02, 0.5, 0.9, 0.97, 0.02],
                &[0.12, 0.12, 1.0, 1.0, 1.0, 0.12],
            ),
            (&[0.3, 0.99, 0.999, 0.6], &[1.0, 1.0, 1.0, 1.0]),
            // The running maximum carries a smaller product up: 0.97 > 0.6.
            (&[0.1, 0.3, 0.97], &[0.30000000000000004, 0.6, 0.97]),
            (&[0.02, 0.02, 0.02], &[0.06, 0.06, 0.06]),
            (&[0.04], &[0.04]),
        ];
        for (p, want) in cases {
            let got = holm(p);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!((g - w).abs() < 1e-15, "{p:?}: {got:?} vs {want:?}");
            }
        }
        assert!(holm(&[]).is_empty());
    }
}
