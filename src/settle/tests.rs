//! Sequential seeds on synthetic records: normal per-seed values, judged by
//! a z-test of known variance (exactly valid at every look), so these
//! tests check the looks, the spending and the allocation, not training.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use statrs::distribution::{ContinuousCDF, Normal};

use super::*;

fn settle(max_seeds: usize, round: usize, rho: f64) -> Settle {
    Settle {
        max_seeds,
        round,
        rho,
        extra: (3..max_seeds as u64).collect(),
    }
}

/// Per-seed values of `means.len()` configurations, `max` seeds each,
/// unit variance, drawn from ChaCha8 seeded by `rep`.
fn draw(rep: u64, means: &[f64], max: usize) -> Vec<Vec<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(rep);
    means
        .iter()
        .map(|m| {
            (0..max)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    m + z
                })
                .collect::<Vec<f64>>()
        })
        .collect()
}

/// Judge slices of configuration pairs (a, b), claim "b is greater than
/// a", by a two-sided z-test of the means of their first `seeds` values
/// (σ = 1 known, so the p-value is exact at every look).
fn judge(values: &[Vec<f64>], pairs: &[(usize, usize)], seeds: &[usize]) -> Vec<Judged> {
    let z = Normal::standard();
    pairs
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let n = seeds[a];
            assert_eq!(n, seeds[b], "a slice's configurations get the same seeds");
            let mean = |c: usize| values[c][..n].iter().sum::<f64>() / n as f64;
            let delta = mean(b) - mean(a);
            let stat = delta / (2.0 / n as f64).sqrt();
            Judged {
                claim: i,
                slice: "all".into(),
                alpha: 0.05,
                p: Some(2.0 * (1.0 - z.cdf(stat.abs()))),
                expected: delta > 0.0,
                can_fail: true,
                needed: stats::seeds_needed_from_variance(delta, 2.0, 0.05),
                configs: vec![a, b],
            }
        })
        .collect()
}

/// Catches a wrong look count or a level that does not sum to α: seeds 3,
/// cap 12, round 4 gives looks 3, 7, 11, 12; with ρ = 3 the levels are
/// α·((n_k/12)³ − (n_{k−1}/12)³): 0.05·27/1728 = 7.8125e-4 at look 0, and
/// they add up to α.
#[test]
fn looks_and_levels_spend_alpha_exactly() {
    let s = settle(12, 4, 3.0);
    let l = looks(3, &s);
    assert_eq!(l, vec![3, 7, 11, 12]);
    assert!((level(0.05, &s, &l, 0) - 7.8125e-4).abs() < 1e-15);
    let want1 = 0.05 * (343.0 - 27.0) / 1728.0;
    assert!((level(0.05, &s, &l, 1) - want1).abs() < 1e-15);
    let total: f64 = (0..l.len()).map(|k| level(0.05, &s, &l, k)).sum();
    assert!((total - 0.05).abs() < 1e-15, "{total}");
    // ρ = 1 spends in proportion to the seeds.
    let s1 = settle(12, 4, 1.0);
    assert!((level(0.05, &s1, &l, 0) - 0.05 * 3.0 / 12.0).abs() < 1e-15);
}

/// A planted effect of one standard deviation between configurations 0
/// and 1 settles as holds before the cap; a second slice with a huge
/// effect (configurations 2, 3) settles at look 0 and gets no more seeds;
/// configuration 4 is compared by no slice and never gets any. So the
/// trials spent are well under giving every configuration the seeds the
/// first slice needed.
#[test]
fn a_planted_effect_settles_before_the_cap_with_fewer_trials() {
    let s = settle(40, 3, 3.0);
    let values = draw(7, &[0.0, 1.0, 0.0, 6.0, 0.0], 40);
    let pairs = [(0, 1), (2, 3)];
    let p = walk(&s, 3, 5, |seeds| Some(judge(&values, &pairs, seeds)));
    assert_eq!(p.next, None);
    assert_eq!(p.slices[0].state, State::Holds);
    assert!(p.slices[0].seeds < 40, "{:?}", p.slices[0]);
    assert_eq!((p.slices[1].state, p.slices[1].look), (State::Holds, 0));
    assert_eq!(p.seeds[2], 3);
    assert_eq!(p.seeds[3], 3);
    assert_eq!(p.seeds[4], 3);
    let (spent, uniform) = p.trials();
    assert_eq!(spent, 2 * p.slices[0].seeds + 3 * 3);
    assert_eq!(uniform, 5 * p.slices[0].seeds);
    assert!(spent < uniform);
}

