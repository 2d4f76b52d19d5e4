//! The subcommands as library calls: [`run`], [`plan`], [`merge`],
//! [`slurm`], [`report`], [`refine`] and [`gradcheck`]. Each loads what it needs, drives the pipeline
//! stages, and tells what happened: its answer on the `stdout` writer it is
//! given (the plan table, the SLURM scripts), its messages on stderr, and
//! how the process should end as an [`Exit`].
//!
//! This is the orchestration that once filled `main.rs`: the default
//! results folders, the order of the checks (all bad input fails before a
//! folder exists), and the closing messages. Kept apart from the argument
//! parsing so `main.rs` stays the command line only, and apart from
//! `schedule` and `cluster`, which do the work and print nothing final.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cluster::{self, SlurmOptions};
use crate::data::Datasets;
use crate::plan::Plan;
use crate::store::{self, ResultsDir};
use crate::{listing, schedule, study};

mod slurm_chain;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done (diverged trials are results, not failures).
    Success,
    /// The sweep finished but some trials failed (errors or panics inside training).
    TrialsFailed,
    /// The run stopped before every trial was stored (Ctrl-C, SIGTERM,
    /// `--fail-fast`), a merge found trials missing, or a halving promote
    /// job found its rung incomplete.
    Interrupted,
    /// `gradcheck` found the gradient outside its thresholds.
    CheckFailed,
    /// `gradcheck` could check no entry (all kinked or too small).
    CheckInconclusive,
    /// Lines of a `trials.jsonl` could not be used (unreadable, a record
    /// cut in the middle of the file, or another study's): the report was
    /// written without them and names them (a torn last line is a crash's
    /// normal trace, not damage).
    Damaged,
    /// `calibrate` found a kind of claim judged significant above its α.
    AboveAlpha,
}

impl Exit {
    /// The exit status: 0, 3, 4, 5, 6, 7, or 130 as shells report a SIGINT death.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::TrialsFailed => 3,
            Exit::CheckFailed => 4,
            Exit::Damaged => 5,
            Exit::CheckInconclusive => 6,
            Exit::AboveAlpha => 7,
            Exit::Interrupted => 130,
        }
    }
}

/// Say on stderr which lines of which logs no table uses (the first few),
/// and return [`Exit::Damaged`] when there are any.
fn tell_damage(damaged: &[store::Damage]) -> Option<Exit> {
    if damaged.is_empty() {
        return None;
    }
    eprintln!(
        "damaged records: {} line(s) of trials.jsonl were not used (named in report.md; repair or remove them):",
        damaged.len()
    );
    for d in damaged.iter().take(10) {
        eprintln!("  {d}");
    }
    if damaged.len() > 10 {
        eprintln!("  … and {} more", damaged.len() - 10);
    }
    Some(Exit::Damaged)
}

/// `results/<name>`, where a study's results go unless `--out` says otherwise.
fn default_out(name: &str) -> PathBuf {
    PathBuf::from("results").join(name)
}

/// What `run` is asked to do.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// The study file.
    pub file: PathBuf,
    /// `--set` overrides.
    pub sets: Vec<String>,
    /// Trials trained at once [default: all cores].
    pub jobs: Option<usize>,
    /// Results folder [default: `results/<name>`, or its `shard-I-of-N`].
    pub out: Option<PathBuf>,
    /// Print no progress.
    pub quiet: bool,
    /// Move an existing results folder aside first.
    pub fresh: bool,
    /// Stop at the first failed trial.
    pub fail_fast: bool,
    /// Run only shard I of N.
    pub shard: Option<(usize, usize)>,
    /// A halving shard's merged folder [default: the parent of `out`].
    pub merged: Option<PathBuf>,
    /// The arguments that resume this run after an early stop (printed as
    /// `resume with: mlpsweep …`).
    pub resume: Vec<String>,
}

