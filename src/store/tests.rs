//! The results folder on its own: torn lines, the lock, atomic writes,
//! group commit, claiming a folder (merging shards: `publish/merge/tests.rs`).
//! Its fixtures are shared with the publishing tests.

use std::fs::File;
use std::sync::Arc;

use super::*;
use crate::model::ParamCount;
use crate::predictions::Predictions;
use crate::train::{CurvePoint, Metrics, Status};

pub(crate) const STUDY: &str = "name = \"s\"\nseeds = 2\n[data]\npoints_per_class = 10\n[train]\nepochs = 2\n[grid]\nwidth = [2, 3]\n";

/// A study file in a temp dir, its plan, and a results folder beside it.
pub(crate) fn setup(src: &str) -> (tempfile::TempDir, Study, Plan, ResultsDir) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    fs::write(&file, src).unwrap();
    let exp = study::load(&file, &[]).unwrap();
    let plan = Plan::new(&exp).unwrap();
    let dir = ResultsDir::new(tmp.path().join("out"));
    (tmp, exp, plan, dir)
}

/// A finished record of trial `i` with train loss `loss`.
pub(crate) fn record(plan: &Plan, i: usize, loss: f64) -> TrialRecord {
    let params = ParamCount {
        weights: 4,
        biases: 2,
        total: 6,
        hidden_neurons: 2,
        norm: 0,
    };
    TrialRecord {
        status: Status::Ok,
        metrics: Some(Metrics {
            train_loss: loss,
            val_loss: Some(loss),
            train_acc: Some(0.5),
            val_acc: Some(0.5),
            l2_term: 0.0,
            weight_norm: 1.0,
            dead_fraction: Some(0.0),
        }),
        ..TrialRecord::new(&plan.trials[i], params)
    }
}

/// Trial `i`'s record with a 6-epoch curve (evaluations at 3 and 6, a NaN
/// batch loss among them) and predictions whose low bits all differ, so
/// any bit lost or moved shows.
pub(crate) fn full(plan: &crate::plan::Plan, i: usize) -> TrialRecord {
    let mut r = record(plan, i, i as f64 + 0.25);
    let eval = |e: usize| Metrics {
        train_loss: 1.0 / (e as f64 + 0.3),
        val_loss: Some(1.1 / (e as f64 + 0.7)),
        train_acc: Some(0.5),
        val_acc: Some(e as f64 / 7.0),
        l2_term: 0.0,
        weight_norm: (e as f64).sqrt(),
        dead_fraction: Some(0.0),
    };
    r.curve = (1..=6)
        .map(|epoch| CurvePoint {
            epoch,
            batch_loss: if epoch == 2 {
                f64::NAN
            } else {
                0.9 / epoch as f64
            },
            eval: (epoch % 3 == 0).then(|| eval(epoch)),
        })
        .collect();
    let values = (0..30)
        .map(|j| f32::from_bits(0x3e00_0000 + 7919 * (j + 31 * i as u32)))
        .collect();
    r.val_predictions = Some(Predictions { outputs: 3, values });
    r
}

/// Records equal bit for bit (a NaN batch loss compares by its bits).
pub(crate) fn same_bits(a: &[TrialRecord], b: &[TrialRecord]) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        let bits = |r: &TrialRecord| -> Vec<u64> {
            r.curve.iter().map(|p| p.batch_loss.to_bits()).collect()
        };
        assert_eq!(bits(x), bits(y), "{}", x.id);
        let strip = |r: &TrialRecord| {
            let mut r = r.clone();
            r.curve.iter_mut().for_each(|p| p.batch_loss = 0.0);
            r
        };
        assert_eq!(strip(x), strip(y));
    }
}

/// A results folder `name` beside the study holding `exp` and finished
/// records of the plan's trials `trials` (train loss = trial index).
pub(crate) fn folder(
    tmp: &tempfile::TempDir,
    exp: &Study,
    plan: &Plan,
    name: &str,
    trials: &[usize],
) -> ResultsDir {
    let d = ResultsDir::new(tmp.path().join(name));
    fs::create_dir_all(d.path()).unwrap();
    d.write_study(exp).unwrap();
    let records: Vec<_> = trials.iter().map(|&i| record(plan, i, i as f64)).collect();
    d.write_records(&records).unwrap();
    d
}

fn line(r: &TrialRecord) -> String {
    serde_json::to_string(r).unwrap()
}

#[test]
fn a_torn_last_line_is_skipped_and_cut_before_the_next_append() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    let (a, b, c) = (
        record(&plan, 0, 1.0),
        record(&plan, 1, 2.0),
        record(&plan, 2, 3.0),
    );
    let torn = &line(&b)[..40];
    fs::write(dir.file("trials.jsonl"), format!("{}\n{torn}", line(&a))).unwrap();
    assert_eq!(dir.read_records().unwrap(), std::slice::from_ref(&a));
    dir.open_log().unwrap().append(&line(&c)).unwrap();
    let text = fs::read_to_string(dir.file("trials.jsonl")).unwrap();
    assert_eq!(text, format!("{}\n{}\n", line(&a), line(&c)));
    assert_eq!(dir.read_records().unwrap(), [a, c]);
}

