//! Variance components against statsmodels and hand-worked tables.
use super::*;
use rand::SeedableRng;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-3)
}

// Reference numbers: statsmodels 0.15.0 (pandas 3.1.1), produced by
//
//   import pandas as pd
//   from statsmodels.formula.api import ols
//   from statsmodels.stats.anova import anova_lm
//   a, b = 4, 3
//   df = pd.DataFrame([(i, j, Y2[i*b+j]) for i in range(a) for j in range(b)],
//                     columns=['a', 'b', 'y'])
//   t = anova_lm(ols('y ~ C(a) + C(b)', df).fit())
//   ms = t['sum_sq'] / t['df']
//   msa, msb, msab = ms['C(a)'], ms['C(b)'], ms['Residual']
//   print(msa, msb, msab, (msa - msab)/b, (msb - msab)/a, msab)
//
// 'C(a) * C(b)' minus its top interaction is 'C(a) + C(b)': with one
// observation per cell the interaction is the residual.
const Y2: [f64; 12] = [
    0.52, 0.48, 0.55, //
    0.61, 0.58, 0.66, //
    0.40, 0.43, 0.39, //
    0.57, 0.50, 0.59,
];

#[test]
fn two_factors_match_statsmodels_anova() {
    let vc = variance_components(&[4, 3], &Y2).unwrap();
    let ms: Vec<f64> = vc.terms.iter().map(|t| t.mean_square).collect();
    let want_ms = [
        0.023266666666666668,
        0.0025083333333333307,
        0.001008333333333334,
    ];
    let want_var = [
        0.007419444444444445,
        0.0003749999999999992,
        0.001008333333333334,
    ];
    for (j, t) in vc.terms.iter().enumerate() {
        assert!(
            close(ms[j], want_ms[j]),
            "MS {j}: {} vs {}",
            ms[j],
            want_ms[j]
        );
        assert!(close(t.variance, want_var[j]), "var {j}: {}", t.variance);
        assert!(!t.truncated);
    }
    assert_eq!(vc.terms.iter().map(|t| t.df).collect::<Vec<_>>(), [3, 2, 6]);
    assert_eq!(vc.main(0).factors, [0]);
    assert_eq!(vc.residual().unwrap().factors, [0, 1]);
    let total: f64 = want_var.iter().sum();
    for (t, w) in vc.terms.iter().zip(want_var) {
        assert!(close(t.share, w / total));
    }
}

// Three factors a = 3, b = 4, c = 2 (c fastest). Same statsmodels
// session, with
//
//   df = pd.DataFrame([(i, j, k, Y3[(i*b+j)*c+k]) for i in range(a)
//                      for j in range(b) for k in range(c)],
//                     columns=['a', 'b', 'c', 'y'])
//   t = anova_lm(ols('y ~ C(a) + C(b) + C(c) + C(a):C(b) + C(a):C(c)'
//                    ' + C(b):C(c)', df).fit())
//   ms = t['sum_sq'] / t['df']
//   MA, MB, MC = ms['C(a)'], ms['C(b)'], ms['C(c)']
//   MAB, MAC, MBC, R = ms['C(a):C(b)'], ms['C(a):C(c)'], ms['C(b):C(c)'], ms['Residual']
//   print((MA-MAB-MAC+R)/(b*c), (MB-MAB-MBC+R)/(a*c), (MC-MAC-MBC+R)/(a*b),
//         (MAB-R)/c, (MAC-R)/b, (MBC-R)/a, R)
//
// (the full model minus the three-way interaction, which is the residual).
// σ²_AC comes out negative there: the truncation case.
const Y3: [f64; 24] = [
    0.91, 0.85, 0.88, 0.80, 0.95, 0.90, 0.86, 0.84, //
    0.70, 0.66, 0.74, 0.69, 0.77, 0.71, 0.72, 0.70, //
    0.83, 0.79, 0.80, 0.81, 0.89, 0.80, 0.78, 0.77,
];

