//! Sequential seeds in the report (`[settle]`): judge the claims on the
//! seeds each look had, walk the looks (`crate::settle`), and give every
//! claim slice the verdict of the look it settled or stopped at. The run
//! loop (`schedule/settle.rs`) walks the same way to pick the next round,
//! so what was trained and what the report says agree by construction.

use std::collections::HashMap;

use super::claims::{self, Outcome, SeedsNeeded, Verdict};
use super::{Row, verdicts};
use crate::data::Datasets;
use crate::plan::Plan;
use crate::settle::{Futility, Judged, Progress, Standing, State};
use crate::study::{ClaimSpec, Expect, Setting, Settle, Study, matches};
use crate::train::TrialRecord;

/// A settle study's looks and its sequential verdicts.
#[derive(Debug, Clone)]
pub struct Settled {
    /// Where every slice stands and the seeds each configuration got.
    pub progress: Progress,
    /// The claims' verdicts, each slice as judged at the look it settled
    /// or stopped at; `None` before the first look has its results.
    pub verdicts: Option<Vec<Verdict>>,
}

/// Walk the looks of a `[settle]` study over `records` (`None` without
/// `[settle]`).
pub fn walk(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
) -> Option<Settled> {
    let s = exp.settle.as_ref()?;
    let by_id: HashMap<&str, &TrialRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut looks: Vec<Vec<Verdict>> = Vec::new();
    let progress = crate::settle::walk(s, exp.replication.len(), plan.n_configs, |seeds| {
        let rows: Option<Vec<Row>> = plan
            .trials
            .iter()
            .filter(|t| t.replicate < seeds[t.config_index])
            .map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
            .collect();
        let (verdicts, configs) = judge(exp, &rows?, datasets);
        let judged = judgements(&verdicts, &configs);
        looks.push(verdicts);
        Some(judged)
    });
    let verdicts = (!looks.is_empty()).then(|| sequential(s, &progress, &looks));
    Some(Settled { progress, verdicts })
}

/// The claims' verdicts on `rows` alone, and the configurations each
/// slice compares (claim by claim, slice by slice).
fn judge(
    exp: &Study,
    rows: &[Row],
    datasets: Option<&Datasets>,
) -> (Vec<Verdict>, Vec<Vec<Vec<usize>>>) {
    verdicts::with_inputs(exp, rows, datasets, |inputs| {
        let axes_keys: Vec<Vec<String>> = exp.axes.iter().map(|a| a.keys.clone()).collect();
        let configs = exp
            .report
            .claims
            .iter()
            .map(|c| {
                let rows = inputs.rows_for(c);
                claims::claim_slices(c, &axes_keys, &rows)
                    .into_iter()
                    .map(|(_, members)| {
                        let mut cs: Vec<usize> = members
                            .iter()
                            .filter(|r| compared(c, r.swept))
                            .map(|r| r.config)
                            .collect();
                        cs.sort_unstable();
                        cs.dedup();
                        cs
                    })
                    .collect()
            })
            .collect();
        (verdicts::judge(inputs), configs)
    })
}

/// Whether a trial of a claim's slice is one its test compares: for a
/// comparison, a trial of `this` or `than` (a slice also holds the
/// settings neither group names, which need no seeds); every trial of a
/// trend, a search's arms or a configuration's gain.
fn compared(claim: &ClaimSpec, swept: &[(String, Setting)]) -> bool {
    claim.this.is_empty() || matches(swept, &claim.this) || matches(swept, &claim.than)
}

