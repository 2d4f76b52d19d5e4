//! The `mlpsweep` command line: parse arguments, call the subcommand in
//! [`mlpsweep::sweep`], print errors in one place, and turn the outcome into
//! the exit status. Nothing else lives here.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use mlpsweep::sweep::{self, Exit};

#[derive(Parser)]
#[command(
    name = "mlpsweep",
    version,
    about = "Declarative sweeps of small neural networks, with reports"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train every trial of a study (resuming a stored run) and write the report.
    Run(RunCmd),
    /// Print the trials a study expands to, without training.
    Plan(PlanCmd),
    /// Union shard folders of one study (by trial id; halving: by trial and rung) into one results folder and write its report.
    Merge(MergeCmd),
    /// Write a SLURM job array (one task per shard) and a dependent merge job; --submit submits them.
    /// A halving study: the next rung's array and a promote job that merges it and submits the rung after.
    Slurm(SlurmCmd),
    /// Rebuild the report of a results folder from its stored trials, without training.
    Report(ReportCmd),
    /// Write a search's study with its [space] narrowed around the best configurations (coarse to fine).
    Refine(RefineCmd),
    /// Check one trial's gradient against centred differences in double precision (exit 4 when outside the thresholds).
    Gradcheck(GradcheckCmd),
    /// Measure the engine's false-positive rate on a results folder's stored trials: A/A nulls of each claim (split seeds, permuted settings), judged fixed-n and sequentially (exit 7 when a kind's rate is above α).
    Calibrate(CalibrateCmd),
}

#[derive(Args)]
struct RunCmd {
    /// The study file (TOML).
    file: PathBuf,
    /// Threads: trials trained at once; spare ones join the trials still running [default: all cores].
    #[arg(long, short)]
    jobs: Option<usize>,
    /// Results folder [default: results/<name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a key, e.g. --set seeds=2 --set train.epochs=5 --set grid.width=[4,8].
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Print no progress.
    #[arg(long, short)]
    quiet: bool,
    /// Move an existing results folder aside (to <out>.previous-N) and start anew.
    #[arg(long)]
    fresh: bool,
    /// Stop at the first failed trial.
    #[arg(long)]
    fail_fast: bool,
    /// Run only shard I of N (1-based) of the trials, balanced by cost
    /// [default --out: results/<name>/shard-I-of-N]. For a halving study:
    /// shard I of the rung that comes next by the records of the merged
    /// folder (--merged), continuing its checkpoints; one rung per run, then
    /// `mlpsweep merge` the shards into that folder before the next. For a
    /// settle study, likewise: shard I of the next round of seeds.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,
    /// A halving or settle shard's merged folder: the rungs or rounds so far
    /// are read from it (and a halving study's checkpoints kept in it, a
    /// filesystem every shard shares)
    /// [default: the parent of --out, i.e. results/<name>].
    #[arg(long, value_name = "DIR", requires = "shard")]
    merged: Option<PathBuf>,
}

#[derive(Args)]
struct PlanCmd {
    /// The study file (TOML).
    file: PathBuf,
    /// Override a key (as for `run`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Results folder to compare with [default: results/<name>].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct MergeCmd {
    /// Results folders written by `run --shard`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged folder [default: the parent of the first folder].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct SlurmCmd {
    /// The study file (TOML).
    file: PathBuf,
    /// Array tasks (shards).
    #[arg(long, default_value_t = 4)]
    shards: usize,
    /// CPUs per task; each task trains this many trials at once.
    #[arg(long, default_value_t = 2)]
    cpus_per_task: usize,
    /// Wall-time limit per task (SLURM format).
    #[arg(long, default_value = "01:00:00")]
    time: String,
    /// Partition to submit to.
    #[arg(long)]
    partition: Option<String>,
    /// Results folder [default: results/<name>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override a key (as for `run`), passed on to every task.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Submit with sbatch and print the job ids.
    #[arg(long)]
    submit: bool,
    /// Halving: act as the promote job of rung K, which runs this after
    /// merging the rung's shards: submit rung K+1 only if the merged records
    /// are there, and only once; stop the chain (exit 130) if rung K is
    /// still incomplete.
    #[arg(long, value_name = "K")]
    after_rung: Option<usize>,
    /// Settle: act as the judge job of round K, which runs this after
    /// merging the round's shards: judge the claims on the merged records
    /// and submit round K+1 only if it is next, and only once; stop the
    /// chain (exit 130) if round K is still incomplete.
    #[arg(long, value_name = "K", conflicts_with = "after_rung")]
    after_round: Option<usize>,
}

#[derive(Args)]
struct ReportCmd {
    /// A results folder written by `run`.
    dir: PathBuf,
}

