//! Merging shard folders: the union of their trials, by id in plan order,
//! written with its report into one folder under that folder's lock.

use std::collections::HashMap;
use std::fs;

use anyhow::{Context, Result, bail};

use crate::data::Datasets;
use crate::plan::{Plan, Trial};
use crate::store::{Damage, ResultsDir, latest, same_path, write_atomic};
use crate::study::Study;
use crate::train::TrialRecord;

/// What a merge found.
#[derive(Debug, Clone)]
pub struct MergeOutcome {
    /// Trials in the plan.
    pub total: usize,
    /// Distinct trials of the plan found in the folders (a drawn point
    /// repeated in a search counts once, as in `total`).
    pub merged: usize,
    /// Record lines written: `merged`, or under halving one per trial and
    /// rung it reached.
    pub lines: usize,
    /// Records found in more than one of the folders named (kept once): of
    /// the same trial, and under halving of the same trial at the same
    /// rung. Copies the merged folder holds from an earlier merge do not count.
    pub duplicates: usize,
    /// Plan trials found nowhere (first few, as `index id`).
    pub missing: Vec<String>,
    /// Number of missing trials.
    pub n_missing: usize,
    /// Under halving, where the merged study stands
    /// ([`crate::halving::standing`]).
    pub halving: Option<String>,
    /// Lines of the folders' logs that no table uses (unparseable, cut in
    /// the middle, another study's), named in the merged report.md.
    pub damaged: Vec<Damage>,
}

/// Union the trials of `dirs` (shard folders of one study) into `out`, by
/// trial id and in plan order (under halving by trial and rung, rung by
/// rung), then write `out`'s report: exactly the report of a
/// single-machine run. Refuses folders of different studies.
pub fn merge(dirs: &[ResultsDir], out: &ResultsDir) -> Result<(Study, MergeOutcome)> {
    let Some(first) = dirs.first() else {
        bail!("merge: name at least one results folder")
    };
    let reference = first.study_text()?;
    for d in &dirs[1..] {
        if d.study_text()? != reference {
            bail!(
                "{}: holds a different study than {} (their study.toml differ); merge only shards of one study",
                d.path().display(),
                first.path().display()
            );
        }
    }
    let exp = first.load_study()?;
    let plan = Plan::new(&exp)?;
    let out_is_a_source = dirs.iter().any(|d| same_path(d.path(), out.path()));
    if out.has_study() && !out_is_a_source && out.study_text()? != reference {
        bail!(
            "{}: holds a different study; choose another --out",
            out.path().display()
        );
    }
    let mut sources: Vec<&ResultsDir> = dirs.iter().collect();
    if out.path().exists() && !out_is_a_source {
        sources.push(out);
    }
    fs::create_dir_all(out.path())
        .with_context(|| format!("cannot create {}", out.path().display()))?;
    // No run may append to the merged folder meanwhile, nor a second merge
    // (a repeated SLURM promote job) write it at the same time.
    let _lock = out.lock("merge")?;
    let found = union(&exp, &plan, &sources, dirs.len())?;
    let history = found.records;
    let study_toml = first.file("study.toml");
    let stored = fs::read_to_string(&study_toml)
        .with_context(|| format!("cannot read {}", study_toml.display()))?;
    write_atomic(&out.file("study.toml"), stored.as_bytes())?;
    out.write_records(&history)?;
    // The report reads each trial's latest record (one per trial), and
    // names the damaged lines of the folders read.
    let datasets = Datasets::load(&exp, &plan)?;
    let published = super::write_report(out, &exp, &plan, &datasets, &found.damaged)?;
    let (records, mut missing, duplicates) = (published.records, found.missing, found.duplicates);
    // A settle study's plan holds every seed up to its cap: missing are
    // only the trials of a round begun and not finished.
    let mut total = plan.distinct().count();
    if let Some(s) = crate::report::settle::walk(&exp, &plan, &records, Some(&datasets)) {
        let round: std::collections::HashSet<&str> =
            crate::settle::round_trials(&plan, &s.progress)
                .map_or(Vec::new(), |r| r.1)
                .iter()
                .map(|t| t.id.as_str())
                .collect();
        let unstored = missing
            .iter()
            .filter(|t| round.contains(t.id.as_str()))
            .count();
        let begun = unstored < round.len();
        missing.retain(|t| begun && round.contains(t.id.as_str()));
        total = records.len() + missing.len();
    }
    let n_missing = missing.len();
    let missing = missing.iter().map(|t| format!("{} {}", t.index, t.id));
    let halving = crate::halving::standing(&exp, &plan, &history);
    Ok((
        exp,
        MergeOutcome {
            total,
            merged: records.len(),
            lines: history.len(),
            duplicates,
            missing: missing.take(10).collect(),
            n_missing,
            halving,
            damaged: published.damaged,
        },
    ))
}

/// The plan's records found in `sources` (the first copy wins), how many
/// were found again in the first `named` of them (the folders named to
/// merge; the merged folder itself comes last), and the plan trials found
/// nowhere. A record is one
/// trial's, except under halving, where it is one trial's at one budget:
/// every rung a trial reached is kept (the rungs are recomputed from
/// them), earlier rungs first so the last line of a trial is its latest.
fn union<'p>(
    exp: &Study,
    plan: &'p Plan,
    sources: &[&ResultsDir],
    named: usize,
) -> Result<Union<'p>> {
    let halving = exp.halving.is_some();
    // (id, epochs_trained): a plain study's records all have `None` there,
    // so this is the trial id alone.
    let mut by_key: HashMap<(String, Option<usize>), TrialRecord> = HashMap::new();
    let mut duplicates = 0;
    let mut damaged = Vec::new();
    for (n, d) in sources.iter().enumerate() {
        // What the merged folder held from an earlier merge is no duplicate.
        let named = n < named;
        let checked = d.read_checked(plan)?;
        // Named even for the merged folder's own old log: the union
        // replaces it, and the damaged lines with it.
        damaged.extend(checked.damaged);
        let records = if halving {
            checked.history
        } else {
            latest(checked.history)
        };
        for r in records {
            let key = (r.id.clone(), r.epochs_trained.filter(|_| halving));
            match by_key.entry(key) {
                std::collections::hash_map::Entry::Occupied(_) => duplicates += usize::from(named),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(r);
                }
            }
        }
    }
    let mut by_id: HashMap<String, Vec<TrialRecord>> = HashMap::new();
    for ((id, _), r) in by_key {
        by_id.entry(id).or_default().push(r);
    }
    let mut records = Vec::new();
    let mut missing = Vec::new();
    // A drawn point repeated in the plan shares its id: one record serves both.
    for t in plan.distinct() {
        match by_id.remove(&t.id) {
            Some(rs) => records.extend(rs),
            None => missing.push(t),
        }
    }
    // Rung by rung (a stop's budget; the full run's records last), each in
    // plan order: for a plain study this is plan order.
    records.sort_by_key(|r| (r.epochs_trained.unwrap_or(usize::MAX), r.index));
    Ok(Union {
        records,
        duplicates,
        missing,
        damaged,
    })
}

/// What [`union`] found.
struct Union<'p> {
    /// The records kept, rung by rung in plan order.
    records: Vec<TrialRecord>,
    /// Records found again in the folders named.
    duplicates: usize,
    /// Plan trials found nowhere.
    missing: Vec<&'p Trial>,
    /// Damaged lines of the folders named.
    damaged: Vec<Damage>,
}

#[cfg(test)]
mod tests;
