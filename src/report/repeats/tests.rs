//! Tests of the repeats summary: winners' spread, wins and regions, with
//! every expected number worked out by hand beside it.
use super::*;
use crate::report::search::synthetic;

fn key(k: &str, dist: Dist) -> SearchKey {
    SearchKey {
        key: k.into(),
        dist,
    }
}

fn lr(x: f64) -> Vec<(String, Setting)> {
    vec![("train.lr".into(), Setting::Float(x))]
}

#[test]
fn numeric_bins_are_equally_likely_bins_of_the_distribution() {
    // log_uniform [1e-3, 1e2]: 5 decades, so each of the 5 bins is one decade.
    let k = key("train.lr", Dist::LogUniform(1e-3, 1e2));
    assert_eq!(bin_of(&k, &Setting::Float(0.05)), (1, "[0.01, 0.1)".into()));
    assert_eq!(bin_of(&k, &Setting::Float(100.0)), (4, "[10, 100]".into()));
    assert_eq!(
        bin_of(&k, &Setting::Float(1e-3)),
        (0, "[0.001, 0.01)".into())
    );
    // uniform [0, 0.5]: bins 0.1 wide; 0.25 is in the third.
    let d = key("model.dropout", Dist::Uniform(0.0, 0.5));
    assert_eq!(bin_of(&d, &Setting::Float(0.25)), (2, "[0.2, 0.3)".into()));
    let c = key(
        "model.activation",
        Dist::Choice(vec!["relu".into(), "tanh".into()]),
    );
    assert_eq!(bin_of(&c, &Setting::Str("tanh".into())), (1, "tanh".into()));
}

#[test]
fn the_winners_spread_counts_and_regions_match_a_hand_computation() {
    let keys = vec![key("train.lr", Dist::LogUniform(1e-3, 1e2))];
    // Configurations 0 and 2 are the same point (two repeats drew it).
    let s = synthetic(
        keys,
        vec![
            (lr(0.05), vec![0.3, 0.1, 0.2]),
            (lr(5.0), vec![0.5, 0.3, 0.4]),
            (lr(0.05), vec![0.3, 0.1, 0.2]),
            (lr(0.002), vec![0.6, 0.7, 0.8]),
        ],
    );
    let best = |arm, best| ArmBest {
        slice: "all".into(),
        arm: Arm::Block(arm),
        best,
    };
    let bests = [best(0, 0), best(1, 1), best(2, 2)];
    let refs: Vec<&ArmBest> = bests.iter().collect();
    let sl = slice(&s, "all", &refs, 200);
    // Scores: the medians 0.2, 0.4, 0.2. Mean 0.8/3; deviations −1/15,
    // 2/15, −1/15; variance (1 + 4 + 1)/225 / 2 = 1/75.
    let scores: Vec<f64> = sl.winners.iter().map(|w| w.score).collect();
    assert_eq!(scores, [0.2, 0.4, 0.2]);
    assert!((sl.mean - 0.8 / 3.0).abs() < 1e-12);
    assert!((sl.variance.unwrap() - 1.0 / 75.0).abs() < 1e-12);
    let (sd, interval) = sl.std.unwrap();
    assert!((sd - (1.0f64 / 75.0).sqrt()).abs() < 1e-12);
    // Three values resampled hold 0.2 and 0.4 at most once and twice (or
    // the reverse), whose std is the sample's own, or are all alike (0):
    // the interval lies in [0, sd]; the same stream gives the same one.
    let (lo, hi) = interval.unwrap();
    assert!(0.0 <= lo && lo <= hi && hi <= sd + 1e-12, "{lo} {hi}");
    assert_eq!(slice(&s, "all", &refs, 200).std, sl.std);
    // Seed variance: each winner's seeds vary by 0.01 (values m − 0.1, m,
    // m + 0.1: (0.01 + 0 + 0.01)/2).
    assert!((sl.seed_variance.unwrap() - 0.01).abs() < 1e-12);
    // lr = 0.05 won twice (configurations 0 and 2 are one point), 5.0 once.
    assert_eq!(sl.wins, [(0, 2), (1, 1)]);
    let regions: Vec<(&str, usize)> = sl
        .regions
        .iter()
        .map(|r| (r.bin.as_str(), r.wins))
        .collect();
    assert_eq!(regions, [("[0.01, 0.1)", 2), ("[1, 10)", 1)]);
}

#[test]
fn a_single_winner_has_no_spread() {
    let keys = vec![key("train.lr", Dist::LogUniform(1e-3, 1e2))];
    let s = synthetic(keys, vec![(lr(0.05), vec![0.3])]);
    let b = ArmBest {
        slice: "all".into(),
        arm: Arm::Block(0),
        best: 0,
    };
    let sl = slice(&s, "all", &[&b], 50);
    assert_eq!((sl.variance, sl.std, sl.seed_variance), (None, None, None));
    assert_eq!(sl.mean, 0.3);
}
