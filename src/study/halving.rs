//! `[search.halving]`: successive halving over the study's configurations
//! (a `[grid]`, a random or Sobol search, or both). Only the settings are
//! read here, into the types below; the rung logic is the `halving` module, a layer above.

use toml::Value;

use super::error::{KeyError, key_err};
use super::fields::Fields;
use super::produced::Produced;
use super::sections::HALVING;
use crate::metric::Metric;
use crate::stats::Statistic;

/// The statistics a configuration's seeds may be summarised by for
/// ranking (`[search.halving] statistic`), the default first.
pub const SEED_STATISTICS: [(&str, Statistic); 3] =
    Statistic::named([Statistic::Median, Statistic::Mean, Statistic::Iqm]);

/// `[search.halving]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Halving {
    /// The metric configurations are ranked by.
    pub metric: Metric,
    /// How the seeds of a configuration are summarised.
    pub statistic: Statistic,
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
    let Some(t) = HALVING.table(search.get("halving"))? else {
        return Ok(None);
    };
    let Some(epochs) = epochs else {
        return Err(key_err(
            "search.halving",
            "halving budgets are epochs, so train.epochs must be one value, not swept",
        ));
    };
    let metric = metric(&t, produced)?;
    let statistic = t.choice("statistic", &SEED_STATISTICS)?;
    let eta = t.int("eta")?;
    // A missing min_epochs is refused first, with its row's message; a
    // given one is read against train.epochs below.
    if !t.given("min_epochs") {
        t.get("min_epochs")?;
    }
    if epochs < 2 {
        return Err(key_err(
            "search.halving.min_epochs",
            format!("train.epochs = {epochs} leaves no room for a rung below it"),
        ));
    }
    let hint = format!(" (rung 0 must train fewer epochs than train.epochs = {epochs})");
    let min_epochs = t
        .int_to("min_epochs", epochs - 1, &hint)?
        .expect("min_epochs is required");
    let reference = reference(&t)?;
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
fn reference(t: &Fields) -> Result<Option<Reference>, KeyError> {
    let path = t.text("reference")?;
    t.check_applies()?;
    let max_share = t.float("max_share")?;
    Ok(path.map(|path| Reference { path, max_share }))
}

/// `metric`: one the study produces (val_loss, the default, needs a
/// validation split; accuracies and epochs_to_target a classification).
fn metric(t: &Fields, produced: Produced) -> Result<Metric, KeyError> {
    let name = t.text("metric")?.expect("metric has a default");
    let metric = Metric::parse(&name).expect("the reader returns metric names");
    if produced.regression && metric.is_accuracy() {
        return Err(key_err(
            t.key("metric"),
            format!(
                "{} is undefined for a regression task (it needs an accuracy)",
                metric.name()
            ),
        ));
    }
    match (produced.missing(metric), t.given("metric")) {
        (None, _) => Ok(metric),
        (Some(why), true) => Err(key_err(
            t.key("metric"),
            format!("{why}: halving could rank no configuration by it"),
        )),
        (Some(why), false) => Err(key_err(
            "search.halving",
            format!(
                "no metric given, and the default {why}: halving could rank no \
                 configuration; set metric = \"train_loss\""
            ),
        )),
    }
}
