//! Running a plan: the results folder, the trial pool, progress, and the
//! durable record of every finished trial.
//!
//! Input: an [`Study`] and its [`Plan`]. Output: `results/<name>/` with
//! `study.toml`, `trials.jsonl` (one JSON line per finished trial, appended
//! and synced as it finishes) and the report written by [`crate::report`].
//!
//! Trials run on an explicit rayon pool of `jobs` threads, one trial per
//! thread, each trained by the fused kernels (`fused.rs`) on that thread.
//! Once no trial is left to start, the idle threads take part of the
//! running trials' matrix products, which gemm splits without changing a
//! bit. A trial's result depends only on its configuration and seed, so the
//! pool size, the sharing and the completion order never change a number.
//! Trials already stored under the same id are skipped: rerunning a study
//! resumes it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::data::Datasets;
use crate::plan::{Plan, Trial};
use crate::store::{Entry, Log, ResultsDir};
use crate::study::Study;
use crate::train::{self, Status, TrialRecord};

mod confirm;
mod halving;
mod progress;
mod settle;
use progress::Progress;

/// How to run a study.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Trials trained at once (threads in the pool).
    pub jobs: usize,
    /// Results folder.
    pub out: PathBuf,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Move an existing results folder aside and start a new one.
    pub fresh: bool,
    /// Stop at the first failed trial.
    pub fail_fast: bool,
    /// Run only shard `i` of `n` (1-based) of the plan's trials (of a
    /// halving study: of the trials of its next rung).
    pub shard: Option<(usize, usize)>,
    /// A halving shard's merged folder: where the rungs so far are read
    /// from and the checkpoints kept (shared by every shard).
    pub merged: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Trials in the plan.
    pub total: usize,
    /// Trials found already stored and skipped.
    pub skipped: usize,
    /// Trials trained now.
    pub trained: usize,
    /// Stored trials whose loss diverged.
    pub diverged: usize,
    /// Stored trials that failed.
    pub failed: usize,
    /// Wall time of this run's training.
    pub wall: Duration,
    /// The verdicts on the study's claims.
    pub verdicts: Vec<crate::report::claims::Verdict>,
    /// A halving study's verdict against its reference full grid.
    pub halving: Option<crate::report::reference::HalvingVerdict>,
    /// Whether the run stopped early (Ctrl-C, SIGTERM, or `--fail-fast`).
    pub interrupted: bool,
    /// Where an existing folder was moved by `--fresh`.
    pub moved_aside: Option<PathBuf>,
    /// A halving shard's rung: (index, budget), or `None` when every rung
    /// was already done (and for other runs).
    pub rung: Option<(usize, usize)>,
    /// Lines of the folder's log that no table uses, located.
    pub damaged: Vec<crate::store::Damage>,
}

/// What a run did before its report was published: trials skipped and
/// trained, its wall time, whether it stopped early, and where `--fresh`
/// moved an old folder.
pub(crate) struct Done {
    pub skipped: usize,
    pub trained: usize,
    pub wall: Duration,
    pub interrupted: bool,
    pub moved_aside: Option<PathBuf>,
}

impl RunOutcome {
    /// [`RunOutcome::of`] for a run that answers for every stored record
    /// (halving's rungs, settle's rounds and confirm's fresh seeds train
    /// the folder's whole plan).
    pub(crate) fn of_all(
        published: crate::publish::Published,
        total: usize,
        done: Done,
    ) -> RunOutcome {
        let crate::publish::Published {
            report,
            records,
            damaged,
        } = published;
        let ours: Vec<&TrialRecord> = records.iter().collect();
        RunOutcome::of((report, damaged), &ours, total, done)
    }

    /// The outcome of a run of `total` trials once `published`: statuses
    /// counted over `ours` (the records the run answers for).
    pub(crate) fn of(
        (report, damaged): (crate::report::Report, Vec<crate::store::Damage>),
        ours: &[&TrialRecord],
        total: usize,
        done: Done,
    ) -> RunOutcome {
        let count = |s: Status| ours.iter().filter(|r| r.status == s).count();
        RunOutcome {
            total,
            skipped: done.skipped,
            trained: done.trained,
            diverged: count(Status::Diverged),
            failed: count(Status::Failed),
            wall: done.wall,
            verdicts: report.verdicts,
            halving: report.halving,
            interrupted: done.interrupted,
            moved_aside: done.moved_aside,
            rung: None,
            damaged,
        }
    }
}