#[test]
fn later_lines_win_and_records_come_back_in_plan_order() {
    let (_tmp, _exp, plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    let old = record(&plan, 1, 9.0);
    let (first, new) = (record(&plan, 0, 1.0), record(&plan, 1, 2.0));
    let text = format!(
        "{}\n{}\nnot json\n{}\n",
        line(&old),
        line(&first),
        line(&new)
    );
    fs::write(dir.file("trials.jsonl"), text).unwrap();
    assert_eq!(dir.read_records().unwrap(), [first, new]);
}

#[test]
fn a_second_lock_is_refused_naming_the_holder() {
    let (_tmp, _exp, _plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    let held = dir.lock("run").unwrap();
    let err = dir.lock("report").unwrap_err().to_string();
    let pid = std::process::id();
    assert!(
        err.contains(&format!(
            "another mlpsweep run (pid {pid}) is writing to this folder"
        )),
        "{err}"
    );
    drop(held);
    dir.lock("run").expect("free again once the holder is gone");
}

/// A writer that finds a report (a short writer) holding the folder waits
/// for it instead of failing, and gets the lock once it is released.
#[test]
fn a_writer_waits_for_a_report_to_finish() {
    let (_tmp, _exp, _plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    let held = dir.lock("report").unwrap();
    fs::write(dir.file("summary.csv.1-0.tmp"), "left by a killed writer").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(held);
    });
    let started = std::time::Instant::now();
    dir.lock("report").expect("waits, then holds");
    assert!(started.elapsed() >= std::time::Duration::from_millis(250));
    release.join().unwrap();
    assert!(
        !dir.file("summary.csv.1-0.tmp").exists(),
        "leftover copies go once the lock is held"
    );
}

#[test]
fn atomic_writes_replace_whole_files_and_leave_no_temporary() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("summary.csv");
    write_atomic(&path, b"old").unwrap();
    write_atomic(&path, b"new, longer").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new, longer");
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["summary.csv"]);
}

/// Appends that arrive while a sync is under way wait for it and then go
/// out together in one sync: eight appends, the first held up at the
/// file, cost two syncs. Each append returns only once its line is on disk.
#[test]
fn group_commit_covers_waiting_appends_with_one_sync() {
    let (_tmp, _exp, _plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    let log = Arc::new(dir.open_log().unwrap());
    let path = dir.file("trials.jsonl");
    let held = log.file.lock().unwrap();
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let (log, path) = (Arc::clone(&log), path.clone());
            std::thread::spawn(move || {
                let line = format!("{{\"line\":{i}}}");
                log.append(&line).unwrap();
                let text = fs::read_to_string(&path).unwrap();
                assert!(
                    text.lines().any(|l| l == line),
                    "returned before {line} was written"
                );
            })
        })
        .collect();
    // Wait until all eight are queued (the first one's leader is blocked on the file).
    while log.state.lock().unwrap().appended < 8 {
        std::thread::yield_now();
    }
    drop(held);
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(
        log.syncs(),
        2,
        "one sync for the first, one for the seven that waited"
    );
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    let want: Vec<String> = (0..8).map(|i| format!("{{\"line\":{i}}}")).collect();
    assert_eq!(lines, want);
}

/// A failed write reaches the append that led it and every later one.
#[test]
fn a_failed_write_fails_every_append() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("trials.jsonl");
    fs::write(&path, "").unwrap();
    let bin = tmp.path().join("trials.bin");
    fs::write(&bin, "").unwrap();
    // Read-only: writes fail.
    let log = Log::new(File::open(&path).unwrap(), File::open(&bin).unwrap(), 0);
    for _ in 0..2 {
        let err = log.append("{}").unwrap_err().to_string();
        assert!(err.starts_with("cannot append to trials.jsonl"), "{err}");
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), "");
}

