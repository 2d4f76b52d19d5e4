//! The verdict of a halving study against its reference full grid
//! (`[search.halving] reference`, `crate::reference`): did halving pick a
//! configuration as good as the full grid's best, and for what share of the
//! full grid's training steps?
//!
//! - The pick is the last rung's best by the study's seed statistic (ties
//!   by configuration index); the full grid's best is the configuration
//!   with the best statistic over the reference's final records of the
//!   same trial ids (the same rule, on every configuration).
//! - "As good as": the percentile bootstrap interval at `[report] level`
//!   of statistic(pick) − statistic(best), resampling the shared seeds
//!   in pairs (seed i of the pick with seed i of the best: the same
//!   replicate streams), reaches 0 or below — the pick is not significantly
//!   worse. The pick being the best is a difference of exactly 0.
//! - The compute: training steps (epochs × minibatches per epoch) of every
//!   trial as stored, halving's over the full grid's, at most `max_share`.
//!
//! Holds when both hold, fails when either fails, inconclusive when the
//! reference, its records, or halving's last rung are missing.

use std::collections::{HashMap, HashSet};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::claims::Outcome;
use crate::data::Datasets;
use crate::halving::{Halving, Progress, Reference, Rung, score};
use crate::plan::{Plan, Trial};
use crate::reference::Found;
use crate::stats;
use crate::study::{Study, describe, short_float};
use crate::train::{Status, TrialRecord};

/// The judged comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct HalvingVerdict {
    /// What is claimed, in words (the Claims table's first column).
    pub name: String,
    /// The verdict.
    pub outcome: Outcome,
    /// The subsection of report.md's Claims: expectation, table, evidence.
    pub detail: String,
}

impl HalvingVerdict {
    /// A line for the terminal: `[holds] name`.
    pub fn summary_line(&self) -> String {
        format!("[{}] {}", self.outcome, self.name)
    }
}

/// Training cost of some trials: trial-epochs and, where every trial's
/// data set is known, optimiser steps.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cost {
    epochs: usize,
    steps: Option<usize>,
}

/// Epochs a stored trial trained: to its last rung (or `train.epochs`)
/// if it finished, to the epoch it diverged at, none if it failed.
fn epochs_of(t: &Trial, r: &TrialRecord) -> usize {
    match r.status {
        Status::Ok => r.epochs_trained.unwrap_or(t.config.train.epochs),
        Status::Diverged => r.diverged_epoch.unwrap_or(0),
        Status::Failed => 0,
    }
}

/// Minibatches per epoch of `t`: ⌈train rows / batch⌉, as `train.rs` steps.
fn steps_per_epoch(t: &Trial, datasets: Option<&Datasets>) -> Option<usize> {
    let n = datasets?.get(t)?.train.len();
    let batch = t.config.train.batch.rows(n);
    Some(n.div_ceil(batch.max(1)))
}

/// The cost of the distinct trials of `plan` whose record `get` finds.
fn cost<'a>(
    plan: &Plan,
    datasets: Option<&Datasets>,
    get: impl Fn(&str) -> Option<&'a TrialRecord>,
) -> Cost {
    let mut c = Cost {
        epochs: 0,
        steps: Some(0),
    };
    for t in plan.distinct() {
        let Some(r) = get(&t.id) else { continue };
        let e = epochs_of(t, r);
        c.epochs += e;
        c.steps = c
            .steps
            .zip(steps_per_epoch(t, datasets))
            .map(|(s, k)| s + e * k);
    }
    c
}

/// A configuration's seeds' final metric in the reference (plan order of
/// replicates): `None` for a seed that diverged or failed.
fn seeds_of(
    h: &Halving,
    plan: &Plan,
    c: usize,
    found: &ReferenceRecords,
    target: f64,
) -> Vec<Option<f64>> {
    plan.trials
        .iter()
        .filter(|t| t.config_index == c)
        .map(|t| {
            found
                .get(&t.id)
                .filter(|r| r.finished().is_some())
                .and_then(|r| r.value(h.metric, target))
        })
        .collect()
}

type ReferenceRecords = HashMap<String, TrialRecord>;

/// The best configuration by score (lower better), ties by index.
fn best(scores: &[(usize, f64)]) -> Option<(usize, f64)> {
    scores
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
}

