//! Running a successive-halving study: rung after rung, each rung one
//! pass of the ordinary trial pool (`train_all`) over the trials of the
//! configurations still in, each trained from its checkpoint to the rung's
//! budget.
//!
//! Which rung comes next and who is in it is recomputed from the stored
//! records at the start of every rung (`crate::halving::walk`), never kept
//! in memory or in a file of its own: promotions depend on results only,
//! so a run killed at any point (mid-rung, between rungs) resumes where
//! the records say, whatever `--jobs` was. A trial's record of rung k is
//! appended only after its checkpoint at r_k is stored; a kill between the
//! two leaves a checkpoint one rung ahead of the records, and the rerun
//! stores that checkpoint's record without training.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::{RunOptions, RunOutcome, stop_on_signal, train_all};
use crate::checkpoint;
use crate::data::{Dataset, Datasets};
use crate::halving::{rung_trials, rungs, without_result};
use crate::plan::{Plan, Trial};
use crate::store::{ResultsDir, same_path};
use crate::study::Study;
use crate::train::{self, Status, TrialRecord};

/// What every trial of one rung does: train to `until` epochs, continuing
/// from its checkpoint under `dir`, and store the checkpoint it ends at.
pub(super) struct RungWork {
    /// The rung's budget in epochs.
    pub until: usize,
    /// The results folder.
    pub dir: PathBuf,
}

impl RungWork {
    /// Train `trial` to the budget; `None` when abandoned (Ctrl-C). The
    /// checkpoint is stored before the record is handed back, so the
    /// record never runs ahead of it.
    pub fn train(
        &self,
        trial: &Trial,
        data: &Dataset,
        progress: train::Progress,
        threads: train::Threads,
    ) -> Result<Option<TrialRecord>> {
        // An unreadable checkpoint (another format, a disk error) only
        // costs the retraining: the result is the same from the start.
        let from = checkpoint::load(&self.dir, &trial.id)
            .ok()
            .flatten()
            .filter(|s| s.epoch <= self.until);
        if let Some(s) = from.as_ref().filter(|s| s.epoch == self.until) {
            // Trained and checkpointed, but killed before its record was stored.
            return Ok(Some(s.record.clone()));
        }
        let Some((record, snapshot)) =
            train::run_trial_to(trial, data, from, self.until, progress, threads)
        else {
            return Ok(None);
        };
        if let Some(s) = snapshot {
            checkpoint::save(&self.dir, &s, record.params.total)?;
            test_kill_after_checkpoint(&trial.id, s.epoch);
        }
        Ok(Some(record))
    }
}

/// Testing hook (like `MLPSWEEP_TEST_KILL_BEFORE_RENAME`): with
/// `MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT=<trial id>:<epoch>` the process
/// SIGKILLs itself once that trial's checkpoint at that epoch is stored,
/// before its record is, so tests/durability.rs can leave a checkpoint one
/// rung ahead of the records. Not for everyday use.
fn test_kill_after_checkpoint(id: &str, epoch: usize) {
    if std::env::var("MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT").ok() == Some(format!("{id}:{epoch}")) {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        std::process::abort();
    }
}

