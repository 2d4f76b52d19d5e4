//! Comparison claims (`less_than` / `greater_than`, or `differs` with
//! `this`/`than`, either way): a seeded bootstrap of
//! the difference of the statistic between two groups, or, for
//! `probability_of_improvement`, of the share of seed pairs in which
//! `this` beats `than` (`probability_of_outperforming`: of paired runs,
//! `claims/outperforming.rs`). Each yields a bootstrap p-value
//! (`stats::bootstrap_p_value`); the verdict comes later, from the
//! Holm-adjusted p-value (`claims::adjust`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{
    Effect, Estimate, Outcome, Point, Row, SliceVerdict, Test, effect, label, p_text, point, seed,
    stat_of_sample,
};
use crate::report::percent;
use crate::stats;
use crate::study::{ClaimSpec, ReportSpec, Setting, Statistic, matches};

/// A comparison claim on one slice.
pub(super) fn compare(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    rows: &[&Row],
) -> SliceVerdict {
    let group = |sel: &[(String, Setting)]| -> Vec<&Row> {
        rows.iter()
            .copied()
            .filter(|r| matches(r.swept, sel))
            .collect()
    };
    let (ga, gb) = (group(&claim.this), group(&claim.than));
    let (pa, xa) = point(claim, spec, slice, label(&claim.this), &ga);
    let (pb, xb) = point(claim, spec, slice, label(&claim.than), &gb);
    let lost: Vec<String> = [&pa, &pb]
        .iter()
        .filter(|p| p.none_finished())
        .map(|p| {
            format!(
                "no trial of {} finished ({})",
                p.label,
                p.lost().unwrap_or_default()
            )
        })
        .collect();
    // Both of the slice's tests include a permutation p (below).
    let mut slice_effect = effect(claim, &xa, &xb).map(|e| Effect {
        permuted: true,
        ..e
    });
    let (test, estimate, evidence) = if !lost.is_empty() {
        (
            None,
            None,
            vec![format!("cannot judge: {}", lost.join("; "))],
        )
    } else if claim.statistic == Statistic::ProbabilityOfImprovement {
        improvement(claim, spec, slice, (&pa, &xa), (&pb, &xb))
    } else if claim.statistic == Statistic::ProbabilityOfOutperforming {
        let labels = (pa.label.as_str(), pb.label.as_str());
        let (t, e, v, beyond) =
            super::outperforming::outperforming(claim, spec, slice, labels, (&ga, &gb));
        slice_effect = beyond;
        (t, e, v)
    } else {
        difference(claim, spec, slice, (&pa, &xa), (&pb, &xb))
    };
    SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: evidence.join("; "),
        effect: slice_effect,
        seeds_needed: None,
        points: vec![pa, pb],
        test,
        p_adjusted: None,
        estimate,
    }
}

/// −1 for `less_than`, +1 for `greater_than`, `None` for `differs`.
pub(super) fn want(claim: &ClaimSpec) -> Option<f64> {
    claim.expect.sign()
}

/// The test from bootstrap replicates against `null`: its two-sided
/// p-value, and whether the replicates lie on the side `want` (+1 above,
/// −1 below; `None`, two-sided, expects either side).
pub(super) fn replicate_test(replicates: &[f64], null: f64, want: Option<f64>) -> Option<Test> {
    let (p, side) = stats::bootstrap_p_value(replicates, null)?;
    let expected = match want {
        Some(want) => side.is_some_and(|above| (if above { 1.0 } else { -1.0 }) * want > 0.0),
        None => true,
    };
    Some(Test { p, expected })
}

/// statistic(this) − statistic(than), bootstrapped; for spread statistics
/// Brown–Forsythe must be significant too (the slice's p is the larger of
/// the two; the direction is the bootstrap's).
fn difference(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    (pa, xa): (&Point, &[f64]),
    (pb, xb): (&Point, &[f64]),
) -> (Option<Test>, Option<Estimate>, Vec<String>) {
    let mut evidence = Vec::new();
    let too_few = || {
        (
            None,
            None,
            vec!["too few finished trials in one of the groups".into()],
        )
    };
    let (Some(va), Some(vb)) = (pa.value, pb.value) else {
        return too_few();
    };
    let diffs = bootstrap_difference(claim, spec, slice, xa, xb);
    let a = (1.0 - spec.level) / 2.0;
    let (Some(lo), Some(hi)) = (stats::quantile(&diffs, a), stats::quantile(&diffs, 1.0 - a))
    else {
        return too_few();
    };
    let s = claim.statistic;
    let perm = permutation_p(
        xa,
        xb,
        0.0,
        spec.bootstrap,
        seed(claim, slice, "permutation"),
        |a, b| Some(stat_of_sample(s, a)? - stat_of_sample(s, b)?),
    );
    let mut test = at_least(replicate_test(&diffs, 0.0, want(claim)), perm);
    evidence.push(format!(
        "{} {} − {} = {:.4}, {} bootstrap CI [{lo:.4}, {hi:.4}]{}",
        claim.statistic.name(),
        pa.label,
        pb.label,
        va - vb,
        percent(spec.level),
        perm_text(perm),
    ));
    if claim.statistic.is_spread()
        && let Some((f, p)) = stats::brown_forsythe(&[xa, xb])
    {
        evidence.push(format!("Brown–Forsythe F = {f:.2}, p {}", p_text(p)));
        test = test.map(|t| Test {
            p: t.p.max(p),
            expected: t.expected,
        });
    }
    let estimate = Estimate {
        kind: "difference",
        value: va - vb,
        interval: Some((lo, hi)),
    };
    (test, Some(estimate), evidence)
}

