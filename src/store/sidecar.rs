//! `trials.bin`, the bulk of the records: each record's curve and
//! validation predictions, out of its `trials.jsonl` line so the line stays
//! under 3 KB (docs/performance.md, "Records, issue 23").
//!
//! An entry is `MLPB`, the body's length (u32, little-endian), the body,
//! and the body's 64-bit FNV-1a (little-endian). The body: the trial id's
//! length (u16) and the id; the curve's length (u32) and the curve as JSON
//! in its record shape (packed columns); then, if the trial has them, its
//! predictions' f32 bits as `Predictions::to_bytes` packs them (the
//! `values32` column's bytes without base64). Bit for bit the record's
//! numbers. The record's line ends with where its entry is:
//! `"bin":{"at":…,"len":…,"sum":"…"}`.
//!
//! The log's committer appends and syncs the entries *before* the lines
//! that point at them, so a kill leaves at worst an entry no line names,
//! which the next run cuts ([`cut_at`]), as it cuts a torn line. A line
//! whose entry is missing or fails its checksum is damage, located by its
//! line like an unparseable one. A line whose offset is stale (a merge
//! killed between writing `trials.bin` and `trials.jsonl`) finds its entry
//! by checksum ([`index`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::predictions::Predictions;
use crate::study::fnv1a;
use crate::train::{CurvePoint, TrialRecord};

/// The sidecar's name in the results folder.
pub const FILE: &str = "trials.bin";

const MAGIC: &[u8; 4] = b"MLPB";
/// Bytes of an entry around its body: magic, length, checksum.
const FRAME: usize = 16;
/// How a line names its entry: always its last key.
const KEY: &str = ",\"bin\":";

/// Where a line's entry is, and its checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct At {
    at: u64,
    len: u64,
    sum: String,
}

/// The curve as an entry holds it: in the record's own shape (packed columns).
#[derive(Serialize, Deserialize)]
struct Curve(#[serde(with = "crate::train::record::curve")] Vec<CurvePoint>);

/// A record made ready for the log by the worker that trained it: its line
/// without the entry's place (only the committer knows the offset) and
/// the entry's body. A record with neither curve nor predictions (a failed
/// trial) is its line alone.
#[derive(Debug, Clone)]
pub struct Entry {
    line: String,
    body: Option<Vec<u8>>,
}

impl Entry {
    /// The line and entry body of `record`.
    pub fn of(record: &TrialRecord) -> Entry {
        let mut bare = record.clone();
        let curve = std::mem::take(&mut bare.curve);
        let val_predictions = bare.val_predictions.take();
        let line = serde_json::to_string(&bare).expect("records serialise");
        if curve.is_empty() && val_predictions.is_none() {
            return Entry { line, body: None };
        }
        let id = record.id.as_bytes();
        let id_len = u16::try_from(id.len()).expect("trial ids are short");
        let curve = serde_json::to_vec(&Curve(curve)).expect("records serialise");
        let curve_len = u32::try_from(curve.len()).expect("a curve is under 4 GB");
        let mut body = Vec::with_capacity(6 + id.len() + curve.len() + 4096);
        body.extend_from_slice(&id_len.to_le_bytes());
        body.extend_from_slice(id);
        body.extend_from_slice(&curve_len.to_le_bytes());
        body.extend_from_slice(&curve);
        if let Some(p) = &val_predictions {
            body.extend(p.to_bytes());
        }
        Entry {
            line,
            body: Some(body),
        }
    }

    /// A line written as is (tests of the log's own mechanics).
    pub fn line(line: &str) -> Entry {
        Entry {
            line: line.to_string(),
            body: None,
        }
    }

    /// Append this record to the bytes of one commit: its entry to `bin`
    /// (which starts at byte `start` of `trials.bin`) and its line, naming
    /// the entry, to `jsonl`.
    pub(super) fn write(&self, start: u64, bin: &mut Vec<u8>, jsonl: &mut Vec<u8>) {
        let Some(body) = &self.body else {
            jsonl.extend_from_slice(self.line.as_bytes());
            jsonl.push(b'\n');
            return;
        };
        let at = start + bin.len() as u64;
        let sum = fnv1a(body);
        let len = u32::try_from(body.len()).expect("an entry is under 4 GB");
        bin.extend_from_slice(MAGIC);
        bin.extend_from_slice(&len.to_le_bytes());
        bin.extend_from_slice(body);
        bin.extend_from_slice(&sum.to_le_bytes());
        let open = self.line.strip_suffix('}').expect("a record is an object");
        let place = format!(
            "{open}{KEY}{{\"at\":{at},\"len\":{},\"sum\":\"{sum:016x}\"}}}}\n",
            body.len() + FRAME
        );
        jsonl.extend_from_slice(place.as_bytes());
    }
}

/// The place `line` names for its entry: `None` for a line with its
/// curve inline (written before the sidecar, or a failed trial's).
pub(super) fn place(line: &str) -> Option<Result<At, String>> {
    let pos = line.rfind(KEY)?;
    let tail = line[pos + KEY.len()..].strip_suffix('}')?;
    Some(serde_json::from_str(tail).map_err(|e| format!("its place in {FILE} is unreadable ({e})")))
}

/// Fill `record`'s curve and predictions from its entry at `at` in `bin`,
/// checked: whole, its checksum the one the line names, of this trial.
pub(super) fn fill(record: &mut TrialRecord, at: &At, bin: &[u8]) -> Result<(), String> {
    let (start, end) = (at.at, at.at.saturating_add(at.len));
    let damaged = |what: &str| format!("its entry in {FILE} (bytes {start}..{end}) {what}");
    let Ok(pos) = usize::try_from(at.at) else {
        return Err(damaged("is past the file's end"));
    };
    let (body, sum) = entry(bin, pos).map_err(damaged)?;
    if at.sum() != Some(sum) || (body.len() + FRAME) as u64 != at.len {
        return Err(damaged("is another record's"));
    }
    let (id, bulk) = split(body).ok_or_else(|| damaged("is cut short"))?;
    if id != record.id.as_bytes() {
        return Err(damaged("is another trial's"));
    }
    let unreadable = |e: &dyn std::fmt::Display| damaged(&format!("is unreadable ({e})"));
    let (curve, predictions) = split_bulk(bulk).ok_or_else(|| damaged("is cut short"))?;
    let Curve(curve) = serde_json::from_slice(curve).map_err(|e| unreadable(&e))?;
    record.val_predictions = match predictions {
        [] => None,
        bytes => Some(Predictions::from_bytes(bytes).map_err(|e| unreadable(&e))?),
    };
    record.curve = curve;
    Ok(())
}

/// The body and checksum of the entry at `pos`, if it is whole and its
/// checksum holds.
fn entry(bin: &[u8], pos: usize) -> Result<(&[u8], u64), &'static str> {
    let rest = bin.get(pos..).ok_or("is past the file's end")?;
    if rest.len() < FRAME {
        return Err("is past the file's end");
    }
    if &rest[..4] != MAGIC {
        return Err("is not an entry");
    }
    let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")) as usize;
    let body = rest.get(8..8 + len).ok_or("is cut short")?;
    let stored = rest.get(8 + len..FRAME + len).ok_or("is cut short")?;
    let sum = u64::from_le_bytes(stored.try_into().expect("8 bytes"));
    if fnv1a(body) != sum {
        return Err("fails its checksum");
    }
    Ok((body, sum))
}

