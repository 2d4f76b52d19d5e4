//! The stuck rule, one place for trials.csv, summary.csv and the claims: a
//! finished trial is stuck when its final train loss is more than
//! `[report] stuck_delta` above the best final train loss of the trials it
//! is compared with (`[report] stuck_relative`): its own configuration's
//! seeds (the default), the trials sharing its setting of the first swept
//! axis, or the whole study. Relative to the study, a depth-1 net that
//! converges perfectly counts as stuck because deeper nets reach lower
//! losses; relative to its configuration, stuck means what the word says,
//! a seed that missed what the same network reaches with other seeds.

use std::collections::HashMap;

use crate::plan::Trial;
use crate::study::{Setting, StuckRelative, Study};
use crate::train::Metrics;

/// The best final train loss of each comparison group, and δ.
pub(super) struct Stuck {
    relative: StuckRelative,
    /// The keys of the first swept axis (for `slice`).
    first_axis: Vec<String>,
    /// Best final train loss per group.
    best: HashMap<Group, f64>,
    delta: f64,
}

/// A comparison group: the whole study, a first-axis setting, or a
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Group {
    Study,
    Slice(Vec<String>),
    Config(usize),
}

impl Stuck {
    /// The rule of `exp`'s `[report]`, with each group's best taken over the
    /// finished trials given.
    pub(super) fn new<'a>(
        exp: &Study,
        finished: impl Iterator<Item = (&'a Trial, Metrics)>,
    ) -> Self {
        let mut s = Stuck {
            relative: exp.report.stuck_relative,
            first_axis: exp.axes.first().map(|a| a.keys.clone()).unwrap_or_default(),
            best: HashMap::new(),
            delta: exp.report.stuck_delta,
        };
        for (t, m) in finished {
            let b = s.best.entry(s.group(t)).or_insert(f64::INFINITY);
            *b = b.min(m.train_loss);
        }
        s
    }

    fn group(&self, t: &Trial) -> Group {
        match self.relative {
            StuckRelative::Study => Group::Study,
            StuckRelative::Config => Group::Config(t.config_index),
            StuckRelative::Slice => Group::Slice(
                t.swept
                    .iter()
                    .filter(|(k, _)| self.first_axis.contains(k))
                    .map(|(_, v): &(String, Setting)| v.to_string())
                    .collect(),
            ),
        }
    }

    /// Whether finished trial `t` with final metrics `m` is stuck.
    pub(super) fn of(&self, t: &Trial, m: &Metrics) -> bool {
        self.best
            .get(&self.group(t))
            .is_some_and(|b| m.train_loss > b + self.delta)
    }
}

/// The legend's words for what a stuck seed is compared with.
pub(super) fn compared_with(relative: StuckRelative) -> &'static str {
    match relative {
        StuckRelative::Study => "the lowest of the study",
        StuckRelative::Slice => {
            "the lowest among the configurations sharing its setting of the first swept axis"
        }
        StuckRelative::Config => "the lowest of its own configuration's seeds",
    }
}
