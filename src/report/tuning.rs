//! Tuning curves of a random or Sobol search: the expected best score of
//! n of its configurations, n = 1..N, with both estimators of
//! `stats::tuning` and a two-stage bootstrap band, per arm. Numbers only:
//! `tuning.csv`, report.md's "Tuning curves" section and
//! `tuning_<metric>.svg` render them.
//!
//! A configuration's score is the search's ranking statistic, the median
//! of the metric over its finished seeds (`search.rs`). The arms are the
//! random draws (every block pooled: the blocks are independent draws of
//! one distribution) and the comparison grid when `[search]` has `blocks`
//! and `grid`, else the search itself; each setting of the other swept
//! axes has its own. A halving study has none: its configurations stopped
//! at different budgets, so their scores are not draws of one quantity.
//!
//! The bands' stream is seeded by the FNV-1a hash of a fixed name, the
//! metric and the arm, as the search's other bootstraps are, so the same
//! records give the same bytes.

use polars::prelude::{Column, DataFrame};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::search::{ConfigStat, SearchSummary, slice_of};
use crate::metric::Metric;
use crate::plan::Plan;
use crate::stats;
use crate::study::{Arm, Study, fnv1a};

/// One n of an arm's curve.
#[derive(Debug, Clone, PartialEq)]
pub struct TuningPoint {
    /// Configurations drawn.
    pub n: usize,
    /// Unbiased (without replacement) expected best.
    pub expected_best: f64,
    /// With-replacement expected best (Dodge et al. 2019).
    pub with_replacement: f64,
    /// The bootstrap interval of `expected_best` at `[report] level`.
    pub band: Option<(f64, f64)>,
    /// Training epochs n configurations cost: n times the arm's mean of
    /// (finished seeds × epochs) per configuration.
    pub train_epochs: f64,
}

/// One arm's tuning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmCurve {
    /// `random`, `grid`, `sobol`, after the other axes' settings if any
    /// (`depth=2 random`).
    pub name: String,
    /// The other axes' settings it belongs to (`all` without other axes).
    pub slice: String,
    /// n = 1..N.
    pub points: Vec<TuningPoint>,
}

/// Every arm's tuning curve (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct TuningCurves {
    /// The metric the search ranks by.
    pub metric: Metric,
    /// Whether it is the first claim's metric (else the default).
    pub from_claim: bool,
    /// `[report] level`.
    pub level: f64,
    /// `[report] bootstrap`.
    pub reps: usize,
    /// Arms in plan order of their slices, random draws before the grid.
    pub arms: Vec<ArmCurve>,
}

/// The tuning curves of a search; `None` for a grid or halving study.
pub fn curves(exp: &Study, plan: &Plan, s: &SearchSummary) -> Option<TuningCurves> {
    let search = exp.search.as_ref()?;
    if exp.halving.is_some() || s.configs.iter().any(|c| c.epochs.is_some()) {
        return None;
    }
    let epochs = |config: usize| {
        plan.trials
            .iter()
            .find(|t| t.config_index == config)
            .map_or(0, |t| t.config.train.epochs)
    };
    let arm_name = |config: usize| match exp.coords(config).last().and_then(|&i| search.arm(i)) {
        Some(Arm::Grid) => "grid",
        Some(Arm::Block(_)) => "random",
        None => search.strategy.name(),
    };
    // (slice, arm name) → the arm's configurations, first seen first.
    let mut groups: Vec<(String, &str, Vec<&ConfigStat>)> = Vec::new();
    for c in &s.configs {
        let slice = slice_of(&s.keys, c);
        let arm = arm_name(c.config);
        match groups.iter_mut().find(|g| g.0 == slice && g.1 == arm) {
            Some(g) => g.2.push(c),
            None => groups.push((slice, arm, vec![c])),
        }
    }
    groups.sort_by_key(|g| (first_index(s, &g.0), g.1 == "grid"));
    let arms = groups
        .into_iter()
        .map(|(slice, arm, configs)| {
            let name = if slice == "all" {
                arm.to_string()
            } else {
                format!("{slice} {arm}")
            };
            let cost = configs
                .iter()
                .map(|c| (c.seeds.len() * epochs(c.config)) as f64)
                .sum::<f64>()
                / configs.len() as f64;
            let points = arm_points(&configs, s.metric, &name, cost, (s.level, s.reps));
            ArmCurve {
                name,
                slice,
                points,
            }
        })
        .collect();
    Some(TuningCurves {
        metric: s.metric,
        from_claim: s.from_claim,
        level: s.level,
        reps: s.reps,
        arms,
    })
}

/// Where a slice first appears among the configurations (plan order).
fn first_index(s: &SearchSummary, slice: &str) -> usize {
    s.configs
        .iter()
        .position(|c| slice_of(&s.keys, c) == slice)
        .unwrap_or(usize::MAX)
}

