//! The results folder: one owner for everything mlpsweep keeps on disk.
//!
//! A [`ResultsDir`] holds `study.toml` (the study as run, under a header
//! naming its source file), `trials.jsonl` (one JSON line per finished
//! trial), the tables, `report.md` and `figures/`, and a `.lock` held by
//! whichever process writes it (a run, a report, a merge, a promote step:
//! see [`lock`]). A folder belongs to the study as resolved, not to a path
//! ([`owner`]): the same study resumes from any directory, a grown one
//! (more grid points, more seeds) adds to it, and one that would leave
//! stored trials out is refused. Records are appended durably through a
//! [`Log`] (group commit), read back with every line that is not a record
//! of this study located ([`Damage`]; a torn last line, the trace of a
//! crash, excepted), every other file is written whole or not at all
//! ([`write_atomic`]), and shard folders merge ([`merge`]).

use std::collections::{HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::plan::Plan;
use crate::study::{self, Study};
use crate::train::TrialRecord;

mod atomic;
mod lines;
mod lock;
mod log;
mod owner;
mod sidecar;

pub use atomic::{write_atomic, write_atomic_owned};
pub use lock::Lock;
pub use log::Log;
pub use owner::Orphans;
pub use sidecar::Entry;

/// First line of a stored `study.toml`: which study file the folder holds.
pub const STUDY_HEADER: &str = "# mlpsweep results of ";

/// A results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsDir {
    path: PathBuf,
}

/// A line of a `trials.jsonl` that no table uses: where it is and why.
/// Records that cannot be parsed, or that belong to no trial of the study
/// (another study's records), are damage; a torn last line is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The `trials.jsonl` it is in.
    pub file: PathBuf,
    /// Its 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub why: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.why)
    }
}

/// A log read against a study's plan: every record line of its trials in
/// file order, and the lines that are damage.
#[derive(Debug, Default)]
pub struct Checked {
    /// Every record of a trial of the plan, in file order.
    pub history: Vec<TrialRecord>,
    /// Lines no table uses, in file order.
    pub damaged: Vec<Damage>,
}

