//! Beyond one machine: merge shard folders, and write (and submit) SLURM
//! job arrays. SLURM is used as it is — one array task per shard, each an
//! ordinary `mlpsweep run --shard I/N`, and a dependent job that merges.
//!
//! Input: results folders written by `run --shard`. Output: one results
//! folder whose `trials.jsonl` is the union by trial id, so its report is
//! exactly the report of a single-machine run of the same study.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::plan::Plan;
use crate::schedule;
use crate::study::{self, Study};
use crate::train::TrialRecord;

/// What a merge found.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// Trials in the plan.
    pub total: usize,
    /// Distinct trials of the plan found in the folders.
    pub merged: usize,
    /// Trial ids found in more than one folder (kept once).
    pub duplicates: usize,
    /// Plan trials found nowhere (first few, as `index id`).
    pub missing: Vec<String>,
    /// Number of missing trials.
    pub n_missing: usize,
}

/// Strip the first line of a stored `study.toml` when it is the source
/// comment, so folders of one study compare equal wherever they were run.
fn study_text(dir: &Path) -> Result<String> {
    let path = dir.join("study.toml");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("{}: not a results folder (no study.toml)", dir.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with("# mlpsweep results of "))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Union the trials of `dirs` (shard folders of one study) into `out`,
/// then write `out`'s report. Refuses folders of different studies.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(Study, MergeOutcome)> {
    let Some(first) = dirs.first() else {
        bail!("merge: name at least one results folder")
    };
    let reference = study_text(first)?;
    for d in &dirs[1..] {
        if study_text(d)? != reference {
            bail!(
                "{}: holds a different study than {} (their study.toml differ); merge only shards of one study",
                d.display(),
                first.display()
            );
        }
    }
    let exp = study::load(&first.join("study.toml"), &[])
        .with_context(|| format!("{} is not a results folder", first.display()))?;
    let plan = Plan::new(&exp)?;
    if out.join("study.toml").exists()
        && !dirs.iter().any(|d| same_dir(d, out))
        && study_text(out)? != reference
    {
        bail!(
            "{}: holds a different study; choose another --out",
            out.display()
        );
    }
    let mut by_id: HashMap<String, TrialRecord> = HashMap::new();
    let mut duplicates = 0;
    let mut sources: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    if out.exists() && !dirs.iter().any(|d| same_dir(d, out)) {
        sources.push(out);
    }
    for d in sources {
        for r in schedule::read_records(d)? {
            if by_id.contains_key(&r.id) {
                duplicates += 1;
            } else {
                by_id.insert(r.id.clone(), r);
            }
        }
    }
    // Keep only this study's trials, in plan order.
    let mut records: Vec<TrialRecord> = Vec::new();
    let mut missing = Vec::new();
    for t in &plan.trials {
        match by_id.remove(&t.id) {
            Some(r) => records.push(r),
            None => missing.push(format!("{} {}", t.index, t.id)),
        }
    }
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let stored = fs::read_to_string(first.join("study.toml"))?;
    crate::report::write_atomic(&out.join("study.toml"), stored.as_bytes())?;
    let mut jsonl = String::new();
    for r in &records {
        jsonl.push_str(&serde_json::to_string(r).expect("records serialise"));
        jsonl.push('\n');
    }
    crate::report::write_atomic(&out.join("trials.jsonl"), jsonl.as_bytes())?;
    let datasets = schedule::load_data(&exp, &plan)?;
    let data = plan
        .trials
        .first()
        .map(|t| schedule::data_for(&datasets, t));
    crate::report::write(&exp, &plan, &records, out, data)?;
    let n_missing = missing.len();
    missing.truncate(10);
    Ok((
        exp,
        MergeOutcome {
            total: plan.len(),
            merged: records.len(),
            duplicates,
            missing,
            n_missing,
        },
    ))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// How to lay a study out on a SLURM cluster.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Array tasks (shards).
    pub shards: usize,
    /// CPUs per array task; each task runs `--jobs` = this.
    pub cpus_per_task: usize,
    /// Wall-time limit per task, in SLURM's format (e.g. `02:00:00`).
    pub time: String,
    /// Partition, if the cluster needs one named.
    pub partition: Option<String>,
    /// The merged results folder; shards go to `<out>/shard-I-of-N`.
    pub out: PathBuf,
    /// `--set` overrides, passed on to every shard.
    pub sets: Vec<String>,
}

