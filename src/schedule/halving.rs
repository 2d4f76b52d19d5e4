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
        // A checkpoint that cannot be trusted (damaged, unverifiable, not
        // this trial's) is never used: retraining from the start costs
        // time only, since training is deterministic, and the run says so.
        let from = match checkpoint::load(&self.dir, &trial.id, data.train.len()) {
            Ok(s) => s.filter(|s| s.epoch <= self.until),
            Err(e) => {
                eprintln!(
                    "warning: {e:#}; not used: trial {} is retrained from epoch 0",
                    trial.id
                );
                None
            }
        };
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
    // Multiply-adds trained in this run, for the ETA over the rungs left.
    let mut cost_done: u64 = 0;
    loop {
        let history = dir.read_history()?;
        let Some((k, budget, configs)) = rungs(exp, plan, &history).and_then(|r| r.next) else {
            break;
        };
        let trials = rung_trials(plan, &configs);
        let pending = without_result(exp, &history, &trials, budget);
        let n = pending.len();
        let step = budget - previous_budget(exp, plan, k);
        let pending_cost: u64 = pending
            .iter()
            .map(|t| per_epoch_cost(t, &datasets) * step as u64)
            .sum();
        if !opts.quiet {
            let rate = (cost_done > 0).then(|| wall.as_secs_f64() / cost_done as f64);
            let seeds = trials.len() / configs.len().max(1);
            let later = later_cost(exp, plan, (k, &configs, seeds), &datasets);
            let rungs = all_budgets(exp, plan).len();
            let eta = rate.map(|r| r * (pending_cost + later) as f64);
            eprintln!(
                "{}",
                rung_line(exp, (k, rungs, budget), (configs.len(), n), eta)
            );
        }
        let rung = RungWork {
            until: budget,
            dir: dir.path().to_path_buf(),
        };
        let (done, w) = train_all(pending, &datasets, &log, &stop, opts, Some(rung))?;
        trained += done;
        wall += w;
        if done == n {
            cost_done += pending_cost;
        }
        if done < n || stop.load(std::sync::atomic::Ordering::SeqCst) {
            interrupted = true;
            break;
        }
    }
    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    let total = plan.distinct().count();
    let done = super::Done {
        skipped,
        trained,
        wall,
        interrupted,
        moved_aside,
    };
    Ok(RunOutcome::of_all(published, total, done))
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
    let (dir, main) = shard_folders(exp, opts, merged, "a halving shard")?;
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
    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    (outcome.verdicts, outcome.halving) = (published.report.verdicts, published.report.halving);
    outcome.damaged = published.damaged;
    Ok(outcome)
}

/// The shard's own folder (`--out`) and the merged one, refused (before
/// the shard's folder exists) when they are the same folder or the merged
/// one holds another study. `what` names the shard in the message (`a
/// halving shard`); a settle shard is checked the same way.
pub(super) fn shard_folders(
    exp: &Study,
    opts: &RunOptions,
    merged: &Path,
    what: &str,
) -> Result<(ResultsDir, ResultsDir)> {
    let dir = ResultsDir::new(&opts.out);
    let main = ResultsDir::new(merged);
    if same_path(dir.path(), main.path()) {
        bail!(
            "--merged {}: {what} writes its records to a folder of its own (--out), not to the merged one",
            merged.display()
        );
    }
    if main.holds_other_study(exp)? {
        bail!(
            "--merged {}: holds a different study (its study.toml differs from this run's); \
             a shard continues only the merged results of its own study",
            merged.display()
        );
    }
    Ok((dir, main))
}

/// The rung budgets of the study (`crate::halving::budgets`).
fn all_budgets(exp: &Study, plan: &Plan) -> Vec<usize> {
    let epochs = plan.trials.first().map_or(0, |t| t.config.train.epochs);
    exp.halving.as_ref().map_or_else(Vec::new, |h| {
        crate::halving::budgets(h.min_epochs, h.eta, epochs)
    })
}

/// The budget of the rung before rung `k` (0 before the first).
fn previous_budget(exp: &Study, plan: &Plan, k: usize) -> usize {
    k.checked_sub(1)
        .and_then(|j| all_budgets(exp, plan).get(j).copied())
        .unwrap_or(0)
}

/// Multiply-adds of one epoch of trial `t` (`schedule::cost` is the
/// whole trial's).
fn per_epoch_cost(t: &Trial, datasets: &Datasets) -> u64 {
    super::cost(t, datasets) / t.config.train.epochs.max(1) as u64
}