/// Paired bootstrap of score(a) − score(b) over shared seed indices, and
/// of score(b) alone (lower-better scores); non-finite replicates (a
/// resample with too many lost seeds) are dropped.
fn paired_bootstrap(
    h: &Halving,
    a: &[Option<f64>],
    b: &[Option<f64>],
    reps: usize,
    seed: u64,
) -> (Vec<f64>, Vec<f64>) {
    let n = a.len().min(b.len());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut diffs, mut bests) = (Vec::with_capacity(reps), Vec::with_capacity(reps));
    let (mut sa, mut sb) = (vec![None; n], vec![None; n]);
    if n == 0 {
        return (diffs, bests);
    }
    for _ in 0..reps {
        stats::paired_resample_into(&mut rng, (a, b), (&mut sa, &mut sb));
        let (x, y) = (score(h, &sa), score(h, &sb));
        if (x - y).is_finite() {
            diffs.push(x - y);
        }
        if y.is_finite() {
            bests.push(y);
        }
    }
    (diffs, bests)
}

/// Judge a finished halving study against its reference. `records` are
/// this study's latest records, `datasets` its data (for steps per epoch).
pub fn judge(
    exp: &Study,
    plan: &Plan,
    rungs: &Progress,
    records: &[TrialRecord],
    found: &Found,
    datasets: Option<&Datasets>,
) -> Option<HalvingVerdict> {
    let h = exp.halving.as_ref()?;
    let r = h.reference.as_ref()?;
    let level = exp.report.level;
    let name = format!(
        "halving picks a configuration within the full grid's best ({} interval) for at most {} of its training steps",
        super::percent(level),
        super::percent(r.max_share)
    );
    let mut detail = expectation(exp, h, r, &name);
    let j = match compute(exp, plan, rungs, records, found, datasets)? {
        Ok(j) => j,
        Err(why) => {
            detail.push_str(&format!("Inconclusive: {why}\n"));
            return Some(HalvingVerdict {
                name,
                outcome: Outcome::Inconclusive,
                detail: detail.replace("{outcome}", "inconclusive"),
            });
        }
    };
    detail.push_str(&table(h, &j));
    detail.push_str(&findings(h, level, r.max_share, &j));
    let outcome = match (j.close, j.within_budget) {
        (Some(true), true) => Outcome::Holds,
        (Some(false), _) | (_, false) => Outcome::Fails,
        (None, true) => Outcome::Inconclusive,
    };
    Some(HalvingVerdict {
        name,
        outcome,
        detail: detail.replace("{outcome}", &outcome.to_string()),
    })
}

/// ` [lo, hi]` of a lower-is-better interval in the metric's own direction.
fn ci_text(sign: f64, ci: Option<(f64, f64)>) -> String {
    ci.map_or(String::new(), |(lo, hi)| {
        let (a, b) = if sign < 0.0 { (-hi, -lo) } else { (lo, hi) };
        format!(" [{}, {}]", short_float(a), short_float(b))
    })
}

/// The subsection's heading and expectation; `{outcome}` is filled in last.
fn expectation(exp: &Study, h: &Halving, r: &Reference, name: &str) -> String {
    let better = if h.metric.higher_is_better() {
        "higher"
    } else {
        "lower"
    };
    format!(
        "\n### {name} — {{outcome}}\n\nExpected: the configuration halving picks (the last rung's best by the {stat} over seeds of `{m}`, {better} is better) is not significantly worse than the full grid's best configuration by the same rule — the {lvl} percentile bootstrap interval of {stat}(pick) − {stat}(best), resampling the shared seeds in pairs ({reps} resamples), reaches 0 — and halving spends at most {share} of the full grid's training steps. Reference: `{path}` (relative to this study's results folder).\n\n",
        stat = h.statistic.name(),
        m = h.metric.name(),
        lvl = super::percent(exp.report.level),
        reps = exp.report.bootstrap,
        share = super::percent(r.max_share),
        path = r.path,
    )
}

/// The numbers of the verdict, kept apart from their Markdown. Scores are
/// lower-is-better; `sign` turns them back into the metric's direction.
#[derive(Debug, Clone, PartialEq)]
struct Judged {
    ref_name: String,
    /// Reference trials outside this study's plan.
    extra: usize,
    sign: f64,
    /// `train.epochs` of the plan's first trial.
    epochs: usize,
    n_configs: usize,
    /// Configurations that finished halving's last rung.
    finishers: usize,
    pick: usize,
    pick_score: f64,
    pick_settings: String,
    top: usize,
    top_score: f64,
    top_settings: String,
    /// statistic(pick) − statistic(best), in the metric's direction.
    diff_point: f64,
    paired: usize,
    diff_ci: Option<(f64, f64)>,
    best_ci: Option<(f64, f64)>,
    /// The pick's trials, and how many of their records differ from the
    /// reference's of the same id.
    pick_trials: usize,
    differing: usize,
    spent: Cost,
    full: Cost,
    unit: &'static str,
    num: usize,
    den: usize,
    share: f64,
    within_budget: bool,
    /// Whether the difference's interval reaches 0; `None`: no interval.
    close: Option<bool>,
}

