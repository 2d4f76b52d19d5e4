//! A study whose next trials depend on its results, on SLURM: one job
//! array per step, each followed by a job that merges the step's shards
//! into the study's results folder and submits the next step's array and
//! follow-up job, until the last step is merged (whose merge writes the
//! report). Two studies run so: successive halving, a step a *rung*
//! followed by a *promote* job, and `[settle]`, a step a *round* of seeds
//! followed by a *judge* job ([`Kind`]).
//!
//! Nothing is decided here that a local run does not decide the same way:
//! which step comes next, and which trials are in it, is recomputed from
//! the merged records every time (`crate::halving::rungs`,
//! `crate::settle::round_trials`), and each array task is an ordinary
//! `mlpsweep run --shard I/N --merged OUT`. The chain is idempotent: the
//! submission of a step takes a marker file
//! (`slurm/<rung|round>-K-<digest>.submitted`, created exclusively)
//! first, so a follow-up job that runs twice (requeued, or repeated by
//! hand) submits that step once; and one that finds its own step still
//! incomplete stops the chain instead of resubmitting it forever.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::script::{quote, quote_path};
use super::{SlurmOptions, absolute, sbatch};
use crate::plan::Plan;
use crate::study::Study;

/// Which chain: the words its scripts, files and flags use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Successive halving: rungs, each followed by a promote job.
    Rung,
    /// `[settle]`: rounds of seeds, each followed by a judge job.
    Round,
}

impl Kind {
    /// `rung` or `round`: the step, in file names and messages.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Rung => "rung",
            Kind::Round => "round",
        }
    }

    /// `promote` or `judge`: the job after a step's array.
    pub fn follower(self) -> &'static str {
        match self {
            Kind::Rung => "promote",
            Kind::Round => "judge",
        }
    }

    /// `halving` or `settle`: the study's table.
    fn table(self) -> &'static str {
        match self {
            Kind::Rung => "halving",
            Kind::Round => "settle",
        }
    }

    /// What the follow-up job decides, for its script's comment.
    fn decides(self) -> &'static str {
        match self {
            Kind::Rung => "submit the next rung",
            Kind::Round => "judge the claims on the merged records and submit the next round",
        }
    }
}

/// The step a script is written for.
#[derive(Debug, Clone)]
pub struct Step {
    /// Rung or round.
    pub kind: Kind,
    /// Its index.
    pub index: usize,
    /// What it trains, for the script's comment and messages
    /// (`1 epochs, 8 configurations, 16 trials`).
    pub about: String,
    /// What besides the trial ids makes the step (a rung's budget).
    pub key: String,
    /// Its trials (each id once).
    pub trials: Vec<String>,
}

impl Step {
    /// A digest of what the step trains (key and trial ids): the marker
    /// of one study's rung K is not another study's (a grown search).
    fn digest(&self) -> String {
        let text = format!("{} {}", self.key, self.trials.join(" "));
        format!("{:016x}", crate::study::fnv1a(text.as_bytes()))
    }
}

/// The `mlpsweep slurm` arguments that lay the study out as `opts` says,
/// after the study file: what a promote job passes on, and what a user
/// types to resubmit.
pub fn slurm_args(opts: &SlurmOptions) -> String {
    let mut a = format!(
        "--shards {} --cpus-per-task {} --time {}",
        opts.shards,
        opts.cpus_per_task,
        quote(&opts.time)
    );
    if let Some(p) = &opts.partition {
        a += &format!(" --partition {}", quote(p));
    }
    a += &format!(" --out {}", quote_path(&absolute(&opts.out)));
    a + &super::set_flags(opts)
}

/// The two batch scripts of `step`: (array script, follow-up script).
pub fn scripts(
    exp: &Study,
    study: &Path,
    opts: &SlurmOptions,
    step: &Step,
) -> Result<(String, String)> {
    super::check(exp, study, opts)?;
    let exe = std::env::current_exe().context("cannot locate the mlpsweep binary")?;
    let (exe, study, out) = (
        quote_path(&absolute(&exe)),
        quote_path(&absolute(study)),
        absolute(&opts.out),
    );
    let n = opts.shards;
    let logs = out.join("slurm");
    let out = quote_path(&out);
    let (sets, partition) = (super::set_flags(opts), super::partition_line(opts));
    // Shards are dealt longest first to the least loaded: with fewer
    // trials than shards, shards past the trial count get none.
    let tasks = n.min(step.trials.len()).max(1);
    let (k, kind) = (step.index, step.kind);
    let (word, follower) = (kind.word(), kind.follower());
    let array = format!(
        "#!/bin/bash\n\
         # mlpsweep: study {name}, {table} {word} {k} ({about}) in {n} shards. \
         Generated by `mlpsweep slurm`.\n\
         #SBATCH --job-name=mlpsweep-{name}\n\
         #SBATCH --array=1-{tasks}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --time={time}\n\
         {partition}\
         #SBATCH --output={logs}/{word}-{k}-shard-%a-of-{n}.log\n\
         set -euo pipefail\n\
         # A shard trains its part of the {word} that the merged folder's records say is\n\
         # next{from}; it resumes by content.\n\
         exec {exe} run {study} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" \\\n    \
         --out {out}/\"shard-$SLURM_ARRAY_TASK_ID-of-{n}\" --merged {out} --quiet{sets}\n",
        name = exp.name,
        table = kind.table(),
        about = step.about,
        from = match kind {
            Kind::Rung => ", from the checkpoints kept there",
            Kind::Round => "",
        },
        cpus = opts.cpus_per_task,
        time = opts.time,
        logs = logs.display(),
    );
    let promote = format!(
        "#!/bin/bash\n\
         # mlpsweep: after {table} {word} {k} of study {name}: merge its shards, then\n\
         # {decides} (or end: the merge wrote the report).\n\
         #SBATCH --job-name=mlpsweep-{name}-{follower}\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --time={time}\n\
         {partition}\
         #SBATCH --output={logs}/{follower}-{k}.log\n\
         set -euo pipefail\n\
         {exe} merge {out}/shard-*-of-{n} --out {out}\n\
         exec {exe} slurm {study} --after-{word} {k} {args} --submit\n",
        name = exp.name,
        table = kind.table(),
        decides = kind.decides(),
        time = opts.time,
        logs = logs.display(),
        args = slurm_args(opts),
    );
    Ok((array, promote))
}

