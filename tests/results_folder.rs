//! The results folder as a hostile but fair user meets it (issue 23): a
//! folder belongs to the study as resolved, not to a path; every writer
//! takes its lock, so races end with tables that match the log; and lines
//! of trials.jsonl that no table can use are named with their line
//! numbers, in report.md and in the exit status (5).

mod common;

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{arg, bin, complete_lines, stderr, stdout, write_study};

const TINY: &str = r#"
name = "tiny"
seeds = 2
[data]
kind = "spiral"
points_per_class = 30
[train]
epochs = 4
batch_size = 16
[grid]
width = [3, 8, 16]
"#;
/// The test hook in `store::atomic`: pause before renaming this file.
const PAUSE: &str = "MLPSWEEP_TEST_PAUSE_BEFORE_RENAME";

/// `mlpsweep ARGS` in `dir`, output captured.
fn in_dir(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

/// `mlpsweep ARGS`, started with the pause hook on summary.csv.
fn paused(args: &[&str]) -> Child {
    bin()
        .args(args)
        .env(PAUSE, "summary.csv")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `mlpsweep ARGS`, started.
fn start(args: &[&str]) -> Child {
    let mut cmd: Command = bin();
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Wait until the paused writer of `out` holds the folder in its write.
fn wait_paused(out: &Path) {
    let marker = out.join("summary.csv.paused");
    let until = Instant::now() + Duration::from_secs(120);
    while !marker.exists() {
        assert!(Instant::now() < until, "the writer never paused");
        sleep(Duration::from_millis(20));
    }
}

fn release(out: &Path) {
    fs::remove_file(out.join("summary.csv.paused")).unwrap();
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", stderr(o));
    stderr(o)
}

/// trials.csv, summary's count in report.md and the log agree: one row
/// per distinct trial of trials.jsonl.
fn assert_tables_match_log(out: &Path) {
    let ids: HashSet<String> = common::stored_ids(out).into_iter().collect();
    let rows = fs::read_to_string(out.join("trials.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows, ids.len(), "trials.csv against trials.jsonl");
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains(&format!("; {} stored.", ids.len())), "{md}");
}

/// A first run of TINY in `tmp/out`: 6 trials.
fn first_run(tmp: &Path) -> std::path::PathBuf {
    write_study(tmp, "tiny.toml", TINY);
    ok(&in_dir(
        tmp,
        &["run", "tiny.toml", "--out", "out", "--quiet"],
    ));
    tmp.join("out")
}

/// Guards against identity by path: the same file from another working
/// directory, and a byte-identical copy elsewhere, resume (train nothing).
#[test]
fn the_same_study_resumes_from_another_directory_and_from_a_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let sub = tmp.path().join("sub");
    fs::create_dir_all(&sub).unwrap();
    let e = ok(&in_dir(&sub, &["run", "../tiny.toml", "--out", "../out"]));
    assert!(
        e.contains("trained 0 trials in") && e.contains("(6 already stored)"),
        "{e}"
    );
    fs::copy(tmp.path().join("tiny.toml"), sub.join("copy.toml")).unwrap();
    let e = ok(&in_dir(&sub, &["run", "copy.toml", "--out", arg(&out)]));
    assert!(
        e.contains("trained 0 trials in") && e.contains("(6 already stored)"),
        "{e}"
    );
    assert_tables_match_log(&out);
}

/// Guards against a `--set` that changes what the trials are (or drops
/// some) replacing the report of the stored ones: refused before anything
/// is written, naming the file and the key; `plan` says so; more seeds
/// grow the study.
#[test]
fn a_set_that_orphans_records_is_refused_and_one_that_grows_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let snapshot = |name: &str| fs::read(out.join(name)).unwrap();
    let before = [
        snapshot("study.toml"),
        snapshot("trials.jsonl"),
        snapshot("report.md"),
    ];
    for (set, key) in [
        ("seeds=1", "seeds: 2 → 1"),
        ("train.epochs=5", "train.epochs: 4 → 5"),
        ("data.kind=\"blobs\"", "data.kind: \"spiral\" → \"blobs\""),
    ] {
        let o = in_dir(
            tmp.path(),
            &["run", "tiny.toml", "--out", "out", "--set", set],
        );
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{set}: {e}");
        assert!(e.contains(key) && e.contains("study.toml"), "{set}: {e}");
        assert!(e.contains("--out DIR") && e.contains("--fresh"), "{e}");
        let p = in_dir(
            tmp.path(),
            &["plan", "tiny.toml", "--out", "out", "--set", set],
        );
        assert!(stdout(&p).contains("orphaned: "), "{}", stdout(&p));
    }
    let after = [
        snapshot("study.toml"),
        snapshot("trials.jsonl"),
        snapshot("report.md"),
    ];
    assert!(before == after, "a refused run writes nothing");
    let e = ok(&in_dir(
        tmp.path(),
        &["run", "tiny.toml", "--out", "out", "--set", "seeds=3"],
    ));
    assert!(
        e.contains("trained 3 trials in") && e.contains("(6 already stored)"),
        "{e}"
    );
    assert_tables_match_log(&out);
    // The grown study is the folder's now: the smaller one would orphan.
    let o = in_dir(tmp.path(), &["run", "tiny.toml", "--out", "out"]);
    assert!(stderr(&o).contains("seeds: 3 → 2"), "{}", stderr(&o));
}

/// Guards against two reports sharing a temporary name (the second
/// failed): the second waits for the first, and both succeed.
#[test]
fn two_reports_at_once_both_finish_and_match_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let first = paused(&["report", arg(&out)]);
    wait_paused(&out);
    let second = start(&["report", arg(&out)]);
    sleep(Duration::from_millis(500));
    release(&out);
    let (a, b) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    ok(&a);
    let e = ok(&b);
    assert!(e.contains("waiting for mlpsweep report"), "{e}");
    assert_tables_match_log(&out);
}

/// Guards against a run going on while a report writes (the report,
/// finishing last, put back stale tables): the run waits for it.
#[test]
fn a_run_started_during_a_report_waits_and_its_tables_win() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let report = paused(&["report", arg(&out)]);
    wait_paused(&out);
    let study = tmp.path().join("tiny.toml");
    let grow = start(&["run", arg(&study), "--out", arg(&out), "--set", "seeds=3"]);
    sleep(Duration::from_millis(500));
    assert_eq!(complete_lines(&out).len(), 6, "the run trains nothing yet");
    release(&out);
    ok(&report.wait_with_output().unwrap());
    let e = ok(&grow.wait_with_output().unwrap());
    assert!(e.contains("waiting for mlpsweep report"), "{e}");
    assert_eq!(complete_lines(&out).len(), 9);
    assert_tables_match_log(&out);
}

