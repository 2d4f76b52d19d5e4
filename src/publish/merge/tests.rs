//! Merging shard folders through the store: the union by id, the merged
//! folder's own records, and halving's rungs (fixtures from the store's
//! tests).

use std::fs;

use super::*;
use crate::store::tests::{STUDY, folder, full, record, same_bits, setup};

/// Merging unions shard folders by id in plan order: a trial stored twice
/// counts once (a duplicate), one stored nowhere is listed as missing, and
/// the merged folder holds the shards' study and a report of the union.
#[test]
fn merge_unions_shards_by_id_in_plan_order() {
    let (tmp, exp, plan, _dir) = setup(STUDY);
    let shard = |name: &str, trials: &[usize]| folder(&tmp, &exp, &plan, name, trials);
    let shards = [shard("s1", &[2, 0]), shard("s2", &[0, 1])];
    let out = ResultsDir::new(tmp.path().join("merged"));
    let (_, m) = merge(&shards, &out).unwrap();
    assert_eq!((m.total, m.merged, m.duplicates, m.n_missing), (4, 3, 1, 1));
    assert_eq!(m.missing, [format!("3 {}", plan.trials[3].id)]);
    let ids: Vec<String> = out
        .read_records()
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let want: Vec<String> = plan.trials[..3].iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, want);
    assert_eq!(out.study_text().unwrap(), shards[0].study_text().unwrap());
    let trials_csv = fs::read_to_string(out.file("trials.csv")).unwrap();
    assert_eq!(trials_csv.lines().count(), 1 + 3);
    // A folder of another study is refused.
    let other = ResultsDir::new(tmp.path().join("s3"));
    fs::create_dir_all(other.path()).unwrap();
    fs::write(other.file("study.toml"), "name = \"x\"\n").unwrap();
    let err = merge(&[shards[0].clone(), other], &out)
        .unwrap_err()
        .to_string();
    assert!(err.contains("holds a different study than"), "{err}");
}

/// The merged folder's own records count (a trial merged before stays),
/// once; a merged folder that is also a source is read once; one that
/// holds another study is refused.
#[test]
fn merge_keeps_what_the_merged_folder_holds() {
    let (tmp, exp, plan, _dir) = setup(STUDY);
    let folder = |name: &str, trials: &[usize]| folder(&tmp, &exp, &plan, name, trials);
    let (s1, out) = (folder("s1", &[0, 1]), folder("merged", &[3]));
    let (_, m) = merge(std::slice::from_ref(&s1), &out).unwrap();
    assert_eq!((m.merged, m.duplicates, m.n_missing), (3, 0, 1));
    // Into one of its sources: read once, so no duplicates.
    let (_, m) = merge(&[s1.clone(), folder("s2", &[2])], &s1).unwrap();
    assert_eq!((m.merged, m.duplicates, m.n_missing), (3, 0, 1));
    let other = ResultsDir::new(tmp.path().join("other"));
    fs::create_dir_all(other.path()).unwrap();
    fs::write(other.file("study.toml"), "name = \"x\"\n").unwrap();
    let err = merge(std::slice::from_ref(&s1), &other)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("holds a different study; choose another --out"),
        "{err}"
    );
}

