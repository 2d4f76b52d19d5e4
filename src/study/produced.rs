//! Which metrics a study produces at all: a claim or a halving ranking by
//! a metric no trial of the study will ever have can never be judged, so
//! it is refused when the study loads.

use super::spec::{Activation, Config, Task, ValSplit};
use crate::metric::Metric;

/// What the study's configurations make measurable.
#[derive(Debug, Clone, Copy, Default)]
pub struct Produced {
    /// Some configuration is a regression (accuracies undefined there).
    pub regression: bool,
    /// Some configuration has a validation split.
    pub validation: bool,
    /// Some configuration has a hidden layer (`dead_fraction`).
    pub hidden: bool,
    /// Some configuration has tanh or sigmoid hidden units
    /// (`saturated_fraction`).
    pub saturating: bool,
}

impl Produced {
    /// What `configs` produce.
    pub fn of(configs: &[Config]) -> Produced {
        let mut p = Produced::default();
        for c in configs {
            p.regression |= c.data.task() == Task::Regression;
            p.validation |= c.data.val != ValSplit::None;
            p.hidden |= c.model.depth > 0;
            p.saturating |= c.model.depth > 0
                && matches!(c.model.activation, Activation::Tanh | Activation::Sigmoid);
        }
        p
    }

    /// Why no trial of the study will have `metric`, if none will
    /// (accuracies on regression are refused where the metric is read,
    /// with their own message).
    pub fn missing(self, metric: Metric) -> Option<String> {
        if metric.needs_validation() && !self.validation {
            return Some(format!(
                "{metric} is read from the validation split, and every configuration has \
                 data.val = \"none\""
            ));
        }
        Some(
            match metric {
                Metric::EpochsToTarget if self.regression => {
                    "epochs_to_target counts epochs until the train accuracy reaches \
                 [report] target_acc; a regression task has no accuracy"
                }
                Metric::DeadFraction if !self.hidden => {
                    "dead_fraction counts hidden units, and every configuration has depth = 0"
                }
                Metric::SaturatedFraction if !self.saturating => {
                    "saturated_fraction counts saturated tanh and sigmoid hidden units, and no \
                 configuration has one"
                }
                _ => return None,
            }
            .to_string(),
        )
    }
}
