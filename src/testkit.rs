//! Unit tests' fixtures in one place (compiled for tests only): a study
//! from inline TOML, its plan, its first trial with the trial's data, and
//! a record with a given loss and status. Test code in any layer may use
//! them; production code never sees this module.

use std::path::Path;

use crate::data::Dataset;
use crate::model::ParamCount;
use crate::plan::{Plan, Trial};
use crate::study::{Study, from_str};
use crate::train::{Metrics, Status, TrialRecord};

/// The study of `src`, a study file (read as `s.toml`); `name = "t"` goes
/// first when its top level (the lines before the first table) names
/// none, since most fixtures do not care what they are called.
pub(crate) fn study(src: &str) -> Study {
    let named = src
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .any(|l| {
            l.trim_start()
                .strip_prefix("name")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
    let src = if named {
        src.to_string()
    } else {
        format!("name = \"t\"\n{src}")
    };
    from_str(&src, Path::new("s.toml"), &[]).unwrap()
}

/// The study of `src` and its plan.
pub(crate) fn plan(src: &str) -> (Study, Plan) {
    let exp = study(src);
    let plan = Plan::new(&exp).unwrap();
    (exp, plan)
}

/// The first trial of `src`'s plan and its data set.
pub(crate) fn first_trial(src: &str) -> (Trial, Dataset) {
    let trial = plan(src).1.trials.remove(0);
    let data = crate::data::load(&trial.config.data).unwrap();
    (trial, data)
}

/// A record of `trial` that ended with `status`: when `ok`, train loss
/// `train_loss`, validation loss 0.1 above it, accuracies 0.5 and 0.4;
/// otherwise diverged at epoch 3 with no metrics. Parameters 10 + 5.
pub(crate) fn record(trial: &Trial, train_loss: f64, status: Status) -> TrialRecord {
    let ok = status == Status::Ok;
    let params = ParamCount {
        weights: 10,
        biases: 5,
        total: 15,
        hidden_neurons: 2,
        norm: 0,
    };
    TrialRecord {
        status,
        diverged_epoch: (!ok).then_some(3),
        metrics: ok.then_some(Metrics {
            train_loss,
            val_loss: Some(train_loss + 0.1),
            train_acc: Some(0.5),
            val_acc: Some(0.4),
            l2_term: 0.0,
            weight_norm: 1.0,
            dead_fraction: Some(0.0),
        }),
        wall_time_s: 1.0,
        ..TrialRecord::new(trial, params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixture without a name is called "t"; one with a top-level name
    /// keeps it. Catches a name line added twice (a TOML error) or after
    /// a table (where it would be that table's key, refused).
    #[test]
    fn a_study_is_named_t_unless_it_names_itself() {
        assert_eq!(study("seeds = 2\n").name, "t");
        assert_eq!(study("name = \"own\"\nseeds = 2\n").name, "own");
        let (exp, plan) = plan("[grid]\nwidth = [2, 4]\n");
        assert_eq!((exp.name.as_str(), plan.trials.len()), ("t", 2));
    }

    /// The record's fields as its doc says, for an ok and a diverged trial
    /// (the message and everything else as `TrialRecord::new` leaves them).
    #[test]
    fn records_carry_the_given_loss_and_status() {
        let (_, plan) = plan("[grid]\nwidth = [2, 4]\n");
        let ok = record(&plan.trials[1], 0.25, Status::Ok);
        let m = ok.metrics.unwrap();
        assert_eq!((ok.id.as_str(), ok.index), (plan.trials[1].id.as_str(), 1));
        assert_eq!(
            (m.train_loss, m.val_loss, ok.diverged_epoch),
            (0.25, Some(0.35), None)
        );
        let bad = record(&plan.trials[0], 0.25, Status::Diverged);
        assert_eq!((bad.metrics, bad.diverged_epoch), (None, Some(3)));
    }
}
