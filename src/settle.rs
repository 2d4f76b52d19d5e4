//! Sequential seeds (`[settle]`): which claim slices are still open, the α
//! a look may spend, and which configurations get the next round of seeds.
//!
//! Input: the `[settle]` settings, the study's seed count, and a judge
//! that, given how many seeds each configuration has so far, returns every
//! claim slice's test on exactly those seeds ([`Judged`]), or `None` when
//! some of those seeds have no result yet. Output: where each slice stands
//! ([`Standing`]) and the seeds to train next ([`Progress::next`]).
//!
//! Pure: the scheduler (`schedule/settle.rs`) trains and stores, the
//! report (`report/settle.rs`) judges, this file decides. Decisions
//! depend only on the judgements, which depend only on stored results, so
//! the rounds are the same whatever `--jobs` is and however often a run
//! was interrupted.
//!
//! **Error control** (Lan & DeMets 1983 α spending, union bound over
//! looks). Look k (k = 0..K, K = ⌈(max_seeds − seeds)/round⌉) judges with
//! n_k = min(seeds + k·round, max_seeds) seeds per compared configuration,
//! information fraction t_k = n_k/max_seeds, and may reject at α_k =
//! α·t_k^ρ − α·t_{k−1}^ρ (t_{−1} = 0), so Σ α_k = α. Within a look, Holm at
//! level α_k runs over **every** slice of the study: slices settled at an
//! earlier look enter with p = 0 (already rejected), slices stopped for
//! futility or without a test with p = 1, open slices with their p at this
//! look. Holm is monotone in the p-values, so a false rejection at look k
//! implies one by Holm over all slices' look-k p-values, which happens
//! with probability at most α_k whatever the other slices do; summing over
//! looks, the family-wise error is at most α without any assumption on how
//! the looks' statistics correlate. Futility only ever removes chances to
//! reject, so it keeps the bound.

use crate::plan::{Plan, Trial};
use crate::stats;
use crate::study::Settle;

/// Seeds per compared configuration at each look: n_0 = `base` (the
/// study's seeds), then `round` more a look up to `max_seeds`.
pub fn looks(base: usize, s: &Settle) -> Vec<usize> {
    let mut out = vec![base];
    let mut n = base;
    while n < s.max_seeds {
        n = (n + s.round.max(1)).min(s.max_seeds);
        out.push(n);
    }
    out
}

/// α spent by information fraction `t`: α·t^ρ.
pub fn spent(alpha: f64, t: f64, rho: f64) -> f64 {
    alpha * t.clamp(0.0, 1.0).powf(rho)
}

/// The level look `k` may reject at: α(t_k) − α(t_{k−1}).
pub fn level(alpha: f64, s: &Settle, looks: &[usize], k: usize) -> f64 {
    let t = |n: usize| n as f64 / s.max_seeds as f64;
    let before = k
        .checked_sub(1)
        .map_or(0.0, |j| spent(alpha, t(looks[j]), s.rho));
    spent(alpha, t(looks[k]), s.rho) - before
}

/// One claim slice's test at a look, as the claims judge it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The claim's position in the study.
    pub claim: usize,
    /// The slice's label (`depth=2`, `all`).
    pub slice: String,
    /// The claim's α.
    pub alpha: f64,
    /// The raw p-value of the slice's test; `None` when it has none.
    pub p: Option<f64>,
    /// Whether the effect points the way the claim expects.
    pub expected: bool,
    /// Whether the claim can fail (`differs` cannot).
    pub can_fail: bool,
    /// Seeds per configuration that would settle it at the observed effect.
    pub needed: Option<usize>,
    /// The configurations the slice compares.
    pub configs: Vec<usize>,
}

/// Why a slice stopped getting seeds before it settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Futility {
    /// Its effect points against the claim, significantly at the claim's α
    /// before any correction: more seeds would most likely make it fail.
    Against,
    /// About this many seeds (over the cap) would settle it.
    Needs(usize),
}

/// Where a slice stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    /// Still getting seeds.
    Open,
    /// Significant the expected way at its look's level.
    Holds,
    /// Significant the other way at its look's level.
    Fails,
    /// Stopped for futility.
    Futile(Futility),
    /// Reached `max_seeds` unsettled.
    Capped,
}

impl State {
    /// Whether the slice takes part in no further look.
    pub fn closed(self) -> bool {
        self != State::Open
    }
}

/// A slice after the looks judged so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// The claim's position in the study.
    pub claim: usize,
    /// The slice's label.
    pub slice: String,
    /// Where it stands.
    pub state: State,
    /// The look it was last judged at (where it settled or stopped).
    pub look: usize,
    /// Seeds per configuration at that look.
    pub seeds: usize,
    /// The level α_k of that look.
    pub level: f64,
    /// Its Holm-adjusted p at that look.
    pub p_adjusted: Option<f64>,
}

