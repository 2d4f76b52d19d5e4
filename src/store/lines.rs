//! Parsing `trials.jsonl`: a run's report reads every record back, and a
//! large log (40,000 records of benches/p3.toml: ~90 MB) takes a third of a
//! second to parse on one thread, so it is parsed in two halves on two
//! threads, split at a line break: the same records in the same order.
//!
//! Every line that is not a record is kept as [`Bad`] with its line number,
//! so the store can say where the log is damaged; the one exception is a
//! torn *last* line (no newline after it), the normal trace of a write cut
//! short by a crash, which is dropped silently (the trial reruns). A line
//! whose entry in `trials.bin` ([`sidecar`]) is missing or damaged is bad too.

use super::sidecar::{self, At};
use crate::train::TrialRecord;

/// Logs smaller than this are parsed on one thread.
const SPLIT_FROM: usize = 1 << 20;

/// A line of the log that is not a record: its 1-based number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bad {
    pub(super) line: usize,
    pub(super) why: String,
    /// The trial, when the line is a record whose entry in `trials.bin`
    /// is damaged (so a foreign record is named as such first).
    pub(super) id: Option<String>,
}

/// What a log holds: its records with their line numbers, in line order,
/// and the lines that are not records (a torn last line excepted).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Parsed {
    pub(super) records: Vec<(usize, TrialRecord)>,
    pub(super) bad: Vec<Bad>,
    /// Records whose entry was not where their line says, and why.
    stale: Vec<(usize, TrialRecord, At, String)>,
}

/// Parse `text`, a whole `trials.jsonl`, with `bin`, its `trials.bin`.
pub(super) fn parse(text: &str, bin: &[u8]) -> Parsed {
    parse_split_from(text, bin, SPLIT_FROM)
}

/// [`parse`], splitting texts of at least `from` bytes.
fn parse_split_from(text: &str, bin: &[u8], from: usize) -> Parsed {
    let at = text[text.len() / 2..]
        .find('\n')
        .map(|i| text.len() / 2 + i + 1);
    let mut parsed = match at {
        Some(at) if text.len() >= from => {
            let (first, second) = text.split_at(at);
            let offset = first.bytes().filter(|b| *b == b'\n').count();
            std::thread::scope(|s| {
                let tail = s.spawn(|| serial(second, offset, bin));
                let mut parsed = serial(first, 0, bin);
                let tail = tail.join().expect("the parsing thread finishes");
                parsed.records.extend(tail.records);
                parsed.bad.extend(tail.bad);
                parsed.stale.extend(tail.stale);
                parsed
            })
        }
        _ => serial(text, 0, bin),
    };
    parsed.find_stale(bin);
    // A last line with no newline after it is a write cut short: silent.
    let last = text.lines().count();
    if !text.ends_with('\n') && parsed.bad.last().is_some_and(|b| b.line == last) {
        parsed.bad.pop();
    }
    parsed
}

/// The lines of `text`, numbered from `offset + 1`; blank lines are neither
/// records nor damage.
fn serial(text: &str, offset: usize, bin: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = offset + i + 1;
        let mut r = match serde_json::from_str::<TrialRecord>(line) {
            Ok(r) => r,
            Err(e) => {
                parsed.bad.push(Bad {
                    line: n,
                    why: why(line, &e),
                    id: None,
                });
                continue;
            }
        };
        match sidecar::place(line) {
            None => parsed.records.push((n, r)),
            Some(Err(why)) => parsed.bad.push(Bad {
                line: n,
                why,
                id: Some(r.id),
            }),
            Some(Ok(at)) => match sidecar::fill(&mut r, &at, bin) {
                Ok(()) => parsed.records.push((n, r)),
                Err(why) => parsed.stale.push((n, r, at, why)),
            },
        }
    }
    parsed
}

impl Parsed {
    /// Look for the entries of lines whose offset missed by their
    /// checksum (a merge killed between its two writes leaves the old
    /// lines over the new `trials.bin`); those still missing are bad.
    fn find_stale(&mut self, bin: &[u8]) {
        if self.stale.is_empty() {
            return;
        }
        let found = sidecar::index(bin);
        for (line, mut r, at, why) in std::mem::take(&mut self.stale) {
            let at = at.sum().and_then(|sum| found.get(&sum));
            match at.map(|at| sidecar::fill(&mut r, at, bin)) {
                Some(Ok(())) => self.records.push((line, r)),
                _ => self.bad.push(Bad {
                    line,
                    why,
                    id: Some(r.id),
                }),
            }
        }
        self.records.sort_by_key(|(line, _)| *line);
        self.bad.sort_by_key(|b| b.line);
    }
}

/// Why a line is not a record, in a few words.
fn why(line: &str, e: &serde_json::Error) -> String {
    if e.is_eof() {
        "a record cut short".into()
    } else if serde_json::from_str::<serde_json::Value>(line).is_ok() {
        format!("not a trial record of this format ({e})")
    } else {
        format!("not JSON ({e})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ParamCount;
    use crate::plan::Plan;
    use crate::study::from_str;

    /// Split in two or not, at every split point of a log whose lines
    /// differ (a line of another format and a torn last line among them),
    /// the records come back once each, in line order. Catches the line at
    /// the split lost or parsed twice, and the halves joined in the wrong
    /// order.
    #[test]
    fn split_parsing_keeps_every_record_once_in_order() {
        let src = "name = \"a\"\nseeds = 3\n[grid]\nwidth = [2, 8]\n";
        let e = from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let plan = Plan::new(&e).unwrap();
        let params = ParamCount {
            weights: 4,
            biases: 2,
            total: 6,
            hidden_neurons: 2,
            norm: 0,
        };
        let records: Vec<TrialRecord> = plan
            .trials
            .iter()
            .map(|t| TrialRecord::new(t, params))
            .collect();
        let mut text = String::new();
        for (i, r) in records.iter().enumerate() {
            text.push_str(&serde_json::to_string(r).unwrap());
            text.push('\n');
            if i == 2 {
                text.push_str("{\"format\": 99}\n");
            }
        }
        let whole = text.clone();
        text.push_str(&whole[..40]);
        let parsed = parse_split_from(&text, &[], 0);
        let got: Vec<TrialRecord> = parsed.records.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(got, records);
        assert_eq!(parsed.records[3].0, 5, "line numbers count the bad line");
        assert_eq!(parsed.bad.len(), 1, "the torn last line is silent");
        assert_eq!(parsed.bad[0].line, 4);
        assert!(parsed.bad[0].why.starts_with("not a trial record"));
        assert_eq!(parsed, serial(&text, 0, &[]).without_last());
        for end in (0..whole.len()).step_by(97) {
            let part = &whole[..end];
            assert_eq!(
                parse_split_from(part, &[], 0),
                parse_split_from(part, &[], usize::MAX),
                "{end} bytes"
            );
        }
    }

    /// A record cut in the middle of the file (a newline after it) is
    /// damage, located by its line; garbage too.
    #[test]
    fn a_cut_record_inside_the_log_is_located() {
        let text = "{\"format\": 1, \"id\": \"ab\nnot json at all\n";
        let parsed = parse(text, &[]);
        let lines: Vec<usize> = parsed.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [1, 2]);
        assert_eq!(parsed.bad[0].why, "a record cut short");
        assert!(
            parsed.bad[1].why.starts_with("not JSON"),
            "{:?}",
            parsed.bad
        );
    }

    impl Parsed {
        fn without_last(mut self) -> Parsed {
            self.bad.pop();
            self
        }
    }
}