/// Multiply-adds of the rungs after rung `k`, which `configs` enter with
/// `seeds` trials each: each configuration's per-epoch cost, most costly
/// first (survivors are often the widest nets, so a count of trial-epochs
/// would promise too soon), into [`cost_left`].
fn later_cost(
    exp: &Study,
    plan: &Plan,
    (k, configs, seeds): (usize, &[usize], usize),
    datasets: &Datasets,
) -> u64 {
    let mut first: std::collections::HashMap<usize, &Trial> = std::collections::HashMap::new();
    for t in &plan.trials {
        first.entry(t.config_index).or_insert(t);
    }
    let mut per_epoch: Vec<u64> = configs
        .iter()
        .filter_map(|c| first.get(c))
        .map(|t| per_epoch_cost(t, datasets))
        .collect();
    per_epoch.sort_unstable_by(|a, b| b.cmp(a));
    cost_left(exp, plan, k + 1, &per_epoch, seeds)
}

/// Multiply-adds of rung `from` and the rungs after it, when the
/// configurations entering rung `from − 1` cost `per_epoch` each (per seed
/// and epoch, most costly first) and have `seeds` trials each: rung j
/// keeps ⌈n/η⌉ of the n before it, taken here as the most costly, and
/// trains its trials from the budget before it to its own.
fn cost_left(exp: &Study, plan: &Plan, from: usize, per_epoch: &[u64], seeds: usize) -> u64 {
    let (Some(h), budgets) = (exp.halving.as_ref(), all_budgets(exp, plan)) else {
        return 0;
    };
    let mut n = per_epoch.len();
    let mut total = 0;
    for j in from..budgets.len() {
        n = crate::halving::keep_count(n, h.eta);
        let step = budgets[j] - budgets[j - 1];
        let cost: u64 = per_epoch[..n.min(per_epoch.len())].iter().sum();
        total += cost * (seeds * step) as u64;
    }
    total
}

/// The line a rung starts with: which rung of how many, its epoch budget,
/// how many trials it trains (a trial trains once per rung it reaches,
/// from its checkpoint of the rung before), and once a rung has run, the
/// time this rung and the ones after it should take at this run's rate.
fn rung_line(
    exp: &Study,
    (k, rungs, budget): (usize, usize, usize),
    (configs, n): (usize, usize),
    eta: Option<f64>,
) -> String {
    let eta = eta.map_or(String::new(), |s| {
        format!("; about {s:.0} s left for this and the later rungs at this run's rate")
    });
    format!(
        "{}: rung {k} ({} of {rungs}): {configs} configurations, {n} trials to train to {budget} epochs{eta}",
        exp.name,
        k + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flagship's halving: budgets 20, 60, 180, 200 (η = 3) keep
    /// 32, 11, 4, 2 configurations (the 980 trainings a run prints). With
    /// 32 configurations entering rung 0 at per-epoch costs 32, 31, …, 1
    /// and 20 seeds, the rungs after it keep the 11, 4 and 2 most costly:
    /// (32 + … + 22)·20·40 + (32 + … + 29)·20·120 + (32 + 31)·20·20 =
    /// 297·800 + 122·2400 + 63·400 = 237,600 + 292,800 + 25,200 = 555,600.
    /// From rung 3 (entering rung 2 with 4 configurations): the 2 most
    /// costly, (4 + 3)·20·20 = 2,800. Catches ⌈n/η⌉ not applied, a budget
    /// counted from 0 instead of the rung before, or the cheapest kept.
    #[test]
    fn cost_left_follows_the_rungs() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/halving.toml");
        let exp = crate::study::load(&path, &[]).unwrap();
        let plan = Plan::new(&exp).unwrap();
        assert_eq!(all_budgets(&exp, &plan), [20, 60, 180, 200]);
        let costs: Vec<u64> = (1..=32).rev().collect();
        assert_eq!(cost_left(&exp, &plan, 1, &costs, 20), 555_600);
        assert_eq!(cost_left(&exp, &plan, 3, &[4, 3, 2, 1], 20), 2_800);
        assert_eq!(cost_left(&exp, &plan, 4, &[4, 3, 2, 1], 20), 0);
        assert_eq!(previous_budget(&exp, &plan, 0), 0);
        assert_eq!(previous_budget(&exp, &plan, 3), 180);
    }
}