impl ResultsDir {
    /// The folder at `path` (nothing is touched yet).
    pub fn new(path: impl Into<PathBuf>) -> ResultsDir {
        ResultsDir { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` inside the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Make this folder `exp`'s for a run of `plan`: move an old one aside
    /// under `--fresh`, create it, lock it, and check under the lock that
    /// what is stored belongs to this study ([`owner`]). Returns where
    /// `--fresh` moved the old folder, and the lock, to hold until the run ends.
    pub fn claim(&self, exp: &Study, plan: &Plan, fresh: bool) -> Result<(Option<PathBuf>, Lock)> {
        let moved_aside = if fresh { self.move_aside()? } else { None };
        self.check_results_folder()?;
        fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create {}", self.path.display()))?;
        let lock = self.lock("run")?;
        self.check_owner(exp, plan)?;
        Ok((moved_aside, lock))
    }

    /// A folder that exists must be empty or a results folder.
    fn check_results_folder(&self) -> Result<()> {
        let is_empty = |p: &Path| fs::read_dir(p).map(|mut d| d.next().is_none());
        if self.path.exists() && !self.has_study() && !is_empty(&self.path)? {
            bail!(
                "{}: exists and is not an mlpsweep results folder; choose another folder with --out",
                self.path.display()
            );
        }
        Ok(())
    }

    /// `--fresh`: move the folder to the first free `<name>.previous-N`,
    /// under its lock so no writer is cut off mid-file. Results are never deleted.
    fn move_aside(&self) -> Result<Option<PathBuf>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let _lock = if self.has_study() {
            Some(self.lock("run")?)
        } else {
            None
        };
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for n in 1.. {
            let target = self.path.with_file_name(format!("{name}.previous-{n}"));
            if !target.exists() {
                fs::rename(&self.path, &target).with_context(|| {
                    format!(
                        "cannot move {} aside to {}",
                        self.path.display(),
                        target.display()
                    )
                })?;
                return Ok(Some(target));
            }
        }
        unreachable!("some suffix is free")
    }

    /// Lock the folder for `what` (`run`, `report`, `merge`, `promote`), so
    /// two writers never interleave; see [`lock`] for who waits and who is refused.
    pub fn lock(&self, what: &str) -> Result<Lock> {
        lock::acquire(&self.path, what)
    }

    /// Store the study as run: the header naming the study file as given
    /// (kept relative, so a committed folder carries no machine's paths;
    /// it is a note for people, the folder's identity is the content),
    /// then the study with its overrides applied.
    pub fn write_study(&self, exp: &Study) -> Result<()> {
        let text = format!(
            "{STUDY_HEADER}{}\n{}",
            exp.path.display(),
            exp.resolved_toml
        );
        write_atomic(&self.file("study.toml"), text.as_bytes())
    }

    /// The stored study without its header line, so folders of one study
    /// compare equal wherever they were run.
    pub fn study_text(&self) -> Result<String> {
        let path = self.file("study.toml");
        let text = fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: not a results folder (no study.toml)",
                self.path.display()
            )
        })?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with(STUDY_HEADER))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// Whether this folder holds the results of a study other than `exp`
    /// (its stored study, overrides applied, differs); `false` when empty.
    pub fn holds_other_study(&self, exp: &Study) -> Result<bool> {
        let text = exp.resolved_toml.lines().collect::<Vec<_>>().join("\n");
        Ok(self.has_study() && self.study_text()? != text)
    }

    /// Whether a study is stored here.
    pub fn has_study(&self) -> bool {
        self.file("study.toml").exists()
    }

    /// Load the stored study.
    pub fn load_study(&self) -> Result<Study> {
        study::load(&self.file("study.toml"), &[])
            .with_context(|| format!("{} is not a results folder", self.path.display()))
    }

    /// The latest record of each trial in `trials.jsonl`, in plan order,
    /// skipping every line that is not a record (for callers that only
    /// look; writers read [`ResultsDir::read_checked`]).
    pub fn read_records(&self) -> Result<Vec<TrialRecord>> {
        Ok(latest(self.read_history()?))
    }

    /// Every record line of `trials.jsonl` in file order, a trial's
    /// earlier lines included (a halving trial has one per rung it
    /// reached); lines that are not records are skipped.
    pub fn read_history(&self) -> Result<Vec<TrialRecord>> {
        let (text, bin) = self.read_log()?;
        let parsed = lines::parse(&text, &bin);
        Ok(parsed.records.into_iter().map(|(_, r)| r).collect())
    }

    /// The log read against `plan`: records of its trials, and every line
    /// that is not one (unparseable, cut in the middle of the file, or of
    /// a trial the plan does not hold) located as [`Damage`].
    pub fn read_checked(&self, plan: &Plan) -> Result<Checked> {
        let file = self.file("trials.jsonl");
        let (text, bin) = self.read_log()?;
        let parsed = lines::parse(&text, &bin);
        let ids: HashSet<&str> = plan.trials.iter().map(|t| t.id.as_str()).collect();
        let foreign =
            |id: &str| format!("trial {id} is not in this study's plan (another study's record?)");
        // A record of another study is named as such, whatever its entry in trials.bin.
        let mut damaged: Vec<Damage> = parsed
            .bad
            .into_iter()
            .map(|b| Damage {
                file: file.clone(),
                line: b.line,
                why: match b.id {
                    Some(id) if !ids.contains(id.as_str()) => foreign(&id),
                    _ => b.why,
                },
            })
            .collect();
        let mut history = Vec::with_capacity(parsed.records.len());
        for (line, r) in parsed.records {
            if ids.contains(r.id.as_str()) {
                history.push(r);
            } else {
                damaged.push(Damage {
                    file: file.clone(),
                    line,
                    why: foreign(&r.id),
                });
            }
        }
        damaged.sort_by_key(|d| d.line);
        Ok(Checked { history, damaged })
    }

    /// `trials.jsonl` as text and `trials.bin`'s bytes; each empty when
    /// there is none.
    fn read_log(&self) -> Result<(String, Vec<u8>)> {
        let absent = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
        let path = self.file("trials.jsonl");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if absent(&e) => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let path = self.file(sidecar::FILE);
        let bin = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if absent(&e) => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok((text, bin))
    }

    /// Open `trials.jsonl` and `trials.bin` for appending; if the last
    /// line was torn, cut it off so the next record starts on a line of
    /// its own, and cut the entries no line names ([`sidecar::cut_at`]).
    pub fn open_log(&self) -> Result<Log> {
        let (jsonl, text) = open_cut(&self.file("trials.jsonl"), |text| {
            let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            Some(keep as u64)
        })?;
        let text = String::from_utf8_lossy(&text);
        let path = self.file(sidecar::FILE);
        let (bin, _) = open_cut(&path, |bin| sidecar::cut_at(&text, bin))?;
        let len = bin
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        Ok(Log::new(jsonl, bin, len))
    }

    /// Replace `trials.jsonl` and `trials.bin` whole with `records` (a
    /// merge's union): `trials.bin` first, so an old log over the new
    /// `trials.bin` (a kill between the two) still finds its entries by
    /// checksum.
    pub fn write_records(&self, records: &[TrialRecord]) -> Result<()> {
        let (mut jsonl, mut bin) = (Vec::new(), Vec::new());
        for r in records {
            Entry::of(r).write(0, &mut bin, &mut jsonl);
        }
        write_atomic(&self.file(sidecar::FILE), &bin)?;
        write_atomic(&self.file("trials.jsonl"), &jsonl)
    }
}

/// Open `path` for reading and appending (created if absent), read it,
/// and cut it to the length `keep` gives for its bytes, when that is shorter.
fn open_cut(path: &Path, keep: impl FnOnce(&[u8]) -> Option<u64>) -> Result<(fs::File, Vec<u8>)> {
    let mut f = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(keep) = keep(&bytes)
        && keep < bytes.len() as u64
    {
        f.set_len(keep)
            .with_context(|| format!("cannot cut the torn end of {}", path.display()))?;
        bytes.truncate(keep as usize);
    }
    Ok((f, bytes))
}

/// The latest record of each trial of `history` (later lines win), in plan order.
pub(crate) fn latest(history: Vec<TrialRecord>) -> Vec<TrialRecord> {
    // Positions are sorted, not records: a record is large, and moving
    // 40,000 of them through a map and a sort took a tenth of a second.
    let mut keep: Vec<usize> = {
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(history.len());
        for (i, r) in history.iter().enumerate() {
            last.insert(r.id.as_str(), i);
        }
        last.into_values().collect()
    };
    let key = |i: usize| (history[i].index, history[i].id.as_str());
    keep.sort_by(|&a, &b| key(a).cmp(&key(b)));
    let mut slots: Vec<Option<TrialRecord>> = history.into_iter().map(Some).collect();
    keep.into_iter()
        .map(|i| slots[i].take().expect("each position is kept once"))
        .collect()
}

/// Whether two paths name the same file or folder (as given when either
/// does not exist).
pub fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
pub(crate) mod tests;