/// Under the null (no effect anywhere), over 4000 simulated studies of two
/// slices with 7 looks each, the share of studies with any slice settled
/// (holds or fails) stays at or below α = 0.05: the count must not exceed
/// the 0.9995 quantile of Binomial(4000, 0.05) by the normal approximation,
/// 200 + 3.29·√(4000·0.05·0.95) ≈ 245. (Measured: 24 of 4000, ρ = 3 and
/// futility make it conservative.)
#[test]
fn a_planted_null_almost_never_settles() {
    let s = settle(21, 3, 3.0);
    let pairs = [(0, 1), (2, 3)];
    let reps = 4000;
    let mut wrong = 0;
    for rep in 0..reps {
        let values = draw(1000 + rep, &[0.0; 4], 21);
        let p = walk(&s, 3, 4, |seeds| Some(judge(&values, &pairs, seeds)));
        assert_eq!(p.next, None);
        if p.slices
            .iter()
            .any(|st| matches!(st.state, State::Holds | State::Fails))
        {
            wrong += 1;
        }
    }
    let bound = 0.05 * reps as f64 + 3.29 * (reps as f64 * 0.05 * 0.95).sqrt();
    assert!(
        (wrong as f64) <= bound,
        "{wrong} of {reps} null studies settled"
    );
    // …and the procedure is not trivially silent: some do (about α·reps).
    assert!(wrong > 0);
}

/// Futility: an effect against the claim, significant before correction
/// but not at the look's level, stops the slice (`Against`) and its
/// configurations get no more seeds; an effect too small for the cap stops
/// it with the seeds it would need.
#[test]
fn futile_slices_stop_getting_seeds() {
    let s = settle(30, 3, 3.0);
    let judged = |p: f64, expected: bool, needed: Option<usize>| Judged {
        claim: 0,
        slice: "all".into(),
        alpha: 0.05,
        p: Some(p),
        expected,
        can_fail: true,
        needed,
        configs: vec![0, 1],
    };
    let against = walk(&s, 3, 2, |_| Some(vec![judged(0.01, false, None)]));
    assert_eq!(against.slices[0].state, State::Futile(Futility::Against));
    assert_eq!((against.judged, against.seeds.clone()), (1, vec![3, 3]));
    let far = walk(&s, 3, 2, |_| Some(vec![judged(0.4, true, Some(300))]));
    assert_eq!(far.slices[0].state, State::Futile(Futility::Needs(300)));
    // Needing fewer than the cap keeps it open to the cap.
    let near = walk(&s, 3, 2, |_| Some(vec![judged(0.4, true, Some(20))]));
    assert_eq!(near.slices[0].state, State::Capped);
    assert_eq!(near.seeds, vec![30, 30]);
    assert_eq!(near.judged, near.looks.len());
}

/// A look whose results are missing stops the walk and asks for exactly
/// the seeds of the configurations still compared.
#[test]
fn missing_results_ask_for_the_next_round() {
    let s = settle(30, 3, 3.0);
    let values = draw(3, &[0.0, 1.5, 0.0, 9.0], 30);
    let pairs = [(0, 1), (2, 3)];
    let p = walk(&s, 3, 4, |seeds| {
        (seeds.iter().all(|&n| n <= 3)).then(|| judge(&values, &pairs, seeds))
    });
    assert_eq!(p.judged, 1);
    assert_eq!(p.next, Some(vec![6, 6, 3, 3]));
    let none = walk(&s, 3, 4, |_| None);
    assert_eq!((none.judged, none.next), (0, Some(vec![3; 4])));
}