/// Train every trial of `plan` that is not stored yet, then write the report.
///
/// Ctrl-C (or SIGTERM) stops gracefully: running trials are abandoned,
/// finished ones are kept, and the partial report is written; rerunning
/// resumes. `--fail-fast` stops the same way at the first failed trial.
pub fn run(exp: &Study, plan: &Plan, opts: &RunOptions) -> Result<RunOutcome> {
    if exp.halving.is_some() {
        return halving::run(exp, plan, opts);
    }
    if exp.settle.is_some() {
        return settle::run(exp, plan, opts);
    }
    if exp.confirm() > 0 {
        return confirm::run(exp, plan, opts);
    }
    // Everything that can fail on bad input fails here, before the folder exists.
    let datasets = Datasets::load(exp, plan)?;
    let dir = ResultsDir::new(&opts.out);
    let (moved_aside, _lock) = dir.claim(exp, plan, opts.fresh)?;
    // Read what is stored only under the lock, so no other run adds to it meanwhile.
    let stored = dir.read_records()?;
    // The trials this run is responsible for: the plan, or one shard of it.
    let target: Vec<&Trial> = match opts.shard {
        Some((i, n)) => plan.shard(i, n, |t| cost(t, &datasets)),
        None => plan.distinct().collect(),
    };
    let pending = pending(&target, &stored, &datasets);
    let skipped = target.len() - pending.len();

    dir.write_study(exp)?;
    let log = dir.open_log()?;
    let stop = stop_on_signal();
    let (trained, wall) = train_all(pending, &datasets, &log, &stop, opts, None)?;

    let published = crate::publish::write_report(&dir, exp, plan, &datasets, &[])?;
    let (report, records) = (published.report, published.records);
    let damaged = published.damaged;
    let ids: std::collections::HashSet<&str> = target.iter().map(|t| t.id.as_str()).collect();
    let ours: Vec<&TrialRecord> = records
        .iter()
        .filter(|r| ids.contains(r.id.as_str()))
        .collect();
    let interrupted = ours.len() < target.len();
    let done = Done {
        skipped,
        trained,
        wall,
        interrupted,
        moved_aside,
    };
    Ok(RunOutcome::of((report, damaged), &ours, target.len(), done))
}

/// The trials of `target` not stored yet, longest first, so the sweep does
/// not end on one big trial running alone.
fn pending<'a>(
    target: &[&'a Trial],
    stored: &[TrialRecord],
    datasets: &Datasets,
) -> Vec<&'a Trial> {
    let done: std::collections::HashSet<&str> = stored.iter().map(|r| r.id.as_str()).collect();
    let mut pending: Vec<&Trial> = target
        .iter()
        .copied()
        .filter(|t| !done.contains(t.id.as_str()))
        .collect();
    pending.sort_by_cached_key(|t| std::cmp::Reverse(cost(t, datasets)));
    pending
}

/// A flag that Ctrl-C (or SIGTERM) sets, asking the run to stop gracefully.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // Only one handler per process; a second run in the same process
        // (tests) keeps the first, which is harmless.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    stop
}

/// One step of a run that trains in steps (settle's rounds, confirm's
/// fresh seeds): train `todo` and add to `trained` and `wall`. False when
/// the step stopped short (Ctrl-C, `--fail-fast`): the run stops there.
fn train_step(
    todo: Vec<&Trial>,
    datasets: &Datasets,
    log: &Log,
    stop: &AtomicBool,
    opts: &RunOptions,
    (trained, wall): (&mut usize, &mut Duration),
) -> Result<bool> {
    let n = todo.len();
    let (done, w) = train_all(todo, datasets, log, stop, opts, None)?;
    *trained += done;
    *wall += w;
    Ok(done == n && !stop.load(Ordering::SeqCst))
}

