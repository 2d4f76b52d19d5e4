//! The data sets of a plan, each drawn or read once: trials whose `[data]`
//! settings agree share one (the key is `identity::data_key`).

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;

use super::{Dataset, load};
use crate::plan::{Plan, Trial};
use crate::study::Study;

/// Each distinct data set of a plan.
#[derive(Debug, Clone, Default)]
pub struct Datasets(HashMap<String, Arc<Dataset>>);

impl Datasets {
    /// Load every distinct data set of `plan` and check each trial's
    /// settings against its data (`usable`). Errors name the study file,
    /// the line and the key, before anything is trained or written.
    pub fn load(exp: &Study, plan: &Plan) -> Result<Datasets> {
        let mut sets = HashMap::new();
        for t in &plan.trials {
            let key: &str = &t.data_key;
            if !sets.contains_key(key) {
                let ds = load(&t.config.data).map_err(|e| exp.key_error(&e.key, e.message))?;
                super::usable::check_data(exp, &ds)?;
                sets.insert(key.to_string(), Arc::new(ds));
            }
            super::usable::batch_norm(exp, &t.config, sets[key].train.len())?;
        }
        Ok(Datasets(sets))
    }

    /// The data set `t` trains on.
    pub fn of(&self, t: &Trial) -> &Dataset {
        &self.0[&*t.data_key]
    }

    /// The data set `t` trains on, if it was loaded.
    pub fn get(&self, t: &Trial) -> Option<&Dataset> {
        self.0.get(&*t.data_key).map(|d| &**d)
    }

    /// The first configuration's data set (its training points are drawn in
    /// the decision-region figures), if the plan has trials.
    pub fn first(&self, plan: &Plan) -> Option<&Dataset> {
        plan.trials.first().map(|t| self.of(t))
    }

    /// Number of distinct data sets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no data set was loaded (an empty plan).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
