//! A halving study's reference: the results folder of the full grid over
//! the same configurations and seeds (`[search.halving] reference`), whose
//! records judge the configuration halving picked and the compute it
//! spent (`report/reference.rs`).
//!
//! The path is relative to the halving study's own results folder (or
//! absolute), so the stored `study.toml` needs no rewriting and
//! `mlpsweep report DIR` finds the reference from any working folder.
//! Before a run the folder must exist and hold a plain (not halving) study
//! whose plan has every trial id of this one: an error otherwise, naming
//! the study file, line and key. At report time nothing is an error: a
//! reference that cannot be read makes the verdict inconclusive, saying why.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::plan::Plan;
use crate::store::ResultsDir;
use crate::study::{Study, StudyError};
use crate::train::TrialRecord;

/// The study-file key the reference is read from.
pub const KEY: &str = "search.halving.reference";

/// The reference folder of a halving study whose results are in `out`:
/// `reference` joined to `out` and normalised without touching the disk
/// (`out` need not exist yet, and `a/b/..` must not require `a/b`).
pub fn resolve(out: &Path, reference: &str) -> PathBuf {
    let joined = out.join(reference);
    let mut parts: Vec<Component> = Vec::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let p: PathBuf = parts.iter().collect();
    if p.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        p
    }
}

/// What the reference folder held when the report was built.
#[derive(Debug, Clone)]
pub enum Found {
    /// It could not be used; the reason, for the report.
    Missing(String),
    /// Its records of this study's trials, by trial id (trials it has not
    /// stored are absent), and how many of its plan's trials are not this
    /// study's (ignored).
    Records {
        /// Where it is, as resolved.
        path: PathBuf,
        /// The reference study's name.
        name: String,
        /// Its latest record of each of this study's trial ids.
        by_id: HashMap<String, TrialRecord>,
        /// Trials of its plan outside this study's plan.
        extra: usize,
    },
}

/// The reference study and plan at `dir`, checked against `plan`: a
/// message when it is missing, not a results folder, a halving study, or
/// lacks some trial id of `plan`.
fn open(dir: &Path, plan: &Plan) -> Result<(Study, Plan), String> {
    let shown = dir.display();
    if !dir.is_dir() {
        return Err(format!(
            "no such folder: {shown} (the path is relative to this study's results folder); run the full grid there first"
        ));
    }
    let results = ResultsDir::new(dir);
    if !results.has_study() {
        return Err(format!(
            "not a results folder (no study.toml): {shown}; name the full grid's results folder"
        ));
    }
    let study = results
        .load_study()
        .map_err(|e| format!("cannot load the study of {shown}: {e:#}"))?;
    if study.halving.is_some() {
        return Err(format!(
            "the reference must be a full grid, every trial trained to train.epochs, not the halving study {:?} in {shown}",
            study.name
        ));
    }
    let ref_plan =
        Plan::new(&study).map_err(|e| format!("cannot expand the study of {shown}: {e}"))?;
    let ids: std::collections::HashSet<&str> =
        ref_plan.trials.iter().map(|t| t.id.as_str()).collect();
    let missing: Vec<_> = plan
        .trials
        .iter()
        .filter(|t| !ids.contains(t.id.as_str()))
        .collect();
    if let Some(first) = missing.first() {
        return Err(format!(
            "study {:?} in {shown} does not have {} of this study's {} trials (e.g. {} seed {}, id {}); \
             the reference must be the full grid over the same configurations, seeds and settings",
            study.name,
            missing.len(),
            plan.trials.len(),
            crate::study::describe(&first.swept),
            first.seed,
            first.id
        ));
    }
    Ok((study, ref_plan))
}

/// Before a run: the reference of `exp` (results in `out`) must be usable.
pub fn check(exp: &Study, plan: &Plan, out: &Path) -> Result<(), StudyError> {
    let Some(r) = exp.halving.as_ref().and_then(|h| h.reference.as_ref()) else {
        return Ok(());
    };
    open(&resolve(out, &r.path), plan)
        .map(|_| ())
        .map_err(|m| exp.key_error(KEY, m))
}

/// At report time: what the reference of `exp` (results in `out`) holds
/// for `plan`; `None` without a reference.
pub fn load(exp: &Study, plan: &Plan, out: &Path) -> Option<Found> {
    let r = exp.halving.as_ref()?.reference.as_ref()?;
    let dir = resolve(out, &r.path);
    let (study, ref_plan) = match open(&dir, plan) {
        Ok(x) => x,
        Err(m) => return Some(Found::Missing(m)),
    };
    let records = match ResultsDir::new(&dir).read_records() {
        Ok(r) => r,
        Err(e) => return Some(Found::Missing(format!("{}: {e:#}", dir.display()))),
    };
    let wanted: std::collections::HashSet<&str> =
        plan.trials.iter().map(|t| t.id.as_str()).collect();
    let extra = ref_plan
        .trials
        .iter()
        .filter(|t| !wanted.contains(t.id.as_str()))
        .count();
    let by_id = records
        .into_iter()
        .filter(|r| wanted.contains(r.id.as_str()))
        .map(|r| (r.id.clone(), r))
        .collect();
    Some(Found::Records {
        path: dir,
        name: study.name,
        by_id,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `..` climbs out of the results folder without the folder existing;
    /// absolute references stay as they are.
    #[test]
    fn references_resolve_from_the_results_folder() {
        let r = |out: &str, p: &str| resolve(Path::new(out), p);
        assert_eq!(
            r("results/halving", "../depth_vs_width"),
            Path::new("results/depth_vs_width")
        );
        assert_eq!(r("results/halving", "./../a/./b"), Path::new("results/a/b"));
        assert_eq!(r("out", ".."), Path::new("."));
        assert_eq!(r("../x", "../y"), Path::new("../y"));
        assert_eq!(r("results/halving", "/abs/grid"), Path::new("/abs/grid"));
    }
}
