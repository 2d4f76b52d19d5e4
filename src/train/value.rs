//! A trial record's value of a metric: how each [`Metric`] is read from a
//! [`TrialRecord`], stated once for the tables, claims, figures and
//! halving. It lives with the record (not with the metric names), so the
//! metric module imports nothing and the layers run one way.

use super::{Metrics, Status, TrialRecord};
use crate::metric::Metric;

impl TrialRecord {
    /// The final metrics of a trial that finished; `None` for one that
    /// diverged or failed (or holds no metrics). The one definition of
    /// "finished" for every table, figure, statistic and rung: such trials
    /// are counted, never averaged.
    pub fn finished(&self) -> Option<&Metrics> {
        self.metrics.as_ref().filter(|_| self.status == Status::Ok)
    }

    /// A finished trial's value of `metric`; `None` when the trial has no
    /// final metrics or the metric is undefined for it (accuracies of a
    /// regression). `epochs_to_target` is the first evaluated epoch whose
    /// train accuracy reaches `target`; a trial that never does counts as
    /// the epoch budget + 1 (censored at the budget).
    pub fn value(&self, metric: Metric, target: f64) -> Option<f64> {
        let r = self;
        let m = r.metrics.as_ref()?;
        match metric {
            Metric::EpochsToTarget => {
                m.train_acc?;
                let reached = r.curve.iter().find(|p| {
                    p.eval
                        .and_then(|e| e.train_acc)
                        .is_some_and(|a| a >= target)
                });
                Some(reached.map_or(r.curve.len() as f64 + 1.0, |p| p.epoch as f64))
            }
            Metric::TrainLoss => Some(m.train_loss),
            Metric::ValLoss => m.val_loss,
            Metric::TrainAcc => m.train_acc,
            Metric::ValAcc => m.val_acc,
            Metric::Gap => m.val_loss.map(|v| v - m.train_loss),
            Metric::DeadFraction => m.dead_fraction,
            Metric::WeightNorm => Some(m.weight_norm),
            Metric::L2Term => Some(m.l2_term),
            Metric::BestValLoss => best_val(r).map(|(_, loss)| loss),
            Metric::BestEpoch => best_val(r).map(|(epoch, _)| epoch as f64),
            Metric::InitialLoss => r.initial.map(|i| i.train_loss),
            Metric::UpdateRatio => r.telemetry.as_ref()?.final_update_ratio(),
            Metric::SaturatedFraction => r.telemetry.as_ref()?.final_saturated(),
            Metric::WeightSparsity => r.telemetry.as_ref()?.weight_sparsity,
        }
    }
}

/// The evaluation with the lowest validation loss, as (epoch, loss): the
/// first on ties, NaN losses never chosen; `None` without a validation
/// split.
fn best_val(r: &TrialRecord) -> Option<(usize, f64)> {
    r.curve
        .iter()
        .filter_map(|p| Some((p.epoch, p.eval?.val_loss?)))
        .filter(|(_, l)| !l.is_nan())
        .fold(None, |best: Option<(usize, f64)>, (e, l)| match best {
            Some((_, b)) if b <= l => best,
            _ => Some((e, l)),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{CurvePoint, Metrics};

    /// The best validation evaluation, worked by hand on a curve whose val
    /// loss dips and recovers: 0.9, 0.5, 0.7, 0.5 at epochs 10…40 gives
    /// 0.5 at epoch 20 (the first of the tie), and a NaN is never best.
    /// Catches `<` for `<=` (the later tie), the final value in place of
    /// the best, and NaN winning a comparison.
    #[test]
    fn best_val_loss_is_the_first_lowest_evaluation() {
        let eval = |v: f64| Metrics {
            train_loss: 0.1,
            val_loss: Some(v),
            train_acc: Some(0.5),
            val_acc: Some(0.5),
            l2_term: 0.0,
            weight_norm: 1.0,
            dead_fraction: None,
        };
        let mut r: TrialRecord = serde_json::from_str(
            r#"{"format":4,"id":"x","index":0,"seed":0,"status":"ok","params":{"weights":1,"biases":1,"total":2,"hidden_neurons":0},"metrics":null,"curve":[],"wall_time_s":0.0}"#,
        )
        .unwrap();
        r.metrics = Some(eval(0.5));
        r.curve = [(10, f64::NAN), (20, 0.5), (30, 0.7), (40, 0.5)]
            .iter()
            .flat_map(|&(e, v)| {
                (e - 9..=e).map(move |k| CurvePoint {
                    epoch: k,
                    batch_loss: 1.0,
                    eval: (k == e).then(|| eval(v)),
                })
            })
            .collect();
        assert_eq!(r.value(Metric::BestValLoss, 0.9), Some(0.5));
        assert_eq!(r.value(Metric::BestEpoch, 0.9), Some(20.0));
        r.curve[19].eval = Some(eval(0.9));
        assert_eq!(r.value(Metric::BestEpoch, 0.9), Some(40.0));
    }
}
