//! What a random or Sobol search found: configurations ranked by a
//! seed-aggregated statistic, the importance of each searched key, and
//! the border warning of the CS231n notes (a best value at the edge of
//! its range may mean the best lies outside it).
//!
//! Input: the study and its stored trials. Output: a [`SearchSummary`],
//! numbers only, which report.md's "Search" section, the two search
//! figures and `mlpsweep refine` read. `None` for a grid study, so
//! nothing here touches other reports.
//!
//! The statistic is the median over a configuration's finished seeds of
//! the final `val_loss` (else, without a validation split, `train_loss`),
//! or of the first claim's metric when the study has claims. Every
//! interval is a percentile bootstrap at `[report] level` with `[report]
//! bootstrap` resamples of the seeds within each configuration, from a
//! ChaCha8 generator seeded by the FNV-1a hash of a fixed name and the
//! metric, so the report is the same bytes every time.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::metric::Metric;
use crate::plan::{Plan, Trial};
use crate::stats;
use crate::study::{Arm, Dist, Setting, Study, describe, fnv1a};
use crate::train::TrialRecord;

/// Rows of the best-configurations table.
pub const TOP_K: usize = 10;
/// Most bins a numeric key's values are grouped into for its importance.
pub const MAX_BINS: usize = 5;
/// The share of a range, at each end, that counts as its border.
pub const BORDER: f64 = 0.1;

/// One `[space]` key.
#[derive(Debug, Clone)]
pub struct SearchKey {
    /// Canonical key (`train.lr`).
    pub key: String,
    /// Its distribution.
    pub dist: Dist,
}

impl SearchKey {
    /// The bare name (`lr`), for tables and figures.
    pub fn name(&self) -> &str {
        self.key.rsplit('.').next().unwrap_or(&self.key)
    }

    /// Whether the key is drawn on a log scale.
    pub fn is_log(&self) -> bool {
        matches!(self.dist, Dist::LogUniform(..) | Dist::IntLogUniform(..))
    }

    /// The range [a, b] of a numeric key; `None` for a choice.
    pub fn bounds(&self) -> Option<(f64, f64)> {
        match &self.dist {
            Dist::Uniform(a, b) | Dist::LogUniform(a, b) => Some((*a, *b)),
            Dist::IntUniform(a, b) | Dist::IntLogUniform(a, b) => Some((*a as f64, *b as f64)),
            Dist::Choice(_) => None,
        }
    }

    /// Where `v` lies in the key's range, 0 at the low end and 1 at the
    /// high end, measured in log space for log keys; `None` for a choice.
    pub fn position(&self, v: f64) -> Option<f64> {
        let (a, b) = self.bounds()?;
        Some(if self.is_log() {
            (v.ln() - a.ln()) / (b.ln() - a.ln())
        } else {
            (v - a) / (b - a)
        })
    }
}

/// One configuration's seeds and their summary.
#[derive(Debug, Clone)]
pub struct ConfigStat {
    /// Its configuration index in the plan.
    pub config: usize,
    /// Every swept key's setting, in axis order (canonical keys).
    pub swept: Vec<(String, Setting)>,
    /// The statistic's metric on each finished seed, in plan order.
    pub seeds: Vec<f64>,
    /// Median over the seeds.
    pub median: f64,
    /// First and third quartiles over the seeds (linear interpolation).
    pub quartiles: (f64, f64),
    /// In a halving study, the epochs its seeds were trained to (the
    /// highest rung budget any of them reached); `None` otherwise.
    pub epochs: Option<usize>,
}