/// Run every rung of a halving study, then write the report; with
/// `--shard`, only this shard's part of the next rung ([`run_shard`]).
pub(super) fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if let Some(shard) = opts.shard {
        let Some(merged) = &opts.merged else {
            bail!("a halving shard needs the merged folder it continues (--merged)");
        };
        return run_shard(exp, plan, opts, shard, merged);
    }
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    // Trials with a record at some rung already: what "already stored" means here.
    let skipped = dir.read_records()?.len();
    dir.write_study(exp)?;
    let log = dir.open_log()?;
    let stop = stop_on_signal();
    let mut trained = 0;
    let mut wall = std::time::Duration::ZERO;
    let mut interrupted = false;
    loop {
        let history = dir.read_history()?;
        let Some((k, budget, configs)) = rungs(exp, plan, &history).and_then(|r| r.next) else {
            break;
        };
        let pending = without_result(exp, &history, &rung_trials(plan, &configs), budget);
        let n = pending.len();
        if !opts.quiet {
            eprintln!("{}", rung_line(exp, plan, (k, budget), configs.len(), n));
        }
        let rung = RungWork {
            until: budget,
            dir: dir.path().to_path_buf(),
        };
        let (done, w) = train_all(pending, &datasets, &log, &stop, opts, Some(rung))?;
        trained += done;
        wall += w;
        if done < n || stop.load(std::sync::atomic::Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    let published = dir.write_report(exp, plan, &datasets, &[])?;
    let (report, records) = (published.report, published.records);
    let count = |s: Status| records.iter().filter(|r| r.status == s).count();
    let total = plan.distinct().count();
    Ok(RunOutcome {
        total,
        skipped,
        trained,
        diverged: count(Status::Diverged),
        failed: count(Status::Failed),
        wall,
        verdicts: report.verdicts,
        halving: report.halving,
        interrupted,
        moved_aside,
        rung: None,
        damaged: published.damaged,
    })
}

/// Shard `i` of `n` of the rung that comes next by the records of the
/// merged folder `merged` (the union of the earlier rungs' shards): its
/// trials are split by the plan's shard rule, so the split depends only on
/// the finished rungs, and every machine and every rerun computes the
/// same one. Each trial continues from its checkpoint under `merged` and
/// leaves the next one there (a shared filesystem), while its record goes
/// to this shard's own folder, `opts.out`. A rerun (a requeued or
/// resubmitted task) trains only what neither folder holds yet, and a
/// checkpoint stored just before a kill gives its record without training,
/// as in a local run. Trains one rung only: the next needs every shard's
/// results, merged.
fn run_shard(
    exp: &Study,
    plan: &Plan,
    opts: &RunOptions,
    (i, n): (usize, usize),
    merged: &Path,
) -> Result<RunOutcome> {
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let main = ResultsDir::new(merged);
    if same_path(dir.path(), main.path()) {
        bail!(
            "--merged {}: a halving shard writes its records to a folder of its own (--out), not to the merged one",
            merged.display()
        );
    }
    // Refused before the shard's folder exists.
    if main.holds_other_study(exp)? {
        bail!(
            "--merged {}: holds a different study (its study.toml differs from this run's); \
             a shard continues only the merged results of its own study",
            merged.display()
        );
    }
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    dir.write_study(exp)?;
    let merged_history = main.read_history()?;
    let next = rungs(exp, plan, &merged_history).and_then(|r| r.next);
    let mut outcome = RunOutcome {
        total: 0,
        skipped: 0,
        trained: 0,
        diverged: 0,
        failed: 0,
        wall: std::time::Duration::ZERO,
        verdicts: Vec::new(),
        halving: None,
        interrupted: false,
        moved_aside,
        rung: None,
        damaged: Vec::new(),
    };
    if let Some((k, budget, configs)) = next {
        let mine = crate::plan::shard_of(rung_trials(plan, &configs), i, n, |t| {
            super::cost(t, &datasets)
        });
        let mut history = merged_history;
        history.extend(dir.read_history()?);
        let pending = without_result(exp, &history, &mine, budget);
        let n_pending = pending.len();
        let log = dir.open_log()?;
        let stop = stop_on_signal();
        let rung = RungWork {
            until: budget,
            dir: main.path().to_path_buf(),
        };
        let (trained, wall) = train_all(pending, &datasets, &log, &stop, opts, Some(rung))?;
        let ids: std::collections::HashSet<&str> = mine.iter().map(|t| t.id.as_str()).collect();
        let stored = dir.read_records()?;
        let ours: Vec<&TrialRecord> = stored
            .iter()
            .filter(|r| ids.contains(r.id.as_str()))
            .collect();
        let count = |s: Status| ours.iter().filter(|r| r.status == s).count();
        outcome = RunOutcome {
            total: mine.len(),
            skipped: mine.len() - n_pending,
            trained,
            diverged: count(Status::Diverged),
            failed: count(Status::Failed),
            wall,
            interrupted: trained < n_pending,
            rung: Some((k, budget)),
            ..outcome
        };
    }
    let published = dir.write_report(exp, plan, &datasets, &[])?;
    (outcome.verdicts, outcome.halving) = (published.report.verdicts, published.report.halving);
    outcome.damaged = published.damaged;
    Ok(outcome)
}

/// The line a rung starts with: which rung of how many, its epoch budget,
/// and how many trials it trains (a trial trains once per rung it
/// reaches, from its checkpoint of the rung before).
fn rung_line(
    exp: &Study,
    plan: &Plan,
    (k, budget): (usize, usize),
    configs: usize,
    n: usize,
) -> String {
    let epochs = plan.trials.first().map_or(0, |t| t.config.train.epochs);
    let total = exp.halving.as_ref().map_or(0, |h| {
        crate::halving::budgets(h.min_epochs, h.eta, epochs).len()
    });
    format!(
        "{}: rung {k} ({} of {total}): {configs} configurations, {n} trials to train to {budget} epochs",
        exp.name,
        k + 1
    )
}
