//! `ensemble_gain` claims without an axis (`greater_than` / `less_than`,
//! no groups): each slice is one configuration, whose ensemble of seeds
//! is compared with its own average member. The bootstrap over its seeds
//! (`report::ensemble_gain`) gives the p-value against a gain of 0; the
//! verdict comes later, from the Holm-adjusted p-value (`claims::adjust`).

use super::{Effect, Outcome, Point, Row, SliceVerdict, Test};
use crate::report::percent;
use crate::study::{ClaimSpec, Expect, ReportSpec};

/// One configuration's gain against 0: `greater_than` expects the
/// ensemble better than its average member (a positive gain).
pub(super) fn gain(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    rows: &[&Row],
) -> SliceVerdict {
    let one_config = rows.windows(2).all(|w| w[0].config == w[1].config);
    let g = rows.first().and_then(|r| r.gain).filter(|_| one_config);
    let n = rows.iter().filter(|r| r.finished()).count();
    let point = Point::of(
        "gain".into(),
        rows,
        n,
        g.map(|g| g.gain),
        g.and_then(|g| g.ci),
    );
    let undefined = |why: &str| SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: why.to_string(),
        points: vec![point.clone()],
        test: None,
        p_adjusted: None,
        estimate: None,
        effect: None,
        seeds_needed: None,
    };
    if !one_config {
        return undefined(
            "the slice holds several configurations, whose seeds make no one ensemble",
        );
    }
    let Some(g) = g else {
        return undefined(
            "no ensemble: fewer than two finished seeds with stored validation predictions",
        );
    };
    let want_above = claim.expect == Expect::GreaterThan;
    let test = g.test.map(|(p, above)| Test {
        p,
        expected: above == Some(want_above),
    });
    let metric = claim.metric;
    let mut text = if metric.higher_is_better() {
        format!(
            "ensemble {metric} {:.4} − mean member {:.4} = {:.4}",
            g.ensemble, g.member, g.gain
        )
    } else {
        format!(
            "mean member {metric} {:.4} − ensemble {:.4} = {:.4} ({:.1}% of the member's)",
            g.member,
            g.ensemble,
            g.gain,
            100.0 * g.gain / g.member
        )
    };
    text.push_str(&format!(" over {} seeds", g.seeds));
    if let Some((lo, hi)) = g.ci {
        text.push_str(&format!(
            ", {} bootstrap CI [{lo:.4}, {hi:.4}]",
            percent(spec.level)
        ));
    }
    SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: text,
        points: vec![point],
        test,
        p_adjusted: None,
        estimate: Some(super::Estimate {
            kind: "ensemble_gain",
            value: g.gain,
            interval: g.ci,
        }),
        effect: g.se.map(|se| Effect::from_se(g.gain, se, g.seeds)),
        seeds_needed: None,
    }
}