/// Train `pending` (in that order) on a pool of `opts.jobs` threads while
/// one committer thread stores the records. Returns how many trials were
/// trained and stored, and the wall time; a failed write to the log ends
/// the run with that error once the running trials are done.
fn train_all(
    pending: Vec<&Trial>,
    datasets: &Datasets,
    log: &Log,
    stop: &AtomicBool,
    opts: &RunOptions,
    rung: Option<halving::RungWork>,
) -> Result<(usize, Duration)> {
    // One thread per job. A worker with no trial left to start stays in
    // the pool, and the trials still running hand their matrix products to
    // it (`share`): the tail of a sweep, or a study with fewer trials than
    // jobs, still uses every core, never more. Every pool thread flushes
    // denormals, since it may compute part of any trial's products.
    let jobs = opts.jobs.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("trial-{i}"))
        .start_handler(|_| crate::fused::flush_denormals())
        .build()
        .context("cannot start the trial pool")?;
    let lanes = jobs.min(pending.len().max(1));
    let costs: Vec<u64> = pending.iter().map(|t| cost(t, datasets).max(1)).collect();
    let progress = Progress::new(pending.len(), costs.iter().sum(), lanes, opts.quiet);
    let (sink, finished) = mpsc::channel::<Entry>();
    let write_error = Mutex::new(None);
    let start = Instant::now();
    let stored = std::thread::scope(|s| {
        let committer = s.spawn(|| commit(finished, log, &write_error));
        let queue = Queue {
            pending,
            costs,
            datasets,
            jobs,
            stop,
            fail_fast: opts.fail_fast,
            next: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            free_lanes: Mutex::new(vec![true; lanes]),
            progress,
            sink,
            write_error: &write_error,
            rung,
        };
        // Every worker runs the same loop on the shared queue (a parallel
        // iterator would split the list in halves and ignore the order).
        pool.broadcast(|_| queue.work());
        queue.progress.clear();
        drop(queue); // closes the channel: the committer stores what is left, then ends
        committer.join().expect("the committer does not panic")
    });
    if let Some(e) = write_error.into_inner().expect("lock") {
        return Err(e);
    }
    Ok((stored, start.elapsed()))
}

/// The least time between two synced writes of the committer.
const COMMIT_GAP: Duration = Duration::from_millis(10);

/// The committer: take every record line that has arrived, store them with
/// one synced write (`Log::append_all`), repeat until the workers are done.
/// Workers never wait for the disk, and a trial counts as stored only once
/// its sync returned. Writes are at least [`COMMIT_GAP`] apart: cheap
/// trials finish every few tens of µs, and each sync of the two files
/// costs the kernel (and a VM, an exit); a kill loses at most that much
/// more training. Returns the number of records stored.
fn commit(
    finished: mpsc::Receiver<Entry>,
    log: &Log,
    write_error: &Mutex<Option<anyhow::Error>>,
) -> usize {
    let mut stored = 0;
    let mut last: Option<Instant> = None;
    while let Ok(first) = finished.recv() {
        // Sleep, not wait on the channel: a waiting receiver is woken by
        // every send.
        if let Some(wait) = last.and_then(|t| COMMIT_GAP.checked_sub(t.elapsed())) {
            std::thread::sleep(wait);
        }
        last = Some(Instant::now());
        let mut batch = vec![first];
        batch.extend(finished.try_iter());
        let n = batch.len();
        match log.append_all(batch) {
            Ok(()) => stored += n,
            Err(e) => {
                write_error.lock().expect("lock").get_or_insert(e);
            }
        }
    }
    stored
}

/// What the workers of one run share: a queue of trials in cost order
/// (longest first), from which each worker takes the next trial when it is
/// free, and the log, progress and flags around it.
struct Queue<'a> {
    /// Trials to train, longest first.
    pending: Vec<&'a Trial>,
    /// Each pending trial's cost, for the progress bar.
    costs: Vec<u64>,
    datasets: &'a Datasets,
    /// Threads in the pool.
    jobs: usize,
    /// Set by Ctrl-C, or by a failed trial under `--fail-fast`.
    stop: &'a AtomicBool,
    fail_fast: bool,
    /// Index in `pending` of the next trial to start.
    next: AtomicUsize,
    /// Trials training now.
    running: AtomicUsize,
    /// Progress lines: a trial takes the first free one.
    free_lanes: Mutex<Vec<bool>>,
    progress: Progress,
    /// Finished trials' record lines, to the committer.
    sink: mpsc::Sender<Entry>,
    /// The first failed write to the log; no trial starts after it.
    write_error: &'a Mutex<Option<anyhow::Error>>,
    /// A halving rung: train each trial to its budget, from its checkpoint.
    rung: Option<halving::RungWork>,
}