/// A folder belongs to the study as resolved: another name is refused; a
/// byte-identical copy of the file elsewhere resumes; a plan that grows is
/// accepted; one that would orphan stored records is refused naming the
/// stored file and the keys that differ; `--fresh` moves the folder aside.
#[test]
fn a_folder_is_claimed_by_content() {
    let (tmp, exp, plan, dir) = setup(STUDY);
    let (moved, lock) = dir.claim(&exp, &plan, false).unwrap();
    assert!(moved.is_none());
    dir.write_study(&exp).unwrap();
    let records: Vec<_> = (0..4).map(|i| record(&plan, i, 1.0)).collect();
    dir.write_records(&records).unwrap();
    drop(lock);
    let stored = fs::read_to_string(dir.file("study.toml")).unwrap();
    assert!(stored.starts_with(&format!("{STUDY_HEADER}{}\n", exp.path.display())));
    dir.claim(&exp, &plan, false)
        .expect("the same study resumes");
    let load = |file: &str, text: &str, sets: &[&str]| {
        let path = tmp.path().join(file);
        fs::write(&path, text).unwrap();
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let e = study::load(&path, &sets).unwrap();
        let p = Plan::new(&e).unwrap();
        (e, p)
    };
    // Another study of another name.
    let (o, op) = load(
        "o.toml",
        &STUDY.replace("name = \"s\"", "name = \"o\""),
        &[],
    );
    let err = dir.claim(&o, &op, false).unwrap_err().to_string();
    assert!(
        err.contains("holds the results of study \"s\", not \"o\""),
        "{err}"
    );
    // A byte-identical copy of the file elsewhere resumes, and so does a
    // grown study (more seeds, every stored trial still planned).
    let (twin, tp) = load("twin.toml", STUDY, &[]);
    dir.claim(&twin, &tp, false)
        .expect("a copy of the file resumes");
    let (grown, gp) = load("twin.toml", STUDY, &["seeds=3"]);
    dir.claim(&grown, &gp, false)
        .expect("more seeds grow the study");
    // Fewer seeds, or other epochs, would orphan the stored records.
    for (set, key) in [
        ("seeds=1", "seeds: 2 → 1"),
        ("train.epochs=3", "train.epochs: 2 → 3"),
    ] {
        let (e, p) = load("twin.toml", STUDY, &[set]);
        let err = dir.claim(&e, &p, false).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains("study.toml"), "{err}");
        assert!(
            err.contains("--out DIR") && err.contains("--fresh"),
            "{err}"
        );
        let o = dir.orphans(&e, &p).unwrap().expect("plan says so too");
        assert_eq!(o.count, if set == "seeds=1" { 2 } else { 4 });
    }
    // --fresh moves it aside and starts over.
    let (e, p) = load("twin.toml", STUDY, &["seeds=1"]);
    let (moved, _lock) = dir.claim(&e, &p, true).unwrap();
    assert_eq!(moved.unwrap(), tmp.path().join("out.previous-1"));
    assert!(tmp.path().join("out.previous-1/study.toml").exists());
    // A folder that is not a results folder.
    let plain = ResultsDir::new(tmp.path().join("plain"));
    fs::create_dir_all(plain.path()).unwrap();
    fs::write(plain.file("notes.txt"), "mine").unwrap();
    let err = plain.claim(&exp, &plan, false).unwrap_err().to_string();
    assert!(
        err.contains("exists and is not an mlpsweep results folder"),
        "{err}"
    );
}

/// Lines no table uses are located: garbage, a record cut in the middle
/// of the log, and a record of a trial the plan does not hold; a torn
/// last line is not damage.
#[test]
fn damaged_lines_are_located_and_a_torn_last_line_is_not() {
    let (_tmp, exp, plan, dir) = setup(STUDY);
    let other = {
        let e =
            study::from_str(&STUDY.replace("epochs = 2", "epochs = 9"), &exp.path, &[]).unwrap();
        record(&Plan::new(&e).unwrap(), 0, 1.0)
    };
    fs::create_dir_all(dir.path()).unwrap();
    let ok = line(&record(&plan, 0, 1.0));
    let text = format!(
        "{ok}\ngarbage\n{}\n{}\n{}",
        &ok[..30],
        line(&other),
        &ok[..20]
    );
    fs::write(dir.file("trials.jsonl"), text).unwrap();
    let checked = dir.read_checked(&plan).unwrap();
    assert_eq!(checked.history.len(), 1);
    let lines: Vec<usize> = checked.damaged.iter().map(|d| d.line).collect();
    assert_eq!(lines, [2, 3, 4]);
    assert!(checked.damaged[2].why.contains("not in this study's plan"));
    assert!(
        checked.damaged[0]
            .to_string()
            .contains("trials.jsonl:2: not JSON")
    );
}

#[test]
fn same_path_sees_through_spellings() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    fs::create_dir_all(&a).unwrap();
    assert!(same_path(&a, &tmp.path().join("./a/../a")));
    assert!(!same_path(&a, tmp.path()));
    assert!(same_path(Path::new("no/such"), Path::new("no/such")));
}

/// No `trials.jsonl` is no records; one that cannot be read is an error.
#[test]
fn a_missing_log_is_empty_and_an_unreadable_one_an_error() {
    let (_tmp, _exp, _plan, dir) = setup(STUDY);
    fs::create_dir_all(dir.path()).unwrap();
    assert!(dir.read_records().unwrap().is_empty());
    fs::create_dir(dir.file("trials.jsonl")).unwrap();
    let err = format!("{:#}", dir.read_records().unwrap_err());
    assert!(err.starts_with("cannot read "), "{err}");
}
