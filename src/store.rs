//! The results folder: one owner for everything mlpsweep keeps on disk.
//!
//! A [`ResultsDir`] holds `study.toml` (the study as run, under a header
//! naming its source file), `trials.jsonl` (one JSON line per finished
//! trial), the tables, `report.md` and `figures/`, and a `.lock` held while
//! a run writes. It checks that a folder belongs to a study before any
//! training, appends records durably through a [`Log`] (group commit: one
//! `fdatasync` covers every trial that finished while the previous one
//! ran), reads them back repairing a torn last line, writes every other
//! file whole or not at all, and merges shard folders.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use anyhow::{Context, Result, bail};

use crate::data::Datasets;
use crate::plan::Plan;
use crate::report::{self, Report};
use crate::study::{self, Study};
use crate::train::TrialRecord;

/// First line of a stored `study.toml`: which study file the folder holds.
pub const STUDY_HEADER: &str = "# mlpsweep results of ";

/// A results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsDir {
    path: PathBuf,
}

/// The advisory lock of a folder, held for a whole run; the OS drops it
/// when the process dies, so a crash never leaves the folder locked.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] File);

impl ResultsDir {
    /// The folder at `path` (nothing is touched yet).
    pub fn new(path: impl Into<PathBuf>) -> ResultsDir {
        ResultsDir { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Make this folder `exp`'s for a run: move an old one aside under
    /// `--fresh`, check that what is there belongs to this study, create
    /// it, and lock it. Returns where `--fresh` moved the old folder, and
    /// the lock, to hold until the run ends.
    pub fn claim(&self, exp: &Study, fresh: bool) -> Result<(Option<PathBuf>, Lock)> {
        let moved_aside = if fresh { self.move_aside()? } else { None };
        self.check_owner(exp)?;
        fs::create_dir_all(&self.path)
            .with_context(|| format!("cannot create {}", self.path.display()))?;
        Ok((moved_aside, self.lock()?))
    }

    /// The folder must be new, or hold this study (same name, from the
    /// same study file, or be that stored copy being re-run).
    fn check_owner(&self, exp: &Study) -> Result<()> {
        let stored = self.file("study.toml");
        if !stored.exists() {
            if self.path.exists() && fs::read_dir(&self.path)?.next().is_some() {
                bail!(
                    "{}: exists and is not an mlpsweep results folder; choose another folder with --out",
                    self.path.display()
                );
            }
            return Ok(());
        }
        let text = fs::read_to_string(&stored)
            .with_context(|| format!("cannot read {}", stored.display()))?;
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
        let source = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(STUDY_HEADER));
        let rerun_of_stored = same_path(&stored, &exp.path);
        if let Some(src) = source
            && !same_path(Path::new(src), &exp.path)
            && !rerun_of_stored
        {
            bail!(
                "{}: holds the results of a different study named {:?} (from {src}); \
                     choose another folder with --out, or start over with --fresh",
                self.path.display(),
                exp.name
            );
        }
        Ok(())
    }

    /// `--fresh`: move the folder to the first free `<name>.previous-N`.
    /// Results are never deleted.
    fn move_aside(&self) -> Result<Option<PathBuf>> {
        if !self.path.exists() {
            return Ok(None);
        }
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

    /// Lock the folder, so two runs never write the same `trials.jsonl`.
    pub fn lock(&self) -> Result<Lock> {
        let path = self.file(".lock");
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match f.try_lock() {
            Ok(()) => {
                f.set_len(0)?;
                writeln!(f, "{}", std::process::id())?;
                Ok(Lock(f))
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = f.read_to_string(&mut pid);
                bail!(
                    "{}: another mlpsweep run (pid {}) is writing to this folder; wait for it, or use another --out",
                    self.path.display(),
                    pid.trim()
                )
            }
            Err(fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// Store the study as run: the header naming the study file as given
    /// (kept relative, so a committed folder carries no machine's paths),
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

    /// The records stored in `trials.jsonl`, skipping a torn last line (a
    /// write cut short) and lines of other formats. Later lines win; the
    /// result is in plan order.
    pub fn read_records(&self) -> Result<Vec<TrialRecord>> {
        let mut by_id: HashMap<String, TrialRecord> = HashMap::new();
        for r in self.read_history()? {
            by_id.insert(r.id.clone(), r);
        }
        let mut records: Vec<TrialRecord> = by_id.into_values().collect();
        records.sort_by(|a, b| a.index.cmp(&b.index).then_with(|| a.id.cmp(&b.id)));
        Ok(records)
    }

    /// Every record line of `trials.jsonl` in file order, a trial's
    /// earlier lines included (a halving trial has one per rung it
    /// reached); a torn last line and lines of other formats are skipped.
    pub fn read_history(&self) -> Result<Vec<TrialRecord>> {
        let path = self.file("trials.jsonl");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(lines::parse(&text))
    }

    /// Open `trials.jsonl` for appending; if its last line was torn, cut it
    /// off so the next record starts on a line of its own.
    pub fn open_log(&self) -> Result<Log> {
        let path = self.file("trials.jsonl");
        let mut f = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let mut text = Vec::new();
        f.read_to_end(&mut text)?;
        if let Some(&last) = text.last()
            && last != b'\n'
        {
            let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
            f.set_len(keep as u64)?;
            f.seek(SeekFrom::End(0))?;
        }
        Ok(Log::new(f))
    }

    /// Replace `trials.jsonl` whole with `records` (a merge's union).
    pub fn write_records(&self, records: &[TrialRecord]) -> Result<()> {
        let mut jsonl = String::new();
        for r in records {
            jsonl.push_str(&serde_json::to_string(r).expect("records serialise"));
            jsonl.push('\n');
        }
        write_atomic(&self.file("trials.jsonl"), jsonl.as_bytes())
    }

    /// Build the report of `plan` from `records` and write its tables,
    /// Markdown and figures, each file whole or not at all.
    pub fn write_report(
        &self,
        exp: &Study,
        plan: &Plan,
        records: &[TrialRecord],
        datasets: &Datasets,
    ) -> Result<Report> {
        // A halving study's rungs come from every stored line (a promoted
        // trial's earlier rungs included), not only the latest per trial.
        let rungs = match exp.halving {
            Some(_) => crate::halving::rungs(exp, plan, &self.read_history()?),
            None => None,
        };
        // Its verdict against the full grid reads the reference folder,
        // relative to this one; one that cannot be read is reported, not fatal.
        let reference = crate::reference::load(exp, plan, &self.path);
        let (built, files) = report::render(
            exp,
            plan,
            records,
            Some(datasets),
            &provenance(),
            rungs.as_ref(),
            reference.as_ref(),
        )?;
        if files.iter().any(|(name, _)| name.starts_with("figures/")) {
            fs::create_dir_all(self.file("figures")).context("creating figures/")?;
        }
        for (name, bytes) in files {
            write_atomic(&self.file(&name), &bytes).with_context(|| format!("writing {name}"))?;
        }
        Ok(built)
    }

    /// Rebuild the report from what is stored: the study, its data and its
    /// records. Returns the report and how many records it read.
    pub fn rebuild_report(&self) -> Result<(Study, Report, usize)> {
        let exp = self.load_study()?;
        let plan = Plan::new(&exp)?;
        let records = self.read_records()?;
        let datasets = Datasets::load(&exp, &plan)?;
        let built = self.write_report(&exp, &plan, &records, &datasets)?;
        Ok((exp, built, records.len()))
    }
}

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
                d.path.display(),
                first.path.display()
            );
        }
    }
    let exp = first.load_study()?;
    let plan = Plan::new(&exp)?;
    let out_is_a_source = dirs.iter().any(|d| same_path(&d.path, &out.path));
    if out.has_study() && !out_is_a_source && out.study_text()? != reference {
        bail!(
            "{}: holds a different study; choose another --out",
            out.path.display()
        );
    }
    let mut sources: Vec<&ResultsDir> = dirs.iter().collect();
    if out.path.exists() && !out_is_a_source {
        sources.push(out);
    }
    fs::create_dir_all(&out.path)
        .with_context(|| format!("cannot create {}", out.path.display()))?;
    // No run may append to the merged folder meanwhile, nor a second merge
    // (a repeated SLURM promote job) write it at the same time.
    let _lock = out.lock()?;
    let (history, duplicates, missing) = union(&exp, &plan, &sources, dirs.len())?;
    let stored = fs::read_to_string(first.file("study.toml"))?;
    write_atomic(&out.file("study.toml"), stored.as_bytes())?;
    out.write_records(&history)?;
    // The report reads each trial's latest record (one per trial).
    let records = out.read_records()?;
    let datasets = Datasets::load(&exp, &plan)?;
    out.write_report(&exp, &plan, &records, &datasets)?;
    let n_missing = missing.len();
    let halving = crate::halving::standing(&exp, &plan, &history);
    Ok((
        exp,
        MergeOutcome {
            total: plan.distinct().count(),
            merged: records.len(),
            lines: history.len(),
            duplicates,
            missing: missing.into_iter().take(10).collect(),
            n_missing,
            halving,
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
fn union(
    exp: &Study,
    plan: &Plan,
    sources: &[&ResultsDir],
    named: usize,
) -> Result<(Vec<TrialRecord>, usize, Vec<String>)> {
    let halving = exp.halving.is_some();
    // (id, epochs_trained): a plain study's records all have `None` there,
    // so this is the trial id alone.
    let mut by_key: HashMap<(String, Option<usize>), TrialRecord> = HashMap::new();
    let mut duplicates = 0;
    for (n, d) in sources.iter().enumerate() {
        // What the merged folder held from an earlier merge is no duplicate.
        let named = n < named;
        let records = if halving {
            d.read_history()?
        } else {
            d.read_records()?
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
            None => missing.push(format!("{} {}", t.index, t.id)),
        }
    }
    // Rung by rung (a stop's budget; the full run's records last), each in
    // plan order: for a plain study this is plan order.
    records.sort_by_key(|r| (r.epochs_trained.unwrap_or(usize::MAX), r.index));
    Ok((records, duplicates, missing))
}

/// The durable, append-only `trials.jsonl` of a run, shared by the workers.
///
/// Group commit: [`Log::append`] queues a line and returns only once a
/// sync has covered it. Whoever finds no sync running writes everything
/// queued so far and syncs it once, while the others wait; lines queued
/// during that sync go out together in the next. So a kill -9 loses at most
/// the trials whose `append` had not returned (they were not counted as
/// done), and N trials finishing together cost one sync, not N.
#[derive(Debug)]
pub struct Log {
    file: Mutex<File>,
    state: Mutex<LogState>,
    synced: Condvar,
}

#[derive(Debug, Default)]
struct LogState {
    /// Lines queued and not yet written.
    queued: Vec<u8>,
    /// Number of lines queued so far (a line's sequence number is this
    /// count just after it was queued).
    appended: u64,
    /// Lines written and synced.
    synced: u64,
    /// Whether a sync is under way.
    syncing: bool,
    /// Syncs done (for tests and measurements).
    syncs: u64,
    /// The first write or sync failure; every later append reports it.
    error: Option<String>,
}

impl Log {
    fn new(file: File) -> Log {
        Log {
            file: Mutex::new(file),
            state: Mutex::new(LogState::default()),
            synced: Condvar::new(),
        }
    }

    /// Append one line (without its newline) and return once it is on
    /// disk, or with the error that kept it off.
    pub fn append(&self, line: &str) -> Result<()> {
        self.append_all(&[line])
    }

    /// Append lines (without their newlines) and return once all are on
    /// disk, or with the error that kept them off.
    pub fn append_all<S: AsRef<str>>(&self, lines: &[S]) -> Result<()> {
        let mut s = self.state.lock().expect("log lock");
        for line in lines {
            s.queued.extend_from_slice(line.as_ref().as_bytes());
            s.queued.push(b'\n');
            s.appended += 1;
        }
        let mine = s.appended;
        loop {
            if let Some(e) = &s.error {
                bail!("cannot append to trials.jsonl: {e}");
            }
            if s.synced >= mine {
                return Ok(());
            }
            if s.syncing {
                s = self.synced.wait(s).expect("log lock");
                continue;
            }
            // Lead this group: write all that is queued, outside the lock.
            s.syncing = true;
            let batch = std::mem::take(&mut s.queued);
            let upto = s.appended;
            drop(s);
            let written = {
                let mut f = self.file.lock().expect("file lock");
                f.write_all(&batch).and_then(|()| f.sync_data())
            };
            s = self.state.lock().expect("log lock");
            s.syncing = false;
            s.syncs += 1;
            match written {
                Ok(()) => s.synced = upto,
                Err(e) => s.error = Some(e.to_string()),
            }
            self.synced.notify_all();
        }
    }

    /// Syncs done so far: at most one per append, fewer when appends overlap.
    pub fn syncs(&self) -> u64 {
        self.state.lock().expect("log lock").syncs
    }
}

/// Whether two paths name the same file or folder (as given when either
/// does not exist).
pub fn same_path(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Write a file whole or not at all: a temporary name, synced, then a
/// rename, so a reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    test_kill_before_rename(path);
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Testing hook (like `MLPSWEEP_TEST_PANIC_SEED`): with
/// `MLPSWEEP_TEST_KILL_BEFORE_RENAME=summary.csv` the process SIGKILLs
/// itself once that file's temporary copy is written, before the rename,
/// so tests/durability.rs can land a kill inside the report write. Not for
/// everyday use.
fn test_kill_before_rename(path: &Path) {
    if let Some(name) = std::env::var_os("MLPSWEEP_TEST_KILL_BEFORE_RENAME")
        && path.ends_with(&name)
    {
        let pid = std::process::id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
        // Not reached once the signal lands; never go on to the rename.
        std::process::abort();
    }
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

mod lines;

#[cfg(test)]
mod tests;
