//! Claims: the study says what it expects, the report says whether it held.
//!
//! A trend claim (`increasing` / `decreasing` / `differs` along a swept key) is judged
//! per slice — each combination of the other swept keys, or all trials
//! pooled — by Spearman's ρ between the axis and the metric (trial-level
//! values for mean and median, so every seed counts; the per-setting
//! statistic for std, IQR, min and max; stuck indicators for the stuck
//! fraction). Spread claims also need a Brown–Forsythe test between the
//! smallest and the largest setting. A comparison claim (`less_than` /
//! `greater_than` / `differs` with `this` and `than`) is judged by a seeded bootstrap interval of the
//! difference of the statistic between the two groups.
//!
//! `probability_of_improvement` comparisons are judged by a seeded
//! bootstrap of the share of seed pairs in which `this` beats `than`;
//! `probability_of_outperforming` ones by the share of paired runs, whose
//! win must also exceed γ (`claims/outperforming.rs`).
//! `best_of_block` comparisons set a random search's blocks against the
//! grid of the same budget (`claims/blocks.rs`).
//!
//! Every slice yields one p-value (its [`Test`]); the p-values of all
//! slices of all claims of the study are one family, Holm-adjusted. A
//! slice `holds` when its adjusted p < α and the effect points the
//! expected way (either way for the two-sided `differs`, which never
//! fails), `fails` when adjusted p < α the other way, and is
//! `inconclusive` otherwise, with what more seeds would do
//! (`claims/settle.rs`). The
//! claim holds when every slice holds, fails when none holds and some
//! fail, and is inconclusive otherwise.
//!
//! This file groups rows into slices and combines the slices' verdicts;
//! `claims/trend.rs` and `claims/compare.rs` judge a slice, and
//! `claims/points.rs` computes the statistic at a setting or group.

mod arms;
mod blocks;
mod compare;
mod gain;
mod outperforming;
mod points;
mod settle;
mod slicing;
mod trend;

use points::{point, seed};
pub use settle::{Effect, SeedsNeeded};
pub(crate) use slicing::claim_slices;

use std::fmt;

use crate::stats;
use crate::study::{Arm, ClaimSpec, ReportSpec, Setting, Statistic, describe};
use crate::train::Status;

/// A finished trial as claims see it.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    /// Swept settings of the trial.
    pub swept: &'a [(String, Setting)],
    /// The claim's metric for this trial, if defined.
    pub value: Option<f64>,
    /// Whether the trial is stuck (see `stuck_delta`).
    pub stuck: bool,
    /// Whether the finished trial made no progress (`report/broken.rs`).
    pub collapsed: bool,
    /// Whether the finished trial ended far above its best (`report/broken.rs`).
    pub unstable: bool,
    /// The trial's configuration.
    pub config: usize,
    /// Its replicate (seed) index within the configuration, which pairs
    /// runs for `probability_of_outperforming`.
    pub replicate: usize,
    /// For a `share` claim: its configuration's share of variance due to
    /// the claim's source, with its bootstrap interval.
    pub share: Option<(f64, Option<(f64, f64)>)>,
    /// For an `ensemble` claim: its configuration's ensemble of seeds
    /// scored on the claim's metric (`report::ensemble`).
    pub ensemble: Option<f64>,
    /// For a `best_of_block` claim: the trial's search arm (random block
    /// or grid) and its replicate (seed) index, which every configuration
    /// shares.
    pub arm: Option<(Arm, usize)>,
    /// For an `ensemble_gain` claim: its configuration's gain of the
    /// ensemble over the average member, with its bootstrap.
    pub gain: Option<crate::report::ensemble_gain::Gain>,
    /// How the trial ended: diverged and failed trials have no value and
    /// enter no statistic, but each point counts them.
    pub status: Status,
}

impl<'a> Row<'a> {
    fn finished(&self) -> bool {
        self.status == Status::Ok
    }

    /// A finished trial of configuration 0 with `value` and nothing else,
    /// for tests to override field by field.
    #[cfg(test)]
    pub(crate) fn of(swept: &'a [(String, Setting)], value: Option<f64>) -> Row<'a> {
        Row {
            swept,
            value,
            stuck: false,
            collapsed: false,
            unstable: false,
            config: 0,
            replicate: 0,
            share: None,
            ensemble: None,
            arm: None,
            gain: None,
            status: Status::Ok,
        }
    }
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Significant in the expected direction.
    Holds,
    /// Significant in the opposite direction.
    Fails,
    /// Neither.
    Inconclusive,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Holds => "holds",
            Outcome::Fails => "fails",
            Outcome::Inconclusive => "inconclusive",
        })
    }
}