#[test]
fn three_factors_match_statsmodels_anova_and_truncate_negatives() {
    let vc = variance_components(&[3, 4, 2], &Y3).unwrap();
    let factors: Vec<&[usize]> = vc.terms.iter().map(|t| t.factors.as_slice()).collect();
    assert_eq!(
        factors,
        [&[0][..], &[1], &[2], &[0, 1], &[0, 2], &[1, 2], &[0, 1, 2]]
    );
    let want_ms = [
        0.05351666666666681,
        0.00414861111111109,
        0.010837500000000111,
        0.000811111111111118,
        0.00020000000000000605,
        0.0006375000000000003,
        0.00038333333333333383,
    ];
    let want_raw = [
        0.0066111111111111275,
        0.0005138888888888842,
        0.0008652777777777865,
        0.0002138888888888921,
        -4.5833333333331945e-05,
        8.472222222222214e-05,
        0.00038333333333333383,
    ];
    for (j, t) in vc.terms.iter().enumerate() {
        assert!(
            close(t.mean_square, want_ms[j]),
            "MS {j}: {}",
            t.mean_square
        );
        assert!((t.raw - want_raw[j]).abs() < 1e-15, "raw {j}: {}", t.raw);
    }
    assert_eq!(
        vc.terms.iter().map(|t| t.df).collect::<Vec<_>>(),
        [2, 3, 1, 6, 2, 3, 6]
    );
    let ac = vc.term(&[0, 2]).unwrap();
    assert!(ac.truncated && ac.variance == 0.0 && ac.share == 0.0);
    assert_eq!(vc.truncated(), [&[0, 2][..]]);
    let total: f64 = want_raw.iter().map(|v| v.max(0.0)).sum();
    for (t, w) in vc.terms.iter().zip(want_raw) {
        assert!(close(t.share, w.max(0.0) / total), "{t:?}");
    }
    assert!(vc.residual().unwrap().residual);
}

/// y = a_i + c_k on a 2 × 4 × 2 design: no b effect and no noise, so
/// σ²_B, every interaction and the residual are exactly 0 (integer data
/// and power-of-two level counts keep every mean exact). The others by
/// hand: the cells repeat a_i b·c = 8 times over a two-level factor,
/// MS_A = 8·Σ(a_i − ā)² / 1 and σ²_A = MS_A / 8 = Σ(a_i − ā)² = 2·(1.5)²
/// = 4.5 for a = (0, 3); likewise σ²_C = 2·(0.5)² = 0.5 for c = (0, 1).
fn additive() -> Vec<f64> {
    let (a, c) = ([0.0, 3.0], [0.0, 1.0]);
    let mut y = vec![];
    for ai in a {
        for _ in 0..4 {
            for ck in c {
                y.push(ai + ck);
            }
        }
    }
    y
}

#[test]
fn a_source_without_effect_has_a_zero_component() {
    let vc = variance_components(&[2, 4, 2], &additive()).unwrap();
    assert_eq!(vc.main(0).variance, 4.5);
    assert_eq!(vc.main(1).variance, 0.0);
    assert_eq!(vc.main(2).variance, 0.5);
    for t in &vc.terms[3..] {
        assert_eq!(t.variance, 0.0, "{t:?}");
    }
    assert_eq!(vc.main(0).share, 0.9);
    assert_eq!(vc.main(1).share, 0.0);
    assert!(vc.truncated().is_empty());
}

#[test]
fn one_factor_is_the_sample_variance_with_share_one() {
    // numpy.var([0.3, 0.5, 0.2, 0.9, 0.4], ddof=1) = 0.073.
    let vc = variance_components(&[5], &[0.3, 0.5, 0.2, 0.9, 0.4]).unwrap();
    assert_eq!(vc.terms.len(), 1);
    assert!(close(vc.main(0).variance, 0.073));
    assert!(close(vc.main(0).mean_square, 0.073));
    assert_eq!(vc.main(0).share, 1.0);
    assert!(vc.residual().is_none());
    // No spread at all: nothing to share out.
    let vc = variance_components(&[3], &[1.0, 1.0, 1.0]).unwrap();
    assert_eq!(vc.main(0).variance, 0.0);
    assert!(vc.main(0).share.is_nan());
}