/// Train every trial of a study not stored yet, write the report, and say
/// how it went: the counts, the claims' verdicts, and how to resume.
pub fn run(args: &RunArgs) -> Result<Exit> {
    if args.jobs == Some(0) {
        bail!("--jobs: expected at least 1 (trials trained at once)");
    }
    let exp = study::load(&args.file, &args.sets)?;
    let plan = Plan::new(&exp)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let base = default_out(&exp.name);
        match args.shard {
            Some((i, n)) => base.join(format!("shard-{i}-of-{n}")),
            None => base,
        }
    });
    check_out(&out)?;
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // A halving or settle shard continues the merged folder of the earlier
    // rungs or rounds: by default the parent of its own, as `merge` writes.
    let chained = exp.halving.is_some() || exp.settle.is_some();
    let merged = match (chained, args.shard, &args.merged) {
        (true, Some(_), m) => Some(m.clone().unwrap_or_else(|| parent(&out))),
        (_, _, None) => None,
        (_, _, Some(_)) => bail!(
            "--merged: only for a shard (--shard) of a halving study ([search.halving]) \
             or a settle study ([settle])"
        ),
    };
    // The full grid a halving study is judged against must be there before
    // any training (a shard's folder is not where the reference is
    // relative to; its merged folder's report judges).
    if args.shard.is_none() {
        crate::reference::check(&exp, &plan, &out)?;
    }
    let opts = schedule::RunOptions {
        jobs,
        out: out.clone(),
        quiet: args.quiet,
        fresh: args.fresh,
        fail_fast: args.fail_fast,
        shard: args.shard,
        merged,
    };
    let done = schedule::run(&exp, &plan, &opts)?;
    Ok(tell_run(args, &exp, &out, &done))
}

/// What `run` says once the schedule returns: the counts, the claims'
/// verdicts, how to resume, the damaged lines; and how the process ends.
fn tell_run(args: &RunArgs, exp: &study::Study, out: &Path, done: &schedule::RunOutcome) -> Exit {
    if let Some(old) = &done.moved_aside {
        eprintln!("--fresh: moved the previous results to {}", old.display());
    }
    if let (Some((i, n)), true) = (args.shard, exp.halving.is_some()) {
        match done.rung {
            Some((k, budget)) => eprintln!(
                "{}: shard {i}/{n} of rung {k} ({budget} epochs): {} of its trials",
                exp.name, done.total
            ),
            None => eprintln!("{}: every rung is done; nothing to train", exp.name),
        }
    }
    if let (Some((i, n)), true) = (args.shard, exp.settle.is_some()) {
        match done.rung {
            Some((k, _)) => eprintln!(
                "{}: shard {i}/{n} of round {k}: {} of its trials",
                exp.name, done.total
            ),
            None => eprintln!("{}: every slice is closed; nothing to train", exp.name),
        }
    }
    if !args.quiet {
        // Under halving a trial trains once per rung it reaches.
        let what = if exp.halving.is_some() {
            "trainings (a trial trains once per rung it reaches)"
        } else {
            "trials"
        };
        eprintln!(
            "{}: trained {} {what} in {:.1}s ({} already stored), {} diverged, {} failed; results in {}",
            exp.name,
            done.trained,
            done.wall.as_secs_f64(),
            done.skipped,
            done.diverged,
            done.failed,
            out.display()
        );
    }
    if (!done.verdicts.is_empty() || done.halving.is_some()) && !done.interrupted {
        eprintln!("claims:");
        for v in &done.verdicts {
            eprintln!("  {}", v.summary_line());
        }
        if let Some(h) = &done.halving {
            eprintln!("  {}", h.summary_line());
        }
        eprintln!("evidence: {}", out.join("report.md").display());
    }
    let damaged = tell_damage(&done.damaged);
    if done.interrupted && exp.halving.is_some() {
        eprintln!(
            "stopped early: the finished rungs and trials are stored and the partial report is written; \
             resume with: mlpsweep {}",
            args.resume.join(" ")
        );
        return Exit::Interrupted;
    }
    if done.interrupted {
        eprintln!(
            "stopped early: {} of {} trials are stored and the partial report is written; \
             resume with: mlpsweep {}",
            done.total - (done.total - done.skipped - done.trained).min(done.total),
            done.total,
            args.resume.join(" ")
        );
        return Exit::Interrupted;
    }
    // Damage wins over failed trials: a record may be missing from every table.
    damaged.unwrap_or(if done.failed > 0 {
        Exit::TrialsFailed
    } else {
        Exit::Success
    })
}

