//! Successive halving (Jamieson & Talwalkar 2016, synchronous), ranking
//! configurations by a statistic over their seeds, never by one run.
//!
//! Input: the `[search.halving]` settings, `train.epochs`, and for each
//! (configuration, rung) the metric of each of its seeds at that rung's
//! budget, as far as results exist. Output: the rungs done so far (who went
//! in, each one's statistic, who was kept) and the rung to train next.
//!
//! Pure functions only: the scheduler (`schedule/halving.rs`) trains and
//! stores, this file decides. The rung budgets are r_k = min_epochs·η^k,
//! the last one capped at `train.epochs`; at each rung the configurations
//! are ranked by the statistic (ties by configuration index, lower first)
//! and the best ⌈n_k/η⌉ go on. A seed that diverged or failed counts as the
//! worst possible value, so a configuration that loses a seed cannot win by
//! the seeds it has left. Promotions depend only on these numbers, so the
//! schedule is the same whatever `--jobs` is and however often a run was
//! interrupted.

use std::collections::HashMap;

use crate::plan::{Plan, Trial};
use crate::study::Study;
use crate::train::TrialRecord;

// The settings types live with the study schema (`study/halving.rs`), so
// the schema never imports this algorithm.
pub use crate::study::{Halving, Reference};

/// The rung budgets: min_epochs·η^k while below `epochs`, then `epochs`.
pub fn budgets(min_epochs: usize, eta: usize, epochs: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut r = min_epochs.max(1);
    while r < epochs {
        out.push(r);
        r = r.saturating_mul(eta.max(2));
    }
    out.push(epochs);
    out
}

/// How many of `n` configurations a rung keeps: ⌈n/η⌉.
pub fn keep_count(n: usize, eta: usize) -> usize {
    n.div_ceil(eta)
}

/// The statistic of one configuration's seeds; `None` entries (a seed that
/// diverged, failed or has no value of the metric) count as the worst
/// value. Lower is better after this: accuracies are negated.
pub fn score(h: &Halving, seeds: &[Option<f64>]) -> f64 {
    let sign = if h.metric.higher_is_better() {
        -1.0
    } else {
        1.0
    };
    let xs: Vec<f64> = seeds
        .iter()
        .map(|v| v.map_or(f64::INFINITY, |x| sign * x))
        .collect();
    // NaN arises only from infinities (inf − inf), where the true value is
    // the worst one.
    h.statistic
        .of(&xs)
        .filter(|s| !s.is_nan())
        .unwrap_or(f64::INFINITY)
}

/// The configurations of `scored` (config index, score; lower better) that
/// go on: the best ⌈n/η⌉, ties by configuration index; returned in index
/// order.
pub fn promote(scored: &[(usize, f64)], eta: usize) -> Vec<usize> {
    let mut order = scored.to_vec();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let mut kept: Vec<usize> = order
        .iter()
        .take(keep_count(scored.len(), eta))
        .map(|(c, _)| *c)
        .collect();
    kept.sort_unstable();
    kept
}

/// One finished rung.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    /// Epochs every configuration in it was trained to.
    pub budget: usize,
    /// (configuration, score) of each configuration that went in, in index
    /// order; the score is the statistic, negated for accuracies.
    pub scored: Vec<(usize, f64)>,
    /// The configurations it kept (index order); the last rung keeps its
    /// best ⌈n/η⌉ too: they are the study's winners.
    pub kept: Vec<usize>,
}

impl Rung {
    /// The best statistic in the metric's own sign.
    pub fn best(&self, h: &Halving) -> Option<f64> {
        let best = self.scored.iter().map(|(_, s)| *s).reduce(f64::min)?;
        Some(if h.metric.higher_is_better() {
            -best
        } else {
            best
        })
    }
}

/// Where a halving study stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The rungs whose every trial has a result, in order.
    pub done: Vec<Rung>,
    /// The rung to train next: (its index, budget, configurations), or
    /// `None` when the last rung is done.
    pub next: Option<(usize, usize, Vec<usize>)>,
}

