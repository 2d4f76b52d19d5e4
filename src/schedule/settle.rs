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

use anyhow::{Result, bail};

use super::{RunOptions, RunOutcome, pending, stop_on_signal, train_all};
use crate::data::Datasets;
use crate::plan::{Plan, Trial};
use crate::report::settle::walk;
use crate::store::ResultsDir;
use crate::study::Study;
use crate::train::TrialRecord;

/// Run every round of a settle study, then write the report.
pub(super) fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if opts.shard.is_some() {
        bail!(
            "--shard: a [settle] study's rounds depend on its judged results; run it in one \
             process (sharding its rounds is not built yet)"
        );
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
        let n = todo.len();
        let (done, w) = train_all(todo, &datasets, &log, &stop, opts, None)?;
        trained += done;
        wall += w;
        if done < n || stop.load(std::sync::atomic::Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    let (report, records) = (published.report, published.records);
    let total = report
        .settled
        .as_ref()
        .map_or(records.len(), |s| s.progress.trials().0);
    let ours: Vec<&TrialRecord> = records.iter().collect();
    let done = super::Done {
        skipped,
        trained,
        wall,
        interrupted,
        moved_aside,
    };
    Ok(RunOutcome::of(
        (report, published.damaged),
        &ours,
        total,
        done,
    ))
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