/// Write the plan table of the study `file` (with `sets`) to `stdout`,
/// each trial marked by what the results folder `out` holds. Trains nothing
/// and writes no file.
pub fn plan(
    file: &Path,
    sets: &[String],
    out: Option<PathBuf>,
    stdout: &mut dyn Write,
) -> Result<Exit> {
    let exp = study::load(file, sets)?;
    let plan = Plan::new(&exp)?;
    let datasets = Datasets::load(&exp, &plan)?;
    let out = out.unwrap_or_else(|| default_out(&exp.name));
    check_out(&out)?;
    // `plan` refuses what `run` would: a halving study's missing reference.
    crate::reference::check(&exp, &plan, &out)?;
    let dir = ResultsDir::new(&out);
    let records = dir.read_records()?;
    let stored: HashMap<&str, _> = records.iter().map(|r| (r.id.as_str(), r.status)).collect();
    let mut table = listing::plan_table(&exp, &plan, &stored, &out, datasets.len());
    let costs: Vec<u64> = plan
        .trials
        .iter()
        .map(|t| crate::schedule::cost(t, &datasets))
        .collect();
    let timed: HashMap<&str, _> = records
        .iter()
        .map(|r| (r.id.as_str(), (r.status, r.wall_time_s)))
        .collect();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    table += &listing::cost_lines(&plan, &costs, &timed, jobs);
    // Under halving "done" means "has a record at some rung": say which.
    if exp.halving.is_some() {
        let history = ResultsDir::new(&out).read_history()?;
        if let Some(line) = crate::halving::standing(&exp, &plan, &history) {
            table += &line;
            table.push('\n');
        }
    }
    if let Some(o) = dir.orphans(&exp, &plan)? {
        table += &format!(
            "orphaned: {o}. `mlpsweep run` would refuse {}: run into another folder with --out DIR, \
             or move it aside with --fresh\n",
            out.display()
        );
    }
    stdout.write_all(table.as_bytes())?;
    stdout.flush()?;
    Ok(Exit::Success)
}

/// A script just written, for stdout; an error names its path.
fn read_text(p: &Path) -> Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
}

/// `--out` must be a folder or not exist yet: a regular file there would
/// otherwise fail later with an I/O error that names no path.
fn check_out(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!(
            "--out {}: exists and is not a folder; choose a folder with --out",
            out.display()
        );
    }
    Ok(())
}