/// Guards against a report written under a running run: refused at once,
/// naming the run, and the run's own tables stand.
#[test]
fn a_report_during_a_run_is_refused_and_the_runs_tables_stand() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let study = tmp.path().join("tiny.toml");
    let grow = paused(&["run", arg(&study), "--out", arg(&out), "--set", "seeds=3"]);
    wait_paused(&out);
    let o = common::mlpsweep(&["report", arg(&out)]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains(&format!(
            "another mlpsweep run (pid {}) is writing",
            grow.id()
        )),
        "{e}"
    );
    release(&out);
    ok(&grow.wait_with_output().unwrap());
    assert_tables_match_log(&out);
}

/// Guards against damaged lines vanishing without a word: garbage, a
/// record cut in the middle of the log and another study's record are
/// named by line number by `report`, `merge` and `run` (exit 5) and in
/// report.md; a torn last line stays silent. The lost trials rerun.
#[test]
fn garbage_cut_and_foreign_lines_are_named_with_their_line_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = first_run(tmp.path());
    let other = tmp.path().join("other");
    write_study(
        tmp.path(),
        "other.toml",
        &TINY.replace("epochs = 4", "epochs = 3"),
    );
    ok(&in_dir(
        tmp.path(),
        &["run", "other.toml", "--out", "other", "--quiet"],
    ));
    let mut lines = complete_lines(&out);
    lines[2] = "garbage".into();
    let half = lines[4].len() / 2;
    lines[4].truncate(half);
    lines.push(complete_lines(&other)[0].clone());
    let torn = lines[0][..40].to_string();
    fs::write(out.join("trials.jsonl"), lines.join("\n") + "\n" + &torn).unwrap();
    let named = |e: &str| {
        for n in [3, 5, 7] {
            assert!(e.contains(&format!("trials.jsonl:{n}: ")), "line {n}: {e}");
        }
        assert!(
            !e.contains("trials.jsonl:8:"),
            "the torn last line is silent: {e}"
        );
    };
    let o = common::mlpsweep(&["report", arg(&out)]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    named(&stderr(&o));
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("- Damaged records: 3 line(s)"), "{md}");
    assert!(md.contains("`trials.jsonl` line 7: trial "), "{md}");
    let merged = tmp.path().join("merged");
    let o = common::mlpsweep(&["merge", arg(&out), "--out", arg(&merged)]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    named(&stderr(&o));
    let o = common::mlpsweep(&[
        "run",
        arg(&tmp.path().join("tiny.toml")),
        "--out",
        arg(&out),
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("(4 already stored)"), "{}", stderr(&o));
    named(&stderr(&o));
}
