//! `ensemble_gain` claims: per configuration against 0, and along an axis.

use super::*;
use crate::report::ensemble_gain::Gain;
use crate::study::from_str;
use std::path::Path;

const WIDTHS: [i64; 3] = [4, 16, 64];

/// A gain whose bootstrap gave p (above 0 when `above`).
fn g(gain: f64, p: f64, above: bool) -> Gain {
    Gain {
        seeds: 10,
        member: 0.9,
        ensemble: 0.9 + gain,
        gain,
        ci: Some((gain - 0.01, gain + 0.01)),
        test: Some((p, Some(above))),
        se: Some(0.005),
    }
}

/// Judge `claim` on 3 widths × 10 seeds whose configurations carry
/// `gain_of(config)`.
fn judge_gain(claim: &str, gain_of: &dyn Fn(usize) -> Option<Gain>) -> Verdict {
    let src = format!("name = \"c\"\nseeds = 10\n[grid]\nwidth = [4, 16, 64]\n{claim}");
    let e = crate::testkit::study(&src);
    let axes: Vec<Vec<String>> = e.axes.iter().map(|a| a.keys.clone()).collect();
    let swept: Vec<Vec<(String, Setting)>> = WIDTHS
        .iter()
        .map(|w| vec![("model.width".to_string(), Setting::Int(*w))])
        .collect();
    judge(&e.report, &axes, |_| {
        (0..3)
            .flat_map(|c| (0..10).map(move |s| (c, s)))
            .map(|(c, s)| Row {
                config: c,
                gain: gain_of(c),
                ..Row::of(&swept[c], Some(0.9 + 0.001 * s as f64))
            })
            .collect()
    })
    .remove(0)
}

const PER_CONFIG: &str = "[[claims]]\nname = \"x\"\nmetric = \"val_acc\"\nstatistic = \"ensemble_gain\"\nexpect = \"greater_than\"\n";

/// Without an axis each configuration is a slice judged by its own
/// bootstrap p against 0, Holm-adjusted over the three: p = 0.001, 0.01,
/// 0.02 adjust to 0.003, 0.02, 0.02 (all hold); p = 0.001, 0.01, 0.03
/// adjust to 0.003, 0.02, 0.03 (hold); p = 0.03 three times adjust to
/// 0.09 (inconclusive). The seeds the standard error asks, at α/3 for
/// the family of three (z₀.₉₉₁₇ + z₀.₈ = 3.2356010333914247, Python's
/// `statistics.NormalDist`): se = 0.005 gives 10·(3.2356·0.005/0.02)² =
/// 6.54 → 7, at most the 10 seeds run, so no count; se = 0.02 gives
/// 104.69 → 105. Replicates below 0 fail a
/// greater_than claim and hold a less_than one. Catches the gain judged
/// on the trial values, the slices not per configuration, Holm skipped,
/// and the direction ignored.
#[test]
fn each_configuration_is_judged_against_zero() {
    let v = judge_gain(PER_CONFIG, &|c| Some(g(0.02, [0.001, 0.01, 0.02][c], true)));
    assert_eq!(v.outcome, Outcome::Holds);
    let labels: Vec<&str> = v.slices.iter().map(|s| s.slice.as_str()).collect();
    assert_eq!(labels, ["width=4", "width=16", "width=64"]);
    let adjusted: Vec<f64> = v.slices.iter().map(|s| s.p_adjusted.unwrap()).collect();
    for (a, want) in adjusted.iter().zip([0.003, 0.02, 0.02]) {
        assert!((a - want).abs() < 1e-12, "{adjusted:?}");
    }
    assert_eq!(v.slices[0].points[0].value, Some(0.02));
    assert!(
        v.slices[0]
            .evidence
            .contains("ensemble val_acc 0.9200 − mean member 0.9000 = 0.0200 over 10 seeds"),
        "{}",
        v.slices[0].evidence
    );
    let v = judge_gain(PER_CONFIG, &|_| Some(g(0.02, 0.03, true)));
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert_eq!(
        v.slices[1].seeds_needed,
        Some(SeedsNeeded::NotBySeeds { run: 10 })
    );
    let noisy = |c| {
        Some(Gain {
            se: Some(0.02),
            ..g(0.02, 0.03, c > 0)
        })
    };
    let v = judge_gain(PER_CONFIG, &noisy);
    assert_eq!(v.slices[1].seeds_needed, Some(SeedsNeeded::About(105)));
    assert_eq!(v.slices[0].seeds_needed, Some(SeedsNeeded::OtherWay));
    let v = judge_gain(PER_CONFIG, &|_| Some(g(-0.02, 0.001, false)));
    assert_eq!(v.outcome, Outcome::Fails);
    let less = PER_CONFIG.replace("greater_than", "less_than");
    assert_eq!(
        judge_gain(&less, &|_| Some(g(-0.02, 0.001, false))).outcome,
        Outcome::Holds
    );
    // A configuration without an ensemble cannot be judged.
    let v = judge_gain(PER_CONFIG, &|c| (c > 0).then(|| g(0.02, 0.001, true)));
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert_eq!(v.slices[0].test, None);
    assert!(v.slices[0].evidence.starts_with("no ensemble"));
}

/// Along an axis the gain is one value per configuration, like an
/// ensemble's, with its bootstrap interval on the point: gains falling
/// with width hold a decreasing claim (Spearman over 3 settings, ρ = −1,
/// p = 0 from SciPy's exact small-sample rule) although the trial values
/// rise. Catches the trend read from the trial values.
#[test]
fn a_gain_trend_runs_over_the_configurations() {
    let claim = "[[claims]]\nname = \"x\"\nmetric = \"val_loss\"\nstatistic = \"ensemble_gain\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
    let v = judge_gain(claim, &|c| Some(g(0.3 - 0.1 * c as f64, 0.5, true)));
    let p = &v.slices[0].points;
    assert_eq!(p.len(), 3);
    assert!((p[1].value.unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(p[1].ci, g(0.3 - 0.1 * 1.0, 0.5, true).ci);
    assert!(
        v.slices[0].evidence.contains("Spearman ρ = -1.000"),
        "{}",
        v.slices[0].evidence
    );
    assert!(v.slices[0].test.is_some_and(|t| t.expected));
}

/// The study file refuses an `ensemble_gain` claim that is neither form:
/// `greater_than` with an axis, a trend without one. (Its other mistakes
/// are in tests/bad_input/115–119.) Catches either form's check dropped.
#[test]
fn a_gain_claim_is_per_configuration_or_a_trend() {
    let base = "name = \"c\"\nseeds = 3\n[grid]\nwidth = [4, 16, 64]\n[[claims]]\nname = \"x\"\nmetric = \"val_loss\"\nstatistic = \"ensemble_gain\"\n";
    for (extra, key) in [
        (
            "expect = \"greater_than\"\nalong = \"width\"\n",
            "claims[0].along",
        ),
        ("expect = \"decreasing\"\n", "claims[0].along"),
    ] {
        let err = from_str(&format!("{base}{extra}"), Path::new("s.toml"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{err}");
    }
    for good in [
        "expect = \"greater_than\"\n",
        "expect = \"increasing\"\nalong = \"width\"\n",
    ] {
        assert!(from_str(&format!("{base}{good}"), Path::new("s.toml"), &[]).is_ok());
    }
}