/// One arm's curve: both estimators over its configurations' medians and
/// the bootstrap band, from the arm's own seeded stream.
fn arm_points(
    configs: &[&ConfigStat],
    metric: Metric,
    name: &str,
    cost: f64,
    (level, reps): (f64, usize),
) -> Vec<TuningPoint> {
    let higher = metric.higher_is_better();
    let medians: Vec<f64> = configs.iter().map(|c| c.median).collect();
    let seeds: Vec<&[f64]> = configs.iter().map(|c| c.seeds.as_slice()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(
        format!("tuning-curve\u{1f}{}\u{1f}{name}", metric.name()).as_bytes(),
    ));
    let bands = stats::expected_best_bands(&seeds, stats::median, higher, reps, level, &mut rng);
    stats::expected_best(&medians, higher)
        .into_iter()
        .zip(stats::expected_best_with_replacement(&medians, higher))
        .zip(bands)
        .enumerate()
        .map(|(i, ((e, w), band))| TuningPoint {
            n: i + 1,
            expected_best: e,
            with_replacement: w,
            band,
            train_epochs: (i + 1) as f64 * cost,
        })
        .collect()
}

/// Where one of two arms is ahead: maximal runs of n (1-based, up to the
/// smaller arm's N) over which `a`'s expected best beats `b`'s (`a_ahead`
/// true), `b`'s beats `a`'s, or they tie; and the same for the runs over
/// which the bands do not overlap.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// (first n, last n, who leads: Some(true) a, Some(false) b, None tie)
    /// by the point estimates.
    pub by_estimate: Vec<(usize, usize, Option<bool>)>,
    /// The same, counting a lead only where the two bands are disjoint
    /// (None: they overlap).
    pub by_band: Vec<(usize, usize, Option<bool>)>,
}

/// Who is ahead at each budget between two arms' curves.
pub fn lead(a: &ArmCurve, b: &ArmCurve, higher_is_better: bool) -> Lead {
    let better = |x: f64, y: f64| if higher_is_better { x > y } else { x < y };
    let pairs: Vec<(&TuningPoint, &TuningPoint)> = a.points.iter().zip(&b.points).collect();
    let estimate = pairs.iter().map(|(p, q)| {
        if better(p.expected_best, q.expected_best) {
            Some(true)
        } else if better(q.expected_best, p.expected_best) {
            Some(false)
        } else {
            None
        }
    });
    // Disjoint bands: `a`'s below `b`'s leads for a loss, above for an
    // accuracy.
    let band = pairs.iter().map(|(p, q)| match (p.band, q.band) {
        (Some((_, ph)), Some((ql, _))) if ph < ql => Some(!higher_is_better),
        (Some((pl, _)), Some((_, qh))) if qh < pl => Some(higher_is_better),
        _ => None,
    });
    Lead {
        by_estimate: runs(estimate),
        by_band: runs(band),
    }
}

/// Maximal runs of equal values, as (first n, last n, value), n from 1.
fn runs(values: impl Iterator<Item = Option<bool>>) -> Vec<(usize, usize, Option<bool>)> {
    let mut out: Vec<(usize, usize, Option<bool>)> = Vec::new();
    for (i, v) in values.enumerate() {
        match out.last_mut() {
            Some(last) if last.2 == v => last.1 = i + 1,
            _ => out.push((i + 1, i + 1, v)),
        }
    }
    out
}

/// `tuning.csv`'s frame: one row per arm and n, columns `arm`, `n`,
/// `expected_best` (unbiased), `expected_best_with_replacement`, `lo`,
/// `hi` (the band of `expected_best`, empty where undefined) and
/// `train_epochs`.
pub fn frame(t: &TuningCurves) -> anyhow::Result<DataFrame> {
    let rows = || {
        t.arms
            .iter()
            .flat_map(|a| a.points.iter().map(move |p| (a, p)))
    };
    let height = rows().count();
    Ok(DataFrame::new(
        height,
        vec![
            Column::new(
                "arm".into(),
                rows().map(|(a, _)| a.name.clone()).collect::<Vec<_>>(),
            ),
            Column::new(
                "n".into(),
                rows().map(|(_, p)| p.n as u64).collect::<Vec<_>>(),
            ),
            Column::new(
                "expected_best".into(),
                rows().map(|(_, p)| p.expected_best).collect::<Vec<_>>(),
            ),
            Column::new(
                "expected_best_with_replacement".into(),
                rows().map(|(_, p)| p.with_replacement).collect::<Vec<_>>(),
            ),
            Column::new(
                "lo".into(),
                rows().map(|(_, p)| p.band.map(|b| b.0)).collect::<Vec<_>>(),
            ),
            Column::new(
                "hi".into(),
                rows().map(|(_, p)| p.band.map(|b| b.1)).collect::<Vec<_>>(),
            ),
            Column::new(
                "train_epochs".into(),
                rows().map(|(_, p)| p.train_epochs).collect::<Vec<_>>(),
            ),
        ],
    )?)
}

#[cfg(test)]
mod tests;