fn quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The two batch scripts: (array script, merge script). Paths are made
/// absolute so the jobs run the same from any working directory.
pub fn scripts(exp: &Study, study: &Path, opts: &SlurmOptions) -> Result<(String, String)> {
    let exe = std::env::current_exe().context("cannot locate the mlpsweep binary")?;
    let (exe, study, out) = (absolute(&exe), absolute(study), absolute(&opts.out));
    let n = opts.shards;
    let logs = out.join("slurm");
    let sets: String = opts
        .sets
        .iter()
        .map(|s| format!(" --set {}", quote(s)))
        .collect();
    let partition = opts
        .partition
        .as_ref()
        .map(|p| format!("#SBATCH --partition={p}\n"))
        .unwrap_or_default();
    let array = format!(
        "#!/bin/bash\n\
         # mlpsweep: study {name}, {n} shards ({trials} trials). Generated by `mlpsweep slurm`.\n\
         #SBATCH --job-name=mlpsweep-{name}\n\
         #SBATCH --array=1-{n}\n\
         #SBATCH --cpus-per-task={cpus}\n\
         #SBATCH --time={time}\n\
         {partition}\
         #SBATCH --output={logs}/shard-%a-of-{n}.log\n\
         set -euo pipefail\n\
         # A shard resumes by content: resubmitting runs only what is missing.\n\
         exec {exe} run {study} --shard \"$SLURM_ARRAY_TASK_ID/{n}\" --jobs \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" \\\n    \
         --out \"{out}/shard-$SLURM_ARRAY_TASK_ID-of-{n}\" --quiet{sets}\n",
        name = exp.name,
        trials = Plan::new(exp)?.len(),
        cpus = opts.cpus_per_task,
        time = opts.time,
        logs = logs.display(),
        exe = quote(&exe.display().to_string()),
        study = quote(&study.display().to_string()),
        out = out.display(),
    );
    let merge = format!(
        "#!/bin/bash\n\
         # mlpsweep: merge the {n} shards of study {name} and write the report.\n\
         #SBATCH --job-name=mlpsweep-{name}-merge\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --time={time}\n\
         {partition}\
         #SBATCH --output={logs}/merge.log\n\
         set -euo pipefail\n\
         exec {exe} merge \"{out}\"/shard-*-of-{n} --out \"{out}\"\n",
        name = exp.name,
        time = opts.time,
        logs = logs.display(),
        exe = quote(&exe.display().to_string()),
        out = out.display(),
    );
    Ok((array, merge))
}

/// The array script, the merge script, and (array, merge) job ids when submitted.
pub type Written = (PathBuf, PathBuf, Option<(String, String)>);

/// Write the scripts to `<out>/slurm/`; with `submit`, submit the array and
/// a merge job that runs after it whatever its outcome (`afterany`).
/// Returns the script paths and, when submitted, (array job id, merge job id).
pub fn write_scripts(
    exp: &Study,
    study: &Path,
    opts: &SlurmOptions,
    submit: bool,
) -> Result<Written> {
    let (array, merge) = scripts(exp, study, opts)?;
    let dir = absolute(&opts.out).join("slurm");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (a, m) = (dir.join("array.sbatch"), dir.join("merge.sbatch"));
    crate::report::write_atomic(&a, array.as_bytes())?;
    crate::report::write_atomic(&m, merge.as_bytes())?;
    if !submit {
        return Ok((a, m, None));
    }
    let sbatch = |args: &[&str]| -> Result<String> {
        let o = Command::new("sbatch")
            .args(args)
            .output()
            .context("cannot run sbatch (is SLURM installed here?)")?;
        if !o.status.success() {
            bail!(
                "sbatch {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            );
        }
        // --parsable prints `jobid` or `jobid;cluster`.
        Ok(String::from_utf8_lossy(&o.stdout)
            .trim()
            .split(';')
            .next()
            .unwrap_or("")
            .to_string())
    };
    let array_id = sbatch(&["--parsable", &a.display().to_string()])?;
    let merge_id = sbatch(&[
        "--parsable",
        &format!("--dependency=afterany:{array_id}"),
        &m.display().to_string(),
    ])?;
    Ok((a, m, Some((array_id, merge_id))))
}