#[test]
fn four_factors_follow_the_ems_formulas() {
    // y = x_i·x_j (an A×B interaction only) on 2 × 2 × 2 × 2 with x = ±1:
    // the AB effect is ±1 everywhere, MS_AB = 16·1/1 = 16, every other
    // mean square 0, so σ²_AB = MS_AB / (2·2) = 4. σ²_A and σ²_B subtract
    // MS_AB: raw −16 / (2·2·2) = −2, truncated to 0; all else is 0.
    let mut y = vec![];
    for i in [-1.0, 1.0] {
        for j in [-1.0, 1.0] {
            for _ in 0..4 {
                y.push(i * j);
            }
        }
    }
    let vc = variance_components(&[2, 2, 2, 2], &y).unwrap();
    assert_eq!(vc.terms.len(), 15);
    for t in &vc.terms {
        let (ms, raw) = match t.factors.as_slice() {
            [0, 1] => (16.0, 4.0),
            [0] | [1] => (0.0, -2.0),
            _ => (0.0, 0.0),
        };
        assert_eq!((t.mean_square, t.raw), (ms, raw), "{t:?}");
        assert_eq!(t.variance, raw.max(0.0));
        assert_eq!(t.truncated, raw < 0.0);
    }
}

#[test]
fn bad_designs_are_refused() {
    assert_eq!(variance_components(&[], &[]), Err(VarianceError::NoFactors));
    assert_eq!(
        variance_components(&[3, 1], &[1.0, 2.0, 3.0]),
        Err(VarianceError::TooFewLevels {
            factor: 1,
            levels: 1
        })
    );
    assert_eq!(
        variance_components(&[2, 2], &[1.0, 2.0, 3.0]),
        Err(VarianceError::WrongLength {
            expected: 4,
            got: 3
        })
    );
    assert!(matches!(
        variance_components(&[2], &[1.0, f64::NAN]),
        Err(VarianceError::NotFinite { index: 1, .. })
    ));
}

#[test]
fn bootstrap_is_seeded_and_brackets_the_estimates() {
    let run = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        bootstrap_components(&[3, 4, 2], &Y3, 2000, 0.95, &mut rng).unwrap()
    };
    let a = run(11);
    assert_eq!(a, run(11));
    assert_ne!(a, run(12));
    let vc = variance_components(&[3, 4, 2], &Y3).unwrap();
    assert_eq!(a.len(), vc.terms.len());
    for (t, i) in vc.terms.iter().zip(&a) {
        assert!(
            i.variance.0 <= t.variance && t.variance <= i.variance.1,
            "{t:?} {i:?}"
        );
        let s = i.share.unwrap();
        assert!(s.0 <= t.share && t.share <= s.1, "{t:?} {i:?}");
    }
    // With three levels of A, 3·(1/3)³ = 1/9 of the resamples draw one
    // level three times, which leaves no A effect (and no A interaction):
    // more than 2.5% of them, so even the dominant component's interval
    // reaches 0. The level bootstrap is wide when sources have few seeds.
    assert!(a[0].variance.0 < 1e-15, "{:?}", a[0]);
}

#[test]
fn resampled_levels_pick_whole_rows_and_columns() {
    // y on 2 × 3 is [[0, 1, 2], [3, 4, 5]]. Drawing rows (1, 1) and
    // columns (2, 0, 0) gives [[5, 3, 3], [5, 3, 3]], by hand.
    let y = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let mut out = [0.0; 6];
    resample_cells(&[2, 3], &[vec![1, 1], vec![2, 0, 0]], &y, &mut out);
    assert_eq!(out, [5.0, 3.0, 3.0, 5.0, 3.0, 3.0]);
    // Three factors, 2 × 2 × 2 with y = index: cell (i, j, k) is 4i + 2j + k.
    let y: Vec<f64> = (0..8).map(f64::from).collect();
    let mut out = [0.0; 8];
    let picks = [vec![1, 0], vec![1, 1], vec![0, 1]];
    resample_cells(&[2, 2, 2], &picks, &y, &mut out);
    // (i, j, k) ↦ (1−i, 1, k): 4(1−i) + 2 + k.
    assert_eq!(out, [6.0, 7.0, 6.0, 7.0, 2.0, 3.0, 2.0, 3.0]);
}

#[test]
fn bootstrap_of_a_zero_component_is_zero() {
    // Any resample of the levels of y = a_i + c_k is again additive in
    // a and c, so σ²_B is exactly 0 in every resample.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let iv = bootstrap_components(&[2, 4, 2], &additive(), 500, 0.95, &mut rng).unwrap();
    assert_eq!(iv[1].variance, (0.0, 0.0));
    assert_eq!(iv[1].share, Some((0.0, 0.0)));
    for i in &iv[3..] {
        assert_eq!(i.variance, (0.0, 0.0));
    }
    assert!(iv[0].variance.1 > 0.0);
}
