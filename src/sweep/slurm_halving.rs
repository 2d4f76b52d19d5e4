//! `slurm` for a halving study: the rung next by the records of the
//! results folder gets its array and promote scripts (submitted with
//! `--submit`); the promote job runs this again with `--after-rung K` once
//! it has merged rung K's shards. See `cluster::halving`.

use std::io::Write;

use anyhow::{Result, bail};

use super::{Exit, SlurmArgs, read_text};
use crate::cluster::SlurmOptions;
use crate::cluster::halving::{Submitted, rung_job, slurm_args, write_and_submit};
use crate::plan::Plan;
use crate::store::ResultsDir;
use crate::study;

/// Write (and with `--submit`, submit) the next rung's scripts, or say
/// why there is nothing to submit.
pub(super) fn slurm_halving(
    args: &SlurmArgs,
    exp: &study::Study,
    plan: &Plan,
    opts: &SlurmOptions,
    stdout: &mut dyn Write,
) -> Result<Exit> {
    let dir = ResultsDir::new(&opts.out);
    if dir.holds_other_study(exp)? {
        bail!(
            "{}: holds the results of a different study (its study.toml differs); choose another --out",
            opts.out.display()
        );
    }
    // The promote step reads the merged records and submits the next
    // rung under the folder's lock: no merge or run changes them meanwhile.
    let _lock = match args.after_rung {
        Some(_) if dir.has_study() => Some(dir.lock("promote")?),
        _ => None,
    };
    let history = dir.read_history()?;
    let standing = crate::halving::standing(exp, plan, &history).unwrap_or_default();
    let resubmit = format!(
        "mlpsweep slurm {} {} --submit",
        args.file.display(),
        slurm_args(opts)
    );
    let next = crate::halving::rungs(exp, plan, &history).and_then(|r| r.next);
    let Some((k, budget, configs)) = next else {
        writeln!(
            stdout,
            "{standing}; the report is {}",
            opts.out.join("report.md").display()
        )?;
        return Ok(Exit::Success);
    };
    if let Some(exit) = promote_stops(args.after_rung, k, &standing, &resubmit) {
        return Ok(exit);
    }
    let rung = rung_job(plan, k, budget, &configs);
    eprintln!("{standing}");
    let what = format!(
        "rung {k} ({budget} epochs, {} configurations, {} trials)",
        rung.configs,
        rung.trials.len()
    );
    let submitted = write_and_submit(
        exp,
        &args.file,
        opts,
        &rung,
        args.submit,
        args.after_rung.is_some(),
    )?;
    tell_submitted(submitted, &what, &resubmit, stdout)?;
    stdout.flush()?;
    Ok(Exit::Success)
}

/// A promote job that follows rung `after` stops when the records are not
/// one rung further: rung `k` incomplete after its own array (the chain
/// stops, to be resubmitted), or records at another rung (nothing to do).
fn promote_stops(after: Option<usize>, k: usize, standing: &str, resubmit: &str) -> Option<Exit> {
    match after {
        Some(a) if a == k => {
            eprintln!(
                "{standing}\nrung {k} is incomplete after its array (a task failed, was cancelled or ran out of time); \
                 the chain stops here. Resubmit the rung with: {resubmit}"
            );
            Some(Exit::Interrupted)
        }
        Some(a) if a + 1 != k => {
            eprintln!(
                "{standing}\nthis promote job follows rung {a}, but the records are at rung {k}: nothing to submit"
            );
            Some(Exit::Success)
        }
        _ => None,
    }
}

/// Tell what became of the rung `what`: its scripts on `stdout`, then
/// where they are or the job ids; or that it was submitted already.
fn tell_submitted(
    submitted: Submitted,
    what: &str,
    resubmit: &str,
    stdout: &mut dyn Write,
) -> Result<()> {
    match submitted {
        Submitted::Already(jobs) => {
            let by = if jobs.is_empty() {
                format!(
                    "another job is submitting it, or was killed while submitting: \
                     if no job of it is queued, resubmit with: {resubmit}"
                )
            } else {
                jobs
            };
            writeln!(stdout, "{what} was submitted already ({by}); nothing to do")?;
        }
        Submitted::Written(a, p) => {
            writeln!(stdout, "{}", read_text(&a)?)?;
            writeln!(stdout, "{}", read_text(&p)?)?;
            eprintln!(
                "wrote {} and {} for {what}; submit with: sbatch {} (then the promote job with \
                 --dependency=afterany:<id>), or rerun with --submit",
                a.display(),
                p.display(),
                a.display()
            );
        }
        Submitted::Jobs(a, p, array, promote) => {
            writeln!(stdout, "{}", read_text(&a)?)?;
            writeln!(stdout, "{}", read_text(&p)?)?;
            writeln!(
                stdout,
                "submitted array job {array} and promote job {promote} for {what}"
            )?;
        }
    }
    Ok(())
}
