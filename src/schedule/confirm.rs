//! Running a search with `[search] confirm = k`: the search's own trials
//! first (one pass of the ordinary trial pool), then the winner's k fresh
//! seeds (a second pass).
//!
//! The winner is recomputed from the stored records before the second pass
//! (`report::confirm::winner`), never kept in memory or in a file of its
//! own: it depends on results only, so a run killed at any point (in either
//! pass, between them) resumes where the records say, whatever `--jobs`
//! was, and a trial stored once is never trained again. `--shard` is
//! refused: the second pass depends on the first's results, and no
//! judge job chains it on SLURM yet (as halving's rungs and settle's
//! rounds are chained, `sweep/slurm_chain.rs`).

use anyhow::{Result, bail};

use super::{RunOptions, RunOutcome, pending, stop_on_signal, train_step};
use crate::data::Datasets;
use crate::plan::{Plan, Trial};
use crate::report::confirm::winner;
use crate::store::ResultsDir;
use crate::study::Study;

/// Train the search's trials, then its winner's fresh seeds, then write the report.
pub(super) fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if opts.shard.is_some() {
        bail!(
            "--shard: [search] confirm retrains the winner, which depends on the search's \
             results; run it in one process (sharding it is not built), or set \
             search.confirm = 0 for the shards"
        );
    }
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    let n = exp.selection_seeds();
    let selection: Vec<&Trial> = plan.distinct().filter(|t| t.replicate < n).collect();
    let skipped = dir.read_records()?.len();
    dir.write_study(exp)?;
    let log = dir.open_log()?;
    let stop = stop_on_signal();
    let (mut trained, mut wall, mut interrupted) = (0, std::time::Duration::ZERO, false);
    // At most two passes: the search's trials, then the winner's fresh seeds.
    for _ in 0..2 {
        let records = dir.read_records()?;
        let mut todo = pending(&selection, &records, &datasets);
        if todo.is_empty() {
            let Some(w) = winner(exp, plan, &records) else {
                break;
            };
            let fresh = fresh_trials(plan, w, n);
            todo = pending(&fresh, &records, &datasets);
            if todo.is_empty() {
                break;
            }
            if !opts.quiet {
                eprintln!(
                    "confirm: the winner (configuration {w}) on {} fresh seed(s), {} trials to train",
                    fresh.len(),
                    todo.len()
                );
            }
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
    let total = selection.len() + exp.confirm();
    let done = super::Done {
        skipped,
        trained,
        wall,
        interrupted,
        moved_aside,
    };
    Ok(RunOutcome::of_all(published, total, done))
}

/// The winner's fresh trials: its replicates from the `n`th on.
fn fresh_trials(plan: &Plan, winner: usize, n: usize) -> Vec<&Trial> {
    plan.trials
        .iter()
        .filter(|t| t.config_index == winner && t.replicate >= n)
        .collect()
}
