//! The shape checks of a `[[claims]]` table: which of `along`,
//! `this`/`than` and `tune` a claim's expectation and statistic allow.

use super::super::{KeyError, Setting, Source, key_err};
use super::{Claim, Expect, Filter, Statistic};
use crate::metric::Metric;

impl Claim<'_> {
    /// `ensemble_gain`: on val_loss or val_acc, in a study with a
    /// validation split whose seeds share one data set; no `this`/`than`
    /// (a trend has `along`; without it each configuration's gain is
    /// judged against 0).
    pub(super) fn check_gain(
        &self,
        metric: Metric,
        expect: Expect,
        has_along: bool,
        this: &[(String, Setting)],
        than: &[(String, Setting)],
    ) -> Result<(), KeyError> {
        if expect == Expect::Differs && !has_along {
            return Err(key_err(
                self.at("expect"),
                "ensemble_gain against 0 is one-sided (the loss gain is never negative): \
                 use expect = \"greater_than\" or \"less_than\"; differs needs `along`",
            ));
        }
        let trend = matches!(
            expect,
            Expect::Increasing | Expect::Decreasing | Expect::Differs
        );
        if trend != has_along {
            return Err(key_err(
                self.at("along"),
                if trend {
                    format!(
                        "expect = \"{}\" needs the swept key it runs along",
                        expect.name()
                    )
                } else {
                    "ensemble_gain with expect = \"greater_than\" or \"less_than\" judges each \
                     configuration's gain against 0: no `along`"
                        .to_string()
                },
            ));
        }
        if !matches!(metric, Metric::ValLoss | Metric::ValAcc) {
            return Err(key_err(
                self.at("metric"),
                format!("{metric} has no ensemble; ensemble_gain claims take val_loss or val_acc"),
            ));
        }
        if !this.is_empty() || !than.is_empty() {
            return Err(key_err(
                self.at(if this.is_empty() { "than" } else { "this" }),
                "ensemble_gain compares each configuration's ensemble with its own average \
                 member: no this/than; use expect = \"greater_than\" alone, or `along` for a trend",
            ));
        }
        if self.varying.contains(&Source::Data) {
            return Err(key_err(
                self.at("statistic"),
                "[replicates] data draws a data set per seed, so a configuration's seeds \
                 predict different validation splits and make no ensemble",
            ));
        }
        if !self.facts.produced.validation {
            return Err(key_err(
                self.at("statistic"),
                "ensemble_gain needs a validation split (data.val is \"none\")",
            ));
        }
        Ok(())
    }

    /// Trends need `along` and no groups; comparisons need both groups over
    /// the same keys and no `along`; `differs` is a trend with `along`, a
    /// comparison without.
    pub(super) fn check_shape(
        &self,
        expect: Expect,
        has_along: bool,
        this: &[(String, Setting)],
        than: &[(String, Setting)],
    ) -> Result<(), KeyError> {
        if expect == Expect::Differs && !has_along && this.is_empty() && than.is_empty() {
            return Err(key_err(
                self.at("expect"),
                "expect = \"differs\" needs `along` (does the statistic change along a key?) \
                 or `this` and `than` (does it differ between two groups?)",
            ));
        }
        let trend = match expect {
            Expect::Decreasing | Expect::Increasing => true,
            Expect::LessThan | Expect::GreaterThan => false,
            Expect::Differs => has_along,
        };
        if trend {
            if !has_along {
                return Err(key_err(
                    self.at("along"),
                    format!(
                        "expect = \"{}\" needs the swept key it runs along",
                        expect.name()
                    ),
                ));
            }
            if !this.is_empty() || !than.is_empty() {
                return Err(key_err(
                    self.at("this"),
                    "this/than belong to comparisons (less_than, greater_than, or differs without `along`)",
                ));
            }
        } else {
            if this.is_empty() || than.is_empty() {
                return Err(key_err(
                    self.at("than"),
                    format!(
                        "expect = \"{}\" needs both `this` and `than` groups",
                        expect.name()
                    ),
                ));
            }
            if has_along {
                return Err(key_err(
                    self.at("along"),
                    "`along` belongs to trends (increasing, decreasing, or differs without this/than)",
                ));
            }
            let keys =
                |s: &[(String, Setting)]| s.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            if keys(this) != keys(than) {
                return Err(key_err(
                    self.at("than"),
                    "`this` and `than` must set the same keys",
                ));
            }
        }
        Ok(())
    }

    /// `tune`: a swept key that is not already the claim's axis or group.
    pub(super) fn tune(
        &self,
        along: &Option<String>,
        this: &[(String, Setting)],
        filter: &Filter,
    ) -> Result<Option<String>, KeyError> {
        let Some(k) = self.string("tune")? else {
            return Ok(None);
        };
        let canon = self.swept(&k, "tune")?;
        let mut used = along
            .iter()
            .chain(this.iter().map(|(k, _)| k))
            // A key `where` lists several values of can still be tuned
            // among them.
            .chain(
                filter
                    .iter()
                    .filter(|(_, vs)| vs.len() == 1)
                    .map(|(k, _)| k),
            );
        if used.any(|u| *u == canon) {
            return Err(key_err(
                self.at("tune"),
                format!("{canon} is already the claim's axis or group"),
            ));
        }
        Ok(Some(canon))
    }

    /// `source`: required by `statistic = "share"` and only there; one of
    /// the sources the study's `[replicates]` varies; a trend on a
    /// decomposed metric.
    pub(super) fn source(
        &self,
        statistic: Statistic,
        trend: bool,
        metric: Metric,
    ) -> Result<Option<Source>, KeyError> {
        // Its row refuses `source` on any other statistic.
        self.t.check_applies()?;
        let given = self.string("source")?;
        if statistic != Statistic::Share {
            return Ok(None);
        }
        let names: Vec<&str> = self.varying.iter().map(|s| s.name()).collect();
        if names.is_empty() {
            return Err(key_err(
                self.at("statistic"),
                "share needs a [replicates] study with at least one varying source",
            ));
        }
        if !trend {
            return Err(key_err(
                self.at("statistic"),
                "share is judged along an axis: use expect = \"increasing\", \"decreasing\" or \"differs\" with `along`",
            ));
        }
        if !matches!(metric, Metric::TrainLoss | Metric::ValLoss | Metric::ValAcc) {
            return Err(key_err(
                self.at("metric"),
                format!(
                    "{metric} is not decomposed; share claims take train_loss, val_loss or val_acc"
                ),
            ));
        }
        let Some(name) = given else {
            return Err(key_err(
                self.at("source"),
                format!(
                    "missing: say whose share; this study varies: {}",
                    names.join(", ")
                ),
            ));
        };
        match self.varying.iter().find(|s| s.name() == name) {
            Some(s) => Ok(Some(*s)),
            None => Err(key_err(
                self.at("source"),
                format!(
                    "\"{name}\" does not vary in this study; it varies: {}",
                    names.join(", ")
                ),
            )),
        }
    }

    pub(super) fn metric(&self, regression: bool) -> Result<Metric, KeyError> {
        // The row's reader refuses an unknown name; the default is train_loss.
        let name = self.string("metric")?.expect("metric has a default");
        let metric = Metric::parse(&name).expect("the reader returns metric names");
        if regression && metric.is_accuracy() {
            return Err(key_err(
                self.at("metric"),
                format!("{metric} is undefined for a regression task; use a loss"),
            ));
        }
        Ok(metric)
    }
}
