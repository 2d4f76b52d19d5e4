//! The per-trial metrics, named once.
//!
//! A metric is a final value of a trial (train loss, validation accuracy,
//! epochs to a target accuracy, …). Study files name metrics in claims,
//! `trials.csv` has one column per metric, `summary.csv` several per metric
//! (`train_loss_mean`, `train_loss_ci_lo`, …), and `summary.md`, the claims
//! and the figures read them back. They used to be strings: a typo, or a
//! column renamed in the writer but not the reader, showed only as a
//! missing cell. Here each metric is a variant, and its name, its summary
//! columns and whether higher is better are stated once, for writers and
//! readers alike; how it is read from a record is `TrialRecord::value`
//! (`train/value.rs`), so this module imports nothing of the crate.

use std::fmt;

use crate::stats::Statistic;

/// A final value of a trial that tables, claims and figures are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// Final train data loss (without the L2 term).
    TrainLoss,
    /// Final validation loss.
    ValLoss,
    /// Final train accuracy (classification only).
    TrainAcc,
    /// Final validation accuracy (classification only).
    ValAcc,
    /// Validation loss − train loss.
    Gap,
    /// Share of hidden units that output 0 on every training point.
    DeadFraction,
    /// Norm of the weights.
    WeightNorm,
    /// The L2 penalty term.
    L2Term,
    /// First evaluated epoch whose train accuracy reaches `[report] target_acc`.
    EpochsToTarget,
    /// The lowest validation loss of any evaluation (early stopping's
    /// pick, without stopping).
    BestValLoss,
    /// The epoch of that evaluation (the first, on ties).
    BestEpoch,
    /// Train data loss of the untrained network (before the first update).
    InitialLoss,
    /// Median over the weight layers of ‖ΔW‖_F/‖W‖_F of the last step
    /// before the final evaluation.
    UpdateRatio,
    /// Share of saturated hidden units at the final evaluation, averaged
    /// over hidden layers (tanh and sigmoid only).
    SaturatedFraction,
    /// Share of weights with |w| < 1e-3·max|w| of their layer, at the end.
    WeightSparsity,
}

impl Metric {
    /// Every metric, in table order (the columns of `trials.csv` and
    /// `summary.csv`).
    pub const ALL: [Metric; 15] = [
        Metric::TrainLoss,
        Metric::ValLoss,
        Metric::TrainAcc,
        Metric::ValAcc,
        Metric::Gap,
        Metric::DeadFraction,
        Metric::WeightNorm,
        Metric::L2Term,
        Metric::EpochsToTarget,
        Metric::BestValLoss,
        Metric::BestEpoch,
        Metric::InitialLoss,
        Metric::UpdateRatio,
        Metric::SaturatedFraction,
        Metric::WeightSparsity,
    ];

    /// The metric's name: as written in a study file, and its column in
    /// `trials.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::TrainLoss => "train_loss",
            Metric::ValLoss => "val_loss",
            Metric::TrainAcc => "train_acc",
            Metric::ValAcc => "val_acc",
            Metric::Gap => "gap",
            Metric::DeadFraction => "dead_fraction",
            Metric::WeightNorm => "weight_norm",
            Metric::L2Term => "l2_term",
            Metric::EpochsToTarget => "epochs_to_target",
            Metric::BestValLoss => "best_val_loss",
            Metric::BestEpoch => "best_epoch",
            Metric::InitialLoss => "initial_loss",
            Metric::UpdateRatio => "update_ratio",
            Metric::SaturatedFraction => "saturated_fraction",
            Metric::WeightSparsity => "weight_sparsity",
        }
    }

    /// The metric called `name`, if any.
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the metric is an accuracy: undefined for regression, shown
    /// in percent.
    pub fn is_accuracy(self) -> bool {
        matches!(self, Metric::TrainAcc | Metric::ValAcc)
    }

    /// Whether the metric is read from the validation split: a study with
    /// `data.val = "none"` everywhere never produces it.
    pub fn needs_validation(self) -> bool {
        matches!(
            self,
            Metric::ValLoss
                | Metric::ValAcc
                | Metric::Gap
                | Metric::BestValLoss
                | Metric::BestEpoch
        )
    }

    /// Whether the metric is a data loss (train, validation, initial):
    /// positive, and shown on a log axis when it spans more than a decade.
    pub fn is_loss(self) -> bool {
        matches!(
            self,
            Metric::TrainLoss | Metric::ValLoss | Metric::BestValLoss | Metric::InitialLoss
        )
    }

    /// Whether a higher value is better (accuracies); losses, norms and
    /// epochs are better low.
    pub fn higher_is_better(self) -> bool {
        self.is_accuracy()
    }

    /// The `summary.csv` column holding this metric's `aggregate`, such as
    /// `train_loss_mean`.
    pub fn column(self, aggregate: Aggregate) -> String {
        format!("{}_{}", self.name(), aggregate.suffix())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `summary.csv` column of a metric over the finished seeds of a
/// configuration, named by [`Metric::column`]: a statistic of their values
/// (the one [`Statistic`] enum, so the column is named by the statistic's
/// name), or an end of an interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// A statistic of the seeds' values: mean, std (ddof = 1), median,
    /// iqr (linear quantiles), min, max, iqm (`scipy.stats.trim_mean(x,
    /// 0.25)`).
    Of(Statistic),
    /// Lower end of the Student-t interval of the mean at `[report] level`.
    CiLo,
    /// Upper end of that interval.
    CiHi,
    /// Lower end of the IQM's stratified-bootstrap percentile interval at
    /// `[report] level`.
    IqmLo,
    /// Upper end of that interval.
    IqmHi,
}

