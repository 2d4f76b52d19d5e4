//! Where the variance comes from: for every configuration of a
//! `[replicates]` study, each final metric's variance split into one
//! component per varying source of randomness (and their interactions, and
//! the residual), with bootstrap intervals (`stats::variance`). The report
//! adds them to `summary.csv`, the report's table and figure, and claims
//! with `statistic = "share"`.

use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{Row, finished};
use crate::metric::Metric;
use crate::stats::{self, TermInterval, VarianceComponents};
use crate::study::{Source, Statistic, Study, fnv1a};

/// The metrics decomposed: the ones a reader compares configurations by.
pub const METRICS: [Metric; 3] = [Metric::TrainLoss, Metric::ValLoss, Metric::ValAcc];

/// Bootstrap resamples per configuration and metric.
const REPS: usize = 1000;

/// One term's estimate and intervals.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// The term's name: a source (`init`), an interaction (`init_x_order`)
    /// or `residual` (the top interaction, confounded with noise).
    pub name: String,
    /// The variance component, truncated at 0.
    pub variance: f64,
    /// Its share of the summed components (NaN when all are 0).
    pub share: f64,
    /// Whether the estimate was negative and set to 0.
    pub truncated: bool,
    /// Bootstrap interval of `variance` at `[report] level`.
    pub variance_interval: (f64, f64),
    /// Bootstrap interval of `share`, when some resample had variance.
    pub share_interval: Option<(f64, f64)>,
}

/// The decomposition of one metric for one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// The configuration's index.
    pub config: usize,
    /// The metric.
    pub metric: Metric,
    /// Main effects in source order, then interactions, then the residual.
    pub components: Vec<Component>,
}

impl Decomposition {
    /// The component called `name`.
    pub fn get(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }
}

/// The names of the terms a design with these varying sources has, in
/// `stats::variance_components` order.
pub fn term_names(sources: &[Source]) -> Vec<String> {
    let levels = vec![2; sources.len()];
    let y = vec![0.0; 1 << sources.len()];
    let vc = stats::variance_components(&levels, &y).expect("a valid design");
    names(&vc, sources)
}

fn names(vc: &VarianceComponents, sources: &[Source]) -> Vec<String> {
    vc.terms
        .iter()
        .map(|t| {
            if t.residual {
                "residual".to_string()
            } else {
                t.factors
                    .iter()
                    .map(|&f| sources[f].name())
                    .collect::<Vec<_>>()
                    .join("_x_")
            }
        })
        .collect()
}

/// The metric shown: the first share claim's, else validation loss where
/// the study has it, else train loss.
pub fn shown_metric(exp: &Study, report: &super::Report) -> Option<Metric> {
    let claimed = exp
        .report
        .claims
        .iter()
        .filter(|c| c.statistic == Statistic::Share)
        .map(|c| c.metric);
    claimed
        .chain([Metric::ValLoss, Metric::TrainLoss])
        .find(|m| report.variance.iter().any(|d| d.metric == *m))
}

/// Every configuration's decomposition of every metric in [`METRICS`],
/// for a `[replicates]` study with at least one varying source. A
/// configuration is decomposed only when all its replicates are stored and
/// finished with the metric defined: the design must stay balanced.
pub fn decompose(exp: &Study, rows: &[Row]) -> Vec<Decomposition> {
    let varying = exp.replication.varying();
    if varying.is_empty() {
        return Vec::new();
    }
    let sources: Vec<Source> = varying.iter().map(|(s, _)| *s).collect();
    let levels: Vec<usize> = varying.iter().map(|(_, n)| *n).collect();
    let cells = exp.replication.len();
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let config = rows[start].0.config_index;
        let end = start
            + rows[start..]
                .iter()
                .take_while(|(t, _)| t.config_index == config)
                .count();
        let group = &rows[start..end];
        start = end;
        if group.len() != cells || group.iter().enumerate().any(|(i, (t, _))| t.replicate != i) {
            continue;
        }
        for m in METRICS {
            let y: Option<Vec<f64>> = group
                .iter()
                .map(|(_, r)| finished(r).and_then(|_| r.value(m, exp.report.target_acc)))
                .collect();
            let Some(y) = y else { continue };
            let Ok(vc) = stats::variance_components(&levels, &y) else {
                continue;
            };
            let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(
                format!("variance\u{1f}{config}\u{1f}{}", m.name()).as_bytes(),
            ));
            let intervals: Vec<TermInterval> =
                stats::bootstrap_components(&levels, &y, REPS, exp.report.level, &mut rng)
                    .expect("the point estimate succeeded on the same design");
            let components = vc
                .terms
                .iter()
                .zip(names(&vc, &sources))
                .zip(intervals)
                .map(|((t, name), iv)| Component {
                    name,
                    variance: t.variance,
                    share: t.share,
                    truncated: t.truncated,
                    variance_interval: iv.variance,
                    share_interval: iv.share,
                })
                .collect();
            out.push(Decomposition {
                config,
                metric: m,
                components,
            });
        }
    }
    out
}

/// `var_<term>_<metric>` (with `_lo`, `_hi`) and `share_<term>_<metric>`
/// (likewise) for every term and metric, one value per row of `summary`
/// (matched by its `config` column), null where not decomposed.
pub fn columns(
    exp: &Study,
    summary: &DataFrame,
    parts: &[Decomposition],
) -> PolarsResult<Vec<Column>> {
    let sources: Vec<Source> = exp.replication.varying().iter().map(|(s, _)| *s).collect();
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let configs: Vec<Option<u64>> = summary.column("config")?.u64()?.iter().collect();
    let mut cols = Vec::new();
    for m in METRICS {
        for name in term_names(&sources) {
            let at = |get: &dyn Fn(&Component) -> Option<f64>| -> Vec<Option<f64>> {
                configs
                    .iter()
                    .map(|c| {
                        let d = parts
                            .iter()
                            .find(|d| Some(d.config as u64) == *c && d.metric == m)?;
                        get(d.get(&name)?).filter(|v| v.is_finite())
                    })
                    .collect()
            };
            let base = format!("{name}_{}", m.name());
            cols.push(Column::new(
                format!("var_{base}").into(),
                at(&|c| Some(c.variance)),
            ));
            cols.push(Column::new(
                format!("var_{base}_lo").into(),
                at(&|c| Some(c.variance_interval.0)),
            ));
            cols.push(Column::new(
                format!("var_{base}_hi").into(),
                at(&|c| Some(c.variance_interval.1)),
            ));
            cols.push(Column::new(
                format!("share_{base}").into(),
                at(&|c| Some(c.share)),
            ));
            cols.push(Column::new(
                format!("share_{base}_lo").into(),
                at(&|c| c.share_interval.map(|i| i.0)),
            ));
            cols.push(Column::new(
                format!("share_{base}_hi").into(),
                at(&|c| c.share_interval.map(|i| i.1)),
            ));
        }
    }
    Ok(cols)
}
