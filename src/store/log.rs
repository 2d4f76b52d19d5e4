//! The append-only `trials.jsonl` of a run, written with group commit so
//! that N trials finishing together cost one `fdatasync`, not N.

use std::fs::File;
use std::io::Write;
use std::sync::{Condvar, Mutex};

use anyhow::{Result, bail};

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
    pub(super) file: Mutex<File>,
    pub(super) state: Mutex<LogState>,
    synced: Condvar,
}

#[derive(Debug, Default)]
pub(super) struct LogState {
    /// Lines queued and not yet written.
    queued: Vec<u8>,
    /// Number of lines queued so far (a line's sequence number is this
    /// count just after it was queued).
    pub(super) appended: u64,
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
    pub(super) fn new(file: File) -> Log {
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
