//! The IQM's stratified bootstrap for every metric of a configuration at
//! once, cheap enough for a thousand configurations × 40 seeds × 15
//! metrics (benches/p3.toml: 32 s of report with a resample per metric and
//! a sort per resample, 15 s with counting; see docs/performance.md).
//!
//! Seeds are the replicates, so a resample draws the configuration's
//! trials with replacement and every metric of a drawn trial comes along:
//! one resample serves all metrics, as rliable resamples runs, and the
//! draws no longer scale with the number of metrics. A resample is kept as
//! counts (how often each trial was drawn); a metric's IQM is read off the
//! counts walked in that metric's sorted order, all resamples side by side,
//! so no resample is ever built or sorted. The resampled values are the
//! same multiset a sort would give, so each resample's IQM is
//! `scipy.stats.trim_mean(resample, 0.25)` (tested against `iqm`).
//!
//! A metric undefined on some trials of the configuration (`val_loss`
//! without a validation split, accuracies of a regression) takes, in each
//! resample, the drawn trials that define it: its resample size varies as
//! the share of such trials does. Resamples that draw none of them are
//! left out. (`epochs_to_target` is defined on every finished
//! classification trial: a seed that never reaches the target counts as
//! the budget + 1, see `Metric::value`.)

use super::Resamples;
use crate::dispatch::compiled_for_cpu;

/// Each metric's percentile interval at `level` of the IQM over the
/// resamples `res` of one configuration's trials. `values[m][t]` is metric
/// m of trial t (`None` when the trial does not define it); every metric
/// lists the `res.n()` trials. A metric defined on no trial has no
/// interval; one whose defined values are all the same has that value at
/// both ends (every resample's IQM is it) without resampling.
pub fn iqm_intervals(
    values: &[Vec<Option<f64>>],
    res: &Resamples,
    level: f64,
) -> Vec<Option<(f64, f64)>> {
    let n = res.n();
    assert!(values.iter().all(|v| v.len() == n), "one list of trials");
    if n == 0 || res.reps() == 0 {
        return vec![None; values.len()];
    }
    let mut ws = Walk::new(res.reps());
    values
        .iter()
        .map(|metric| {
            let mut defined: Vec<(f64, usize)> = metric
                .iter()
                .enumerate()
                .filter_map(|(t, v)| v.map(|v| (v, t)))
                .collect();
            let first = defined.first()?.0;
            if defined.iter().all(|(v, _)| v.to_bits() == first.to_bits()) {
                return Some((first, first));
            }
            defined.sort_by(|a, b| a.0.total_cmp(&b.0));
            let iqms = ws.iqms(&defined, res);
            super::percentile_interval(&iqms, level)
        })
        .collect()
}

/// Scratch space of the walk over the resamples, one entry per resample.
struct Walk {
    /// Resampled values passed so far (in the metric's sorted order).
    passed: Vec<f64>,
    /// Σ value · copies inside the kept middle.
    sum: Vec<f64>,
    /// The middle kept: positions lo..hi of the sorted resample.
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Walk {
    fn new(reps: usize) -> Walk {
        Walk {
            passed: vec![0.0; reps],
            sum: vec![0.0; reps],
            lo: vec![0.0; reps],
            hi: vec![0.0; reps],
        }
    }

    /// Each resample's IQM of the `defined` (value, trial) pairs, in
    /// ascending order of value; resamples that drew none are left out.
    fn iqms(&mut self, defined: &[(f64, usize)], res: &Resamples) -> Vec<f64> {
        let (n, reps) = (res.n(), self.sum.len());
        self.passed.fill(0.0);
        self.sum.fill(0.0);
        if defined.len() == n {
            // Every resample has n values: drop ⌊n/4⌋ at each end.
            let cut = (n / 4) as f64;
            self.lo.fill(cut);
            self.hi.fill(n as f64 - cut);
        } else {
            self.hi.fill(0.0);
            for &(_, t) in defined {
                for (size, c) in self.hi.iter_mut().zip(res.copies(t)) {
                    *size += c;
                }
            }
            for (lo, hi) in self.lo.iter_mut().zip(self.hi.iter_mut()) {
                *lo = (*hi / 4.0).floor();
                *hi -= *lo;
            }
        }
        for &(v, t) in defined {
            walk_one(
                v,
                res.copies(t),
                &self.lo,
                &self.hi,
                &mut self.passed,
                &mut self.sum,
            );
        }
        (0..reps)
            .filter(|&r| self.hi[r] > self.lo[r])
            .map(|r| self.sum[r] / (self.hi[r] - self.lo[r]))
            .collect()
    }
}

compiled_for_cpu! {
    /// [`walk_portable`] in the copy compiled for the widest vector unit
    /// this CPU has (`crate::dispatch`); the same operations in the same
    /// order, so the same bits.
    fn walk_one(
        v: f64,
        copies: &[f64],
        lo: &[f64],
        hi: &[f64],
        passed: &mut [f64],
        sum: &mut [f64],
    ) => walk_portable, walk_avx512, walk_avx2
}

/// One sorted value drawn `copies[r]` times in resample r: the copies at
/// positions passed[r] .. passed[r] + copies[r] that fall inside lo..hi
/// join the middle's sum. Plain comparisons (not `f64::max`, whose NaN
/// rule blocks vector code) over equal-length slices, so it vectorises.
#[inline(always)]
fn walk_portable(
    v: f64,
    copies: &[f64],
    lo: &[f64],
    hi: &[f64],
    passed: &mut [f64],
    sum: &mut [f64],
) {
    let k = copies.len();
    let (lo, hi, passed, sum) = (&lo[..k], &hi[..k], &mut passed[..k], &mut sum[..k]);
    for r in 0..k {
        let from = if passed[r] > lo[r] { passed[r] } else { lo[r] };
        let end = passed[r] + copies[r];
        let to = if end < hi[r] { end } else { hi[r] };
        let inside = to - from;
        sum[r] += if inside > 0.0 { v * inside } else { 0.0 };
        passed[r] = end;
    }
}

#[cfg(test)]
mod tests;
