//! A/A calibration: the engine's own false-positive rate, measured on a
//! results folder's stored trials (Henderson et al. 2018's split-seed
//! check). Every claim is turned into nulls with no true effect and judged
//! many times, exactly as the report judges (same statistic, metric,
//! bootstrap and α, alone in its Holm family):
//!
//! - a **comparison** becomes one configuration against itself: its
//!   finished seeds shuffled and split in two halves, `this` the first;
//! - a **trend** keeps its slices, but the trials' settings are permuted
//!   among the trials of the slice, so the axis says nothing of the metric.
//!
//! Each null is judged at fixed n (all its seeds) and sequentially (the
//! `[settle]` looks over prefixes of its seeds, `crate::settle`). The share
//! judged `holds` or `fails` estimates the false-positive rate; its
//! Clopper–Pearson interval should reach down to α or below. Claims whose
//! statistic is a property of a configuration (share, ensemble,
//! ensemble_gain, best_of_block) are not calibrated: splitting seeds does
//! not make a null of them.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{Beta, ContinuousCDF};

use std::collections::HashMap;

use super::claims::{self, Outcome, Row};
use crate::data::Datasets;
use crate::plan::Plan;
use crate::settle::{Judged, State};
use crate::study::{ClaimSpec, Expect, ReportSpec, Setting, Settle, Statistic, Study};
use crate::train::TrialRecord;

/// [`calibrate`] the claims of `exp` on its stored `records`, each claim's
/// rows built as the report builds them; ρ is the study's `[settle] rho`,
/// else 3.
pub fn of_records(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    datasets: Option<&Datasets>,
    (reps, seed): (usize, u64),
) -> Vec<Rate> {
    let by_id: HashMap<&str, &TrialRecord> = records.iter().map(|r| (r.id.as_str(), r)).collect();
    let rows: Vec<super::Row> = plan
        .trials
        .iter()
        .filter_map(|t| by_id.get(t.id.as_str()).map(|r| (t, *r)))
        .collect();
    let axes_keys: Vec<Vec<String>> = exp.axes.iter().map(|a| a.keys.clone()).collect();
    let rho = exp.settle.as_ref().map_or(3.0, |s| s.rho);
    super::verdicts::with_inputs(exp, &rows, datasets, |inputs| {
        calibrate(
            &exp.report,
            &axes_keys,
            |c| inputs.rows_for(c),
            (reps, seed, rho),
        )
    })
}

/// The nulls of one kind of claim and how they were judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// `mean comparison`, `std trend`, …
    pub kind: String,
    /// `fixed` (all seeds) or `sequential` (looks over prefixes).
    pub scheme: &'static str,
    /// Nulls judged.
    pub judged: usize,
    /// Judged `holds`.
    pub holds: usize,
    /// Judged `fails`.
    pub fails: usize,
    /// The largest α of the claims of this kind.
    pub alpha: f64,
}

impl Rate {
    /// The share judged holds or fails.
    pub fn share(&self) -> f64 {
        (self.holds + self.fails) as f64 / self.judged.max(1) as f64
    }

    /// Clopper–Pearson interval of the share at `level`.
    pub fn interval(&self, level: f64) -> (f64, f64) {
        clopper_pearson(self.holds + self.fails, self.judged, level)
    }
}

/// Exact binomial interval for `x` successes in `n` trials.
pub fn clopper_pearson(x: usize, n: usize, level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    let (xf, nf) = (x as f64, n as f64);
    let lo = if x == 0 {
        0.0
    } else {
        Beta::new(xf, nf - xf + 1.0).map_or(0.0, |b| b.inverse_cdf(tail))
    };
    let hi = if x == n {
        1.0
    } else {
        Beta::new(xf + 1.0, nf - xf).map_or(1.0, |b| b.inverse_cdf(1.0 - tail))
    };
    (lo, hi)
}

/// Whether a claim's statistic can be calibrated by splitting seeds or
/// permuting settings.
pub fn calibrated(c: &ClaimSpec) -> bool {
    // A comparison of a search's arms has no settings to split or permute.
    !c.compares_arms()
        && !matches!(
            c.statistic,
            Statistic::Share | Statistic::Ensemble | Statistic::EnsembleGain
        )
}

/// The kind a claim is counted under.
fn kind(c: &ClaimSpec) -> String {
    let shape = if c.along.is_some() {
        "trend"
    } else {
        "comparison"
    };
    let two = if c.expect == Expect::Differs {
        " (differs)"
    } else {
        ""
    };
    format!("{} {shape}{two}", c.statistic.name())
}