impl Queue<'_> {
    /// One worker: take the next trial, train it, store its record, until
    /// the queue is empty or the run stops.
    fn work(&self) {
        loop {
            if self.stop.load(Ordering::SeqCst) || self.write_error.lock().expect("lock").is_some()
            {
                break;
            }
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            let Some(trial) = self.pending.get(i) else {
                break;
            };
            let lane = self.take_lane();
            // Abandoned by Ctrl-C: not stored, so a rerun trains it.
            let Some(record) = self.train(trial, lane, self.costs[i]) else {
                break;
            };
            self.store(&record);
            self.progress.finished(lane, self.costs[i]);
            self.free_lanes.lock().expect("lock")[lane] = true;
        }
    }

    /// The first free progress line, marked taken.
    fn take_lane(&self) -> usize {
        let mut free = self.free_lanes.lock().expect("lock");
        let lane = free.iter().position(|f| *f).unwrap_or(0);
        free[lane] = false;
        lane
    }

    /// Pool threads a running trial's matrix products may use. Cores go
    /// spare only once every trial has been taken from the queue; then they
    /// are shared among the trials still running.
    fn share(&self) -> usize {
        if self.next.load(Ordering::SeqCst) < self.pending.len() {
            1
        } else {
            (self.jobs / self.running.load(Ordering::SeqCst).max(1)).max(1)
        }
    }

    /// Train one trial of estimated `cost`, reporting its epochs on
    /// progress line `lane`. A panic becomes a `failed` record, so one bad
    /// trial never ends the sweep; `None` when Ctrl-C abandoned it.
    fn train(&self, trial: &Trial, lane: usize, cost: u64) -> Option<TrialRecord> {
        let data = self.datasets.of(trial);
        let label = trial.label();
        self.running.fetch_add(1, Ordering::SeqCst);
        let record = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inject_failure(trial);
            let mut progress = |epoch, epochs, loss| {
                self.progress
                    .epoch(lane, &label, (epoch, epochs, cost), loss);
                !self.stop.load(Ordering::SeqCst)
            };
            match &self.rung {
                None => train::run_trial(trial, data, &mut progress, &|| self.share()),
                Some(rung) => rung
                    .train(trial, data, &mut progress, &|| self.share())
                    .unwrap_or_else(|e| {
                        self.write_error.lock().expect("lock").get_or_insert(e);
                        None
                    }),
            }
        }))
        .unwrap_or_else(|panic| Some(failed_record(trial, panic_message(&*panic))));
        self.running.fetch_sub(1, Ordering::SeqCst);
        record
    }

    /// Hand `record` to the committer, which counts the trial as stored
    /// only once it is synced: a kill -9 loses at most the trials running
    /// or waiting for that sync, and a rerun trains them. Under
    /// `--fail-fast`, a failed trial stops the run.
    fn store(&self, record: &TrialRecord) {
        if record.status == Status::Failed && self.fail_fast {
            self.stop.store(true, Ordering::SeqCst);
        }
        // Serialised here, on the worker, so the committer only writes.
        let entry = Entry::of(record);
        // The committer outlives every worker, so the channel is open.
        self.sink.send(entry).expect("the committer is running");
    }
}

/// Testing hook (like hyperfine's debug mode): `MLPSWEEP_TEST_PANIC_SEED=N`
/// makes every trial with seed N panic, so tests can exercise failure
/// isolation and `--fail-fast` on real runs. Not for everyday use.
fn inject_failure(trial: &Trial) {
    if let Ok(seed) = std::env::var("MLPSWEEP_TEST_PANIC_SEED")
        && seed.parse::<u64>().ok() == Some(trial.seed)
    {
        panic!("injected failure for seed {seed} (MLPSWEEP_TEST_PANIC_SEED)");
    }
}

/// Rough cost of a trial: multiply-adds per epoch × epochs.
pub(crate) fn cost(t: &Trial, datasets: &Datasets) -> u64 {
    let d = datasets.of(t);
    let p = crate::model::params_for(&t.config.model, d.n_features, d.n_outputs);
    (p.weights as u64) * (d.train.len() as u64) * (t.config.train.epochs as u64)
}

/// The record of a trial that panicked (no parameter counts: it may not
/// have got as far as building its network).
fn failed_record(trial: &Trial, message: String) -> TrialRecord {
    let none = crate::model::ParamCount {
        weights: 0,
        biases: 0,
        total: 0,
        hidden_neurons: 0,
        norm: 0,
    };
    TrialRecord {
        status: Status::Failed,
        message: Some(message),
        ..TrialRecord::new(trial, none)
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_string()
    }
}