/// Where a settle study stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Seeds per compared configuration at each planned look.
    pub looks: Vec<usize>,
    /// Looks judged so far.
    pub judged: usize,
    /// Every slice, in the judge's order.
    pub slices: Vec<Standing>,
    /// Seeds each configuration has been given so far.
    pub seeds: Vec<usize>,
    /// When the next look still lacks results: each configuration's seeds
    /// for it (train every seed below that count not stored yet).
    pub next: Option<Vec<usize>>,
}

impl Progress {
    /// Trials given so far, and what giving every configuration the most
    /// seeds any one got would have cost (uniform allocation).
    pub fn trials(&self) -> (usize, usize) {
        let most = self.seeds.iter().copied().max().unwrap_or(0);
        (self.seeds.iter().sum(), most * self.seeds.len())
    }
}

/// The look the records lack results for (`p.next`) and the trials it adds:
/// of each configuration it serves, the seeds from the previous look's
/// count up to its own (every seed below the study's own at look 0).
/// Depends on the looks judged only, not on which of these trials are
/// stored, so every shard of a round computes the same set. `None` once
/// every slice is closed.
pub fn round_trials<'a>(plan: &'a Plan, p: &Progress) -> Option<(usize, Vec<&'a Trial>)> {
    let seeds = p.next.as_ref()?;
    let k = p.judged;
    let from = k.checked_sub(1).map_or(0, |j| p.looks[j]);
    let trials = plan
        .distinct()
        .filter(|t| t.replicate >= from && t.replicate < seeds[t.config_index])
        .collect();
    Some((k, trials))
}

/// Walk the looks of a study of `n_configs` configurations with `base`
/// seeds as far as results go. `judge(seeds)` judges every claim slice on
/// the first `seeds[c]` seeds of each configuration c, or gives `None`
/// when one of them has no result yet.
pub fn walk(
    s: &Settle,
    base: usize,
    n_configs: usize,
    mut judge: impl FnMut(&[usize]) -> Option<Vec<Judged>>,
) -> Progress {
    let looks = looks(base, s);
    let mut seeds = vec![base; n_configs];
    let mut slices: Vec<Standing> = Vec::new();
    for k in 0..looks.len() {
        let Some(judged) = judge(&seeds) else {
            return Progress {
                judged: k,
                slices,
                next: Some(seeds.clone()),
                seeds,
                looks,
            };
        };
        if k == 0 {
            slices = judged.iter().map(|j| open(j, looks[0])).collect();
        }
        decide(s, &looks, k, &judged, &mut slices);
        let last = k + 1 == looks.len();
        let mut more: Vec<usize> = Vec::new();
        for (st, j) in slices.iter_mut().zip(&judged) {
            if st.state == State::Open {
                if last {
                    st.state = State::Capped;
                } else {
                    more.extend(&j.configs);
                }
            }
        }
        if more.is_empty() {
            return Progress {
                judged: k + 1,
                slices,
                seeds,
                next: None,
                looks,
            };
        }
        for c in more {
            seeds[c] = looks[k + 1];
        }
    }
    unreachable!("the last look caps every open slice")
}

fn open(j: &Judged, seeds: usize) -> Standing {
    Standing {
        claim: j.claim,
        slice: j.slice.clone(),
        state: State::Open,
        look: 0,
        seeds,
        level: 0.0,
        p_adjusted: None,
    }
}

/// Judge look `k`'s open slices: Holm at α_k over every slice (settled ones
/// as p = 0, stopped ones and those without a test as p = 1), then
/// futility for those still open.
fn decide(s: &Settle, looks: &[usize], k: usize, judged: &[Judged], slices: &mut [Standing]) {
    let ps: Vec<f64> = slices
        .iter()
        .zip(judged)
        .map(|(st, j)| match st.state {
            State::Holds | State::Fails => 0.0,
            State::Open => j.p.filter(|p| !p.is_nan()).unwrap_or(1.0),
            State::Futile(_) | State::Capped => 1.0,
        })
        .collect();
    let adjusted = stats::holm(&ps);
    for ((st, j), adj) in slices.iter_mut().zip(judged).zip(adjusted) {
        if st.state.closed() {
            continue;
        }
        let level = level(j.alpha, s, looks, k);
        st.look = k;
        st.seeds = looks[k];
        st.level = level;
        st.p_adjusted = j.p.map(|_| adj);
        st.state = match j.p {
            Some(_) if adj < level && (j.expected || !j.can_fail) => State::Holds,
            Some(_) if adj < level => State::Fails,
            Some(p) if j.can_fail && !j.expected && p < j.alpha => State::Futile(Futility::Against),
            _ => match j.needed {
                Some(n) if n > s.max_seeds => State::Futile(Futility::Needs(n)),
                _ => State::Open,
            },
        };
    }
}

#[cfg(test)]
mod tests;