/// What [`write_and_submit`] did.
#[derive(Debug)]
pub enum Submitted {
    /// Scripts written, not submitted.
    Written(PathBuf, PathBuf),
    /// Submitted: the scripts, then (array job id, follow-up job id).
    Jobs(PathBuf, PathBuf, String, String),
    /// A follow-up job found this step submitted already (its marker's
    /// contents: the job ids, or nothing while another is submitting).
    Already(String),
}

/// Write `step`'s scripts to `<out>/slurm/` and, with `submit`, submit the
/// array and a follow-up job that runs after it whatever its outcome
/// (`afterany`). With `exclusive` (a follow-up job's own submission), the
/// step is submitted only if no marker says it was: the marker is created
/// exclusively before `sbatch`, so of two follow-up jobs racing, one
/// submits. By hand (`exclusive` false) the step is submitted again
/// regardless: a user resubmits after a cancelled or failed step.
pub fn write_and_submit(
    exp: &Study,
    study: &Path,
    opts: &SlurmOptions,
    step: &Step,
    submit: bool,
    exclusive: bool,
) -> Result<Submitted> {
    // Refused before the marker exists: a refused value must not leave a
    // marker that would block the step's submission once corrected.
    super::check(exp, study, opts)?;
    let dir = absolute(&opts.out).join("slurm");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (k, word) = (step.index, step.kind.word());
    let marker = dir.join(format!("{word}-{k}-{}.submitted", step.digest()));
    if submit {
        let mut open = fs::OpenOptions::new();
        open.write(true);
        if exclusive {
            open.create_new(true);
        } else {
            open.create(true).truncate(true);
        }
        match open.open(&marker) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Ok(Submitted::Already(
                    fs::read_to_string(&marker)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                ));
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", marker.display()));
            }
        }
    }
    let (array, promote) = scripts(exp, study, opts, step)?;
    let (a, p) = (
        dir.join(format!("{word}-{k}.sbatch")),
        dir.join(format!("{}-{k}.sbatch", step.kind.follower())),
    );
    crate::store::write_atomic(&a, array.as_bytes())?;
    crate::store::write_atomic(&p, promote.as_bytes())?;
    if !submit {
        return Ok(Submitted::Written(a, p));
    }
    let ids = sbatch(&["--parsable", &a.display().to_string()]).and_then(|array_id| {
        let promote_id = sbatch(&[
            "--parsable",
            &format!("--dependency=afterany:{array_id}"),
            &p.display().to_string(),
        ])?;
        Ok((array_id, promote_id))
    });
    match ids {
        Ok((array_id, promote_id)) => {
            let mut f = fs::File::create(&marker)?;
            let follower = step.kind.follower();
            writeln!(f, "array job {array_id}, {follower} job {promote_id}")?;
            f.sync_all()?;
            Ok(Submitted::Jobs(a, p, array_id, promote_id))
        }
        Err(e) => {
            // Not submitted (or only the array): let a retry submit it.
            let _ = fs::remove_file(&marker);
            Err(e)
        }
    }
}

/// The rung of `plan` a script is for: `k`'s budget, configurations and
/// trial ids.
pub fn rung_step(plan: &Plan, k: usize, budget: usize, configs: &[usize]) -> Step {
    let trials: Vec<String> = crate::halving::rung_trials(plan, configs)
        .iter()
        .map(|t| t.id.clone())
        .collect();
    Step {
        kind: Kind::Rung,
        index: k,
        about: format!(
            "{budget} epochs, {} configurations, {} trials",
            configs.len(),
            trials.len()
        ),
        key: budget.to_string(),
        trials,
    }
}
