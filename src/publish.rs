//! Publishing a report into a results folder: read the log as it stands
//! (under the folder's lock, which the caller or [`rebuild_report`]
//! holds), build the report (`crate::report`, pure) and write its files,
//! each whole or not at all. Orchestration, above the store: the store
//! keeps the log and the folder, and never builds a report.

use std::fs;

use anyhow::{Context, Result};

use crate::data::Datasets;
use crate::plan::Plan;
use crate::report::{self, Report};
use crate::store::{Damage, ResultsDir, latest, write_atomic};
use crate::study::Study;
use crate::train::TrialRecord;

mod merge;

pub use merge::{MergeOutcome, merge};

/// What a report write read and wrote.
pub struct Published {
    /// The report.
    pub report: Report,
    /// The latest record of each trial, in plan order (what the tables hold).
    pub records: Vec<TrialRecord>,
    /// Every damaged line the report names (of this folder's log, and of
    /// the folders a merge read).
    pub damaged: Vec<Damage>,
}

/// Build the report of `plan` from the log as it stands and write its
/// tables, Markdown and figures, each file whole or not at all. The
/// caller holds the folder's lock, so no writer changes the log
/// between this read and the write. `elsewhere`: damage found in other
/// folders (a merge's sources), named in report.md too.
pub fn write_report(
    dir: &ResultsDir,
    exp: &Study,
    plan: &Plan,
    datasets: &Datasets,
    elsewhere: &[Damage],
) -> Result<Published> {
    let checked = dir.read_checked(plan)?;
    // A halving study's rungs come from every stored line (a promoted
    // trial's earlier rungs included), not only the latest per trial.
    let rungs = match exp.halving {
        Some(_) => crate::halving::rungs(exp, plan, &checked.history),
        None => None,
    };
    let mut damaged = elsewhere.to_vec();
    damaged.extend(checked.damaged);
    let records = latest(checked.history);
    // Its verdict against the full grid reads the reference folder,
    // relative to this one; one that cannot be read is reported, not fatal.
    let reference = crate::reference::load(exp, plan, dir.path());
    let notes: Vec<String> = damaged.iter().map(|d| note(dir, d)).collect();
    let (built, files) = report::render(
        exp,
        plan,
        &records,
        Some(datasets),
        &report::About {
            provenance: &provenance(),
            damaged: &notes,
        },
        rungs.as_ref(),
        reference.as_ref(),
    )?;
    if files.iter().any(|(name, _)| name.starts_with("figures/")) {
        let figures = dir.file("figures");
        fs::create_dir_all(&figures)
            .with_context(|| format!("cannot create {}", figures.display()))?;
    }
    for (name, bytes) in files {
        write_atomic(&dir.file(&name), &bytes)?;
    }
    Ok(Published {
        report: built,
        records,
        damaged,
    })
}

/// A damaged line as report.md names it: relative to this folder when
/// it is in it, so a committed report carries no machine's paths.
fn note(dir: &ResultsDir, d: &Damage) -> String {
    let file = d.file.strip_prefix(dir.path()).unwrap_or(&d.file);
    format!("`{}` line {}: {}", file.display(), d.line, d.why)
}

/// Rebuild the report from what is stored, under the folder's lock:
/// the study, its data and its records as they stand.
pub fn rebuild_report(dir: &ResultsDir) -> Result<(Study, Published)> {
    if !dir.has_study() {
        // Not a results folder: say so, and leave no .lock behind in it.
        dir.load_study()?;
    }
    // The study too is read under the lock: a run that grows it
    // rewrites study.toml, and its new trials are of the new plan.
    let _lock = dir.lock("report")?;
    let exp = dir.load_study()?;
    let plan = Plan::new(&exp)?;
    let datasets = Datasets::load(&exp, &plan)?;
    let published = write_report(dir, &exp, &plan, &datasets, &[])?;
    Ok((exp, published))
}

/// The report's provenance: mlpsweep's version, the git revision of the
/// working directory and the core count.
fn provenance() -> String {
    format!(
        "mlpsweep {}, git revision {}, {} cores",
        env!("CARGO_PKG_VERSION"),
        git_revision().unwrap_or_else(|| "unknown".into()),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    )
}

/// `git rev-parse --short HEAD` in the working directory, if git answers.
fn git_revision() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
