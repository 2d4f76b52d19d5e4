//! Whose a results folder is: the study as resolved, not a path.
//!
//! A folder holds the records of a set of trials, and the ids of those
//! trials are hashes of their resolved settings, so the ids are the
//! identity: the same study run from any directory, or from a byte-
//! identical copy of its file, has the same plan and resumes. A run may
//! grow the study (more grid points, more seeds: every stored trial is
//! still in the new plan); a run whose plan leaves out a stored trial would
//! orphan its record (it drops out of every table while the new report
//! replaces the old one), so it is refused before anything is written,
//! naming the stored file and the keys whose values differ. A stored
//! record whose trial the *stored* study never planned is not orphaned by
//! the change: it is damage, reported by whoever reads the log.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{Result, bail};

use super::ResultsDir;
use crate::plan::Plan;
use crate::study::Study;
use crate::train::TrialRecord;

/// Stored records a study's plan would leave out.
#[derive(Debug, Clone)]
pub struct Orphans {
    /// The folder's stored study file.
    pub file: PathBuf,
    /// How many distinct trials.
    pub count: usize,
    /// The first few, as `trial <index> (<id>)`.
    pub examples: Vec<String>,
    /// Keys whose values differ, as `key: stored → now`.
    pub differs: Vec<String>,
}

impl std::fmt::Display for Orphans {
    /// "N stored trial(s) … are not in this study's plan; FILE differs in: …".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} stored trial(s) ({}{}) are not in this study's plan, so they would drop out of every table",
            self.count,
            self.examples.join(", "),
            if self.count > self.examples.len() {
                ", …"
            } else {
                ""
            }
        )?;
        if self.differs.is_empty() {
            write!(f, " ({} differs in no key)", self.file.display())
        } else {
            write!(
                f,
                "; {} differs in {}",
                self.file.display(),
                self.differs.join(", ")
            )
        }
    }
}

impl ResultsDir {
    /// The folder must be new, or hold this study: the same name, and no
    /// stored trial left out of `plan`. Called under the folder's lock.
    pub(super) fn check_owner(&self, exp: &Study, plan: &Plan) -> Result<()> {
        if !self.has_study() {
            return Ok(());
        }
        let text = self.study_text()?;
        let name = text
            .parse::<toml::Table>()
            .ok()
            .and_then(|t| t.get("name").and_then(|v| v.as_str().map(String::from)));
        if name.as_deref() != Some(exp.name.as_str()) {
            bail!(
                "{}: holds the results of study {:?}, not {:?}; choose another folder with --out",
                self.path.display(),
                name.unwrap_or_default(),
                exp.name
            );
        }
        if let Some(o) = self.orphans(exp, plan)? {
            bail!(
                "{}: holds results of a different version of study {:?}: {o}. \
                 Run it into a folder of its own with --out DIR, or move this one aside with --fresh \
                 (it is renamed to {}.previous-N; nothing is deleted)",
                self.path.display(),
                exp.name,
                self.path.display()
            );
        }
        Ok(())
    }

    /// The stored records `plan` would leave out (`None`: none, or no
    /// study stored). Records of trials the stored study never planned are
    /// damage, not orphans, and are not counted.
    pub fn orphans(&self, exp: &Study, plan: &Plan) -> Result<Option<Orphans>> {
        if !self.has_study() {
            return Ok(None);
        }
        let history = self.read_history()?;
        // A stored study that no longer loads (an older format): every
        // record counts as its own.
        let stored: Option<HashSet<String>> = self
            .load_study()
            .ok()
            .and_then(|s| Plan::new(&s).ok())
            .map(|p| p.trials.into_iter().map(|t| t.id).collect());
        let ours = |r: &TrialRecord| stored.as_ref().is_none_or(|s| s.contains(&r.id));
        let ids: HashSet<&str> = plan.trials.iter().map(|t| t.id.as_str()).collect();
        let budgets = budgets(exp, plan);
        // (index, id) of each orphaned trial once, in plan order.
        let mut orphaned: Vec<(usize, &str)> = history
            .iter()
            .filter(|r| ours(r))
            .filter(|r| {
                let rung_gone =
                    matches!((&budgets, r.epochs_trained), (Some(b), Some(e)) if !b.contains(&e));
                !ids.contains(r.id.as_str()) || rung_gone
            })
            .map(|r| (r.index, r.id.as_str()))
            .collect();
        orphaned.sort_unstable();
        let mut seen = HashSet::new();
        orphaned.retain(|(_, id)| seen.insert(*id));
        if orphaned.is_empty() {
            return Ok(None);
        }
        Ok(Some(Orphans {
            file: self.file("study.toml"),
            count: orphaned.len(),
            examples: orphaned
                .iter()
                .take(3)
                .map(|(i, id)| format!("trial {i} ({id})"))
                .collect(),
            differs: differing_keys(&self.study_text()?, &exp.resolved_toml),
        }))
    }
}

/// A halving study's rung budgets: a record stopped at a budget the new
/// ladder does not have is orphaned too.
fn budgets(exp: &Study, plan: &Plan) -> Option<Vec<usize>> {
    let h = exp.halving.as_ref()?;
    let epochs = plan.trials.first()?.config.train.epochs;
    Some(crate::halving::budgets(h.min_epochs, h.eta, epochs))
}

/// The keys whose values differ between two studies' TOML, as
/// `key: stored → now` (`(none)` when absent), in key order.
fn differing_keys(stored: &str, now: &str) -> Vec<String> {
    let flat = |text: &str| {
        let t = text.parse::<toml::Table>().unwrap_or_default();
        crate::study::flatten(&t, "")
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect::<BTreeMap<String, String>>()
    };
    let (a, b) = (flat(stored), flat(now));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let none = "(none)".to_string();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            format!(
                "{k}: {} → {}",
                a.get(k).unwrap_or(&none),
                b.get(k).unwrap_or(&none)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_keys_name_each_leaf_that_changed() {
        let stored = "name = \"s\"\nseeds = 20\n[train]\nepochs = 200\nlr = 0.1\n";
        let now = "name = \"s\"\nseeds = 2\n[train]\nepochs = 5\nlr = 0.1\n[data]\nnoise = 0.3\n";
        assert_eq!(
            differing_keys(stored, now),
            [
                "data.noise: (none) → 0.3",
                "seeds: 20 → 2",
                "train.epochs: 200 → 5"
            ]
        );
    }
}
