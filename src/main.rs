//! The `mlpsweep` command line: parse arguments, call the pipeline, print
//! errors in one place. Nothing else lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use mlpsweep::{plan::Plan, report, schedule, study};

/// Exit code when the sweep finished but some trials failed (errors or
/// panics inside training). Diverged trials are results, not failures.
const EXIT_TRIALS_FAILED: u8 = 3;

/// Exit code when the run stopped before every trial was stored (Ctrl-C,
/// SIGTERM, or `--fail-fast`), as shells report a SIGINT death.
const EXIT_INTERRUPTED: u8 = 130;

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
    Run {
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
        /// [default --out: results/<name>/shard-I-of-N].
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
    },
    /// Print the trials a study expands to, without training.
    Plan {
        /// The study file (TOML).
        file: PathBuf,
        /// Override a key (as for `run`).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Results folder to compare with [default: results/<name>].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Union shard folders of one study (by trial id) into one results folder and write its report.
    Merge {
        /// Results folders written by `run --shard`.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The merged folder [default: the parent of the first folder].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a SLURM job array (one task per shard) and a dependent merge job; --submit submits them.
    Slurm {
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
    },
    /// Rebuild the report of a results folder from its stored trials, without training.
    Report {
        /// A results folder written by `run`.
        dir: PathBuf,
    },
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
    // candle sizes its matmul and elementwise thread pools from these on
    // every call. Trials run one per thread, so each trial must stay
    // single-threaded or the two pools oversubscribe the cores. Set before
    // any other thread exists, which is what makes `set_var` sound.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", "1");
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run {
            file,
            jobs,
            out,
            sets,
            quiet,
            fresh,
            fail_fast,
            shard,
        } => {
            if jobs == Some(0) {
                anyhow::bail!("--jobs: expected at least 1 (trials trained at once)");
            }
            let exp = study::load(&file, &sets)?;
            let plan = Plan::new(&exp)?;
            let out = out.unwrap_or_else(|| {
                let base = PathBuf::from("results").join(&exp.name);
                match shard {
                    Some((i, n)) => base.join(format!("shard-{i}-of-{n}")),
                    None => base,
                }
            });
            let jobs = jobs.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            });
            let opts = schedule::RunOptions {
                jobs,
                out: out.clone(),
                quiet,
                fresh,
                fail_fast,
                shard,
            };
            let done = schedule::run(&exp, &plan, &opts)?;
            if let Some(old) = &done.moved_aside {
                eprintln!("--fresh: moved the previous results to {}", old.display());
            }
            if !quiet {
                eprintln!(
                    "{}: trained {} trials in {:.1}s ({} already stored), {} diverged, {} failed; results in {}",
                    exp.name,
                    done.trained,
                    done.wall.as_secs_f64(),
                    done.skipped,
                    done.diverged,
                    done.failed,
                    out.display()
                );
            }
            if !done.verdicts.is_empty() && !done.interrupted {
                eprintln!("claims:");
                for v in &done.verdicts {
                    eprintln!("  {}", v.summary_line());
                }
                eprintln!("evidence: {}", out.join("report.md").display());
            }
            if done.interrupted {
                let rerun: Vec<String> = std::env::args()
                    .skip(1)
                    .filter(|a| a != "--fresh")
                    .collect();
                eprintln!(
                    "stopped early: {} of {} trials are stored and the partial report is written; \
                     resume with: mlpsweep {}",
                    done.total - (done.total - done.skipped - done.trained).min(done.total),
                    done.total,
                    rerun.join(" ")
                );
                return Ok(ExitCode::from(EXIT_INTERRUPTED));
            }
            Ok(if done.failed > 0 {
                ExitCode::from(EXIT_TRIALS_FAILED)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Plan { file, sets, out } => {
            let exp = study::load(&file, &sets)?;
            let plan = Plan::new(&exp)?;
            let datasets = schedule::load_data(&exp, &plan)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&exp.name));
            let stored = schedule::read_records(&out)?;
            let status: std::collections::HashMap<&str, &str> = stored
                .iter()
                .map(|r| {
                    (
                        r.id.as_str(),
                        match r.status {
                            mlpsweep::train::Status::Ok => "done",
                            mlpsweep::train::Status::Diverged => "diverged",
                            mlpsweep::train::Status::Failed => "failed",
                        },
                    )
                })
                .collect();
            println!("trial  id                config  settings");
            let mut counts = std::collections::BTreeMap::<&str, usize>::new();
            for t in &plan.trials {
                let st = status.get(t.id.as_str()).copied().unwrap_or("missing");
                *counts.entry(st).or_default() += 1;
                println!(
                    "{:>5}  {}  {:>6}  {}  [{st}]",
                    t.index,
                    t.id,
                    t.config_index,
                    t.label()
                );
            }
            let stored_count = plan.len() - counts.get("missing").copied().unwrap_or(0);
            println!(
                "{} configurations × {} seeds = {} trials ({} stored in {}); {} data set(s)",
                plan.n_configs,
                exp.seeds.len(),
                plan.len(),
                stored_count,
                out.display(),
                datasets.len()
            );
            let by_status: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            println!("status: {}", by_status.join(", "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { dirs, out } => {
            let out = out.unwrap_or_else(|| {
                dirs[0]
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."))
            });
            let (exp, m) = mlpsweep::cluster::merge(&dirs, &out)?;
            eprintln!(
                "{}: merged {} of {} trials from {} folder(s) into {}{}",
                exp.name,
                m.merged,
                m.total,
                dirs.len(),
                out.display(),
                if m.duplicates > 0 {
                    format!("; {} duplicate(s) kept once", m.duplicates)
                } else {
                    String::new()
                }
            );
            if m.n_missing > 0 {
                eprintln!(
                    "missing {} trial(s), e.g. {}; rerun the shards (or resubmit) to complete them",
                    m.n_missing,
                    m.missing.join(", ")
                );
                return Ok(ExitCode::from(EXIT_INTERRUPTED));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Slurm {
            file,
            shards,
            cpus_per_task,
            time,
            partition,
            out,
            sets,
            submit,
        } => {
            if shards == 0 || cpus_per_task == 0 {
                anyhow::bail!("--shards and --cpus-per-task: expected at least 1");
            }
            let exp = study::load(&file, &sets)?;
            let plan = Plan::new(&exp)?;
            schedule::load_data(&exp, &plan)?;
            let out = out.unwrap_or_else(|| PathBuf::from("results").join(&exp.name));
            let opts = mlpsweep::cluster::SlurmOptions {
                shards,
                cpus_per_task,
                time,
                partition,
                out,
                sets,
            };
            let (array, merge, ids) = mlpsweep::cluster::write_scripts(&exp, &file, &opts, submit)?;
            println!("{}", std::fs::read_to_string(&array)?);
            println!("{}", std::fs::read_to_string(&merge)?);
            eprintln!("wrote {} and {}", array.display(), merge.display());
            match ids {
                Some((a, m)) => {
                    println!("submitted array job {a} and merge job {m}");
                }
                None => eprintln!(
                    "submit with: sbatch {} (then the merge with --dependency=afterany:<id>), or rerun with --submit",
                    array.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { dir } => {
            let study = dir.join("study.toml");
            let exp = study::load(&study, &[])
                .with_context(|| format!("{} is not a results folder", dir.display()))?;
            let plan = Plan::new(&exp)?;
            let records = schedule::read_records(&dir)?;
            let datasets = schedule::load_data(&exp, &plan)?;
            let data = plan
                .trials
                .first()
                .map(|t| schedule::data_for(&datasets, t));
            let built = report::write(&exp, &plan, &records, &dir, data)?;
            for v in &built.verdicts {
                eprintln!("  {}", v.summary_line());
            }
            eprintln!(
                "{}: report rebuilt from {} stored trials in {}",
                exp.name,
                records.len(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
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