impl ConfigStat {
    /// The setting of `key`.
    pub fn setting(&self, key: &str) -> Option<&Setting> {
        self.swept.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// A searched key's importance.
#[derive(Debug, Clone)]
pub struct Importance {
    /// Canonical key.
    pub key: String,
    /// Bins its values were grouped into.
    pub bins: usize,
    /// ε² of the configuration medians grouped by those bins
    /// ([`stats::main_effect_share`]); `None` when undefined.
    pub share: Option<f64>,
    /// Its bootstrap interval at `[report] level`.
    pub interval: Option<(f64, f64)>,
}

/// A best value at the border of its range.
#[derive(Debug, Clone, PartialEq)]
pub struct Border {
    /// Canonical key.
    pub key: String,
    /// The best configuration's value.
    pub value: Setting,
    /// At the low end (else the high end).
    pub low: bool,
    /// The key's range.
    pub bounds: (f64, f64),
    /// Measured in log space.
    pub log: bool,
}

/// What a search found (see the module docs).
#[derive(Debug, Clone)]
pub struct SearchSummary {
    /// The metric ranked by.
    pub metric: Metric,
    /// Whether it is the first claim's metric (else the default).
    pub from_claim: bool,
    /// The `[space]` keys, in file order.
    pub keys: Vec<SearchKey>,
    /// Configurations with a finished seed, in plan order.
    pub configs: Vec<ConfigStat>,
    /// Indices into `configs`, best first (ties by plan order).
    pub order: Vec<usize>,
    /// The first [`TOP_K`] of `order` with the bootstrap interval of
    /// their median.
    pub top: Vec<(usize, Option<(f64, f64)>)>,
    /// One per key, in `keys` order.
    pub importance: Vec<Importance>,
    /// The best configuration's numeric values in the outer [`BORDER`]
    /// of their range.
    pub borders: Vec<Border>,
    /// `[report] level`.
    pub level: f64,
    /// `[report] bootstrap`.
    pub reps: usize,
    /// With `[search] blocks`: what each block and the grid found.
    pub arm_bests: Vec<ArmBest>,
}

/// The best configuration of one search arm (a block of the random
/// draws, or the grid) within one setting of the other swept axes.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmBest {
    /// The other axes' settings (`depth=2`), or `all`.
    pub slice: String,
    /// The block or the grid.
    pub arm: Arm,
    /// Index into `configs` of its best configuration.
    pub best: usize,
}

/// The search summary of a study's stored trials; `None` for a grid study
/// or when no trial has the metric.
pub fn summarise(exp: &Study, plan: &Plan, records: &[TrialRecord]) -> Option<SearchSummary> {
    let search = exp.search.as_ref()?;
    let rows = finished(plan, records);
    let (metric, from_claim) = ranked_by(exp, &rows);
    let configs = config_stats(exp, &rows, metric);
    if configs.is_empty() {
        return None;
    }
    let keys: Vec<SearchKey> = search
        .space
        .iter()
        .map(|(k, d)| SearchKey {
            key: k.clone(),
            dist: d.clone(),
        })
        .collect();
    let order = rank(&configs, metric);
    let (level, reps) = (exp.report.level, exp.report.bootstrap);
    let top = top_intervals(&configs, &order, metric, level, reps);
    let importance = importance(&keys, &configs, metric, level, reps);
    let borders = borders(&keys, &configs[order[0]]);
    let arm_of = |config: usize| search.arm(*exp.coords(config).last()?);
    let arm_bests = arm_bests(&configs, &order, &keys, arm_of);
    Some(SearchSummary {
        metric,
        from_claim,
        keys,
        configs,
        order,
        top,
        importance,
        borders,
        level,
        reps,
        arm_bests,
    })
}

/// The plan's trials that have a finished record, in plan order.
fn finished<'a>(plan: &'a Plan, records: &'a [TrialRecord]) -> Vec<(&'a Trial, &'a TrialRecord)> {
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    plan.trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .filter(|(_, r)| r.finished().is_some())
        .collect()
}

/// The metric to rank by, and whether it is the first claim's: else
/// `val_loss` when any trial has one, else `train_loss`.
fn ranked_by(exp: &Study, rows: &[(&Trial, &TrialRecord)]) -> (Metric, bool) {
    let target = exp.report.target_acc;
    match exp.report.claims.first() {
        Some(c) => (c.metric, true),
        None if rows
            .iter()
            .any(|(_, r)| r.value(Metric::ValLoss, target).is_some()) =>
        {
            (Metric::ValLoss, false)
        }
        None => (Metric::TrainLoss, false),
    }
}

/// Each configuration with a finite `metric` on some seed, with its seeds'
/// median and quartiles, in plan order.
fn config_stats(exp: &Study, rows: &[(&Trial, &TrialRecord)], metric: Metric) -> Vec<ConfigStat> {
    let target = exp.report.target_acc;
    // A halving study's trials stop at different rungs: say which.
    let budget = |t: &Trial, r: &TrialRecord| {
        exp.halving
            .as_ref()
            .map(|_| r.epochs_trained.unwrap_or(t.config.train.epochs))
    };
    let mut configs: Vec<ConfigStat> = Vec::new();
    for (t, r) in rows {
        let Some(v) = r.value(metric, target).filter(|v| v.is_finite()) else {
            continue;
        };
        match configs.last_mut() {
            Some(c) if c.config == t.config_index => {
                c.seeds.push(v);
                c.epochs = c.epochs.max(budget(t, r));
            }
            _ => configs.push(ConfigStat {
                config: t.config_index,
                swept: t.swept.clone(),
                seeds: vec![v],
                median: 0.0,
                quartiles: (0.0, 0.0),
                epochs: budget(t, r),
            }),
        }
    }
    for c in &mut configs {
        c.median = stats::median(&c.seeds).expect("a seed");
        c.quartiles = (
            stats::quantile(&c.seeds, 0.25).expect("a seed"),
            stats::quantile(&c.seeds, 0.75).expect("a seed"),
        );
    }
    configs
}

