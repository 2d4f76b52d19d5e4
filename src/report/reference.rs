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

use std::collections::HashSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::claims::Outcome;
use crate::data::Datasets;
use crate::halving::{Halving, Progress, score};
use crate::plan::{Plan, Trial};
use crate::reference::Found;
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
                .filter(|r| r.status == Status::Ok)
                .and_then(|r| r.value(h.metric, target))
        })
        .collect()
}

type ReferenceRecords = std::collections::HashMap<String, TrialRecord>;

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
        for k in 0..n {
            let i = rng.random_range(0..n);
            sa[k] = a[i];
            sb[k] = b[i];
        }
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
    let pct = |x: f64| format!("{}%", (x * 1000.0).round() / 10.0);
    let name = format!(
        "halving picks a configuration within the full grid's best ({} interval) for at most {} of its training steps",
        pct(level),
        pct(r.max_share)
    );
    let better = if h.metric.higher_is_better() {
        "higher"
    } else {
        "lower"
    };
    let mut detail = format!(
        "\n### {name} — {{outcome}}\n\nExpected: the configuration halving picks (the last rung's best by the {stat} over seeds of `{m}`, {better} is better) is not significantly worse than the full grid's best configuration by the same rule — the {lvl} percentile bootstrap interval of {stat}(pick) − {stat}(best), resampling the shared seeds in pairs ({reps} resamples), reaches 0 — and halving spends at most {share} of the full grid's training steps. Reference: `{path}` (relative to this study's results folder).\n\n",
        stat = h.statistic.name(),
        m = h.metric.name(),
        lvl = pct(level),
        reps = exp.report.bootstrap,
        share = pct(r.max_share),
        path = r.path,
    );
    let inconclusive = |mut detail: String, why: String| {
        detail.push_str(&format!("Inconclusive: {why}\n"));
        Some(HalvingVerdict {
            name: name.clone(),
            outcome: Outcome::Inconclusive,
            detail: detail.replace("{outcome}", "inconclusive"),
        })
    };
    let (ref_path, ref_name, by_id, extra) = match found {
        Found::Missing(why) => return inconclusive(detail, format!("reference not found: {why}.")),
        Found::Records {
            path,
            name,
            by_id,
            extra,
        } => (path, name, by_id, *extra),
    };
    let (Some(last), None) = (rungs.done.last(), &rungs.next) else {
        return inconclusive(
            detail,
            "halving has not finished its last rung; rerun the study to go on.".into(),
        );
    };
    let distinct: HashSet<&str> = plan.trials.iter().map(|t| t.id.as_str()).collect();
    let stored = distinct
        .iter()
        .filter(|id| by_id.contains_key(**id))
        .count();
    if stored < distinct.len() {
        return inconclusive(
            detail,
            format!(
                "the reference `{}` (study {ref_name:?}) has stored {stored} of this study's {} trials; run it to the end first (`just studies` runs experiments/*.toml in alphabetical order).",
                ref_path.display(),
                distinct.len()
            ),
        );
    }
    let target = exp.report.target_acc;
    let sign = if h.metric.higher_is_better() {
        -1.0
    } else {
        1.0
    };
    let (pick, pick_score) = best(&last.scored)?;
    let scores: Vec<(usize, f64)> = (0..plan.n_configs)
        .map(|c| (c, score(h, &seeds_of(h, plan, c, by_id, target))))
        .collect();
    let (top, top_score) = best(&scores)?;
    let (pa, pb) = (
        seeds_of(h, plan, pick, by_id, target),
        seeds_of(h, plan, top, by_id, target),
    );
    let seed = crate::study::fnv1a(format!("halving reference\u{1f}{pick}\u{1f}{top}").as_bytes());
    let (diffs, bests) = paired_bootstrap(h, &pa, &pb, exp.report.bootstrap, seed);
    let diff_ci = if pick == top {
        Some((0.0, 0.0))
    } else {
        crate::stats::percentile_interval(&diffs, level)
    };
    let best_ci = crate::stats::percentile_interval(&bests, level);
    // The pick's own final records against the reference's: the same ids,
    // so a promoted trial must match a plain run bit for bit.
    let own: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
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
    let spent = cost(plan, datasets, |id| own.get(id).copied());
    let full = cost(plan, datasets, |id| by_id.get(id));
    let (unit, num, den) = match (spent.steps, full.steps) {
        (Some(a), Some(b)) => ("training steps", a, b),
        _ => (
            "trial-epochs (steps per epoch unknown without the data)",
            spent.epochs,
            full.epochs,
        ),
    };
    let share = num as f64 / den.max(1) as f64;
    let within_budget = share <= r.max_share;
    let close = diff_ci.map(|(lo, _)| lo <= 0.0);
    let settings = |c: usize| {
        plan.trials
            .iter()
            .find(|t| t.config_index == c)
            .map(|t| describe(&t.swept))
            .unwrap_or_default()
    };
    let steps_text = |c: Cost| {
        c.steps
            .map_or("–".into(), |s| super::markdown::thousands(s as u64))
    };
    let finishers = last.scored.len();
    detail.push_str(&format!(
        "| search | configurations to {e} epochs | trial-epochs | training steps | best configuration | its {stat} `{m}` |\n|---|---:|---:|---:|---|---:|\n",
        e = plan.trials.first().map_or(0, |t| t.config.train.epochs),
        stat = h.statistic.name(),
        m = h.metric.name(),
    ));
    detail.push_str(&format!(
        "| halving | {finishers} | {} | {} | {} (configuration {pick}) | {} |\n",
        super::markdown::thousands(spent.epochs as u64),
        steps_text(spent),
        settings(pick),
        short_float(sign * pick_score),
    ));
    let ci_text = |ci: Option<(f64, f64)>| {
        ci.map_or(String::new(), |(lo, hi)| {
            let (a, b) = if sign < 0.0 { (-hi, -lo) } else { (lo, hi) };
            format!(" [{}, {}]", short_float(a), short_float(b))
        })
    };
    detail.push_str(&format!(
        "| full grid ({ref_name}) | {} | {} | {} | {} (configuration {top}) | {}{} |\n\n",
        plan.n_configs,
        super::markdown::thousands(full.epochs as u64),
        steps_text(full),
        settings(top),
        short_float(sign * top_score),
        ci_text(best_ci),
    ));
    let diff_point = sign * (score(h, &pa) - score(h, &pb));
    let pick_line = match (pick == top, close) {
        (true, _) => {
            "- Best found: halving picked the full grid's best configuration itself (difference 0).\n"
                .to_string()
        }
        (false, Some(c)) => format!(
            "- Best found: {stat}(pick) − {stat}(best) = {} with {lvl} interval{} over {n} paired seeds: the pick is {}.\n",
            short_float(diff_point),
            ci_text(diff_ci),
            if c {
                "not significantly worse (the interval reaches 0)"
            } else {
                "significantly worse (the interval excludes 0)"
            },
            stat = h.statistic.name(),
            lvl = pct(level),
            n = pa.len(),
        ),
        (false, None) => "- Best found: no bootstrap interval (too few finished seeds).\n".into(),
    };
    detail.push_str(&pick_line);
    if let Some((lo, hi)) = best_ci {
        let x = sign * pick_score;
        let (a, b) = if sign < 0.0 { (-hi, -lo) } else { (lo, hi) };
        detail.push_str(&format!(
            "- The issue's form of the same question: the pick's {} {} lies {} the best's {} interval [{}, {}] (percentile bootstrap of its {} over seeds).\n",
            h.statistic.name(),
            short_float(x),
            if a <= x && x <= b { "inside" } else { "outside" },
            pct(level),
            short_float(a),
            short_float(b),
            h.statistic.name(),
        ));
    }
    detail.push_str(&format!(
        "- Compute: halving spent {} of the full grid's {} {unit}: {} ({} the budget of {}).\n",
        super::markdown::thousands(num as u64),
        super::markdown::thousands(den as u64),
        pct(share),
        if within_budget { "within" } else { "over" },
        pct(r.max_share),
    ));
    detail.push_str(&format!(
        "- The pick's {} final records {} the reference's of the same ids{}.\n",
        pick_trials.len(),
        if differing == 0 {
            "equal bit for bit"
        } else {
            "differ from"
        },
        if differing == 0 {
            String::new()
        } else {
            format!(" ({differing} differ: the reference was trained by other code)")
        },
    ));
    if extra > 0 {
        detail.push_str(&format!(
            "- The reference's {extra} other trials (not in this study's plan) are ignored.\n"
        ));
    }
    let outcome = match (close, within_budget) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::halving::SeedStatistic;
    use crate::metric::Metric;

    fn h(metric: Metric) -> Halving {
        Halving {
            metric,
            statistic: SeedStatistic::Median,
            min_epochs: 1,
            eta: 3,
            reference: None,
        }
    }

    /// Seeds are resampled in pairs: a pick that is every seed's best
    /// value plus 1 differs by exactly 1 in every resample (the median
    /// shifts with its sample), so its interval is [1, 1] and excludes 0.
    /// Catches unpaired resampling (the difference would vary) and the
    /// difference taken the wrong way round.
    #[test]
    fn paired_resamples_keep_a_constant_shift_exact() {
        let best = [0.1, 0.5, 0.2, 0.9, 0.4, 0.3].map(Some);
        let pick = best.map(|x| x.map(|v| v + 1.0));
        let (diffs, bests) = paired_bootstrap(&h(Metric::ValLoss), &pick, &best, 500, 7);
        assert_eq!(diffs.len(), 500);
        assert!(diffs.iter().all(|d| (d - 1.0).abs() < 1e-12), "{diffs:?}");
        let (lo, hi) = crate::stats::percentile_interval(&bests, 0.95).unwrap();
        // The best's own resampled medians stay within its seeds' range.
        assert!((0.1..=0.9).contains(&lo) && (0.1..=0.9).contains(&hi));
    }

    /// A best whose score is exactly 0 on every seed keeps every
    /// replicate: the difference is finite, although a ratio would not be.
    /// Catches the finiteness test made on something other than the
    /// difference (x / y drops every replicate here).
    #[test]
    fn a_zero_best_keeps_every_replicate() {
        let best = [0.0; 4].map(Some);
        let pick = [1.0; 4].map(Some);
        let (diffs, bests) = paired_bootstrap(&h(Metric::ValLoss), &pick, &best, 100, 3);
        assert_eq!((diffs.len(), bests.len()), (100, 100));
        assert!(diffs.iter().all(|&d| d == 1.0));
    }

    /// For an accuracy, higher is better: a pick 0.1 above the best on
    /// every seed is better, a difference of −0.1 in the lower-is-better
    /// scores, so it is not significantly worse. Catches accuracies
    /// judged as losses.
    #[test]
    fn a_higher_accuracy_is_not_worse() {
        let best = [0.7, 0.8, 0.75, 0.9].map(Some);
        let pick = best.map(|x| x.map(|v| v + 0.1));
        let (diffs, _) = paired_bootstrap(&h(Metric::ValAcc), &pick, &best, 200, 1);
        assert!(diffs.iter().all(|d| (d + 0.1).abs() < 1e-12), "{diffs:?}");
    }

    /// The best configuration is the lowest score, ties by the lower index.
    #[test]
    fn the_best_is_the_lowest_score_then_the_lowest_index() {
        assert_eq!(best(&[(0, 0.3), (1, 0.2), (2, 0.2)]), Some((1, 0.2)));
        assert_eq!(best(&[(4, f64::INFINITY), (5, 1.0)]), Some((5, 1.0)));
        assert_eq!(best(&[]), None);
    }
}
