//! The interquartile mean of each metric per configuration, with a
//! stratified-bootstrap percentile interval (seeds resampled within each
//! configuration), the aggregate Agarwal et al. 2021 recommend beside mean
//! and median: a stuck seed moves it less than the mean, and it wastes
//! fewer seeds than the median.
//!
//! Each metric's resamples draw from one ChaCha8 stream seeded with the
//! FNV-1a hash of `iqm␟<metric>`, so summary.csv is byte-identical on
//! every run.

use anyhow::Result;
use polars::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::metric::{Aggregate, Metric};
use crate::stats;
use crate::study::fnv1a;

/// The seed of `metric`'s IQM bootstrap.
pub(super) fn seed(metric: Metric) -> u64 {
    fnv1a(format!("iqm\u{1f}{}", metric.name()).as_bytes())
}

/// Append `<metric>_iqm`, `_iqm_lo` and `_iqm_hi` to `summary` (one row per
/// configuration, sorted by `config`), from the finished trials of
/// `trials`, with `reps` resamples at `level`.
pub(super) fn add_iqm(
    summary: &mut DataFrame,
    trials: &DataFrame,
    reps: usize,
    level: f64,
) -> Result<()> {
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
    let mut groups_of = Vec::new();
    for m in Metric::ALL {
        let values = trials.column(m.name())?.f64()?.clone();
        let groups: Vec<Vec<f64>> = members
            .iter()
            .map(|rows| rows.iter().filter_map(|&i| values.get(i)).collect())
            .collect();
        groups_of.push((m, groups));
    }
    // The metrics' bootstraps are independent (one seeded stream each), so
    // they run on two threads with the same results; the work is configs
    // × metrics × reps × seeds draws, the report's largest cost.
    let intervals = |part: &[(Metric, Vec<Vec<f64>>)]| -> Vec<Vec<Option<(f64, f64)>>> {
        part.iter()
            .map(|(m, groups)| {
                let refs: Vec<&[f64]> = groups.iter().map(Vec::as_slice).collect();
                let mut rng = ChaCha8Rng::seed_from_u64(seed(*m));
                stats::stratified_bootstrap_sorted(
                    &refs,
                    stats::iqm_of_sorted,
                    reps,
                    level,
                    &mut rng,
                )
            })
            .collect()
    };
    let (first, second) = groups_of.split_at(groups_of.len() / 2);
    let cis: Vec<Vec<Option<(f64, f64)>>> = std::thread::scope(|s| {
        let a = s.spawn(|| intervals(first));
        let mut b = intervals(second);
        let mut all = a.join().expect("the IQM bootstrap thread finishes");
        all.append(&mut b);
        all
    });
    for ((m, groups), ci) in groups_of.iter().zip(cis) {
        let m = *m;
        let iqm: Vec<Option<f64>> = groups.iter().map(|g| stats::iqm(g)).collect();
        summary.with_column(Column::new(m.column(Aggregate::Iqm).into(), iqm))?;
        let (lo, hi): (Vec<Option<f64>>, Vec<Option<f64>>) =
            ci.iter().map(|c| (c.map(|c| c.0), c.map(|c| c.1))).unzip();
        summary.with_column(Column::new(m.column(Aggregate::IqmLo).into(), lo))?;
        summary.with_column(Column::new(m.column(Aggregate::IqmHi).into(), hi))?;
    }
    Ok(())
}
