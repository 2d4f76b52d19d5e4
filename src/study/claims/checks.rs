//! Claims that could never be judged are refused when the study loads,
//! naming the claim's key, rather than accepted and then explained at
//! length in every report: a metric the study never produces, a trend
//! along a key `where` pins to one value, groups that select no trial or
//! the same trials, groups of one trial for a statistic that needs two,
//! a repeated or empty name. Each refusal is a case in
//! `tests/bad_input/`.

use super::super::{Axis, KeyError, Source, key_err};
use super::select::{Filter, positions};
use super::{Claim, ClaimSpec, Statistic, StuckRelative};
use crate::metric::Metric;

impl Claim<'_> {
    /// A claim's name is its key in report.md, `claims.json` and the
    /// bootstrap seeds, so two claims may not share one.
    pub(super) fn unique_name(&self, name: &str, earlier: &[ClaimSpec]) -> Result<(), KeyError> {
        match earlier.iter().position(|c| c.name.trim() == name.trim()) {
            Some(j) => Err(key_err(
                self.at("name"),
                format!(
                    "\"{name}\" is already the name of claims[{j}]; each claim needs its own \
                     (report.md, claims.json and the bootstrap seeds are keyed by it)"
                ),
            )),
            None => Ok(()),
        }
    }

    /// Refuse a parsed claim that no run of this study could judge.
    pub(super) fn judgeable(&self, c: &ClaimSpec, stuck: StuckRelative) -> Result<(), KeyError> {
        self.metric_produced(c.metric)?;
        self.selects_trials(c)?;
        self.groups_apart(c)?;
        if c.statistic == Statistic::BestOfBlock {
            // Its groups are the search's arms, checked in `study::arms`.
            return Ok(());
        }
        let per_group = self.trials_per_group(c);
        if let Some(along) = &c.along {
            self.trend_points(c, along, per_group)?;
        }
        self.enough_trials(c, per_group, stuck)
    }

    /// A metric no trial of the study will have (`study::Produced`): a
    /// validation metric without a validation split, epochs_to_target on
    /// regression, dead or saturated units the study has none of.
    fn metric_produced(&self, metric: Metric) -> Result<(), KeyError> {
        match self.facts.produced.missing(metric) {
            Some(why) => Err(key_err(
                self.at("metric"),
                format!("{why}: no trial of this study will have it"),
            )),
            None => Ok(()),
        }
    }

    /// `where` must leave some trial on every axis (zipped keys can
    /// contradict each other).
    fn selects_trials(&self, c: &ClaimSpec) -> Result<(), KeyError> {
        match self
            .axes
            .iter()
            .find(|a| positions(a, &c.filter).is_empty())
        {
            Some(a) => Err(key_err(
                self.at("where"),
                format!(
                    "selects no trial: {} are zipped and no point of theirs has these values",
                    a.keys.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    /// Each group of a comparison selects some trial that `where` keeps,
    /// and the two groups share none: otherwise no trial tells them apart.
    fn groups_apart(&self, c: &ClaimSpec) -> Result<(), KeyError> {
        if c.this.is_empty() {
            return Ok(());
        }
        let with = |group: &[(String, crate::study::Setting)]| -> Filter {
            let mut f = c.filter.clone();
            f.extend(group.iter().map(|(k, v)| (k.clone(), vec![v.clone()])));
            f
        };
        let (this, than) = (with(&c.this), with(&c.than));
        let mut overlap = true;
        for a in self.axes {
            let (pa, pb) = (positions(a, &this), positions(a, &than));
            for (p, k) in [(&pa, "this"), (&pb, "than")] {
                if p.is_empty() {
                    return Err(key_err(
                        self.at(k),
                        "selects no trial that `where` keeps (or its zipped keys contradict each other)",
                    ));
                }
            }
            overlap &= pa.iter().any(|i| pb.contains(i));
        }
        if overlap {
            return Err(key_err(
                self.at("than"),
                "selects the same trials as `this`, so nothing tells the groups apart; \
                 give `than` another value of the key",
            ));
        }
        Ok(())
    }

    /// Trials in each group (a setting of a trend, a side of a
    /// comparison): the replicates, times the configurations it pools when
    /// `pool = true` (the axes the claim does not name, as `where` keeps
    /// them; `tune` keeps one setting of its axis).
    fn trials_per_group(&self, c: &ClaimSpec) -> usize {
        let named = |a: &Axis| {
            c.along.iter().chain(&c.tune).any(|k| a.keys.contains(k))
                || c.this.iter().any(|(k, _)| a.keys.contains(k))
        };
        let pooled: usize = if c.pool {
            self.axes
                .iter()
                .filter(|a| !named(a))
                .map(|a| positions(a, &c.filter).len())
                .product()
        } else {
            1
        };
        self.facts.replicates * pooled
    }

    /// A trend needs two settings of its key that `where` keeps, and
    /// Spearman's ρ three points: trials for the mean, median and stuck
    /// fraction, settings for a per-setting statistic.
    fn trend_points(&self, c: &ClaimSpec, along: &str, per_group: usize) -> Result<(), KeyError> {
        let axis = self
            .axes
            .iter()
            .find(|a| a.keys.iter().any(|k| k == along))
            .expect("along is swept");
        let settings = positions(axis, &c.filter).len();
        let pinned = c.filter.iter().any(|(k, _)| axis.keys.contains(k));
        let at = if pinned { "where" } else { "along" };
        if settings < 2 {
            return Err(key_err(
                self.at(at),
                format!(
                    "leaves one setting of {along}, so there is no trend along it; \
                     keep two or more (where = {{ key = [a, b] }} lists several)"
                ),
            ));
        }
        let trial_level =
            c.statistic.is_fraction() || matches!(c.statistic, Statistic::Mean | Statistic::Median);
        let points = if trial_level {
            settings * per_group
        } else {
            settings
        };
        if points < 3 {
            let why = if trial_level {
                format!(
                    "Spearman's ρ ranks every trial along {along} and needs three; this claim \
                     has {points} ({settings} settings × {per_group} trial(s))"
                )
            } else {
                format!(
                    "the {} is one value per setting of {along}, and Spearman's ρ needs three \
                     settings; this claim has {settings}",
                    c.statistic.name()
                )
            };
            return Err(key_err(self.at(at), why));
        }
        Ok(())
    }

    /// Statistics that need two trials a group: a spread, a bootstrap of
    /// two groups (one trial each makes every difference look certain), an
    /// ensemble of seeds (on one data set), and a stuck share counted
    /// against the configuration's own best seed.
    fn enough_trials(
        &self,
        c: &ClaimSpec,
        per_group: usize,
        stuck: StuckRelative,
    ) -> Result<(), KeyError> {
        let seeds = self.facts.replicates;
        let refuse = |k: &str, why: String| Err(key_err(self.at(k), why));
        let s = c.statistic.name();
        if c.statistic.is_spread() && per_group < 2 {
            return refuse(
                "statistic",
                format!(
                    "{s} is the spread of a group's trials, and each group here has one \
                     (seeds = 1): run two or more seeds, or pool = true over another swept key"
                ),
            );
        }
        if !c.this.is_empty() && per_group < 2 {
            return refuse(
                "this",
                "a comparison bootstraps each group's trials, and each group here has one \
                 (seeds = 1), so any difference would look certain: run two or more seeds"
                    .into(),
            );
        }
        if matches!(c.statistic, Statistic::Ensemble | Statistic::EnsembleGain) && seeds < 2 {
            return refuse(
                "statistic",
                format!("{s} needs two or more seeds: an ensemble of one seed is that seed"),
            );
        }
        if c.statistic == Statistic::Ensemble && self.varying.contains(&Source::Data) {
            return refuse(
                "statistic",
                "[replicates] data draws a data set per seed, so a configuration's seeds \
                 predict different validation splits and make no ensemble"
                    .into(),
            );
        }
        if c.statistic == Statistic::StuckFraction && stuck == StuckRelative::Config && seeds < 2 {
            return refuse(
                "statistic",
                "with [report] stuck_relative = \"config\" and one seed, every trial is its own \
                 configuration's best and never stuck: run more seeds, or use \
                 stuck_relative = \"slice\" or \"study\""
                    .into(),
            );
        }
        Ok(())
    }
}
