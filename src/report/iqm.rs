//! The interquartile mean of each metric per configuration, with a
//! stratified-bootstrap percentile interval (seeds resampled within each
//! configuration), the aggregate Agarwal et al. 2021 recommend beside mean
//! and median: a stuck seed moves it less than the mean, and it wastes
//! fewer seeds than the median.
//!
//! A resample draws a configuration's trials, and all its metrics come
//! along (`stats::iqm_intervals`). Each configuration draws from its own
//! ChaCha8 stream: the FNV-1a hash of `iqm` as seed, the configuration's
//! number as stream ([`resamples`], which the spread and profile figures
//! read too). So summary.csv is byte-identical on every run, and a
//! configuration's intervals do not move when others are added or finish.

use anyhow::Result;
use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::draws::{Bootstrapped, Ride, Wanted};
use crate::metric::{Aggregate, Metric};
use crate::stats;
use crate::study::fnv1a;

/// The seed of every configuration's IQM bootstrap stream.
pub(super) fn seed() -> u64 {
    fnv1a(b"iqm")
}

/// `reps` resamples of configuration `config`'s `n` finished trials (in
/// plan order), from the configuration's own stream. The IQM columns and
/// the spread and profile figures all read these: the same resamples of
/// the same seeds, whichever statistic.
pub(in crate::report) fn resamples(config: u64, n: usize, reps: usize) -> stats::Resamples {
    let mut rng = ChaCha8Rng::seed_from_u64(seed());
    rng.set_stream(config);
    stats::Resamples::draw(n, reps, &mut rng)
}

/// Append `<metric>_iqm`, `_iqm_lo` and `_iqm_hi` to `summary` (one row per
/// configuration, sorted by `config`), from the finished trials of
/// `trials`, with `reps` resamples at `level`; and compute what the
/// figures `wanted` of the same resamples (`report::draws`).
pub(super) fn add_iqm(
    summary: &mut DataFrame,
    trials: &DataFrame,
    (reps, level): (usize, f64),
    wanted: &Wanted,
) -> Result<Bootstrapped> {
    let configs = summary.column("config")?.u64()?.clone();
    let trial_config = trials.column("config")?.u64()?.clone();
    let ok = trials.column("status")?.str()?.clone();
    // Each summary row's finished trials, found in one pass over the trials.
    let row_of: std::collections::HashMap<u64, usize> = (0..configs.len())
        .filter_map(|r| configs.get(r).map(|c| (c, r)))
        .collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); configs.len()];
    for i in 0..trials.height() {
        if ok.get(i) == Some("ok")
            && let Some(&r) = trial_config.get(i).and_then(|c| row_of.get(&c))
        {
            members[r].push(i);
        }
    }
    let columns: Vec<Float64Chunked> = Metric::ALL
        .iter()
        .map(|m| Ok(trials.column(m.name())?.f64()?.clone()))
        .collect::<Result<_>>()?;
    // Per configuration: each metric's value for each member trial.
    let values_of = |r: usize| -> Vec<Vec<Option<f64>>> {
        columns
            .iter()
            .map(|col| members[r].iter().map(|&i| col.get(i)).collect())
            .collect()
    };
    // Configurations are independent (one stream each), so they run on
    // two threads with the same results.
    type Intervals = Vec<Option<(f64, f64)>>;
    let intervals = |rows: std::ops::Range<usize>| -> Vec<(Intervals, (u64, Ride))> {
        rows.map(|r| {
            let config = configs.get(r).unwrap_or(r as u64);
            let res = resamples(config, members[r].len(), reps);
            let ride = wanted.ride(config, &res, level);
            (
                stats::iqm_intervals(&values_of(r), &res, level),
                (config, ride),
            )
        })
        .collect()
    };
    let half = configs.len() / 2;
    let (cis, rides): (Vec<Intervals>, Vec<(u64, Ride)>) = std::thread::scope(|s| {
        let a = s.spawn(|| intervals(0..half));
        let mut b = intervals(half..configs.len());
        let mut all = a.join().expect("the IQM bootstrap thread finishes");
        all.append(&mut b);
        all.into_iter().unzip()
    });
    for (k, m) in Metric::ALL.into_iter().enumerate() {
        let iqm: Vec<Option<f64>> = (0..configs.len())
            .map(|r| {
                let g: Vec<f64> = members[r]
                    .iter()
                    .filter_map(|&i| columns[k].get(i))
                    .collect();
                stats::iqm(&g)
            })
            .collect();
        summary.with_column(Column::new(m.column(Aggregate::Iqm).into(), iqm))?;
        let (lo, hi): (Vec<Option<f64>>, Vec<Option<f64>>) = cis
            .iter()
            .map(|c| (c[k].map(|c| c.0), c[k].map(|c| c.1)))
            .unzip();
        summary.with_column(Column::new(m.column(Aggregate::IqmLo).into(), lo))?;
        summary.with_column(Column::new(m.column(Aggregate::IqmHi).into(), hi))?;
    }
    Ok(Bootstrapped::of(wanted, rides))
}
