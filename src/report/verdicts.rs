//! The report's claims: each claim's rows (every stored trial with the
//! claim's metric, stuck flag, configuration values and status) handed to
//! `claims::judge`, and the `ensemble_gain` bootstraps those rows carry.

use std::collections::HashMap;

use super::stuck::Stuck;
use super::{Row, claims, ensemble, ensemble_gain, finished, variance};
use crate::data::Datasets;
use crate::metric::Metric;
use crate::study::{ClaimSpec, Statistic, Study};

/// What a claim's rows are read from: the stored trials and the tables
/// computed from them.
pub(super) struct Inputs<'a> {
    pub exp: &'a Study,
    pub rows: &'a [Row<'a>],
    pub stuck: &'a Stuck,
    pub flags: &'a [Option<super::broken::Flags>],
    pub variance: &'a [variance::Decomposition],
    pub ensembles: &'a HashMap<usize, ensemble::Ensemble>,
    pub datasets: Option<&'a Datasets>,
}

/// Build the claims' inputs from `rows` alone (the stuck rule, flags and
/// ensembles computed over them) and hand them to `f`: the sequential
/// looks and the calibration judge subsets of the stored trials.
pub(super) fn with_inputs<T>(
    exp: &Study,
    rows: &[Row],
    datasets: Option<&Datasets>,
    f: impl FnOnce(&Inputs) -> T,
) -> T {
    let stuck = Stuck::new(
        exp,
        rows.iter().filter_map(|(t, r)| Some((*t, finished(r)?))),
    );
    let flags = super::trials::flags_of(exp, rows, datasets);
    let variance = variance::decompose(exp, rows);
    let ensembles = datasets
        .map(|d| ensemble::of_configs(rows, d))
        .unwrap_or_default();
    f(&Inputs {
        exp,
        rows,
        stuck: &stuck,
        flags: &flags,
        variance: &variance,
        ensembles: &ensembles,
        datasets,
    })
}

/// Judge the study's claims on the stored trials.
pub(super) fn judge(inputs: &Inputs) -> Vec<claims::Verdict> {
    let axes_keys: Vec<Vec<String>> = inputs.exp.axes.iter().map(|a| a.keys.clone()).collect();
    claims::judge(&inputs.exp.report, &axes_keys, |claim| {
        inputs.rows_for(claim)
    })
}

impl<'a> Inputs<'a> {
    /// Every stored trial as `claim` sees it: a diverged or failed one has
    /// no value and enters no statistic, but the claim counts it.
    pub(super) fn rows_for(&self, claim: &ClaimSpec) -> Vec<claims::Row<'a>> {
        let exp = self.exp;
        let target = exp.report.target_acc;
        let share = |config: usize| {
            let d = self
                .variance
                .iter()
                .find(|d| d.config == config && d.metric == claim.metric)?;
            let c = d.get(claim.source?.name())?;
            c.share.is_finite().then_some((c.share, c.share_interval))
        };
        // The configuration's ensemble of the claim's metric.
        let ensemble = |config: usize| {
            let e = self.ensembles.get(&config)?;
            match claim.metric {
                Metric::ValLoss => Some(e.loss),
                Metric::ValAcc => e.acc,
                _ => None,
            }
        };
        // The search arm (random block or grid) of a configuration: its
        // position on the search axis, the innermost.
        let arm = |config: usize| {
            let search = exp.search.as_ref()?;
            search.arm(*exp.coords(config).last()?)
        };
        let gains = match self.datasets {
            Some(d) if claim.statistic == Statistic::EnsembleGain => {
                gains(exp, claim, self.rows, d)
            }
            _ => HashMap::new(),
        };
        self.rows
            .iter()
            .zip(self.flags)
            .map(|((t, r), f)| {
                let x = finished(r);
                let f = f.unwrap_or_default();
                claims::Row {
                    swept: &t.swept,
                    value: x.and_then(|_| r.value(claim.metric, target)),
                    stuck: x.is_some_and(|x| self.stuck.of(t, &x)),
                    collapsed: f.collapsed,
                    unstable: f.unstable,
                    config: t.config_index,
                    replicate: t.replicate,
                    share: share(t.config_index),
                    ensemble: ensemble(t.config_index),
                    gain: gains.get(&t.config_index).copied(),
                    arm: arm(t.config_index).map(|a| (a, t.replicate)),
                    status: r.status,
                }
            })
            .collect()
    }
}

/// Each configuration's `ensemble_gain` for `claim`: its bootstrap is
/// seeded by the claim's name and the configuration's settings, so the
/// report is the same bytes on every run.
fn gains(
    exp: &Study,
    claim: &ClaimSpec,
    rows: &[Row],
    datasets: &Datasets,
) -> HashMap<usize, ensemble_gain::Gain> {
    let accuracy = claim.metric.is_accuracy();
    let mut out = HashMap::new();
    for config in ensemble::configs(rows) {
        let Some((members, targets)) = ensemble::members(rows, config, datasets) else {
            continue;
        };
        let swept = &rows
            .iter()
            .find(|(t, _)| t.config_index == config)
            .expect("a row")
            .0
            .swept;
        let seed = crate::study::fnv1a(
            format!(
                "ensemble_gain\u{1f}{}\u{1f}{}",
                claim.name,
                claims::label(swept)
            )
            .as_bytes(),
        );
        let (reps, level) = (exp.report.bootstrap, exp.report.level);
        if let Some(g) = ensemble_gain::gain(&members, targets, accuracy, reps, level, seed) {
            out.insert(config, g);
        }
    }
    out
}