/// What the reference holds for this study, once usable.
struct Usable<'a> {
    last: &'a Rung,
    by_id: &'a ReferenceRecords,
    name: &'a str,
    extra: usize,
}

/// The reference's records and halving's last rung, or why the verdict is
/// inconclusive (missing reference, unfinished halving or reference).
fn usable<'a>(plan: &Plan, rungs: &'a Progress, found: &'a Found) -> Result<Usable<'a>, String> {
    let (ref_path, name, by_id, extra) = match found {
        Found::Missing(why) => return Err(format!("reference not found: {why}.")),
        Found::Records {
            path,
            name,
            by_id,
            extra,
        } => (path, name, by_id, *extra),
    };
    let (Some(last), None) = (rungs.done.last(), &rungs.next) else {
        return Err("halving has not finished its last rung; rerun the study to go on.".into());
    };
    let distinct: HashSet<&str> = plan.trials.iter().map(|t| t.id.as_str()).collect();
    let stored = distinct
        .iter()
        .filter(|id| by_id.contains_key(**id))
        .count();
    if stored < distinct.len() {
        return Err(format!(
            "the reference `{}` (study {name:?}) has stored {stored} of this study's {} trials; run it to the end first (`just studies` runs experiments/*.toml in alphabetical order).",
            ref_path.display(),
            distinct.len()
        ));
    }
    Ok(Usable {
        last,
        by_id,
        name,
        extra,
    })
}

/// The verdict's numbers, `Err` with the reason when inconclusive; `None`
/// without a reference or a best configuration.
fn compute(
    exp: &Study,
    plan: &Plan,
    rungs: &Progress,
    records: &[TrialRecord],
    found: &Found,
    datasets: Option<&Datasets>,
) -> Option<Result<Judged, String>> {
    let h = exp.halving.as_ref()?;
    let r = h.reference.as_ref()?;
    let u = match usable(plan, rungs, found) {
        Ok(u) => u,
        Err(why) => return Some(Err(why)),
    };
    let (level, target) = (exp.report.level, exp.report.target_acc);
    let sign = if h.metric.higher_is_better() {
        -1.0
    } else {
        1.0
    };
    let (pick, pick_score) = best(&u.last.scored)?;
    let scores: Vec<(usize, f64)> = (0..plan.n_configs)
        .map(|c| (c, score(h, &seeds_of(h, plan, c, u.by_id, target))))
        .collect();
    let (top, top_score) = best(&scores)?;
    let (pa, pb) = (
        seeds_of(h, plan, pick, u.by_id, target),
        seeds_of(h, plan, top, u.by_id, target),
    );
    let seed = crate::study::fnv1a(format!("halving reference\u{1f}{pick}\u{1f}{top}").as_bytes());
    let (diffs, bests) = paired_bootstrap(h, &pa, &pb, exp.report.bootstrap, seed);
    let diff_ci = if pick == top {
        Some((0.0, 0.0))
    } else {
        crate::stats::percentile_interval(&diffs, level)
    };
    let own: HashMap<&str, &TrialRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let (pick_trials, differing) = differing(h, plan, pick, &own, u.by_id, target);
    let spent = cost(plan, datasets, |id| own.get(id).copied());
    let full = cost(plan, datasets, |id| u.by_id.get(id));
    let (unit, num, den) = match (spent.steps, full.steps) {
        (Some(a), Some(b)) => ("training steps", a, b),
        _ => (
            "trial-epochs (steps per epoch unknown without the data)",
            spent.epochs,
            full.epochs,
        ),
    };
    let share = num as f64 / den.max(1) as f64;
    Some(Ok(Judged {
        ref_name: u.name.to_string(),
        extra: u.extra,
        sign,
        epochs: plan.trials.first().map_or(0, |t| t.config.train.epochs),
        n_configs: plan.n_configs,
        finishers: u.last.scored.len(),
        pick,
        pick_score,
        pick_settings: settings(plan, pick),
        top,
        top_score,
        top_settings: settings(plan, top),
        diff_point: sign * (score(h, &pa) - score(h, &pb)),
        paired: pa.len(),
        diff_ci,
        best_ci: crate::stats::percentile_interval(&bests, level),
        pick_trials,
        differing,
        spent,
        full,
        unit,
        num,
        den,
        share,
        within_budget: share <= r.max_share,
        close: diff_ci.map(|(lo, _)| lo <= 0.0),
    }))
}

/// The swept settings of configuration `c`, in words.
fn settings(plan: &Plan, c: usize) -> String {
    plan.trials
        .iter()
        .find(|t| t.config_index == c)
        .map(|t| describe(&t.swept))
        .unwrap_or_default()
}

