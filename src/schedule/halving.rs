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

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Result, bail};

use super::{RunOptions, RunOutcome, stop_on_signal, train_all};
use crate::checkpoint;
use crate::data::{Dataset, Datasets};
use crate::halving::{result_at, rungs};
use crate::plan::{Plan, Trial};
use crate::store::ResultsDir;
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

/// Run every rung of a halving study, then write the report.
pub(super) fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if opts.shard.is_some() {
        bail!(
            "--shard splits a plan into independent trials; a halving study's rungs depend on each other, so run it whole"
        );
    }
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let (moved_aside, _lock) = dir.claim(exp, opts.fresh)?;
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
        let Some((_, budget, configs)) = rungs(exp, plan, &history).and_then(|r| r.next) else {
            break;
        };
        let by_id: HashMap<&str, Vec<&TrialRecord>> =
            history.iter().fold(HashMap::new(), |mut m, r| {
                m.entry(r.id.as_str()).or_default().push(r);
                m
            });
        let h = exp.halving.as_ref().expect("a halving study");
        let epochs = plan.trials[0].config.train.epochs;
        let mut seen = std::collections::HashSet::new();
        let pending: Vec<&Trial> = plan
            .trials
            .iter()
            .filter(|t| configs.binary_search(&t.config_index).is_ok())
            .filter(|t| seen.insert(t.id.as_str()))
            .filter(|t| {
                let records = by_id.get(t.id.as_str()).map_or(&[][..], Vec::as_slice);
                result_at(records, h, epochs, budget, exp.report.target_acc).is_none()
            })
            .collect();
        let n = pending.len();
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
    let records = dir.read_records()?;
    let report = dir.write_report(exp, plan, &records, &datasets)?;
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
        interrupted,
        moved_aside,
    })
}