/// Judge `reps` nulls of every calibrated claim of `spec`, each claim's
/// rows given by `rows_for` (as the report builds them), at fixed n and
/// sequentially with ρ = `rho`. Seeded by `seed`: the same folder gives
/// the same table.
pub fn calibrate<'r>(
    spec: &ReportSpec,
    axes_keys: &[Vec<String>],
    rows_for: impl Fn(&ClaimSpec) -> Vec<Row<'r>>,
    (reps, seed, rho): (usize, u64, f64),
) -> Vec<Rate> {
    let mut rates: Vec<Rate> = Vec::new();
    for (i, claim) in spec
        .claims
        .iter()
        .enumerate()
        .filter(|(_, c)| calibrated(c))
    {
        let rows = rows_for(claim);
        let groups: Vec<Vec<Row>> = claims::claim_slices(claim, axes_keys, &rows)
            .into_iter()
            .map(|(_, members)| members.into_iter().copied().collect())
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
        for r in 0..reps {
            let outcomes = if claim.along.is_some() {
                let slice = &groups[r % groups.len().max(1)];
                trend_null(spec, claim, axes_keys, slice, &mut rng, rho)
            } else {
                let configs = configs(&groups);
                let Some(&c) = configs.get(r % configs.len().max(1)) else {
                    break;
                };
                let seeds: Vec<Row> = rows.iter().filter(|x| x.config == c).copied().collect();
                split_null(spec, claim, &seeds, &mut rng, rho)
            };
            let Some(outcomes) = outcomes else { break };
            for (scheme, o) in [("fixed", outcomes.0), ("sequential", outcomes.1)] {
                tally(&mut rates, claim, scheme, o);
            }
        }
    }
    rates
}

fn configs(groups: &[Vec<Row>]) -> Vec<usize> {
    let mut cs: Vec<usize> = groups.iter().flatten().map(|r| r.config).collect();
    cs.sort_unstable();
    cs.dedup();
    cs
}

fn tally(rates: &mut Vec<Rate>, claim: &ClaimSpec, scheme: &'static str, o: Outcome) {
    let kind = kind(claim);
    let i = match rates
        .iter()
        .position(|r| r.kind == kind && r.scheme == scheme)
    {
        Some(i) => i,
        None => {
            rates.push(Rate {
                kind,
                scheme,
                judged: 0,
                holds: 0,
                fails: 0,
                alpha: 0.0,
            });
            rates.len() - 1
        }
    };
    let r = &mut rates[i];
    r.judged += 1;
    r.alpha = r.alpha.max(claim.alpha);
    match o {
        Outcome::Holds => r.holds += 1,
        Outcome::Fails => r.fails += 1,
        Outcome::Inconclusive => {}
    }
}

/// A trial's swept settings.
type Swept<'a> = &'a [(String, Setting)];

/// The split key of a null comparison.
const SPLIT: &str = "split";

/// One configuration's finished seeds shuffled and halved; judged at all
/// seeds and sequentially. `None` when it has fewer than four seeds.
fn split_null(
    spec: &ReportSpec,
    claim: &ClaimSpec,
    seeds: &[Row],
    rng: &mut ChaCha8Rng,
    rho: f64,
) -> Option<(Outcome, Outcome)> {
    let mut seeds: Vec<Row> = seeds
        .iter()
        .filter(|r| r.value.is_some())
        .copied()
        .collect();
    if seeds.len() < 4 {
        return None;
    }
    seeds.shuffle(rng);
    let half = seeds.len() / 2;
    let label = |s: &str| vec![(SPLIT.to_string(), Setting::Str(s.into()))];
    let (a, b) = (label("a"), label("b"));
    let mut null = claim.clone();
    null.this = a.clone();
    null.than = b.clone();
    null.filter = Vec::new();
    null.pool = false;
    null.tune = None;
    let axes = vec![vec![SPLIT.to_string()]];
    // Group 0 is `this`, group 1 `than`; a prefix of n seeds of each.
    let judge = |n: &[usize]| {
        let rows: Vec<Row> = (seeds[..half]
            .iter()
            .take(n[0])
            .map(|r| Row { swept: &a, ..*r }))
        .chain(
            seeds[half..]
                .iter()
                .take(n[1])
                .map(|r| Row { swept: &b, ..*r }),
        )
        .collect();
        one(spec, &null, &axes, rows, 2)
    };
    let fixed = judge(&[half, seeds.len() - half]).0;
    Some((fixed, sequential(half, 2, rho, |n| judge(n).1)))
}