/// The settings of `c`'s swept axes other than the searched `keys`, or
/// `all`: the slice a search's arms are compared within.
pub(super) fn slice_of(keys: &[SearchKey], c: &ConfigStat) -> String {
    let rest: Vec<(String, Setting)> = c
        .swept
        .iter()
        .filter(|(k, _)| !keys.iter().any(|s| s.key == *k))
        .cloned()
        .collect();
    if rest.is_empty() {
        "all".to_string()
    } else {
        describe(&rest)
    }
}

/// Each arm's best configuration per setting of the other swept axes
/// (the first of `order` in that group), slices in plan order, then
/// blocks in order, then the grid. Empty without blocks.
pub fn arm_bests(
    configs: &[ConfigStat],
    order: &[usize],
    keys: &[SearchKey],
    arm_of: impl Fn(usize) -> Option<Arm>,
) -> Vec<ArmBest> {
    let slice = |c: &ConfigStat| slice_of(keys, c);
    let mut slices: Vec<String> = Vec::new();
    for c in configs {
        let s = slice(c);
        if !slices.contains(&s) {
            slices.push(s);
        }
    }
    let mut out: Vec<ArmBest> = Vec::new();
    for &i in order {
        let Some(arm) = arm_of(configs[i].config) else {
            continue;
        };
        let s = slice(&configs[i]);
        if !out.iter().any(|a| a.slice == s && a.arm == arm) {
            out.push(ArmBest {
                slice: s,
                arm,
                best: i,
            });
        }
    }
    let at = |s: &str| slices.iter().position(|x| x == s);
    out.sort_by_key(|a| (at(&a.slice), a.arm));
    out
}

/// Indices of `configs`, best median first: lowest for a loss, highest
/// for an accuracy; ties keep plan order. In a halving study the
/// configurations of the highest budget come first, ranked among
/// themselves, then those of the next budget: a median after 3 epochs is
/// not comparable with one after 27.
pub fn rank(configs: &[ConfigStat], metric: Metric) -> Vec<usize> {
    let mut order: Vec<usize> = (0..configs.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (configs[a].median, configs[b].median);
        let by_median = if metric.higher_is_better() {
            y.total_cmp(&x)
        } else {
            x.total_cmp(&y)
        };
        configs[b].epochs.cmp(&configs[a].epochs).then(by_median)
    });
    order
}

/// The highest budget any configuration reached and how many reached it,
/// in a halving study; `None` otherwise.
pub fn top_budget(configs: &[ConfigStat]) -> Option<(usize, usize)> {
    let top = configs.iter().filter_map(|c| c.epochs).max()?;
    let n = configs.iter().filter(|c| c.epochs == Some(top)).count();
    Some((top, n))
}

/// The first [`TOP_K`] of `order`, each with the percentile bootstrap
/// interval of its median (seeds resampled within the configuration).
fn top_intervals(
    configs: &[ConfigStat],
    order: &[usize],
    metric: Metric,
    level: f64,
    reps: usize,
) -> Vec<(usize, Option<(f64, f64)>)> {
    let top: Vec<usize> = order.iter().take(TOP_K).copied().collect();
    let groups: Vec<&[f64]> = top.iter().map(|&i| configs[i].seeds.as_slice()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(
        format!("search-best\u{1f}{}", metric.name()).as_bytes(),
    ));
    let intervals = stats::stratified_bootstrap(&groups, stats::median, reps, level, &mut rng);
    top.into_iter().zip(intervals).collect()
}