// Shorthands for the statistic columns, so a column reads `Aggregate::Mean`.
#[allow(non_upper_case_globals)]
impl Aggregate {
    /// The mean column.
    pub const Mean: Aggregate = Aggregate::Of(Statistic::Mean);
    /// The standard deviation column.
    pub const Std: Aggregate = Aggregate::Of(Statistic::Std);
    /// The median column.
    pub const Median: Aggregate = Aggregate::Of(Statistic::Median);
    /// The interquartile range column.
    pub const Iqr: Aggregate = Aggregate::Of(Statistic::Iqr);
    /// The smallest value's column.
    pub const Min: Aggregate = Aggregate::Of(Statistic::Min);
    /// The largest value's column.
    pub const Max: Aggregate = Aggregate::Of(Statistic::Max);
    /// The interquartile mean column.
    pub const Iqm: Aggregate = Aggregate::Of(Statistic::Iqm);
}

impl Aggregate {
    /// Every aggregate.
    pub const ALL: [Aggregate; 11] = [
        Aggregate::Mean,
        Aggregate::Std,
        Aggregate::Median,
        Aggregate::Iqr,
        Aggregate::Min,
        Aggregate::Max,
        Aggregate::CiLo,
        Aggregate::CiHi,
        Aggregate::Iqm,
        Aggregate::IqmLo,
        Aggregate::IqmHi,
    ];

    /// The column suffix, after the metric's name and `_`.
    pub fn suffix(self) -> &'static str {
        match self {
            Aggregate::Of(s) => s.name(),
            Aggregate::CiLo => "ci_lo",
            Aggregate::CiHi => "ci_hi",
            Aggregate::IqmLo => "iqm_lo",
            Aggregate::IqmHi => "iqm_hi",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant's name parses back to it, the names are today's
    /// (study files and stored tables use them), and nothing else parses.
    /// Catches a renamed or duplicated name, and a variant left out of
    /// `ALL`.
    #[test]
    fn names_round_trip_and_are_todays() {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(
            names,
            [
                "train_loss",
                "val_loss",
                "train_acc",
                "val_acc",
                "gap",
                "dead_fraction",
                "weight_norm",
                "l2_term",
                "epochs_to_target",
                "best_val_loss",
                "best_epoch",
                "initial_loss",
                "update_ratio",
                "saturated_fraction",
                "weight_sparsity",
            ]
        );
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()), Some(m), "{m:?}");
            assert_eq!(m.to_string(), m.name());
        }
        // `ALL` lists every variant: the match is exhaustive, so a new
        // variant fails to compile here until it is listed.
        for m in Metric::ALL {
            match m {
                Metric::TrainLoss
                | Metric::ValLoss
                | Metric::TrainAcc
                | Metric::ValAcc
                | Metric::Gap
                | Metric::DeadFraction
                | Metric::WeightNorm
                | Metric::L2Term
                | Metric::EpochsToTarget
                | Metric::BestValLoss
                | Metric::BestEpoch
                | Metric::InitialLoss
                | Metric::UpdateRatio
                | Metric::SaturatedFraction
                | Metric::WeightSparsity => {}
            }
        }
        for bad in ["", "loss", "Train_loss", "train_loss ", "train_acc_mean"] {
            assert_eq!(Metric::parse(bad), None, "{bad:?}");
        }
    }

    /// Only the accuracies are accuracies and better high: `tune` keeps
    /// the highest mean for them and the lowest for everything else.
    #[test]
    fn accuracies_are_the_metrics_better_high() {
        for m in Metric::ALL {
            let acc = m.name().ends_with("_acc");
            assert_eq!(m.is_accuracy(), acc, "{m}");
            assert_eq!(m.higher_is_better(), acc, "{m}");
        }
    }

    /// Summary column names are `<metric>_<suffix>`, with today's suffixes.
    #[test]
    fn summary_columns_are_named_metric_underscore_suffix() {
        let got: Vec<String> = Aggregate::ALL
            .iter()
            .map(|a| Metric::TrainLoss.column(*a))
            .collect();
        assert_eq!(
            got,
            [
                "train_loss_mean",
                "train_loss_std",
                "train_loss_median",
                "train_loss_iqr",
                "train_loss_min",
                "train_loss_max",
                "train_loss_ci_lo",
                "train_loss_ci_hi",
                "train_loss_iqm",
                "train_loss_iqm_lo",
                "train_loss_iqm_hi",
            ]
        );
    }
}
