//! `claims.json`: the claims' verdicts for scripts, one object per claim
//! slice, so nobody has to scrape report.md. Rendered from the same
//! [`Verdict`]s as report.md's claims section, so the two cannot disagree.
//!
//! Numbers are JSON numbers (`null` where undefined, never NaN); the
//! intervals are `[lo, hi]` at `[report] level`.

use serde_json::{Value, json};

use super::claims::SeedsNeeded;
use super::claims::{Point, SliceVerdict, Verdict};

/// The file's bytes: `{"claims": [...]}` with one object per slice, in
/// claim order then slice order, pretty-printed with a final newline.
pub fn render(verdicts: &[Verdict], level: f64) -> Vec<u8> {
    let slices: Vec<Value> = verdicts
        .iter()
        .flat_map(|v| v.slices.iter().map(move |s| slice(v, s)))
        .collect();
    let doc = json!({ "level": level, "claims": slices });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON values serialise");
    text.push('\n');
    text.into_bytes()
}

/// One slice's object.
fn slice(v: &Verdict, s: &SliceVerdict) -> Value {
    let c = &v.claim;
    let mut object = json!({
        "claim": c.name,
        "claim_verdict": v.outcome.to_string(),
        "slice": s.slice,
        "statistic": c.statistic.name(),
        "metric": c.metric.name(),
        "expect": c.expect.name(),
        "along": c.along,
        "this": group_label(&c.this),
        "than": group_label(&c.than),
        "alpha": c.alpha,
        "verdict": s.outcome.to_string(),
        "p": s.test.map(|t| t.p),
        "p_adjusted": s.p_adjusted,
        "effect_expected_direction": s.test.map(|t| t.expected),
        "estimate": s.estimate.map(|e| e.kind),
        "effect": s.estimate.map(|e| e.value),
        "interval": s.estimate.and_then(|e| e.interval).map(|(lo, hi)| [lo, hi]),
        "seeds_needed": seeds(s.seeds_needed),
        "groups": s.points.iter().map(group).collect::<Vec<_>>(),
        "evidence": s.evidence,
    });
    // Only this statistic has a γ; other claims keep their keys.
    if c.statistic == crate::study::Statistic::ProbabilityOfOutperforming {
        object["gamma"] = json!(c.gamma);
    }
    object
}

/// What more seeds would do: `{"about": n}`, `"other_way"`, or
/// `{"not_by_seeds": run}`; `null` when not estimated.
fn seeds(s: Option<SeedsNeeded>) -> Value {
    match s {
        None => Value::Null,
        Some(SeedsNeeded::About(n)) => json!({ "about": n }),
        Some(SeedsNeeded::OtherWay) => json!("other_way"),
        Some(SeedsNeeded::NotBySeeds { run }) => json!({ "not_by_seeds": run }),
    }
}

/// A comparison group's settings (`activation=relu`), `null` for a trend.
fn group_label(sel: &[(String, crate::study::Setting)]) -> Value {
    if sel.is_empty() {
        Value::Null
    } else {
        Value::String(super::claims::label(sel))
    }
}

/// A point (one setting along a trend, or one group of a comparison).
fn group(p: &Point) -> Value {
    json!({
        "label": p.label,
        "n": p.n,
        "trials": p.trials,
        "diverged": p.diverged,
        "failed": p.failed,
        "value": p.value,
        "interval": p.ci.map(|(lo, hi)| [lo, hi]),
    })
}
