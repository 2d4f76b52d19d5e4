//! `trials.bin` through the store: records read back bit for bit, a kill's
//! unreferenced tail cut, a flipped byte located as a damaged line, old
//! inline lines still read (merges: `publish/merge/tests.rs`).

use std::fs;

use super::super::tests::{STUDY, full, record, same_bits, setup};
use super::*;
use crate::store::ResultsDir;

/// A folder whose log holds `records`, appended through the log.
fn logged(dir: &ResultsDir, records: &[TrialRecord]) {
    fs::create_dir_all(dir.path()).unwrap();
    let log = dir.open_log().unwrap();
    let entries = records.iter().map(Entry::of).collect();
    log.append_all(entries).unwrap();
}

/// Appended through the log, records come back bit for bit; their lines
/// hold neither curve nor predictions but the place of their entry, and
/// a line written before the sidecar (curve and predictions inline) reads
/// as before, beside them.
#[test]
fn records_round_trip_through_the_sidecar() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    let records: Vec<TrialRecord> = (0..3).map(|i| full(&plan, i)).collect();
    logged(&dir, &records[..2]);
    let text = fs::read_to_string(dir.file("trials.jsonl")).unwrap();
    for line in text.lines() {
        assert!(!line.contains("\"curve\"") && !line.contains("val_predictions"));
        assert!(line.contains(",\"bin\":{\"at\":"), "{line}");
    }
    // An inline line of the old shape, appended as is.
    let inline = serde_json::to_string(&records[2]).unwrap();
    assert!(inline.contains("\"curve\"") && inline.contains("values32"));
    dir.open_log().unwrap().append(&inline).unwrap();
    same_bits(&dir.read_history().unwrap(), &records);
    let checked = dir.read_checked(&plan).unwrap();
    assert!(checked.damaged.is_empty(), "{:?}", checked.damaged);
    // The entries are the file, back to back, the first at byte 0.
    let bin = fs::read(dir.file(FILE)).unwrap();
    let places: Vec<At> = text.lines().map(|l| place(l).unwrap().unwrap()).collect();
    assert_eq!(places[0].at, 0);
    assert_eq!(places[1].at, places[0].len);
    assert_eq!(bin.len() as u64, places[0].len + places[1].len);
    // A failed trial's record (no curve, no predictions) has no entry.
    let bare = record(&plan, 3, 1.0);
    assert!(Entry::of(&bare).body.is_none());
}

/// A kill after an entry is synced but before its line is written leaves
/// an entry no line names (and, cut by a power loss, half of one): the
/// next run cuts it, appends after the last named entry, and every record
/// reads back; the torn tail never shows as damage.
#[test]
fn a_killed_appends_tail_in_the_sidecar_is_cut() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    let records: Vec<TrialRecord> = (0..3).map(|i| full(&plan, i)).collect();
    logged(&dir, &records[..1]);
    let clean = fs::read(dir.file(FILE)).unwrap();
    // What the committer synced for record 1 before the kill: its entry only.
    let (mut bin, mut jsonl) = (Vec::new(), Vec::new());
    Entry::of(&records[1]).write(clean.len() as u64, &mut bin, &mut jsonl);
    let half = &bin[..bin.len() / 2];
    let torn = [clean.as_slice(), &bin, half].concat();
    fs::write(dir.file(FILE), &torn).unwrap();
    let checked = dir.read_checked(&plan).unwrap();
    assert!(checked.damaged.is_empty());
    same_bits(&checked.history, &records[..1]);
    dir.open_log()
        .unwrap()
        .append_all(vec![Entry::of(&records[2])])
        .unwrap();
    let after = fs::read(dir.file(FILE)).unwrap();
    assert_eq!(
        &after[..clean.len()],
        clean.as_slice(),
        "the named entry kept"
    );
    let text = fs::read_to_string(dir.file("trials.jsonl")).unwrap();
    let second = place(text.lines().nth(1).unwrap()).unwrap().unwrap();
    assert_eq!(second.at, clean.len() as u64, "appended where the cut was");
    assert_eq!(after.len() as u64, second.at + second.len);
    let want = [records[0].clone(), records[2].clone()];
    same_bits(&dir.read_history().unwrap(), &want);
}