/// The statistic at one setting (or group), with its bootstrap interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The setting, e.g. `width=64`.
    pub label: String,
    /// Trials with a value.
    pub n: usize,
    /// The statistic.
    pub value: Option<f64>,
    /// Seeded bootstrap interval of the statistic.
    pub ci: Option<(f64, f64)>,
    /// Trials at this point, finished or not.
    pub trials: usize,
    /// Trials at this point that diverged (left out of the statistic).
    pub diverged: usize,
    /// Trials at this point that failed (left out of the statistic).
    pub failed: usize,
}

impl Point {
    /// The point of `rows` with their diverged and failed trials counted.
    fn of(
        label: String,
        rows: &[&Row],
        n: usize,
        value: Option<f64>,
        ci: Option<(f64, f64)>,
    ) -> Point {
        let count = |s: Status| rows.iter().filter(|r| r.status == s).count();
        Point {
            label,
            n,
            value,
            ci,
            trials: rows.len(),
            diverged: count(Status::Diverged),
            failed: count(Status::Failed),
        }
    }

    /// Whether the point has trials and none of them finished.
    pub fn none_finished(&self) -> bool {
        self.trials > 0 && self.diverged + self.failed == self.trials
    }

    /// "all 8 trials diverged", "1 of 8 trials diverged", "4 of 8 trials
    /// diverged or failed (3 diverged, 1 failed)": the trials this point
    /// lost; `None` when it lost none.
    pub fn lost(&self) -> Option<String> {
        let lost = self.diverged + self.failed;
        if lost == 0 {
            return None;
        }
        let total = self.trials;
        let (d, f) = (self.diverged, self.failed);
        let of = if self.none_finished() {
            format!("all {total} trials")
        } else {
            format!("{lost} of {total} trials")
        };
        Some(match (d, f) {
            (_, 0) => format!("{of} diverged"),
            (0, _) => format!("{of} failed"),
            _ => format!("{of} diverged or failed ({d} diverged, {f} failed)"),
        })
    }
}

/// A slice's test: one p-value and which way the effect points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Test {
    /// The raw p-value.
    pub p: f64,
    /// Whether the effect points the way the claim expects.
    pub expected: bool,
}

/// Several tests that must all be significant the same way for the slice
/// to be judged (Spearman and Brown–Forsythe for a spread trend), each
/// direction an intersection–union test: it holds when all point the
/// expected way and fails when all point the other way, at the largest of
/// their p-values. Tests that disagree support neither: p = 1, in the
/// family but never significant. No test when one is undefined. (Failing
/// on any one test against the claim, the earlier rule, made
/// `mlpsweep calibrate` find 9–12% false verdicts on fashion_width's std
/// trend at α = 0.05.)
fn all_of(tests: &[Option<Test>]) -> Option<Test> {
    let tests: Vec<Test> = tests.iter().copied().collect::<Option<_>>()?;
    let expected = tests.first()?.expected;
    if tests.iter().any(|t| t.expected != expected) {
        return Some(Test { p: 1.0, expected });
    }
    let p = tests.iter().map(|t| t.p).reduce(f64::max)?;
    Some(Test { p, expected })
}

/// The verdict on one slice.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceVerdict {
    /// The fixed settings of the slice (`depth=2`), or `all` when pooled.
    pub slice: String,
    /// The verdict (from the Holm-adjusted p-value).
    pub outcome: Outcome,
    /// The test statistics, in words.
    pub evidence: String,
    /// The statistic at each setting.
    pub points: Vec<Point>,
    /// The slice's test; `None` when it is undefined (too few trials, no
    /// variation), and the slice is then inconclusive and not in the family.
    pub test: Option<Test>,
    /// The p-value Holm-adjusted over every slice test of the study.
    pub p_adjusted: Option<f64>,
    /// The slice's headline estimate, as its evidence states it: Spearman's
    /// ρ of a trend, the difference of the statistic between the groups,
    /// the probability of improvement, the ensemble gain, with its interval
    /// where the evidence gives one; `None` when undefined.
    pub estimate: Option<Estimate>,
    /// The observed effect the seed count is computed from (the two end
    /// settings of a trend, the two groups of a comparison).
    pub effect: Option<Effect>,
    /// For an inconclusive slice, what more seeds would do (see
    /// `claims/settle.rs`); `None` when the effect is zero or undefined or
    /// the slice is settled. Filled in with the verdicts (`adjust`).
    pub seeds_needed: Option<SeedsNeeded>,
}

