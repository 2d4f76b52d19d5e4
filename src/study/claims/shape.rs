//! The shape checks of a `[[claims]]` table: which of `along`,
//! `this`/`than` and `tune` a claim's expectation and statistic allow.

use super::super::{KeyError, Setting, Source, key_err};
use super::{Claim, Expect};
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
        let trend = matches!(expect, Expect::Increasing | Expect::Decreasing);
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
        if !self.validation {
            return Err(key_err(
                self.at("statistic"),
                "ensemble_gain needs a validation split (data.val is \"none\")",
            ));
        }
        Ok(())
    }

    /// Trends need `along` and no groups; comparisons need both groups over
    /// the same keys and no `along`.
    pub(super) fn check_shape(
        &self,
        expect: Expect,
        has_along: bool,
        this: &[(String, Setting)],
        than: &[(String, Setting)],
    ) -> Result<(), KeyError> {
        match expect {
            Expect::Decreasing | Expect::Increasing => {
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
                        "this/than belong to less_than and greater_than claims",
                    ));
                }
            }
            Expect::LessThan | Expect::GreaterThan => {
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
                        "`along` belongs to increasing and decreasing claims",
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
        }
        Ok(())
    }

    /// `tune`: a swept key that is not already the claim's axis or group.
    pub(super) fn tune(
        &self,
        along: &Option<String>,
        this: &[(String, Setting)],
        filter: &[(String, Setting)],
    ) -> Result<Option<String>, KeyError> {
        let Some(k) = self.string("tune")? else {
            return Ok(None);
        };
        let canon = self.swept(&k, "tune")?;
        let mut used = along
            .iter()
            .chain(this.iter().map(|(k, _)| k))
            .chain(filter.iter().map(|(k, _)| k));
        if used.any(|u| *u == canon) {
            return Err(key_err(
                self.at("tune"),
                format!("{canon} is already the claim's axis or group"),
            ));
        }
        Ok(Some(canon))
    }
}