/// The folder holding `p` (`.` for a bare name).
fn parent(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Union the shard folders `dirs` into `out` [default: the parent of the
/// first] and write its report; [`Exit::Interrupted`] when trials are missing.
pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>) -> Result<Exit> {
    let out = out.unwrap_or_else(|| {
        dirs.first()
            .map_or_else(|| PathBuf::from("."), |d| parent(d))
    });
    let shards: Vec<ResultsDir> = dirs.iter().map(ResultsDir::new).collect();
    let (exp, m) = crate::publish::merge(&shards, &ResultsDir::new(&out))?;
    eprintln!(
        "{}: merged {} of {} trials from {} folder(s) into {}{}{}",
        exp.name,
        m.merged,
        m.total,
        dirs.len(),
        out.display(),
        if m.lines > m.merged {
            format!(" ({} records: one per trial and rung reached)", m.lines)
        } else {
            String::new()
        },
        if m.duplicates > 0 {
            format!("; {} duplicate(s) kept once", m.duplicates)
        } else {
            String::new()
        }
    );
    if let Some(line) = &m.halving {
        eprintln!("{line}");
    }
    let damaged = tell_damage(&m.damaged);
    if m.n_missing > 0 {
        eprintln!(
            "missing {} trial(s), e.g. {}; rerun the shards (or resubmit) to complete them",
            m.n_missing,
            m.missing.join(", ")
        );
    }
    // Damage first: it is often why a trial is missing.
    Ok(damaged.unwrap_or(if m.n_missing > 0 {
        Exit::Interrupted
    } else {
        Exit::Success
    }))
}

/// What `slurm` is asked to do.
#[derive(Debug, Clone)]
pub struct SlurmArgs {
    /// The study file.
    pub file: PathBuf,
    /// `--set` overrides, passed on to every task.
    pub sets: Vec<String>,
    /// Array tasks (shards).
    pub shards: usize,
    /// CPUs per task.
    pub cpus_per_task: usize,
    /// Wall-time limit per task (SLURM format).
    pub time: String,
    /// Partition to submit to.
    pub partition: Option<String>,
    /// Results folder [default: `results/<name>`].
    pub out: Option<PathBuf>,
    /// Submit with sbatch.
    pub submit: bool,
    /// Halving: run as the promote job of this rung (continue the chain
    /// only if the records are at the next rung, and only once).
    pub after_rung: Option<usize>,
    /// Settle: run as the judge job of this round (as `after_rung`).
    pub after_round: Option<usize>,
}

/// Validate the study, write the SLURM array and merge scripts (and submit
/// them if asked), and write both scripts to `stdout`, then the job ids.
pub fn slurm(args: &SlurmArgs, stdout: &mut dyn Write) -> Result<Exit> {
    if args.shards == 0 || args.cpus_per_task == 0 {
        bail!("--shards and --cpus-per-task: expected at least 1");
    }
    let exp = study::load(&args.file, &args.sets)?;
    let plan = Plan::new(&exp)?;
    let datasets = Datasets::load(&exp, &plan)?;
    let opts = SlurmOptions {
        shards: args.shards,
        cpus_per_task: args.cpus_per_task,
        time: args.time.clone(),
        partition: args.partition.clone(),
        out: args.out.clone().unwrap_or_else(|| default_out(&exp.name)),
        sets: args.sets.clone(),
    };
    if exp.halving.is_some() || exp.settle.is_some() {
        return slurm_chain::slurm_chain(args, &exp, (&plan, datasets), &opts, stdout);
    }
    if args.after_rung.is_some() {
        bail!("--after-rung: only for a halving study ([search.halving])");
    }
    if args.after_round.is_some() {
        bail!("--after-round: only for a settle study ([settle])");
    }
    let (array, merge, ids) = cluster::write_scripts(&exp, &args.file, &opts, args.submit)?;
    writeln!(stdout, "{}", read_text(&array)?)?;
    writeln!(stdout, "{}", read_text(&merge)?)?;
    stdout.flush()?;
    eprintln!("wrote {} and {}", array.display(), merge.display());
    match ids {
        Some((a, m)) => {
            writeln!(stdout, "submitted array job {a} and merge job {m}")?;
            stdout.flush()?;
        }
        None => eprintln!(
            "submit with: sbatch {} (then the merge with --dependency=afterany:<id>), or rerun with --submit",
            array.display()
        ),
    }
    Ok(Exit::Success)
}

/// Rebuild the report of the results folder `dir` from its stored trials.
pub fn report(dir: &Path) -> Result<Exit> {
    let (exp, published) = crate::publish::rebuild_report(&ResultsDir::new(dir))?;
    let (built, n_records) = (&published.report, published.records.len());
    for v in &built.verdicts {
        eprintln!("  {}", v.summary_line());
    }
    if let Some(h) = &built.halving {
        eprintln!("  {}", h.summary_line());
    }
    eprintln!(
        "{}: report rebuilt from {} stored trials in {}",
        exp.name,
        n_records,
        dir.display()
    );
    Ok(tell_damage(&published.damaged).unwrap_or(Exit::Success))
}

/// `mlpsweep refine DIR`: write the study narrowed around the `top` best
/// configurations of a search and print its path on `stdout`.
pub fn refine(
    dir: &Path,
    top: usize,
    out: Option<PathBuf>,
    stdout: &mut impl Write,
) -> Result<Exit> {
    let (path, basis) = crate::refine::refine(dir, top, out)?;
    writeln!(stdout, "{}", path.display())?;
    eprintln!(
        "refined study written ({basis}): run it with `mlpsweep run {}`",
        path.display()
    );
    Ok(Exit::Success)
}

/// Check the gradient of trial `index` (0-based, as `plan` numbers them) of
/// the study `file` (`crate::gradcheck`), print the table to `stdout`,
/// and end with [`Exit::CheckFailed`] when it is outside the thresholds,
/// [`Exit::CheckInconclusive`] when no entry could be checked.
/// `corrupt` is the checker's own test hook (see `gradcheck::check`).
pub fn gradcheck(
    file: &Path,
    sets: &[String],
    index: usize,
    steps: usize,
    corrupt: Option<usize>,
    stdout: &mut dyn Write,
) -> Result<Exit> {
    let exp = study::load(file, sets)?;
    let plan = Plan::new(&exp)?;
    let Some(trial) = plan.trials.get(index) else {
        bail!(
            "--trial {index}: the study has {} trials (0..={})",
            plan.trials.len(),
            plan.trials.len().saturating_sub(1)
        );
    };
    // Through the plan's checks, so a setting that cannot train is refused here too.
    let datasets = Datasets::load(&exp, &plan)?;
    let outcome = crate::gradcheck::check(trial, datasets.of(trial), steps, corrupt)?;
    writeln!(stdout, "trial {index} ({})", trial.label)?;
    stdout.write_all(outcome.render().as_bytes())?;
    stdout.flush()?;
    Ok(if outcome.inconclusive() {
        Exit::CheckInconclusive
    } else if outcome.passed() {
        Exit::Success
    } else {
        Exit::CheckFailed
    })
}