/// A slice's headline estimate (see [`SliceVerdict::estimate`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// What it is: `spearman_rho`, `difference`,
    /// `probability_of_improvement`, `ensemble_gain`,
    /// `best_of_block_difference`.
    pub kind: &'static str,
    /// Its value.
    pub value: f64,
    /// Its bootstrap interval, where the evidence gives one (at `[report]
    /// level`; probability of improvement at 1 − α).
    pub interval: Option<(f64, f64)>,
}

/// The verdict on a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The claim.
    pub claim: ClaimSpec,
    /// Overall verdict.
    pub outcome: Outcome,
    /// One verdict per slice.
    pub slices: Vec<SliceVerdict>,
}

impl Verdict {
    /// A line for the terminal: `[holds] name — 3 of 4 slices hold`.
    pub fn summary_line(&self) -> String {
        let held = self
            .slices
            .iter()
            .filter(|s| s.outcome == Outcome::Holds)
            .count();
        let failed = self
            .slices
            .iter()
            .filter(|s| s.outcome == Outcome::Fails)
            .count();
        format!(
            "[{}] {} — {} of {} slice(s) hold, {} fail",
            self.outcome,
            self.claim.name,
            held,
            self.slices.len(),
            failed
        )
    }
}

fn statistic(s: Statistic, values: &[f64], stuck: &[bool]) -> Option<f64> {
    match s {
        Statistic::Mean
        | Statistic::Std
        | Statistic::Median
        | Statistic::Iqr
        | Statistic::Min
        | Statistic::Max
        | Statistic::Iqm => s.of(values),
        Statistic::StuckFraction | Statistic::CollapsedFraction | Statistic::UnstableFraction => {
            (!stuck.is_empty())
                .then(|| stuck.iter().filter(|s| **s).count() as f64 / stuck.len() as f64)
        }
        // A property of two groups: each group's point shows its median.
        Statistic::ProbabilityOfImprovement | Statistic::ProbabilityOfOutperforming => {
            stats::median(values)
        }
        // Properties of a configuration, read from the rows (`config_point`),
        // and of a search's arms (`claims/blocks.rs`).
        Statistic::Share
        | Statistic::Ensemble
        | Statistic::EnsembleGain
        | Statistic::BestOfBlock => None,
    }
}

/// The per-seed values whose difference in means stands for the effect
/// when counting the seeds needed: the Brown–Forsythe variable |x −
/// median| for spread statistics, the values themselves otherwise.
fn effect_sample(s: Statistic, xs: &[f64]) -> Vec<f64> {
    if s.is_spread() {
        let m = stats::median(xs).unwrap_or(0.0);
        xs.iter().map(|x| (x - m).abs()).collect()
    } else {
        xs.to_vec()
    }
}

/// The effect of a slice that runs from sample `a` to sample `b` (see
/// [`SliceVerdict::seeds_needed`]).
fn effect(claim: &ClaimSpec, a: &[f64], b: &[f64]) -> Option<Effect> {
    Effect::between(claim.statistic, a, b)
}

/// The values a statistic is computed from: a flag's fraction (stuck,
/// collapsed, unstable) is the mean of 0/1 indicators, so it is
/// bootstrapped as one.
fn sample(s: Statistic, rows: &[&Row]) -> Vec<f64> {
    let finished = rows.iter().filter(|r| r.finished());
    let flag: Option<fn(&Row) -> bool> = match s {
        Statistic::StuckFraction => Some(|r| r.stuck),
        Statistic::CollapsedFraction => Some(|r| r.collapsed),
        Statistic::UnstableFraction => Some(|r| r.unstable),
        _ => None,
    };
    match flag {
        Some(flag) => finished
            .filter(|r| r.value.is_some())
            .map(|r| if flag(r) { 1.0 } else { 0.0 })
            .collect(),
        None => finished.filter_map(|r| r.value).collect(),
    }
}

fn stat_of_sample(s: Statistic, xs: &[f64]) -> Option<f64> {
    if s.is_fraction() {
        statistic(Statistic::Mean, xs, &[])
    } else {
        statistic(s, xs, &[])
    }
}

/// A group's settings as `depth=2 width=64`, or `all` when it has none.
pub(crate) fn label(sel: &[(String, Setting)]) -> String {
    if sel.is_empty() {
        "all".into()
    } else {
        describe(sel)
    }
}

