//! `[search.halving]`: successive halving over the study's configurations
//! (a `[grid]`, a random or Sobol search, or both). Only the settings are
//! read here, into the types below; the rung logic is the `halving` module, a layer above.

use toml::Value;

use super::error::{KeyError, key_err};
use super::produced::Produced;
use super::values::{choice, number_in, show, type_name, uint};
use crate::metric::Metric;

/// How a configuration's seeds are summarised into one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStatistic {
    /// The median (NumPy's linear interpolation between order statistics).
    Median,
    /// The arithmetic mean.
    Mean,
    /// The interquartile mean (`scipy.stats.trim_mean(x, 0.25)`).
    Iqm,
}

impl SeedStatistic {
    /// Every statistic with its name in the study file.
    pub const ALL: [(&'static str, SeedStatistic); 3] = [
        ("median", SeedStatistic::Median),
        ("mean", SeedStatistic::Mean),
        ("iqm", SeedStatistic::Iqm),
    ];

    /// The name in the study file.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .expect("every statistic is listed")
    }

    /// The statistic of `xs`; `None` when empty (or undefined).
    pub(crate) fn apply(self, xs: &[f64]) -> Option<f64> {
        match self {
            SeedStatistic::Median => crate::stats::median(xs),
            SeedStatistic::Mean => (!xs.is_empty()).then(|| crate::stats::mean(xs)),
            SeedStatistic::Iqm => crate::stats::iqm(xs),
        }
    }
}

/// `[search.halving]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Halving {
    /// The metric configurations are ranked by.
    pub metric: Metric,
    /// How the seeds of a configuration are summarised.
    pub statistic: SeedStatistic,
    /// Budget of rung 0, in epochs (1 ≤ min_epochs < train.epochs).
    pub min_epochs: usize,
    /// Growth of the budget and shrink of the field per rung (≥ 2).
    pub eta: usize,
    /// The full grid's results folder to judge the pick and the compute
    /// against (`reference`, `max_share`); `None`: no verdict.
    pub reference: Option<Reference>,
}

/// `[search.halving] reference` and `max_share`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The full grid's results folder as written: relative to this study's
    /// results folder, or absolute.
    pub path: String,
    /// The largest share of the full grid's training steps halving may
    /// spend for the verdict to hold.
    pub max_share: f64,
}

/// The keys of `[search.halving]`.
const KEYS: &[&str] = &[
    "metric",
    "statistic",
    "min_epochs",
    "eta",
    "reference",
    "max_share",
];

/// Read `[search.halving]` (`None` without one). `epochs` is `train.epochs`
/// (the same for every configuration: halving refuses to sweep it).
pub fn parse(
    search: Option<&Value>,
    epochs: Option<usize>,
    produced: Produced,
) -> Result<Option<Halving>, KeyError> {
    let Some(Value::Table(search)) = search else {
        return Ok(None);
    };
    let Some(v) = search.get("halving") else {
        return Ok(None);
    };
    let Value::Table(t) = v else {
        return Err(key_err(
            "search.halving",
            format!("expected a table, got {}", type_name(v)),
        ));
    };
    for k in t.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(key_err(
                format!("search.halving.{k}"),
                format!("unknown key; [search.halving] has: {}", KEYS.join(", ")),
            ));
        }
    }
    let Some(epochs) = epochs else {
        return Err(key_err(
            "search.halving",
            "halving budgets are epochs, so train.epochs must be one value, not swept",
        ));
    };
    let metric = metric(t, produced)?;
    let statistic = match t.get("statistic") {
        None => SeedStatistic::Median,
        Some(v) => {
            choice(v, &SeedStatistic::ALL).map_err(|m| key_err("search.halving.statistic", m))?
        }
    };
    let eta = match t.get("eta") {
        None => 3,
        Some(v) => uint(v, 2, 1_000_000).map_err(|m| {
            key_err(
                "search.halving.eta",
                format!("{m} (each rung keeps the best 1/eta of the configurations)"),
            )
        })?,
    };
    let min_epochs = match t.get("min_epochs") {
        None => {
            return Err(key_err(
                "search.halving.min_epochs",
                "missing: halving needs min_epochs, the epochs of rung 0",
            ));
        }
        Some(v) => {
            if epochs < 2 {
                return Err(key_err(
                    "search.halving.min_epochs",
                    format!("train.epochs = {epochs} leaves no room for a rung below it"),
                ));
            }
            uint(v, 1, epochs - 1).map_err(|m| {
                key_err(
                    "search.halving.min_epochs",
                    format!("{m} (rung 0 must train fewer epochs than train.epochs = {epochs})"),
                )
            })?
        }
    };
    let reference = reference(t)?;
    Ok(Some(Halving {
        metric,
        statistic,
        min_epochs,
        eta,
        reference,
    }))
}

/// `reference` and `max_share`: the full grid's results folder halving is
/// judged against, and the share of its training steps halving may spend.
/// Only the text is read here; the folder is checked before a run
/// (by the `reference` module), and a report without it says so.
fn reference(t: &toml::Table) -> Result<Option<Reference>, KeyError> {
    let path = match t.get("reference") {
        None => None,
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(v) => {
            return Err(key_err(
                "search.halving.reference",
                format!(
                    "expected the path of the full grid's results folder (relative to this study's results folder), got {}",
                    show(v)
                ),
            ));
        }
    };
    let max_share = match t.get("max_share") {
        None => 0.4,
        Some(v) => {
            if path.is_none() {
                return Err(key_err(
                    "search.halving.max_share",
                    "a budget against the full grid needs search.halving.reference, the full grid's results folder",
                ));
            }
            number_in(
                v,
                |x| x > 0.0 && x <= 1.0,
                "a share of the full grid's training steps in (0, 1]",
            )
            .map_err(|m| key_err("search.halving.max_share", m))?
        }
    };
    Ok(path.map(|path| Reference { path, max_share }))
}

/// `metric`: one the study produces (val_loss, the default, needs a
/// validation split; accuracies and epochs_to_target a classification).
fn metric(t: &toml::Table, produced: Produced) -> Result<Metric, KeyError> {
    let metric = match t.get("metric") {
        None => Metric::ValLoss,
        Some(v) => {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            let m = v.as_str().and_then(Metric::parse).ok_or_else(|| {
                key_err(
                    "search.halving.metric",
                    format!(
                        "unknown metric {}; expected one of: {}",
                        show(v),
                        names.join(", ")
                    ),
                )
            })?;
            if produced.regression && m.is_accuracy() {
                return Err(key_err(
                    "search.halving.metric",
                    format!(
                        "{} is undefined for a regression task (it needs an accuracy)",
                        m.name()
                    ),
                ));
            }
            m
        }
    };
    match (produced.missing(metric), t.get("metric")) {
        (None, _) => Ok(metric),
        (Some(why), Some(_)) => Err(key_err(
            "search.halving.metric",
            format!("{why}: halving could rank no configuration by it"),
        )),
        (Some(why), None) => Err(key_err(
            "search.halving",
            format!(
                "no metric given, and the default {why}: halving could rank no \
                 configuration; set metric = \"train_loss\""
            ),
        )),
    }
}
