//! The ensemble of a configuration's seeds (CS231n Part 3, "model
//! ensembles"): the mean over its finished seeds of their validation
//! predictions — class probabilities, or regression outputs — scored like
//! one network. Pure functions of the stored predictions
//! (`predictions.rs`) and the validation targets.
//!
//! - `ensemble_val_loss`: cross-entropy of the mean probabilities against
//!   the labels, −ln max(p̄_y, 1e-12) averaged over the examples (the floor
//!   keeps a confidently wrong ensemble finite; a member's own loss never
//!   needs it, since it is computed from logits); regression: the mean
//!   squared error of the mean output (no factor ½, as the data loss).
//! - `ensemble_val_acc`: the share of examples whose mean probabilities'
//!   largest entry is their class, the first largest on ties (the repo's
//!   argmax).
//!
//! Means and losses are summed in f64, in seed order. A configuration has
//! an ensemble when at least two seeds finished, every finished seed has
//! predictions, and all of them were made on the same validation split
//! (a `[replicates] data` study draws a data set per seed: no ensemble).

use std::collections::HashMap;

use crate::data::{Datasets, Targets};
use crate::plan::Trial;
use crate::predictions::Predictions;
use crate::train::TrialRecord;

/// Smallest probability the ensemble's cross-entropy takes the log of.
pub const FLOOR: f64 = 1e-12;

/// An ensemble's validation loss and accuracy (`None` for regression).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ensemble {
    /// Data loss of the mean prediction.
    pub loss: f64,
    /// Accuracy of the mean probabilities' argmax (classification).
    pub acc: Option<f64>,
}

/// The mean of `members`' predictions (examples × outputs, row-major), or
/// `None` when there are none or their shapes differ.
pub fn mean(members: &[&Predictions]) -> Option<Vec<f64>> {
    let first = members.first()?;
    if members
        .iter()
        .any(|m| m.outputs != first.outputs || m.values.len() != first.values.len())
    {
        return None;
    }
    let mut sum = vec![0.0f64; first.values.len()];
    for m in members {
        for (s, v) in sum.iter_mut().zip(&m.values) {
            *s += f64::from(*v);
        }
    }
    let n = members.len() as f64;
    Some(sum.into_iter().map(|s| s / n).collect())
}

/// Score a mean prediction (`outputs` per example) against `targets`;
/// `None` when their counts disagree.
pub fn score(mean: &[f64], outputs: usize, targets: &Targets) -> Option<Ensemble> {
    let n = mean.len() / outputs.max(1);
    match targets {
        Targets::Classes(y) if y.len() == n && n > 0 => {
            let (mut loss, mut hits) = (0.0f64, 0usize);
            for (row, &t) in mean.chunks_exact(outputs).zip(y) {
                let p = *row.get(t as usize)?;
                loss -= p.max(FLOOR).ln();
                let arg = row
                    .iter()
                    .enumerate()
                    .fold(
                        (0, f64::NEG_INFINITY),
                        |(a, m), (c, &v)| {
                            if v > m { (c, v) } else { (a, m) }
                        },
                    )
                    .0;
                hits += usize::from(arg == t as usize);
            }
            Some(Ensemble {
                loss: loss / n as f64,
                acc: Some(hits as f64 / n as f64),
            })
        }
        Targets::Values(y) if y.len() == n && outputs == 1 && n > 0 => {
            let sq: f64 = mean
                .iter()
                .zip(y)
                .map(|(m, t)| (m - f64::from(*t)).powi(2))
                .sum();
            Some(Ensemble {
                loss: sq / n as f64,
                acc: None,
            })
        }
        _ => None,
    }
}

/// The ensemble of `members` on targets `targets`.
pub fn ensemble(members: &[&Predictions], targets: &Targets) -> Option<Ensemble> {
    score(&mean(members)?, members.first()?.outputs, targets)
}

/// Each configuration's ensemble, by configuration index, for the stored
/// rows (plan order) and the plan's data sets.
pub fn of_configs(
    rows: &[(&Trial, &TrialRecord)],
    datasets: &Datasets,
) -> HashMap<usize, Ensemble> {
    let mut out = HashMap::new();
    for config in configs(rows) {
        if let Some((members, targets)) = members(rows, config, datasets)
            && let Some(e) = ensemble(&members, targets)
        {
            out.insert(config, e);
        }
    }
    out
}

