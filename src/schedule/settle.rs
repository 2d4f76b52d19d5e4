//! Running a `[settle]` study: the study's seeds first, then round after
//! round of more seeds for the configurations an open claim slice compares,
//! each round one pass of the ordinary trial pool (`train_all`).
//!
//! Which round comes next is recomputed from the stored records before
//! every round (`report::settle::walk`, which judges the claims look by
//! look and lets `crate::settle` decide), never kept in memory or in a file
//! of its own: the rounds depend on results only, so a run killed at any
//! point (inside a round, between rounds) resumes where the records say,
//! whatever `--jobs` was, and a trial stored once is never trained again.
//!
//! On SLURM (`cluster::chain`) a shard trains its part of one round only,
//! the round the merged folder's records say is next ([`run_shard`]); the
//! judge job after the round's array merges the shards and submits the
//! next round.

use std::path::Path;

use anyhow::{Result, bail};

use super::{RunOptions, RunOutcome, pending, stop_on_signal, train_all, train_step};
use crate::data::Datasets;
use crate::plan::{Plan, Trial};
use crate::report::settle::walk;
use crate::store::ResultsDir;
use crate::study::Study;
use crate::train::TrialRecord;

/// Run every round of a settle study, then write the report; with
/// `--shard`, only this shard's part of the next round ([`run_shard`]).
pub(super) fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if let Some(shard) = opts.shard {
        let Some(merged) = &opts.merged else {
            bail!("a settle shard needs the merged folder of the rounds so far (--merged)");
        };
        return run_shard(exp, plan, opts, shard, merged);
    }
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    let skipped = dir.read_records()?.len();
    dir.write_study(exp)?;
    let log = dir.open_log()?;
    let stop = stop_on_signal();
    let (mut trained, mut wall, mut interrupted) = (0, std::time::Duration::ZERO, false);
    loop {
        let records = dir.read_records()?;
        let Some(settled) = walk(exp, plan, &records, Some(&datasets)) else {
            bail!("internal: a settle run of a study without [settle]");
        };
        let Some(seeds) = settled.progress.next.clone() else {
            break;
        };
        let round: Vec<&Trial> = plan
            .distinct()
            .filter(|t| t.replicate < seeds[t.config_index])
            .collect();
        let todo = pending(&round, &records, &datasets);
        if !opts.quiet {
            eprintln!("{}", round_line(&settled.progress, &seeds, todo.len()));
        }
        if !train_step(
            todo,
            &datasets,
            &log,
            &stop,
            opts,
            (&mut trained, &mut wall),
        )? {
            interrupted = true;
            break;
        }
    }
    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    let total = published
        .report
        .settled
        .as_ref()
        .map_or(published.records.len(), |s| s.progress.trials().0);
    let done = super::Done {
        skipped,
        trained,
        wall,
        interrupted,
        moved_aside,
    };
    Ok(RunOutcome::of_all(published, total, done))
}

/// Shard `i` of `n` of the round that comes next by the records of the
/// merged folder `merged` (the union of the earlier rounds' shards): the
/// round's trials (`crate::settle::round_trials`) split by the plan's
/// shard rule, so every machine and every rerun computes the same split.
/// Records go to this shard's own folder, `opts.out`; a rerun trains only
/// what neither folder holds. One round only: the next needs every
/// shard's results, merged and judged.
fn run_shard(
    exp: &Study,
    plan: &Plan,
    opts: &RunOptions,
    (i, n): (usize, usize),
    merged: &Path,
) -> Result<RunOutcome> {
    let datasets = Datasets::load(exp, plan)?;
    let (dir, main) = super::halving::shard_folders(exp, opts, merged, "a settle shard")?;
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    dir.write_study(exp)?;
    let mut records = main.read_records()?;
    let next = walk(exp, plan, &records, Some(&datasets))
        .and_then(|s| crate::settle::round_trials(plan, &s.progress));
    let (mut total, mut skipped, mut trained, mut wall, mut rung) =
        (0, 0, 0, std::time::Duration::ZERO, None);
    let mut ids = std::collections::HashSet::new();
    if let Some((k, round)) = next {
        let mine = crate::plan::shard_of(round, i, n, |t| super::cost(t, &datasets));
        records.extend(dir.read_records()?);
        let todo = pending(&mine, &records, &datasets);
        (total, skipped) = (mine.len(), mine.len() - todo.len());
        let log = dir.open_log()?;
        (trained, wall) = train_all(todo, &datasets, &log, &stop_on_signal(), opts, None)?;
        ids.extend(mine.iter().map(|t| t.id.clone()));
        rung = Some((k, 0));
    }
    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    let ours: Vec<&TrialRecord> = published
        .records
        .iter()
        .filter(|r| ids.contains(&r.id))
        .collect();
    let done = super::Done {
        skipped,
        trained,
        wall,
        interrupted: trained + skipped < total,
        moved_aside,
    };
    let mut outcome = RunOutcome::of((published.report, published.damaged), &ours, total, done);
    outcome.rung = rung;
    Ok(outcome)
}

/// `look 2 of 6: 4 of 12 configurations to 9 seeds, 12 trials to train`.
fn round_line(p: &crate::settle::Progress, seeds: &[usize], todo: usize) -> String {
    let k = p.judged;
    let n = p.looks.get(k).copied().unwrap_or(0);
    let served = seeds.iter().filter(|&&s| s == n).count();
    format!(
        "look {k} of {}: {served} of {} configurations to {n} seeds, {todo} trials to train",
        p.looks.len() - 1,
        seeds.len()
    )
}