/// A body's trial id and bulk.
fn split(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let id_len = usize::from(u16::from_le_bytes(body.get(..2)?.try_into().ok()?));
    let id = body.get(2..2 + id_len)?;
    Some((id, &body[2 + id_len..]))
}

/// A bulk's curve (its JSON) and predictions (their bytes; empty for none).
fn split_bulk(bulk: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(bulk.get(..4)?.try_into().ok()?) as usize;
    let curve = bulk.get(4..4 + len)?;
    Some((curve, &bulk[4 + len..]))
}

/// Every sound entry of `bin` by checksum, so a line whose offset is stale
/// still finds its own. Skips damaged bytes to the next `MLPB`.
pub(super) fn index(bin: &[u8]) -> HashMap<u64, At> {
    let mut found = HashMap::new();
    let mut pos = 0;
    while pos + FRAME <= bin.len() {
        match entry(bin, pos) {
            Ok((body, sum)) => {
                let len = (body.len() + FRAME) as u64;
                let at = pos as u64;
                found.entry(sum).or_insert(At {
                    at,
                    len,
                    sum: format!("{sum:016x}"),
                });
                pos += body.len() + FRAME;
            }
            Err(_) => {
                pos = bin[pos + 1..]
                    .windows(MAGIC.len())
                    .position(|w| w == MAGIC)
                    .map_or(bin.len(), |p| pos + 1 + p);
            }
        }
    }
    found
}

impl At {
    /// The checksum the line names (`None` if it is not 16 hex digits).
    pub(super) fn sum(&self) -> Option<u64> {
        let hex = self.sum.len() == 16 && self.sum.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| u64::from_str_radix(&self.sum, 16).ok())
            .flatten()
    }
}

/// Where `trials.bin` may be cut after a kill, given the complete lines of
/// `trials.jsonl`: after the entry of the last line that names one, when
/// that entry is sound where the line says (entries are appended in line
/// order, so anything after it is an entry whose line never made it);
/// at 0 when no line names one. `None` (leave the file as it is) when the
/// last named entry is not there: the lines are not this file's order
/// (a merge's rewrite interrupted), and cutting could lose entries.
pub(super) fn cut_at(text: &str, bin: &[u8]) -> Option<u64> {
    for line in text.lines().rev() {
        if let Some(Ok(at)) = place(line) {
            let pos = usize::try_from(at.at).ok()?;
            let (body, sum) = entry(bin, pos).ok()?;
            let whole = at.sum() == Some(sum) && (body.len() + FRAME) as u64 == at.len;
            return whole.then_some(at.at + at.len);
        }
    }
    Some(0)
}

#[cfg(test)]
mod tests;
