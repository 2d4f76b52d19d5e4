//! Trend claims (`increasing` / `decreasing` along a swept key, or
//! `differs` with `along`, either way): Spearman's ρ between the axis and
//! the metric, and for spread statistics a Brown–Forsythe test between the
//! smallest and the largest setting. Both p-values are two-sided; a
//! one-sided claim also asks which way the effect points. The
//! verdict comes later, from the Holm-adjusted p-value (`claims::adjust`).

use super::{Estimate, Outcome, Point, Row, SliceVerdict, Test, all_of, effect, p_text, point};
use crate::stats;
use crate::study::{ClaimSpec, ReportSpec, Setting, Statistic};

/// A trend claim on one slice: Spearman's ρ between the axis and the
/// statistic, and for spread statistics a Brown–Forsythe test between the
/// smallest and the largest setting.
pub(super) fn trend(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    rows: &[&Row],
) -> SliceVerdict {
    let along = claim.along.as_ref().expect("trend claims have an axis");
    let short = along.rsplit('.').next().unwrap_or(along);
    // Every setting is shown; the tests see only settings where some trial
    // finished (one whose trials all diverged has no value to rank).
    let mut shown = Vec::new();
    let mut points = Vec::new();
    let mut samples = Vec::new();
    let mut xs = Vec::new();
    for (x, setting) in settings_along(rows, along) {
        let members: Vec<&Row> = rows
            .iter()
            .copied()
            .filter(|r| r.swept.iter().any(|(k, v)| k == along && *v == setting))
            .collect();
        let (p, sample) = point(claim, spec, slice, format!("{short}={setting}"), &members);
        shown.push(p.clone());
        if !p.none_finished() {
            xs.push(x);
            points.push(p);
            samples.push(sample);
        }
    }
    let (rho, estimate, mut evidence) = spearman_test(claim, &xs, &samples, &points);
    let mut test = rho;
    if claim.statistic.is_spread() && samples.len() >= 2 {
        let (bf, e) = spread_test(claim, &samples, &points);
        test = all_of(&[rho, bf]);
        evidence.push(e);
        if let (Some(r), Some(b)) = (rho, bf)
            && r.expected != b.expected
        {
            evidence.push(
                "Spearman and Brown–Forsythe point opposite ways: neither holds nor fails".into(),
            );
        }
    }
    let effect = match (samples.first(), samples.last()) {
        (Some(a), Some(b)) if samples.len() >= 2 => effect(claim, a, b),
        _ => None,
    };
    SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: evidence.join("; "),
        points: shown,
        test,
        p_adjusted: None,
        estimate,
        effect,
        seeds_needed: None,
    }
}

/// The settings of `along` among `rows`, each with its x, in increasing x:
/// x is the value when every setting is numeric, else the position in plan
/// order.
fn settings_along(rows: &[&Row], along: &str) -> Vec<(f64, Setting)> {
    let mut settings: Vec<Setting> = Vec::new();
    for r in rows {
        let v = r
            .swept
            .iter()
            .find(|(k, _)| k == along)
            .map(|(_, v)| v.clone())
            .expect("swept");
        if !settings.contains(&v) {
            settings.push(v);
        }
    }
    let numeric = settings
        .iter()
        .all(|s| matches!(s, Setting::Int(_) | Setting::Float(_)));
    let x_of = |s: &Setting, i: usize| match s {
        Setting::Int(v) if numeric => *v as f64,
        Setting::Float(v) if numeric => *v,
        _ => i as f64,
    };
    let mut out: Vec<(f64, Setting)> = settings
        .into_iter()
        .enumerate()
        .map(|(i, s)| (x_of(&s, i), s))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Spearman's ρ along the axis: on every trial's value for the mean,
/// median and stuck fraction (so every seed counts), else on the statistic
/// per setting. Its p-value, and whether ρ has the expected sign.
fn spearman_test(
    claim: &ClaimSpec,
    xs: &[f64],
    samples: &[Vec<f64>],
    points: &[Point],
) -> (Option<Test>, Option<Estimate>, Vec<String>) {
    let trial_level = claim.statistic.is_fraction()
        || matches!(claim.statistic, Statistic::Mean | Statistic::Median);
    let (tx, ty): (Vec<f64>, Vec<f64>) = if trial_level {
        xs.iter()
            .zip(samples)
            .flat_map(|(x, s)| s.iter().map(move |y| (*x, *y)))
            .unzip()
    } else {
        xs.iter()
            .zip(points)
            .filter_map(|(x, p)| p.value.map(|v| (*x, v)))
            .unzip()
    };
    let unit = if trial_level {
        format!("{} trials", tx.len())
    } else {
        format!("{} settings", tx.len())
    };
    match stats::spearman(&tx, &ty) {
        Some((rho, p)) => (
            Some(Test {
                p,
                expected: claim.expect.sign().is_none_or(|s| rho * s > 0.0),
            }),
            Some(Estimate {
                kind: "spearman_rho",
                value: rho,
                interval: None,
            }),
            vec![format!("Spearman ρ = {rho:.3} (p {}, {unit})", p_text(p))],
        ),
        None => (
            None,
            None,
            vec![format!("Spearman ρ undefined ({unit}, or no variation)")],
        ),
    }
}

/// A spread trend also needs the spread to differ between the first and
/// the last setting (Brown–Forsythe) in the expected direction: the test,
/// and the test in words.
fn spread_test(
    claim: &ClaimSpec,
    samples: &[Vec<f64>],
    points: &[Point],
) -> (Option<Test>, String) {
    let (first, last) = (&samples[0], &samples[samples.len() - 1]);
    match stats::brown_forsythe(&[first, last]) {
        Some((f, p)) => {
            let (a, b) = (
                stats::std(first).unwrap_or(0.0),
                stats::std(last).unwrap_or(0.0),
            );
            let evidence = format!(
                "Brown–Forsythe {} vs {}: F = {f:.2}, p {}",
                points[0].label,
                points[points.len() - 1].label,
                p_text(p)
            );
            // `differs` is two-sided: either way is expected.
            let expected = match claim.expect.sign() {
                Some(s) if s < 0.0 => b < a,
                Some(_) => b > a,
                None => true,
            };
            (Some(Test { p, expected }), evidence)
        }
        None => (
            None,
            "Brown–Forsythe undefined (too few seeds or no spread)".into(),
        ),
    }
}
