//! The append-only `trials.jsonl` of a run and its `trials.bin`, written
//! with group commit so that N trials finishing together cost one
//! `fdatasync` of each file, not N.

use std::fs::File;
use std::io::Write;
use std::sync::{Condvar, Mutex};

use anyhow::{Result, bail};

use super::sidecar::Entry;

/// The durable, append-only `trials.jsonl` of a run, shared by the workers.
///
/// Group commit: [`Log::append`] queues a line and returns only once a
/// sync has covered it. Whoever finds no sync running writes everything
/// queued so far and syncs it once, while the others wait; lines queued
/// during that sync go out together in the next. So a kill -9 loses at most
/// the trials whose `append` had not returned (they were not counted as
/// done), and N trials finishing together cost one sync, not N. Each
/// group's entries go to `trials.bin` and are synced before the lines
/// that name them are written, so no line names an entry a kill lost.
#[derive(Debug)]
pub struct Log {
    pub(super) file: Mutex<Files>,
    pub(super) state: Mutex<LogState>,
    synced: Condvar,
}

/// The two files of the log, and where the next entry of `trials.bin` starts.
#[derive(Debug)]
pub(super) struct Files {
    jsonl: File,
    bin: File,
    bin_len: u64,
}

#[derive(Debug, Default)]
pub(super) struct LogState {
    /// Records queued and not yet written.
    queued: Vec<Entry>,
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
    pub(super) fn new(jsonl: File, bin: File, bin_len: u64) -> Log {
        Log {
            file: Mutex::new(Files {
                jsonl,
                bin,
                bin_len,
            }),
            state: Mutex::new(LogState::default()),
            synced: Condvar::new(),
        }
    }

    /// Append one line (without its newline) as it is and return once it
    /// is on disk, or with the error that kept it off.
    pub fn append(&self, line: &str) -> Result<()> {
        self.append_all(vec![Entry::line(line)])
    }

    /// Append records and return once all are on disk, or with the error
    /// that kept them off.
    pub fn append_all(&self, entries: Vec<Entry>) -> Result<()> {
        let mut s = self.state.lock().expect("log lock");
        s.appended += entries.len() as u64;
        s.queued.extend(entries);
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
            let written = self.file.lock().expect("file lock").write(&batch);
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

    /// Syncs done so far (a group's two files count once): at most one per append, fewer when appends overlap.
    pub fn syncs(&self) -> u64 {
        self.state.lock().expect("log lock").syncs
    }
}

impl Files {
    /// Write one group: the entries to `trials.bin`, synced, then the
    /// lines naming them to `trials.jsonl`, synced.
    fn write(&mut self, batch: &[Entry]) -> std::io::Result<()> {
        let (mut bin, mut jsonl) = (Vec::new(), Vec::new());
        for e in batch {
            e.write(self.bin_len, &mut bin, &mut jsonl);
        }
        if !bin.is_empty() {
            self.bin.write_all(&bin)?;
            self.bin.sync_data()?;
            self.bin_len += bin.len() as u64;
        }
        self.jsonl.write_all(&jsonl)?;
        self.jsonl.sync_data()
    }
}