/// Walk the rungs of `n_configs` configurations as far as results go.
/// `seeds_at(config, budget)` gives the metric of each of the
/// configuration's seeds at `budget` epochs (`None` for a seed that
/// diverged or failed by then), or `None` when some seed has no result at
/// that budget yet.
pub fn walk(
    h: &Halving,
    epochs: usize,
    n_configs: usize,
    mut seeds_at: impl FnMut(usize, usize) -> Option<Vec<Option<f64>>>,
) -> Progress {
    let mut configs: Vec<usize> = (0..n_configs).collect();
    let mut done = Vec::new();
    for (k, budget) in budgets(h.min_epochs, h.eta, epochs).into_iter().enumerate() {
        let mut scored = Vec::with_capacity(configs.len());
        for &c in &configs {
            match seeds_at(c, budget) {
                Some(seeds) => scored.push((c, score(h, &seeds))),
                None => {
                    return Progress {
                        done,
                        next: Some((k, budget, configs)),
                    };
                }
            }
        }
        let kept = promote(&scored, h.eta);
        configs = kept.clone();
        done.push(Rung {
            budget,
            scored,
            kept,
        });
    }
    Progress { done, next: None }
}

// From stored records to the walk.

/// A trial's metric at `budget` epochs in `history`: `Some(Some(v))` from
/// its `ok` record of that budget, `Some(None)` when it diverged or failed
/// (it stops there, and counts as the worst), `None` when not trained that
/// far yet.
pub fn result_at(
    records: &[&TrialRecord],
    h: &Halving,
    epochs: usize,
    budget: usize,
    target: f64,
) -> Option<Option<f64>> {
    if let Some(r) = records
        .iter()
        .find(|r| r.finished().is_some() && r.epochs_trained.unwrap_or(epochs) == budget)
    {
        return Some(r.value(h.metric, target));
    }
    records
        .iter()
        .any(|r| r.finished().is_none())
        .then_some(None)
}

/// Where a halving study stands, from its stored records (every line of
/// `trials.jsonl`, earlier rungs' included); `None` for another study.
pub fn rungs(exp: &Study, plan: &Plan, history: &[TrialRecord]) -> Option<Progress> {
    let h = exp.halving.as_ref()?;
    let epochs = plan.trials.first()?.config.train.epochs;
    let mut by_id: HashMap<&str, Vec<&TrialRecord>> = HashMap::new();
    for r in history {
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    let mut by_config: Vec<Vec<&Trial>> = vec![Vec::new(); plan.n_configs];
    for t in &plan.trials {
        by_config[t.config_index].push(t);
    }
    let target = exp.report.target_acc;
    let seeds_at = |c: usize, budget: usize| -> Option<Vec<Option<f64>>> {
        by_config[c]
            .iter()
            .map(|t| {
                let records = by_id.get(t.id.as_str()).map_or(&[][..], Vec::as_slice);
                result_at(records, h, epochs, budget, target)
            })
            .collect()
    };
    // `[search] repeats`: each repeat walks its own rungs over its own
    // configurations (its promotions its own), and the walks are merged.
    let groups = repeat_groups(exp, plan.n_configs);
    if groups.len() == 1 {
        return Some(walk(h, epochs, plan.n_configs, seeds_at));
    }
    let walks: Vec<Progress> = groups
        .iter()
        .map(|g| {
            let local = walk(h, epochs, g.len(), |i, budget| seeds_at(g[i], budget));
            globalise(local, g)
        })
        .collect();
    Some(merge_walks(walks))
}

/// The configurations of each repeat of a search with `repeats` (in
/// index order), or all in one group.
fn repeat_groups(exp: &Study, n_configs: usize) -> Vec<Vec<usize>> {
    let repeat = |c: usize| {
        let search = exp.search.as_ref()?;
        search.repeat(*exp.coords(c).last()?)
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for c in 0..n_configs {
        let r = repeat(c).unwrap_or(0);
        if groups.len() <= r {
            groups.resize(r + 1, Vec::new());
        }
        groups[r].push(c);
    }
    groups.retain(|g| !g.is_empty());
    groups
}

/// A walk over `group`'s configurations (local indices) in the study's
/// configuration indices.
fn globalise(p: Progress, group: &[usize]) -> Progress {
    let map = |cs: Vec<usize>| cs.into_iter().map(|c| group[c]).collect::<Vec<_>>();
    Progress {
        done: p
            .done
            .into_iter()
            .map(|r| Rung {
                budget: r.budget,
                scored: r.scored.into_iter().map(|(c, s)| (group[c], s)).collect(),
                kept: map(r.kept),
            })
            .collect(),
        next: p.next.map(|(k, b, cs)| (k, b, map(cs))),
    }
}

/// The repeats' walks as one: the rungs every repeat has done (each
/// rung's configurations and kept ones pooled, index order), and next the
/// rung of the repeats furthest behind, their configurations pooled.
fn merge_walks(walks: Vec<Progress>) -> Progress {
    let depth = walks.iter().map(|w| w.done.len()).min().unwrap_or(0);
    let done = (0..depth)
        .map(|k| {
            let mut scored: Vec<(usize, f64)> = walks
                .iter()
                .flat_map(|w| w.done[k].scored.clone())
                .collect();
            scored.sort_by_key(|(c, _)| *c);
            let mut kept: Vec<usize> = walks.iter().flat_map(|w| w.done[k].kept.clone()).collect();
            kept.sort_unstable();
            Rung {
                budget: walks[0].done[k].budget,
                scored,
                kept,
            }
        })
        .collect();
    let behind: Vec<&(usize, usize, Vec<usize>)> = walks
        .iter()
        .filter(|w| w.done.len() == depth)
        .filter_map(|w| w.next.as_ref())
        .collect();
    let next = behind.first().map(|(k, b, _)| {
        let mut configs: Vec<usize> = behind.iter().flat_map(|n| n.2.clone()).collect();
        configs.sort_unstable();
        (*k, *b, configs)
    });
    Progress { done, next }
}

/// The trials of the configurations `configs` (sorted): each id once, in
/// plan order. A rung trains exactly these.
pub fn rung_trials<'a>(plan: &'a Plan, configs: &[usize]) -> Vec<&'a Trial> {
    // A point drawn twice shares its ids: the rung trains it once, even
    // when only its later configuration is in.
    let mut seen = std::collections::HashSet::new();
    plan.trials
        .iter()
        .filter(|t| configs.binary_search(&t.config_index).is_ok())
        .filter(|t| seen.insert(t.id.as_str()))
        .collect()
}