/// Each configuration's bin of `key`: its choice's position for a choice,
/// else [`stats::quantile_bins`] of the values with at most [`MAX_BINS`].
pub fn bins(key: &SearchKey, configs: &[ConfigStat]) -> Vec<usize> {
    let settings: Vec<Option<&Setting>> = configs.iter().map(|c| c.setting(&key.key)).collect();
    match &key.dist {
        Dist::Choice(values) => settings
            .iter()
            .map(|s| {
                values
                    .iter()
                    .position(|v| Some(&Setting::from_value(v)) == *s)
                    .unwrap_or(0)
            })
            .collect(),
        _ => {
            let xs: Vec<f64> = settings.iter().map(|s| numeric(*s)).collect();
            stats::quantile_bins(&xs, MAX_BINS)
        }
    }
}

/// A numeric setting as f64 (NaN otherwise).
pub fn numeric(s: Option<&Setting>) -> f64 {
    match s {
        Some(Setting::Int(i)) => *i as f64,
        Some(Setting::Float(f)) => *f,
        _ => f64::NAN,
    }
}

/// Each key's ε² over the configuration medians, with an interval from
/// resampling every configuration's seeds, recomputing the medians and
/// then every key's ε² (the bins stay those of the drawn values).
fn importance(
    keys: &[SearchKey],
    configs: &[ConfigStat],
    metric: Metric,
    level: f64,
    reps: usize,
) -> Vec<Importance> {
    let bins: Vec<Vec<usize>> = keys.iter().map(|k| bins(k, configs)).collect();
    let medians: Vec<f64> = configs.iter().map(|c| c.median).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(
        format!("search-importance\u{1f}{}", metric.name()).as_bytes(),
    ));
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(reps); keys.len()];
    let mut resampled = vec![0.0; configs.len()];
    let mut sample = Vec::new();
    for _ in 0..reps {
        for (c, m) in configs.iter().zip(&mut resampled) {
            sample.resize(c.seeds.len(), 0.0);
            stats::resample_into(&mut rng, &c.seeds, &mut sample);
            *m = stats::median(&sample).expect("a seed");
        }
        for (b, d) in bins.iter().zip(&mut draws) {
            if let Some(s) = stats::main_effect_share(&resampled, b) {
                d.push(s);
            }
        }
    }
    keys.iter()
        .zip(&bins)
        .zip(&draws)
        .map(|((k, b), d)| {
            let share = stats::main_effect_share(&medians, b);
            let mut distinct = b.clone();
            distinct.sort_unstable();
            distinct.dedup();
            Importance {
                key: k.key.clone(),
                bins: distinct.len(),
                share,
                interval: share.and_then(|_| stats::percentile_interval(d, level)),
            }
        })
        .collect()
}

/// The numeric keys whose value in `best` lies in the outer [`BORDER`] of
/// their range (in log space for log keys).
pub fn borders(keys: &[SearchKey], best: &ConfigStat) -> Vec<Border> {
    keys.iter()
        .filter_map(|k| {
            let value = best.setting(&k.key)?.clone();
            let p = k.position(numeric(Some(&value)))?;
            let low = p <= BORDER;
            (low || p >= 1.0 - BORDER).then(|| Border {
                key: k.key.clone(),
                value,
                low,
                bounds: k.bounds().expect("numeric"),
                log: k.is_log(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// A synthetic configuration: its swept settings and seed values.
#[cfg(test)]
pub(crate) type SyntheticConfig = (Vec<(String, Setting)>, Vec<f64>);

/// A summary built from configurations directly, for tests of the
/// figures and tables: `keys` and, per configuration, its settings and
/// seed values; metric val_loss, 95%, 200 resamples.
#[cfg(test)]
pub(crate) fn synthetic(keys: Vec<SearchKey>, configs: Vec<SyntheticConfig>) -> SearchSummary {
    let configs: Vec<ConfigStat> = configs
        .into_iter()
        .enumerate()
        .map(|(i, (swept, seeds))| ConfigStat {
            config: i,
            swept,
            median: stats::median(&seeds).unwrap(),
            quartiles: (
                stats::quantile(&seeds, 0.25).unwrap(),
                stats::quantile(&seeds, 0.75).unwrap(),
            ),
            seeds,
            epochs: None,
        })
        .collect();
    let metric = Metric::ValLoss;
    let order = rank(&configs, metric);
    let (level, reps) = (0.95, 200);
    SearchSummary {
        metric,
        from_claim: false,
        top: top_intervals(&configs, &order, metric, level, reps),
        importance: importance(&keys, &configs, metric, level, reps),
        borders: borders(&keys, &configs[order[0]]),
        keys,
        configs,
        order,
        level,
        reps,
        arm_bests: Vec::new(),
    }
}