/// The pick's trial count, and how many of its own final records differ
/// from the reference's: the same ids, so a promoted trial must match a
/// plain run bit for bit.
fn differing(
    h: &Halving,
    plan: &Plan,
    pick: usize,
    own: &HashMap<&str, &TrialRecord>,
    by_id: &ReferenceRecords,
    target: f64,
) -> (usize, usize) {
    let pick_trials: Vec<&Trial> = plan
        .trials
        .iter()
        .filter(|t| t.config_index == pick)
        .collect();
    let differing = pick_trials
        .iter()
        .filter(|t| {
            let a = own
                .get(t.id.as_str())
                .and_then(|r| r.value(h.metric, target));
            let b = by_id.get(&t.id).and_then(|r| r.value(h.metric, target));
            a.map(f64::to_bits) != b.map(f64::to_bits)
        })
        .count();
    (pick_trials.len(), differing)
}

/// The table of halving against the full grid.
fn table(h: &Halving, j: &Judged) -> String {
    let steps_text = |c: Cost| {
        c.steps
            .map_or("–".into(), |s| super::markdown::thousands(s as u64))
    };
    let mut s = format!(
        "| search | configurations to {e} epochs | trial-epochs | training steps | best configuration | its {stat} `{m}` |\n|---|---:|---:|---:|---|---:|\n",
        e = j.epochs,
        stat = h.statistic.name(),
        m = h.metric.name(),
    );
    s.push_str(&format!(
        "| halving | {} | {} | {} | {} (configuration {}) | {} |\n",
        j.finishers,
        super::markdown::thousands(j.spent.epochs as u64),
        steps_text(j.spent),
        j.pick_settings,
        j.pick,
        short_float(j.sign * j.pick_score),
    ));
    s.push_str(&format!(
        "| full grid ({}) | {} | {} | {} | {} (configuration {}) | {}{} |\n\n",
        j.ref_name,
        j.n_configs,
        super::markdown::thousands(j.full.epochs as u64),
        steps_text(j.full),
        j.top_settings,
        j.top,
        short_float(j.sign * j.top_score),
        ci_text(j.sign, j.best_ci),
    ));
    s
}

/// The bullet on whether the pick is as good as the best.
fn pick_line(h: &Halving, level: f64, j: &Judged) -> String {
    match (j.pick == j.top, j.close) {
        (true, _) => {
            "- Best found: halving picked the full grid's best configuration itself (difference 0).\n"
                .to_string()
        }
        (false, Some(c)) => format!(
            "- Best found: {stat}(pick) − {stat}(best) = {} with {lvl} interval{} over {n} paired seeds: the pick is {}.\n",
            short_float(j.diff_point),
            ci_text(j.sign, j.diff_ci),
            if c {
                "not significantly worse (the interval reaches 0)"
            } else {
                "significantly worse (the interval excludes 0)"
            },
            stat = h.statistic.name(),
            lvl = super::percent(level),
            n = j.paired,
        ),
        (false, None) => "- Best found: no bootstrap interval (too few finished seeds).\n".into(),
    }
}

/// The evidence bullets under the table.
fn findings(h: &Halving, level: f64, max_share: f64, j: &Judged) -> String {
    let mut s = pick_line(h, level, j);
    if let Some((lo, hi)) = j.best_ci {
        let x = j.sign * j.pick_score;
        let (a, b) = if j.sign < 0.0 { (-hi, -lo) } else { (lo, hi) };
        s.push_str(&format!(
            "- The issue's form of the same question: the pick's {} {} lies {} the best's {} interval [{}, {}] (percentile bootstrap of its {} over seeds).\n",
            h.statistic.name(),
            short_float(x),
            if a <= x && x <= b { "inside" } else { "outside" },
            super::percent(level),
            short_float(a),
            short_float(b),
            h.statistic.name(),
        ));
    }
    s.push_str(&format!(
        "- Compute: halving spent {} of the full grid's {} {}: {} ({} the budget of {}).\n",
        super::markdown::thousands(j.num as u64),
        super::markdown::thousands(j.den as u64),
        j.unit,
        super::percent(j.share),
        if j.within_budget { "within" } else { "over" },
        super::percent(max_share),
    ));
    s.push_str(&format!(
        "- The pick's {} final records {} the reference's of the same ids{}.\n",
        j.pick_trials,
        if j.differing == 0 {
            "equal bit for bit"
        } else {
            "differ from"
        },
        if j.differing == 0 {
            String::new()
        } else {
            format!(
                " ({} differ: the reference was trained by other code)",
                j.differing
            )
        },
    ));
    if j.extra > 0 {
        s.push_str(&format!(
            "- The reference's {} other trials (not in this study's plan) are ignored.\n",
            j.extra
        ));
    }
    s
}

#[cfg(test)]
mod tests;
