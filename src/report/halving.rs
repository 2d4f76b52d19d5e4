//! The successive-halving part of a report: `rungs.csv` and the
//! `## Successive halving` section of `report.md` (the rungs, the compute
//! spent, the winners and where their final weights are).

use crate::halving::{Progress, budgets};
use crate::plan::Plan;
use crate::study::{Study, describe, short_float};

/// `rungs.csv`: one row per finished rung.
pub fn csv(exp: &Study, rungs: &Progress) -> Vec<u8> {
    let h = exp.halving.as_ref().expect("a halving study");
    let mut out = String::from("rung,budget,configs_in,kept,best\n");
    for (k, r) in rungs.done.iter().enumerate() {
        let best = r.best(h).filter(|b| b.is_finite());
        out.push_str(&format!(
            "{k},{},{},{},{}\n",
            r.budget,
            r.scored.len(),
            r.kept.len(),
            best.map_or(String::new(), |b| b.to_string())
        ));
    }
    out.into_bytes()
}

/// Epochs of training the rungs done so far cost, and what every trial to
/// `train.epochs` would: Σ over rungs of (distinct trials in it) ×
/// (its budget − the previous one), against trials × epochs.
pub fn epochs_spent(plan: &Plan, rungs: &Progress) -> (usize, usize) {
    let epochs = plan.trials.first().map_or(0, |t| t.config.train.epochs);
    let mut prev = 0;
    let mut spent = 0;
    for r in &rungs.done {
        let mut ids = std::collections::HashSet::new();
        for t in &plan.trials {
            if r.scored.iter().any(|(c, _)| *c == t.config_index) {
                ids.insert(t.id.as_str());
            }
        }
        spent += ids.len() * (r.budget - prev);
        prev = r.budget;
    }
    (spent, plan.distinct().count() * epochs)
}

/// With `[search] repeats`: that each repeat promotes among its own.
fn repeats_note(exp: &Study) -> String {
    match exp.search.as_ref().map(|s| s.repeats).filter(|&r| r > 1) {
        Some(r) => format!(
            "With `[search] repeats = {r}` each repeat ranks and keeps among its own \
             configurations (its promotions are its own); the table pools the repeats, and the \
             winners are each repeat's.\n\n"
        ),
        None => String::new(),
    }
}

/// The section of `report.md`.
pub fn section(exp: &Study, plan: &Plan, rungs: &Progress) -> String {
    let h = exp.halving.as_ref().expect("a halving study");
    let epochs = plan.trials.first().map_or(0, |t| t.config.train.epochs);
    let all = budgets(h.min_epochs, h.eta, epochs);
    let better = if h.metric.higher_is_better() {
        "higher"
    } else {
        "lower"
    };
    let mut md = format!(
        "## Successive halving\n\nConfigurations are ranked by the {} over their seeds of `{}` ({better} is better; a seed that diverged or failed counts as the worst), ties by configuration index; each rung keeps the best ⌈n/{}⌉. Rung budgets: {} epochs. {} of {} rungs done.\n\n",
        h.statistic.name(),
        h.metric.name(),
        h.eta,
        all.iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        rungs.done.len(),
        all.len()
    );
    md.push_str(&repeats_note(exp));
    md.push_str(&format!(
        "| rung | budget (epochs) | configurations in | kept | best {} `{}` |\n|---:|---:|---:|---:|---:|\n",
        h.statistic.name(),
        h.metric.name()
    ));
    for (k, r) in rungs.done.iter().enumerate() {
        let best = r
            .best(h)
            .filter(|b| b.is_finite())
            .map_or("—".to_string(), short_float);
        md.push_str(&format!(
            "| {k} | {} | {} | {} | {best} |\n",
            r.budget,
            r.scored.len(),
            r.kept.len()
        ));
    }
    let (spent, full) = epochs_spent(plan, rungs);
    if full > 0 {
        md.push_str(&format!(
            "\nTraining spent {spent} trial-epochs; every trial to {epochs} epochs would spend {full} ({:.0}%).\n",
            100.0 * spent as f64 / full as f64
        ));
    }
    match (&rungs.next, rungs.done.last()) {
        (None, Some(last)) => {
            md.push_str("\n**Winners** (the last rung's best), with their final weights (safetensors: `params`, `state`, `order`; see docs/reports.md):\n\n");
            for &c in &last.kept {
                let trials: Vec<_> = plan.trials.iter().filter(|t| t.config_index == c).collect();
                let settings = trials
                    .first()
                    .map(|t| describe(&t.swept))
                    .unwrap_or_default();
                let score = last
                    .scored
                    .iter()
                    .find(|(i, _)| *i == c)
                    .map(|(_, s)| if h.metric.higher_is_better() { -s } else { *s });
                md.push_str(&format!(
                    "- configuration {c} ({settings}): {} {}",
                    h.statistic.name(),
                    score.map_or("—".into(), short_float)
                ));
                for t in trials {
                    md.push_str(&format!(", `checkpoints/{}.safetensors`", t.id));
                }
                md.push('\n');
            }
        }
        (Some((k, budget, configs)), _) => md.push_str(&format!(
            "\nUnfinished: rung {k} ({budget} epochs, {} configurations) is next; rerun the same command to go on.\n",
            configs.len()
        )),
        (None, None) => {}
    }
    md.push('\n');
    md
}
