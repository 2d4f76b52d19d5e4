//! report.md for a `[settle]` study: the claims' note on how sequential
//! verdicts are reached, the run line, and "## Sequential seeds": per
//! claim slice the look and seeds at which it settled or why it stopped,
//! and the trials spent against uniform allocation.

use crate::plan::Plan;
use crate::report::settle::Settled;
use crate::settle::{Futility, State};
use crate::study::Study;

/// The paragraph under the claims table, in place of the fixed-n one.
pub fn note(exp: &Study, s: &Settled) -> String {
    let settle = exp.settle.as_ref().expect("a settle study");
    format!(
        "\nVerdicts are sequential ([settle]): seeds were added in rounds of {} up to {} per \
         configuration, only to configurations an open slice compares, and each slice was judged \
         at every look until it settled or stopped. Look k (k = 0..{}) rejects at α_k = α·t_k^{} − \
         α·t_(k−1)^{} (t = seeds / max_seeds; Lan–DeMets α spending), Holm at α_k over every \
         slice of the study (earlier settled ones as p = 0, stopped ones as p = 1), so the chance \
         of any false \"holds\" or \"fails\" over all looks stays at α (union bound over looks). \
         Each slice shows its evidence, raw and adjusted p at the look where it ended; see \
         \"Sequential seeds\" below.\n",
        settle.round,
        settle.max_seeds,
        s.progress.looks.len() - 1,
        settle.rho,
        settle.rho,
    )
}

/// The first line of "What was run".
pub fn header(exp: &Study, plan: &Plan, stored: usize, s: &Settled) -> String {
    let settle = exp.settle.as_ref().expect("a settle study");
    let (spent, _) = s.progress.trials();
    format!(
        "- {} configurations × {}, then rounds of {} more up to {} ([settle]): {} trials given, \
         {} at the cap; {} stored.\n",
        plan.n_configs,
        exp.replication.describe(),
        settle.round,
        settle.max_seeds,
        spent,
        plan.len(),
        stored
    )
}

/// "## Sequential seeds": one row per claim slice, then the trials.
pub fn section(exp: &Study, s: &Settled) -> String {
    let settle = exp.settle.as_ref().expect("a settle study");
    let p = &s.progress;
    let mut md = String::from(
        "## Sequential seeds\n\n| claim | slice | verdict | look | seeds | why it stopped |\n\
         |---|---|---|---:|---:|---|\n",
    );
    for st in &p.slices {
        let claim = &exp.report.claims[st.claim].name;
        let (verdict, why) = match st.state {
            State::Holds => ("holds", "settled".to_string()),
            State::Fails => ("fails", "settled".to_string()),
            State::Futile(Futility::Against) => (
                "inconclusive",
                "futile: the effect points against the claim".to_string(),
            ),
            State::Futile(Futility::Needs(n)) => (
                "inconclusive",
                format!("futile: about {n} seeds would settle it"),
            ),
            State::Capped => ("inconclusive", "at the cap".to_string()),
            State::Open => ("open", "the next round is not trained yet".to_string()),
        };
        md.push_str(&format!(
            "| {claim} | {} | {verdict} | {} | {} | {why} |\n",
            st.slice, st.look, st.seeds
        ));
    }
    let (spent, uniform) = p.trials();
    let most = p.seeds.iter().copied().max().unwrap_or(0);
    let cap = settle.max_seeds * p.seeds.len();
    md.push_str(&format!(
        "\n{} of {} looks judged ({}). Trials given: {spent}; adding the same seeds to every \
         configuration ({most} each) would have cost {uniform}, and the cap ({} each) {cap}.\n\n",
        p.judged,
        p.looks.len(),
        p.looks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
            + " seeds",
        settle.max_seeds,
    ));
    md
}
