//! Comparison claims (`less_than` / `greater_than`): a seeded bootstrap
//! interval of the difference of the statistic between two groups.

use super::{Outcome, Row, SliceVerdict, label, p_text, point, seed, stat_of_sample};
use crate::stats;
use crate::study::{ClaimSpec, Expect, ReportSpec, Setting, matches};

/// A comparison claim on one slice: a bootstrap interval of the difference
/// of the statistic between `this` and `than`, entirely on the expected
/// side to hold, entirely on the other to fail.
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
    let (pa, xa) = point(claim, spec, slice, label(&claim.this), &group(&claim.this));
    let (pb, xb) = point(claim, spec, slice, label(&claim.than), &group(&claim.than));
    let want = if claim.expect == Expect::LessThan {
        -1.0
    } else {
        1.0
    };
    let mut evidence = Vec::new();
    let mut outcome = Outcome::Inconclusive;
    let diff = match (pa.value, pb.value) {
        (Some(va), Some(vb)) => Some((va - vb, bootstrap_difference(claim, spec, slice, &xa, &xb))),
        _ => None,
    };
    match diff {
        Some((d, Some((lo, hi)))) => {
            evidence.push(format!(
                "{} {} − {} = {d:.4}, {} bootstrap CI [{lo:.4}, {hi:.4}]",
                claim.statistic.name(),
                pa.label,
                pb.label,
                crate::report::percent(spec.level)
            ));
            if lo * want > 0.0 && hi * want > 0.0 {
                outcome = Outcome::Holds;
            } else if lo * want < 0.0 && hi * want < 0.0 {
                outcome = Outcome::Fails;
            }
        }
        _ => evidence.push("too few finished trials in one of the groups".into()),
    }
    if claim.statistic.is_spread()
        && let Some((f, p)) = stats::brown_forsythe(&[&xa, &xb])
    {
        evidence.push(format!("Brown–Forsythe F = {f:.2}, p {}", p_text(p)));
        if p >= claim.alpha && outcome != Outcome::Inconclusive {
            outcome = Outcome::Inconclusive;
        }
    }
    SliceVerdict {
        slice: slice.to_string(),
        outcome,
        evidence: evidence.join("; "),
        points: vec![pa, pb],
    }
}

/// The bootstrap interval at `[report] level` of statistic(a) −
/// statistic(b), resampling each group on its own from one stream seeded
/// by the claim and slice, so reports are reproducible.
fn bootstrap_difference(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    xa: &[f64],
    xb: &[f64],
) -> Option<(f64, f64)> {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed(
        claim,
        slice,
        "difference",
    ));
    let mut diffs = Vec::with_capacity(spec.bootstrap);
    let (mut sa, mut sb) = (vec![0.0; xa.len()], vec![0.0; xb.len()]);
    for _ in 0..spec.bootstrap {
        for s in sa.iter_mut() {
            *s = xa[rand::Rng::random_range(&mut rng, 0..xa.len())];
        }
        for s in sb.iter_mut() {
            *s = xb[rand::Rng::random_range(&mut rng, 0..xb.len())];
        }
        if let (Some(x), Some(y)) = (
            stat_of_sample(claim.statistic, &sa),
            stat_of_sample(claim.statistic, &sb),
        ) {
            diffs.push(x - y);
        }
    }
    let lo = stats::quantile(&diffs, (1.0 - spec.level) / 2.0);
    let hi = stats::quantile(&diffs, 1.0 - (1.0 - spec.level) / 2.0);
    lo.zip(hi)
}