/// A trend slice with the trials' settings permuted among its trials;
/// judged at all seeds and sequentially over prefixes of each setting's
/// trials. `None` when the slice has no trials.
fn trend_null(
    spec: &ReportSpec,
    claim: &ClaimSpec,
    axes: &[Vec<String>],
    slice: &[Row],
    rng: &mut ChaCha8Rng,
    rho: f64,
) -> Option<(Outcome, Outcome)> {
    if slice.is_empty() {
        return None;
    }
    let mut swept: Vec<&[(String, Setting)]> = slice.iter().map(|r| r.swept).collect();
    swept.shuffle(rng);
    let permuted: Vec<Row> = slice
        .iter()
        .zip(&swept)
        .map(|(r, s)| Row { swept: s, ..*r })
        .collect();
    // The settings in order of first appearance, each with its trials.
    let mut settings: Vec<(Swept, Vec<Row>)> = Vec::new();
    for r in &permuted {
        match settings.iter_mut().find(|(s, _)| *s == r.swept) {
            Some((_, v)) => v.push(*r),
            None => settings.push((r.swept, vec![*r])),
        }
    }
    let judge = |n: &[usize]| {
        let rows: Vec<Row> = settings
            .iter()
            .zip(n)
            .flat_map(|((_, v), &k)| v.iter().take(k).copied())
            .collect();
        one(spec, claim, axes, rows, settings.len())
    };
    let all: Vec<usize> = settings.iter().map(|(_, v)| v.len()).collect();
    let fixed = judge(&all).0;
    let least = all.iter().copied().min().unwrap_or(0);
    Some((
        fixed,
        sequential(least, settings.len(), rho, |n| judge(n).1),
    ))
}

/// The sequential outcome of a null of `groups` groups with `max` seeds
/// each: looks from half the seeds (at least 2) in about three rounds to
/// all of them, α spent as α·t^ρ (`crate::settle`).
fn sequential(
    max: usize,
    groups: usize,
    rho: f64,
    mut judge: impl FnMut(&[usize]) -> Vec<Judged>,
) -> Outcome {
    let base = max.div_ceil(2).max(2).min(max);
    if base >= max {
        return judge(&vec![max; groups])
            .first()
            .map_or(Outcome::Inconclusive, one_look);
    }
    let settle = Settle {
        max_seeds: max,
        round: ((max - base) / 3).max(1),
        rho,
        extra: Vec::new(),
    };
    let p = crate::settle::walk(&settle, base, groups, |n| Some(judge(n)));
    let has = |s: State| p.slices.iter().any(|x| x.state == s);
    if has(State::Holds) {
        Outcome::Holds
    } else if has(State::Fails) {
        Outcome::Fails
    } else {
        Outcome::Inconclusive
    }
}

/// A single look at the full α (no seeds to add).
fn one_look(j: &Judged) -> Outcome {
    match j.p {
        Some(p) if p < j.alpha && (j.expected || !j.can_fail) => Outcome::Holds,
        Some(p) if p < j.alpha => Outcome::Fails,
        _ => Outcome::Inconclusive,
    }
}

/// Judge `claim` alone on `rows`: its fixed-n outcome (the first slice)
/// and its judgements for the sequential walk, each slice comparing all
/// `groups` groups.
fn one(
    spec: &ReportSpec,
    claim: &ClaimSpec,
    axes: &[Vec<String>],
    rows: Vec<Row>,
    groups: usize,
) -> (Outcome, Vec<Judged>) {
    let alone = ReportSpec {
        claims: vec![claim.clone()],
        ..spec.clone()
    };
    let v = claims::judge(&alone, axes, |_| rows.clone());
    let judged = v[0]
        .slices
        .iter()
        .map(|s| Judged {
            claim: 0,
            slice: s.slice.clone(),
            alpha: claim.alpha,
            p: s.test.map(|t| t.p),
            expected: s.test.is_none_or(|t| t.expected),
            can_fail: claim.expect != Expect::Differs,
            needed: match s.seeds_needed {
                Some(claims::SeedsNeeded::About(n)) => Some(n),
                _ => None,
            },
            configs: (0..groups).collect(),
        })
        .collect();
    (v[0].outcome, judged)
}

#[cfg(test)]
mod tests;