#[derive(Args)]
struct CalibrateCmd {
    /// A results folder written by `run`, with its trials.jsonl.
    dir: PathBuf,
    /// Nulls judged per claim (each at fixed n and sequentially).
    #[arg(long, default_value_t = 200)]
    reps: usize,
    /// Seed of the splits and permutations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Args)]
struct RefineCmd {
    /// A results folder of a random or Sobol search.
    dir: PathBuf,
    /// Narrow around the best K configurations (by the search report's statistic).
    #[arg(long, value_name = "K", default_value_t = 5)]
    top: usize,
    /// The refined study file [default: DIR/<name>_refined.toml].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct GradcheckCmd {
    /// The study file (TOML).
    file: PathBuf,
    /// The trial to check, numbered as `mlpsweep plan` prints them.
    #[arg(long, default_value_t = 0)]
    trial: usize,
    /// Optimiser steps on the check's minibatch before checking.
    #[arg(long, default_value_t = 0)]
    steps: usize,
    /// Override a key before validation, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Test hook: make analytic gradient entry I wrong by 5%.
    #[arg(long, hide = true, value_name = "I")]
    corrupt: Option<usize>,
}

/// `I/N` with 1 <= I <= N.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("expected I/N with 1 <= I <= N, such as 2/8; got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

fn main() -> ExitCode {
    // Training runs in the fused kernels (src/fused.rs), but a trial still
    // calls candle to build its network, and candle sizes its thread pools
    // from these on every call. Trials run one per pool thread, so those
    // calls must stay single-threaded or the pools oversubscribe the cores.
    // Set before any other thread exists, which is what makes `set_var` sound.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", "1");
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    let result = match Cli::parse().command {
        Command::Run(c) => run(c),
        Command::Plan(c) => plan(c),
        Command::Merge(c) => merge(c),
        Command::Slurm(c) => slurm(c),
        Command::Report(c) => report(c),
        Command::Refine(c) => sweep::refine(&c.dir, c.top, c.out, &mut io::stdout().lock()),
        Command::Gradcheck(c) => gradcheck(c),
        Command::Calibrate(c) => {
            mlpsweep::calibrate::calibrate(&c.dir, c.reps, c.seed, &mut io::stdout().lock())
                .map(|ok| if ok { Exit::Success } else { Exit::AboveAlpha })
        }
    };
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        // A reader that stopped reading (`mlpsweep plan … | head`) is not
        // an error: end quietly with status 0, as ripgrep does.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", visible(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// `text` with every character a terminal would not show written as
/// `\u{…}`: control characters (but newlines), and the invisible format
/// characters (zero-width spaces and joiners, direction marks, the BOM,
/// the soft hyphen). `unknown value "relu\u{200b}"` says why "relu" was
/// refused; printed raw, it looks like "relu".
fn visible(text: &str) -> String {
    let hidden = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{00ad}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
    };
    text.chars()
        .map(|c| {
            if hidden(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether `e` comes from writing to a pipe whose reader has gone.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(c: RunCmd) -> Result<Exit> {
    // The same command line without `--fresh`: what resumes an early stop.
    let resume = std::env::args()
        .skip(1)
        .filter(|a| a != "--fresh")
        .collect();
    sweep::run(&sweep::RunArgs {
        file: c.file,
        sets: c.sets,
        jobs: c.jobs,
        out: c.out,
        quiet: c.quiet,
        fresh: c.fresh,
        fail_fast: c.fail_fast,
        shard: c.shard,
        merged: c.merged,
        resume,
    })
}

fn plan(c: PlanCmd) -> Result<Exit> {
    sweep::plan(&c.file, &c.sets, c.out, &mut io::stdout().lock())
}

fn merge(c: MergeCmd) -> Result<Exit> {
    sweep::merge(&c.dirs, c.out)
}

fn slurm(c: SlurmCmd) -> Result<Exit> {
    let args = sweep::SlurmArgs {
        file: c.file,
        sets: c.sets,
        shards: c.shards,
        cpus_per_task: c.cpus_per_task,
        time: c.time,
        partition: c.partition,
        out: c.out,
        submit: c.submit,
        after_rung: c.after_rung,
        after_round: c.after_round,
    };
    sweep::slurm(&args, &mut io::stdout().lock())
}

fn report(c: ReportCmd) -> Result<Exit> {
    sweep::report(&c.dir)
}

fn gradcheck(c: GradcheckCmd) -> Result<Exit> {
    sweep::gradcheck(
        &c.file,
        &c.sets,
        c.trial,
        c.steps,
        c.corrupt,
        &mut io::stdout().lock(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