/// `= 0.0123`, `= 1.2e-7`, or `< 1e-15` (a p-value of exactly 0 only
/// means the distribution's tail underflowed).
pub(crate) fn p_text(p: f64) -> String {
    if p < 1e-15 {
        "< 1e-15".into()
    } else if p < 1e-4 {
        format!("= {p:.1e}")
    } else {
        format!("= {p:.4}")
    }
}

/// Judge every claim of the study on the finished trials, Holm-adjusting
/// all slices of all claims as one family. `rows_for` gives the rows with
/// the claim's metric filled in.
pub fn judge<'r>(
    spec: &ReportSpec,
    axes_keys: &[Vec<String>],
    rows_for: impl Fn(&ClaimSpec) -> Vec<Row<'r>>,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = spec
        .claims
        .iter()
        .map(|claim| {
            let rows = rows_for(claim);
            let slices: Vec<SliceVerdict> = claim_slices(claim, axes_keys, &rows)
                .into_iter()
                .map(|(key, members)| {
                    let name = label(&key);
                    if !members.iter().any(|r| r.finished()) {
                        return unjudged(&name, &members);
                    }
                    // The study checked the shape: a trend has `along`.
                    match claim.statistic {
                        _ if claim.along.is_some() => trend::trend(claim, spec, &name, &members),
                        Statistic::BestOfBlock => {
                            blocks::best_of_block(claim, spec, &name, &members)
                        }
                        _ if claim.compares_arms() => {
                            arms::outperforming(claim, spec, &name, &members)
                        }
                        Statistic::EnsembleGain => gain::gain(claim, spec, &name, &members),
                        _ => compare::compare(claim, spec, &name, &members),
                    }
                })
                .collect();
            Verdict {
                claim: claim.clone(),
                outcome: Outcome::Inconclusive,
                slices,
            }
        })
        .collect();
    adjust(&mut verdicts);
    verdicts
}

/// A slice none of whose trials finished: no statistic, no test, and the
/// evidence says why.
fn unjudged(slice: &str, rows: &[&Row]) -> SliceVerdict {
    let point = Point::of("all".into(), rows, 0, None, None);
    SliceVerdict {
        slice: slice.to_string(),
        outcome: Outcome::Inconclusive,
        evidence: format!(
            "cannot judge: {}",
            point.lost().unwrap_or_else(|| "no trials".into())
        ),
        points: vec![point],
        test: None,
        estimate: None,
        p_adjusted: None,
        effect: None,
        seeds_needed: None,
    }
}

/// Holm-adjust the p-values of every slice of every claim as one family,
/// then give each slice and claim its verdict.
fn adjust(verdicts: &mut [Verdict]) {
    let raw: Vec<f64> = verdicts
        .iter()
        .flat_map(|v| v.slices.iter().filter_map(|s| s.test.map(|t| t.p)))
        .collect();
    let family = raw.len();
    let mut adjusted = stats::holm(&raw).into_iter();
    for v in verdicts.iter_mut() {
        let alpha = v.claim.alpha;
        for s in &mut v.slices {
            s.p_adjusted = s.test.and_then(|_| adjusted.next());
            s.outcome = match (s.test, s.p_adjusted) {
                // Written as `p < α` so a NaN p is inconclusive.
                (Some(t), Some(p)) if p < alpha => {
                    if t.expected {
                        Outcome::Holds
                    } else {
                        Outcome::Fails
                    }
                }
                _ => Outcome::Inconclusive,
            };
            s.seeds_needed = settle::settle(s.outcome, s.test, s.effect, alpha, family);
        }
        v.outcome = combine(&v.slices);
    }
}

/// A claim holds when every slice holds, fails when none holds and some
/// fail, and is inconclusive otherwise.
pub(crate) fn combine(slices: &[SliceVerdict]) -> Outcome {
    let holds = slices
        .iter()
        .filter(|s| s.outcome == Outcome::Holds)
        .count();
    let fails = slices
        .iter()
        .filter(|s| s.outcome == Outcome::Fails)
        .count();
    if !slices.is_empty() && holds == slices.len() {
        Outcome::Holds
    } else if holds == 0 && fails > 0 {
        Outcome::Fails
    } else {
        Outcome::Inconclusive
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod family_tests;

#[cfg(test)]
mod gain_tests;

#[cfg(test)]
mod lost_tests;

#[cfg(test)]
mod differs_tests;
