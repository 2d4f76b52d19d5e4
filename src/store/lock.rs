//! The folder's advisory lock: every process that writes a results folder
//! (`run`, `report`, `merge`, a halving promote step) holds it while it
//! reads the log and writes what it builds from it, so no writer reads a
//! log another is changing, and a report never replaces a newer one.
//!
//! Who waits and who is refused: a run holds the folder for as long as it
//! trains (minutes to days), so a writer that finds a run there is refused
//! at once, with the run's pid. A report, a merge or a promote step holds
//! it for seconds, so a writer that finds one of those waits for it (saying
//! so on stderr) for at most [`WAIT`], then is refused the same way. The
//! holder writes `<pid> <what>` into `.lock` so the others can tell. The OS
//! drops the lock when the process dies, so a crash never leaves a folder
//! locked.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long a writer waits for a report, merge or promote step to finish.
pub const WAIT: Duration = Duration::from_secs(60);

/// A held lock; dropping it (or dying) releases it.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] File);

/// Lock `dir` (which exists) for `what`, waiting or refusing as the module
/// doc says; once held, remove the temporary copies killed writers left.
pub(super) fn acquire(dir: &Path, what: &str) -> Result<Lock> {
    let path = dir.join(".lock");
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let deadline = Instant::now() + WAIT;
    let mut told = false;
    loop {
        match f.try_lock() {
            Ok(()) => {
                f.set_len(0)
                    .and_then(|()| f.seek(SeekFrom::Start(0)).map(drop))
                    .and_then(|()| writeln!(f, "{} {what}", std::process::id()))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                super::atomic::remove_leftovers(dir);
                return Ok(Lock(f));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let (pid, holder) = holder(&mut f);
                if holder == "run" || Instant::now() >= deadline {
                    bail!(
                        "{}: another mlpsweep {holder} (pid {pid}) is writing to this folder; \
                         wait for it to finish, or use another --out",
                        dir.display()
                    );
                }
                if !told {
                    eprintln!(
                        "{}: waiting for mlpsweep {holder} (pid {pid}) to finish writing this folder \
                         (at most {} s)",
                        dir.display(),
                        WAIT.as_secs()
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
    }
}

/// Who holds the lock, as its `.lock` says: (pid, what). A lock file of an
/// older mlpsweep holds the pid alone (only runs locked then); one just
/// taken may not be written yet ("?", "writer": wait and look again).
fn holder(f: &mut File) -> (String, String) {
    let mut text = String::new();
    let _ = f
        .seek(SeekFrom::Start(0))
        .and_then(|_| f.read_to_string(&mut text));
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some(pid), Some(what)) => (pid.to_string(), what.to_string()),
        (Some(pid), None) => (pid.to_string(), "run".to_string()),
        _ => ("?".to_string(), "writer".to_string()),
    }
}