/// Under halving a merge keeps every rung a trial reached (its record at
/// each budget), the first copy of a (trial, budget) winning as for plain
/// studies, earlier rungs first so each trial's last line is its latest;
/// the rungs recomputed from the merged folder are then whole. Catches a
/// merge that keeps only each trial's last line (rung 0 of the promoted
/// configuration vanishes, and the walk says rung 0 is next again), and
/// one that writes a trial's rungs out of order (its latest record would
/// be an earlier rung's).
#[test]
fn a_halving_merge_keeps_every_rung_of_every_trial() {
    // Budgets 1 and 2 (min_epochs 1, epochs 2); 2 configurations × 2 seeds.
    let src = format!("{STUDY}[search.halving]\nmin_epochs = 1\neta = 2\n");
    let (tmp, exp, plan, _dir) = setup(&src);
    let at = |i: usize, loss: f64, budget: Option<usize>| TrialRecord {
        epochs_trained: budget,
        ..record(&plan, i, loss)
    };
    // Config 0 (losses 0 and 1, median 0.5) beats config 1 (2 and 3) at rung 0.
    let config0: Vec<usize> = (0..4)
        .filter(|&i| plan.trials[i].config_index == 0)
        .collect();
    let config1: Vec<usize> = (0..4)
        .filter(|&i| plan.trials[i].config_index == 1)
        .collect();
    let (a, b) = (config0[0], config0[1]);
    let write = |name: &str, records: &[TrialRecord]| {
        let d = ResultsDir::new(tmp.path().join(name));
        fs::create_dir_all(d.path()).unwrap();
        d.write_study(&exp).unwrap();
        d.write_records(records).unwrap();
        d
    };
    // Shard 1 trained a's rungs (0 then 1); shard 2 the rest, with a's
    // rung 0 again (a worse copy: the first one wins).
    let s1 = write("s1", &[at(a, 0.0, Some(1)), at(a, 0.0, None)]);
    let mut s2_records = vec![at(b, 1.0, Some(1)), at(a, 9.0, Some(1))];
    s2_records.extend(
        config1
            .iter()
            .map(|&i| at(i, 2.0 + (i == config1[1]) as u8 as f64, Some(1))),
    );
    s2_records.push(at(b, 1.0, None));
    let s2 = write("s2", &s2_records);
    let out = ResultsDir::new(tmp.path().join("merged"));
    let (_, m) = merge(&[s1.clone(), s2.clone()], &out).unwrap();
    assert_eq!(
        (m.total, m.merged, m.lines, m.duplicates, m.n_missing),
        (4, 4, 6, 1, 0)
    );
    assert_eq!(m.halving.as_deref(), Some("halving: all 2 rungs done"));
    let history = out.read_history().unwrap();
    let keys: Vec<(usize, Option<usize>)> = history
        .iter()
        .map(|r| (r.index, r.epochs_trained))
        .collect();
    let mut want: Vec<(usize, Option<usize>)> = (0..4).map(|i| (i, Some(1))).collect();
    want.extend([(a.min(b), None), (a.max(b), None)]);
    assert_eq!(keys, want, "rung by rung, each in plan order");
    let a_rung0 = history
        .iter()
        .find(|r| r.index == a && r.epochs_trained == Some(1));
    assert_eq!(a_rung0.unwrap().metrics.as_ref().unwrap().train_loss, 0.0);
    // Each trial's latest record is its last rung.
    let latest: Vec<Option<usize>> = out
        .read_records()
        .unwrap()
        .iter()
        .map(|r| r.epochs_trained)
        .collect();
    let want: Vec<Option<usize>> = (0..4)
        .map(|i| if config0.contains(&i) { None } else { Some(1) })
        .collect();
    assert_eq!(latest, want);
    let rungs = fs::read_to_string(out.file("rungs.csv")).unwrap();
    assert_eq!(rungs.lines().count(), 3, "{rungs}");
    // Merging again into the merged folder adds nothing (and what it held
    // already is not counted as duplicates).
    let (_, again) = merge(&[s1, s2], &out).unwrap();
    assert_eq!((again.lines, again.duplicates), (6, 1));
    assert_eq!(out.read_history().unwrap().len(), 6);
}

/// Shards whose curves are in their `trials.bin` (one written whole, one
/// appended through the log, so their entries sit at other offsets) merge
/// into a folder whose `trials.bin` holds the union's entries back to back
/// in its lines' order, each line naming its new place: every record
/// reads back bit for bit, and merging into one of the shards too.
#[test]
fn merging_folders_with_sidecars_rewrites_the_places() {
    let (tmp, exp, plan, _dir) = setup(STUDY);
    let curve_only = |i: usize| TrialRecord {
        val_predictions: None,
        ..full(&plan, i)
    };
    let s1 = ResultsDir::new(tmp.path().join("s1"));
    fs::create_dir_all(s1.path()).unwrap();
    s1.write_study(&exp).unwrap();
    s1.write_records(&[curve_only(2), curve_only(0)]).unwrap();
    let s2 = ResultsDir::new(tmp.path().join("s2"));
    fs::create_dir_all(s2.path()).unwrap();
    s2.write_study(&exp).unwrap();
    let log = s2.open_log().unwrap();
    for i in [1, 0] {
        log.append_all(vec![crate::store::Entry::of(&curve_only(i))])
            .unwrap();
    }
    drop(log);
    let want: Vec<TrialRecord> = (0..3).map(curve_only).collect();
    for out in [ResultsDir::new(tmp.path().join("merged")), s1.clone()] {
        let (_, m) = merge(&[s1.clone(), s2.clone()], &out).unwrap();
        assert!(m.damaged.is_empty(), "{:?}", m.damaged);
        same_bits(&out.read_history().unwrap(), &want);
        let text = fs::read_to_string(out.file("trials.jsonl")).unwrap();
        let bin = fs::read(out.file("trials.bin")).unwrap();
        let mut next = 0;
        for line in text.lines() {
            assert!(!line.contains("\"curve\""), "{line}");
            let place = line.rsplit_once(",\"bin\":").unwrap().1;
            let place: serde_json::Value = serde_json::from_str(&place[..place.len() - 1]).unwrap();
            assert_eq!(place["at"], next, "{line}");
            next += place["len"].as_u64().unwrap();
        }
        assert_eq!(next, bin.len() as u64, "nothing but the union's entries");
    }
}