/// Every slice's test as the decisions read it, claim by claim.
fn judgements(verdicts: &[Verdict], configs: &[Vec<Vec<usize>>]) -> Vec<Judged> {
    let mut out = Vec::new();
    for (i, (v, cs)) in verdicts.iter().zip(configs).enumerate() {
        for (s, c) in v.slices.iter().zip(cs) {
            out.push(Judged {
                claim: i,
                slice: s.slice.clone(),
                alpha: v.claim.alpha,
                p: s.test.map(|t| t.p),
                expected: s.test.is_none_or(|t| t.expected),
                can_fail: v.claim.expect != Expect::Differs,
                needed: match s.seeds_needed {
                    Some(SeedsNeeded::About(n)) => Some(n),
                    _ => None,
                },
                configs: c.clone(),
            });
        }
    }
    out
}

/// Each slice as judged at the look where it ended (the last look judged
/// while open), its outcome and adjusted p from the sequential decision,
/// and its evidence ending with how it settled.
fn sequential(s: &Settle, progress: &Progress, looks: &[Vec<Verdict>]) -> Vec<Verdict> {
    let mut out = looks.last().expect("a look").clone();
    let mut standings = progress.slices.iter();
    let last = progress.looks.len() - 1;
    for (i, v) in out.iter_mut().enumerate() {
        for (j, slice) in v.slices.iter_mut().enumerate() {
            let Some(st) = standings.next() else { break };
            let at = looks.get(st.look).unwrap_or(&looks[0]);
            *slice = at[i].slices[j].clone();
            slice.outcome = match st.state {
                State::Holds => Outcome::Holds,
                State::Fails => Outcome::Fails,
                _ => Outcome::Inconclusive,
            };
            slice.p_adjusted = st.p_adjusted;
            if slice.outcome != Outcome::Inconclusive {
                slice.seeds_needed = None;
            }
            slice.evidence = format!("{}; {}", slice.evidence, how(s, st, last));
        }
        v.outcome = claims::combine(&v.slices);
    }
    out
}

/// How a slice ended, in words, naming the method for a settled one.
pub(super) fn how(s: &Settle, st: &Standing, last: usize) -> String {
    let (k, n) = (st.look, st.seeds);
    let adj = st.p_adjusted.map_or("no test".into(), |p| {
        format!("Holm-adjusted p {}", claims::p_text(p))
    });
    match st.state {
        State::Holds | State::Fails => format!(
            "settled at look {k} of {last} with {n} seeds per configuration: {adj} < α_{k} = {:.3e} \
             (α spent as α·t^{}, Lan–DeMets, union bound over looks)",
            st.level, s.rho
        ),
        State::Futile(Futility::Against) => format!(
            "stopped at look {k} with {n} seeds: the effect points against the claim \
             (p < α before correction), so more seeds would most likely make it fail"
        ),
        State::Futile(Futility::Needs(m)) => format!(
            "stopped at look {k} with {n} seeds: about {m} seeds would settle it, over max_seeds = {}",
            s.max_seeds
        ),
        State::Capped => format!(
            "open at the cap of {n} seeds (look {k}): {adj}, not below α_{k} = {:.3e}",
            st.level
        ),
        State::Open => {
            format!("open after look {k} ({n} seeds): the next round is not trained yet")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A comparison of step against none (constant) compares neither cosine's
    /// trials (they share its slice but no group), a trend every setting:
    /// catches a round given to configurations no open test reads.
    #[test]
    fn only_the_groups_of_a_comparison_get_seeds() {
        let src = "name = \"c\"\nseeds = 3\n[grid]\nschedule = [\"none\", \"step\", \"cosine\"]\n\
            [[claims]]\nname = \"x\"\nstatistic = \"median\"\nexpect = \"less_than\"\n\
            this = { schedule = \"step\" }\nthan = { schedule = \"none\" }\n";
        let e = crate::study::from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let at = |s: &str| vec![("train.schedule".to_string(), Setting::Str(s.into()))];
        let claim = &e.report.claims[0];
        assert!(compared(claim, &at("step")));
        assert!(compared(claim, &at("none")));
        assert!(!compared(claim, &at("cosine")));
        let mut trend = claim.clone();
        trend.this.clear();
        trend.than.clear();
        assert!(compared(&trend, &at("cosine")));
    }
}