/// One flipped byte in an entry (in its body, its length or its checksum)
/// makes that record's line damage, located by its line number and
/// naming the entry's bytes; the other records read on; `read_history`
/// (readers that only look) leaves it out.
#[test]
fn a_flipped_byte_in_the_sidecar_is_a_located_damaged_line() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    let records: Vec<TrialRecord> = (0..3).map(|i| full(&plan, i)).collect();
    logged(&dir, &records);
    let clean = fs::read(dir.file(FILE)).unwrap();
    let text = fs::read_to_string(dir.file("trials.jsonl")).unwrap();
    let second = place(text.lines().nth(1).unwrap()).unwrap().unwrap();
    let (start, len) = (second.at as usize, second.len as usize);
    for (offset, why) in [
        (len / 2, "fails its checksum"),
        (6, "is cut short"),
        (len - 1, "fails its checksum"),
    ] {
        let mut bin = clean.clone();
        bin[start + offset] ^= 0x10;
        fs::write(dir.file(FILE), &bin).unwrap();
        let checked = dir.read_checked(&plan).unwrap();
        assert_eq!(checked.damaged.len(), 1, "byte {offset}");
        let d = &checked.damaged[0];
        assert_eq!(d.line, 2);
        let bytes = format!("(bytes {start}..{})", start + len);
        assert!(
            d.why.contains(&bytes) && d.why.contains(why),
            "byte {offset}: {}",
            d.why
        );
        let kept = [records[0].clone(), records[2].clone()];
        same_bits(&checked.history, &kept);
        same_bits(&dir.read_history().unwrap(), &kept);
    }
    // An entry of another trial at the place a line names is damage too.
    let mut swapped = text.lines().map(String::from).collect::<Vec<_>>();
    let first_place = text.lines().next().unwrap().rsplit_once(KEY).unwrap().1;
    let (head, _) = swapped[1].rsplit_once(KEY).unwrap();
    swapped[1] = format!("{head}{KEY}{first_place}");
    fs::write(dir.file(FILE), &clean).unwrap();
    fs::write(dir.file("trials.jsonl"), swapped.join("\n") + "\n").unwrap();
    let checked = dir.read_checked(&plan).unwrap();
    assert_eq!(checked.damaged.len(), 1);
    assert!(
        checked.damaged[0].why.contains("another trial's"),
        "{:?}",
        checked.damaged
    );
}

/// A log whose offsets are stale (the lines written before a merge over
/// the `trials.bin` it wrote: a kill between its two renames) finds every
/// entry by its checksum; an entry in neither place is damage.
#[test]
fn stale_offsets_find_their_entries_by_checksum() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    let records: Vec<TrialRecord> = (0..3).map(|i| full(&plan, i)).collect();
    logged(&dir, &records);
    // The same entries in another order, as a rewrite would place them,
    // after a few bytes of garbage.
    let text = fs::read_to_string(dir.file("trials.jsonl")).unwrap();
    let bin = fs::read(dir.file(FILE)).unwrap();
    let places: Vec<At> = text.lines().map(|l| place(l).unwrap().unwrap()).collect();
    let slice = |a: &At| &bin[a.at as usize..(a.at + a.len) as usize];
    let moved = [
        b"MLPBxx".as_slice(),
        slice(&places[2]),
        slice(&places[0]),
        slice(&places[1]),
    ]
    .concat();
    fs::write(dir.file(FILE), &moved).unwrap();
    let checked = dir.read_checked(&plan).unwrap();
    assert!(checked.damaged.is_empty(), "{:?}", checked.damaged);
    same_bits(&checked.history, &records);
    // The cut leaves a file whose order is not the log's alone.
    assert_eq!(cut_at(&text, &moved), None);
    let without_first = [slice(&places[2]), slice(&places[1])].concat();
    fs::write(dir.file(FILE), &without_first).unwrap();
    let checked = dir.read_checked(&plan).unwrap();
    assert_eq!(
        checked.damaged.iter().map(|d| d.line).collect::<Vec<_>>(),
        [1]
    );
}