/// Of `trials`, those with no result at `budget` in `history` (the rung's
/// trials still to train).
pub fn without_result<'a>(
    exp: &Study,
    history: &[TrialRecord],
    trials: &[&'a Trial],
    budget: usize,
) -> Vec<&'a Trial> {
    let Some(h) = exp.halving.as_ref() else {
        return trials.to_vec();
    };
    let Some(epochs) = trials.first().map(|t| t.config.train.epochs) else {
        return Vec::new();
    };
    let mut by_id: HashMap<&str, Vec<&TrialRecord>> = HashMap::new();
    for r in history {
        by_id.entry(r.id.as_str()).or_default().push(r);
    }
    trials
        .iter()
        .copied()
        .filter(|t| {
            let records = by_id.get(t.id.as_str()).map_or(&[][..], Vec::as_slice);
            result_at(records, h, epochs, budget, exp.report.target_acc).is_none()
        })
        .collect()
}

/// One line on where a halving study stands by `history` (`None` for
/// another study), as `plan` and `merge` print it: the rungs done, and the
/// next rung with how many of its trials have their result.
pub fn standing(exp: &Study, plan: &Plan, history: &[TrialRecord]) -> Option<String> {
    let h = exp.halving.as_ref()?;
    let progress = rungs(exp, plan, history)?;
    let epochs = plan.trials.first()?.config.train.epochs;
    let all = budgets(h.min_epochs, h.eta, epochs).len();
    Some(match progress.next {
        None => format!("halving: all {all} rungs done"),
        Some((k, budget, configs)) => {
            let trials = rung_trials(plan, &configs);
            let todo = without_result(exp, history, &trials, budget).len();
            format!(
                "halving: {k} of {all} rungs done; rung {k} ({budget} epochs, {} configurations, {} of {} trials done) is next",
                configs.len(),
                trials.len() - todo,
                trials.len()
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Metric;
    use crate::stats::Statistic;

    fn h(metric: Metric, statistic: Statistic) -> Halving {
        Halving {
            metric,
            statistic,
            min_epochs: 10,
            eta: 3,
            reference: None,
        }
    }

    #[test]
    fn budgets_grow_by_eta_and_cap_the_last_at_epochs() {
        // 10·3^k: 10, 30, 90, then 270 capped at 100.
        assert_eq!(budgets(10, 3, 100), vec![10, 30, 90, 100]);
        // 90 = 10·3², reached exactly: no extra rung.
        assert_eq!(budgets(10, 3, 90), vec![10, 30, 90]);
        assert_eq!(budgets(1, 2, 5), vec![1, 2, 4, 5]);
        assert_eq!(budgets(4, 2, 5), vec![4, 5]);
    }

    #[test]
    fn keep_is_the_ceiling_of_n_over_eta() {
        assert_eq!(
            [1, 2, 3, 4, 9, 10].map(|n| keep_count(n, 3)),
            [1, 1, 1, 2, 3, 4]
        );
    }

    #[test]
    fn the_statistic_is_over_seeds_and_a_lost_seed_is_worst() {
        let med = h(Metric::ValLoss, Statistic::Median);
        // np.median([3, 1, 2]) = 2; np.mean = 2; trim_mean([1,2,3,10], .25) = 2.5.
        assert_eq!(score(&med, &[Some(3.0), Some(1.0), Some(2.0)]), 2.0);
        let mean = h(Metric::ValLoss, Statistic::Mean);
        assert_eq!(score(&mean, &[Some(3.0), Some(1.0), Some(5.0)]), 3.0);
        let iqm = h(Metric::ValLoss, Statistic::Iqm);
        assert_eq!(
            score(&iqm, &[Some(10.0), Some(1.0), Some(3.0), Some(2.0)]),
            2.5
        );
        // A diverged seed is +inf for a loss: the median of [1, 2, inf] is 2,
        // of [1, inf, inf] inf (not NaN), the mean inf.
        assert_eq!(score(&med, &[Some(1.0), None, Some(2.0)]), 2.0);
        assert_eq!(score(&med, &[Some(1.0), None, None]), f64::INFINITY);
        assert_eq!(score(&mean, &[Some(1.0), None]), f64::INFINITY);
        // Accuracies: higher is better, so the score is negated and a lost
        // seed is worst (−inf accuracy).
        let acc = h(Metric::ValAcc, Statistic::Median);
        assert_eq!(score(&acc, &[Some(0.9), Some(0.7), Some(0.8)]), -0.8);
        assert_eq!(score(&acc, &[Some(0.9), None, None]), f64::INFINITY);
    }

    #[test]
    fn promotion_keeps_the_best_with_ties_to_the_lower_index() {
        // Scores: config 4 best, then 1 and 2 tie at 0.5: keep ⌈5/2⌉ = 3.
        let scored = [(0, 0.9), (1, 0.5), (2, 0.5), (3, 0.7), (4, 0.1)];
        assert_eq!(promote(&scored, 2), vec![1, 2, 4]);
        // η = 3 keeps 2: 4 and then 1 (the tie goes to the lower index).
        assert_eq!(promote(&scored, 3), vec![1, 4]);
        let tied = [(5, 1.0), (2, 1.0), (7, 1.0)];
        assert_eq!(promote(&tied, 3), vec![2]);
    }

    #[test]
    fn walk_follows_the_results_rung_by_rung() {
        // 9 configurations, η = 3, budgets 10, 30, 90, 100. At every budget
        // config c's seeds are (c + budget/1000, 2c + ...) for losses, so
        // low indices win... except config 8, best at 10 epochs only.
        let hv = h(Metric::ValLoss, Statistic::Median);
        let value = |c: usize, b: usize| -> f64 {
            if c == 8 && b == 10 {
                -1.0
            } else {
                c as f64 + b as f64 / 1000.0
            }
        };
        let full = walk(&hv, 100, 9, |c, b| {
            Some(vec![Some(value(c, b)), Some(value(c, b) + 1.0)])
        });
        assert_eq!(full.next, None);
        let kept: Vec<Vec<usize>> = full.done.iter().map(|r| r.kept.clone()).collect();
        // Rung 0 keeps 3 of 9: 8 (best), 0, 1. Rung 1 keeps 1 of 3: 0.
        assert_eq!(kept, vec![vec![0, 1, 8], vec![0], vec![0], vec![0]]);
        let inputs: Vec<usize> = full.done.iter().map(|r| r.scored.len()).collect();
        assert_eq!(inputs, vec![9, 3, 1, 1]);
        // Median of (c + b/1000, c + 1 + b/1000) is c + 0.5 + b/1000.
        assert_eq!(full.done[0].best(&hv), Some(-0.5));
        assert_eq!(full.done[3].best(&hv), Some(0.5 + 0.1));
        // Results only up to rung 1 for config 8: the next rung is rung 1
        // with the three kept.
        let partial = walk(&hv, 100, 9, |c, b| {
            (b == 10 || c != 8).then(|| vec![Some(value(c, b)), Some(value(c, b))])
        });
        assert_eq!(partial.done.len(), 1);
        assert_eq!(partial.next, Some((1, 30, vec![0, 1, 8])));
    }
}