/// The configurations of `rows`, in plan order.
pub fn configs(rows: &[(&Trial, &TrialRecord)]) -> Vec<usize> {
    let mut configs: Vec<usize> = rows.iter().map(|(t, _)| t.config_index).collect();
    configs.dedup();
    configs
}

/// The predictions of `config`'s finished seeds, in plan order, and the
/// validation targets they were made on; `None` when the configuration
/// has no ensemble (fewer than two finished seeds, a seed without
/// predictions, seeds on different data sets, no validation split).
pub fn members<'a>(
    rows: &[(&'a Trial, &'a TrialRecord)],
    config: usize,
    datasets: &'a Datasets,
) -> Option<(Vec<&'a Predictions>, &'a Targets)> {
    let finished: Vec<&(&Trial, &TrialRecord)> = rows
        .iter()
        .filter(|(t, r)| t.config_index == config && r.finished().is_some())
        .collect();
    let members: Vec<&Predictions> = finished
        .iter()
        .map(|(_, r)| r.val_predictions.as_ref())
        .collect::<Option<_>>()?;
    if members.len() < 2 {
        return None;
    }
    let first = &finished[0].0.data_key;
    if finished.iter().any(|(t, _)| t.data_key != *first) {
        return None;
    }
    let val = datasets.get(finished[0].0)?.val.as_ref()?;
    Some((members, &val.y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(outputs: usize, values: &[f32]) -> Predictions {
        Predictions {
            outputs,
            values: values.to_vec(),
        }
    }

    #[test]
    fn two_seeds_three_examples_worked_by_hand() {
        // Seed A and seed B, three examples, three classes; labels 0, 1, 2.
        let a = p(3, &[0.5, 0.25, 0.25, 0.5, 0.25, 0.25, 0.125, 0.125, 0.75]);
        let b = p(3, &[0.25, 0.5, 0.25, 0.25, 0.5, 0.25, 0.5, 0.25, 0.25]);
        // Means: [0.375, 0.375, 0.25], [0.375, 0.375, 0.25],
        // [0.3125, 0.1875, 0.5]. Argmax: 0 (tie 0/1 → first), 0, 2.
        let y = Targets::Classes(vec![0, 1, 2]);
        let e = ensemble(&[&a, &b], &y).unwrap();
        let want = -(0.375f64.ln() + 0.375f64.ln() + 0.5f64.ln()) / 3.0;
        assert!((e.loss - want).abs() < 1e-15, "{} vs {want}", e.loss);
        // Example 1 (label 1) ties 0.375/0.375 and goes to class 0: a miss.
        assert_eq!(e.acc, Some(2.0 / 3.0));
    }

    #[test]
    fn regression_is_the_squared_error_of_the_mean_output() {
        let a = p(1, &[1.0, 2.0]);
        let b = p(1, &[3.0, -2.0]);
        // Means 2 and 0 against targets 1.5 and 1: (0.25 + 1) / 2.
        let e = ensemble(&[&a, &b], &Targets::Values(vec![1.5, 1.0])).unwrap();
        assert_eq!(
            e,
            Ensemble {
                loss: 0.625,
                acc: None
            }
        );
    }

    #[test]
    fn a_zero_probability_is_floored() {
        let a = p(2, &[1.0, 0.0]);
        let e = ensemble(&[&a, &a], &Targets::Classes(vec![1])).unwrap();
        assert_eq!(e.loss, -FLOOR.ln());
        assert_eq!(e.acc, Some(0.0));
    }

    #[test]
    fn identical_seeds_score_as_the_single_model() {
        let a = p(3, &[0.7, 0.2, 0.1, 0.05, 0.05, 0.9, 0.3, 0.3, 0.4]);
        let y = Targets::Classes(vec![0, 2, 1]);
        let one = ensemble(&[&a], &y).unwrap();
        for n in [2, 3, 7] {
            let many: Vec<&Predictions> = std::iter::repeat_n(&a, n).collect();
            assert_eq!(ensemble(&many, &y), Some(one), "{n} copies");
        }
    }

    #[test]
    fn mismatched_shapes_or_counts_have_no_ensemble() {
        let a = p(2, &[0.5, 0.5]);
        let b = p(1, &[0.5, 0.5]);
        assert_eq!(mean(&[&a, &b]), None);
        assert_eq!(ensemble(&[&a], &Targets::Classes(vec![0, 1])), None);
        assert_eq!(ensemble(&[], &Targets::Classes(vec![0])), None);
    }
}
