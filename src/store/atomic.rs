//! Files written whole or not at all: a temporary copy, synced, then a
//! rename, so a reader never sees half a file.
//!
//! The temporary name is unique per process and write (`<file>.<pid>-<n>.tmp`):
//! two writers never share one, so neither can rename the other's half-
//! written copy. A writer killed before its rename leaves its copy behind;
//! the next process to lock the folder removes such leftovers
//! ([`remove_leftovers`]), since under the lock no other writer's copy can be there.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

/// Writes made by this process so far (the `<n>` of a temporary name).
static WRITES: AtomicU64 = AtomicU64::new(0);

/// Write `path` whole or not at all, through a temporary name of this
/// process's own.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    write_via(
        path,
        &suffixed(path, &format!(".{}-{n}.tmp", std::process::id())),
        bytes,
    )
}

/// [`write_atomic`] through the fixed name `<file>.tmp`, for a file only one
/// process ever writes at a time (a trial's checkpoint, written by the one
/// process training that trial): a copy left by a kill is simply replaced
/// by the next write, in folders no lock covers (a shared checkpoints/).
pub fn write_atomic_owned(path: &Path, bytes: &[u8]) -> Result<()> {
    write_via(path, &suffixed(path, ".tmp"), bytes)
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(suffix);
    PathBuf::from(tmp)
}

fn write_via(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    test_pause_before_rename(path);
    test_kill_before_rename(path);
    fs::rename(tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Remove the temporary copies that killed writers left in `dir` and
/// `dir/figures` (the files a report and a run write). Called with the
/// folder's lock held; a copy that cannot be removed is left (harmless).
pub(super) fn remove_leftovers(dir: &Path) {
    for d in [dir.to_path_buf(), dir.join("figures")] {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().ends_with(".tmp") {
                let _ = fs::remove_file(e.path());
            }
        }
    }
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

/// Testing hook: with `MLPSWEEP_TEST_PAUSE_BEFORE_RENAME=summary.csv` the
/// process, once that file's temporary copy is written, creates
/// `summary.csv.paused` beside it and waits (at most two minutes) until the
/// file is removed, holding the folder's lock meanwhile, so
/// tests/durability.rs can start a second writer in the middle of a
/// report write. Not for everyday use.
fn test_pause_before_rename(path: &Path) {
    if let Some(name) = std::env::var_os("MLPSWEEP_TEST_PAUSE_BEFORE_RENAME")
        && path.ends_with(&name)
    {
        let marker = suffixed(path, ".paused");
        let _ = File::create(&marker);
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while marker.exists() && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