/// The share of seed pairs in which `this` beats `than` (lower loss,
/// higher accuracy; ties count half), with a bootstrap interval at level
/// 1 − α: the slice holds when the share is significantly above ½ the
/// expected way (`less_than`: `this` below `than`).
fn improvement(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    (pa, xa): (&Point, &[f64]),
    (pb, xb): (&Point, &[f64]),
) -> (Option<Test>, Option<Estimate>, Vec<String>) {
    let higher = claim.metric.higher_is_better();
    // probability_of_improvement(x, y) is P(x < y): `this` lower for a
    // loss, `than` lower (so `this` higher) for an accuracy.
    let (x, y) = if higher { (xb, xa) } else { (xa, xb) };
    let Some(q) = stats::probability_of_improvement(x, y) else {
        return (
            None,
            None,
            vec!["too few finished trials in one of the groups".into()],
        );
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed(claim, slice, "improvement"));
    let reps = stats::probability_of_improvement_replicates(x, y, spec.bootstrap, &mut rng);
    // `this` beating `than` is `this` on the expected side when the claim
    // expects it lower for a loss or higher for an accuracy.
    let beating = want(claim).map(|w| if (w > 0.0) == higher { 1.0 } else { -1.0 });
    let perm = permutation_p(
        x,
        y,
        0.5,
        spec.bootstrap,
        seed(claim, slice, "permutation"),
        stats::probability_of_improvement,
    );
    let test = at_least(replicate_test(&reps, 0.5, beating), perm);
    let dir = if higher { "higher" } else { "lower" };
    let mut text = format!(
        "{} beats {} ({dir} {}) in {} of seed pairs",
        pa.label,
        pb.label,
        claim.metric,
        share(q)
    );
    let interval = stats::percentile_interval(&reps, 1.0 - claim.alpha);
    if let Some((lo, hi)) = interval {
        text.push_str(&format!(
            " [{}, {}] ({} bootstrap interval, 1 − α)",
            share(lo),
            share(hi),
            percent(1.0 - claim.alpha)
        ));
    }
    text.push_str(&perm_text(perm));
    let estimate = Estimate {
        kind: "probability_of_improvement",
        value: q,
        interval,
    };
    (test, Some(estimate), vec![text])
}

/// Two-sided permutation p of `stat(a, b)` against `null`: the two
/// groups' values pooled and dealt out again at random `reps` times
/// (ChaCha8 seeded by `seed`), p = (1 + #{|stat* − null| ≥ |stat −
/// null|})/(reps + 1). It is valid under exchangeability — the A/A null
/// of `mlpsweep calibrate` — whatever the statistic and however few the
/// seeds, which the percentile bootstrap is not: with a handful of seeds
/// a group's bootstrap spread is too narrow and it rejects too often.
fn permutation_p(
    a: &[f64],
    b: &[f64],
    null: f64,
    reps: usize,
    seed: u64,
    stat: impl Fn(&[f64], &[f64]) -> Option<f64>,
) -> Option<f64> {
    let observed = (stat(a, b)? - null).abs();
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // A permuted statistic equal to the observed up to rounding counts as
    // at least as extreme.
    let bar = observed - 1e-12 * observed.max(1.0);
    let mut extreme = 0usize;
    for _ in 0..reps {
        rand::seq::SliceRandom::shuffle(pooled.as_mut_slice(), &mut rng);
        let (x, y) = pooled.split_at(a.len());
        if stat(x, y).is_none_or(|d| (d - null).abs() >= bar) {
            extreme += 1;
        }
    }
    Some((1 + extreme) as f64 / (reps + 1) as f64)
}

/// The slice's test with its p raised to the permutation p: it must pass
/// both.
fn at_least(test: Option<Test>, perm: Option<f64>) -> Option<Test> {
    test.map(|t| Test {
        p: perm.map_or(t.p, |q| t.p.max(q)),
        ..t
    })
}

/// `, permutation p = 0.0123` for the evidence.
fn perm_text(perm: Option<f64>) -> String {
    perm.map_or(String::new(), |p| format!(", permutation p {}", p_text(p)))
}

/// A share as a whole percent: 0.8 → "80%".
fn share(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// The bootstrap replicates of statistic(a) − statistic(b), resampling
/// each group on its own from one stream seeded by the claim and slice, so
/// reports are reproducible.
fn bootstrap_difference(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    xa: &[f64],
    xb: &[f64],
) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed(claim, slice, "difference"));
    stats::two_sample_differences(&mut rng, (xa, xb), spec.bootstrap, |s| {
        stat_of_sample(claim.statistic, s)
    })
}
