//! Never lose a trial: kill the binary at several points of a real sweep,
//! interrupt it with SIGINT, run two at once, and make trials fail — then
//! check that every trial is stored exactly once and that the tables equal
//! those of one clean, uninterrupted run.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

const STUDY: &str = r#"
name = "durable"
seeds = 3
[data]
kind = "spiral"
points_per_class = 60
[train]
epochs = 3000
batch_size = 32
[grid]
depth = [1, 2]
width = [8, 32, 64, 128]
"#;
const TRIALS: usize = 2 * 4 * 3;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlpsweep"))
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("durable.toml");
    fs::write(&study, STUDY).unwrap();
    (tmp, study)
}

fn start(study: &Path, out: &Path, extra: &[&str]) -> Child {
    bin()
        .args([
            "run",
            study.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            "2",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(study: &Path, out: &Path, extra: &[&str]) -> Output {
    start(study, out, extra).wait_with_output().unwrap()
}

fn stored_lines(out: &Path) -> usize {
    fs::read_to_string(out.join("trials.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// Wait until `n` trials are stored (or the child exits).
fn wait_for_trials(child: &mut Child, out: &Path, n: usize) {
    let t0 = Instant::now();
    while stored_lines(out) < n
        && child.try_wait().unwrap().is_none()
        && t0.elapsed() < Duration::from_secs(120)
    {
        sleep(Duration::from_millis(20));
    }
}

/// The ids in trials.jsonl: each complete line parses and no id repeats.
fn assert_each_trial_once(out: &Path) {
    let text = fs::read_to_string(out.join("trials.jsonl")).unwrap();
    let mut ids = HashSet::new();
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
        assert!(
            ids.insert(v["id"].as_str().unwrap().to_string()),
            "trial {} stored twice",
            v["id"]
        );
    }
    assert_eq!(ids.len(), TRIALS);
}

fn tables(out: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        fs::read(out.join("trials.csv")).unwrap(),
        fs::read(out.join("summary.csv")).unwrap(),
    )
}

#[test]
fn killed_runs_resume_to_exactly_the_clean_result() {
    let (tmp, study) = setup();
    let clean = tmp.path().join("clean");
    let o = run(&study, &clean, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want = tables(&clean);

    let out = tmp.path().join("killed");
    // SIGKILL early (before any trial is stored), mid-sweep, and late.
    for stored in [0, TRIALS / 3, 2 * TRIALS / 3] {
        let mut child = start(&study, &out, &[]);
        if stored == 0 {
            sleep(Duration::from_millis(30));
        } else {
            wait_for_trials(&mut child, &out, stored);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // A power cut while writing: the last record is torn mid-line.
    let log = out.join("trials.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let last_start = text.trim_end().rfind('\n').map(|i| i + 1).unwrap_or(0);
    let torn = &text[..last_start + (text.len() - last_start) / 2];
    fs::write(&log, torn).unwrap();
    let before = stored_lines(&out);

    let o = run(&study, &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let resumed = TRIALS - (before - 1);
    assert!(
        stderr.contains(&format!("trained {resumed} trials")),
        "only the missing and the torn trial rerun: {stderr}"
    );
    assert_each_trial_once(&out);
    assert_eq!(
        tables(&out),
        want,
        "trials.csv and summary.csv equal the clean run's"
    );
}

#[test]
fn sigint_stops_gracefully_and_the_rerun_completes() {
    let (tmp, study) = setup();
    let out = tmp.path().join("int");
    let mut child = start(&study, &out, &[]);
    wait_for_trials(&mut child, &out, 3);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("stopped early") && stderr.contains("resume with: mlpsweep run"),
        "{stderr}"
    );
    let partial = stored_lines(&out);
    assert!((3..TRIALS).contains(&partial), "{partial} stored");
    // The partial report is there and covers what is stored.
    let rows = fs::read_to_string(out.join("trials.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows, partial);
    assert!(out.join("report.md").is_file());
    let o = run(&study, &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_each_trial_once(&out);
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_and_a_dead_ones_lock_is_not() {
    let (tmp, study) = setup();
    let out = tmp.path().join("locked");
    let mut first = start(&study, &out, &[]);
    wait_for_trials(&mut first, &out, 1);
    let second = run(&study, &out, &[]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another mlpsweep run (pid {}) is writing to this folder",
            first.id()
        )),
        "{stderr}"
    );
    // A crashed run leaves no stuck lock.
    first.kill().unwrap();
    first.wait().unwrap();
    let third = run(&study, &out, &[]);
    assert!(
        third.status.success(),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    assert_each_trial_once(&out);
}

#[test]
fn failed_trials_are_isolated_counted_and_fail_fast_stops() {
    let (tmp, study) = setup();
    let out = tmp.path().join("fail");
    let o = bin()
        .args([
            "run",
            study.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--set",
            "train.epochs=5",
        ])
        .env("MLPSWEEP_TEST_PANIC_SEED", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("8 failed"), "{stderr}");
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let (n, failed) = (
        header.iter().position(|h| *h == "n").unwrap(),
        header.iter().position(|h| *h == "n_failed").unwrap(),
    );
    for row in summary.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!((cells[n], cells[failed]), ("2", "1"), "{row}");
    }
    let trials = fs::read_to_string(out.join("trials.csv")).unwrap();
    assert!(trials.contains("panic: injected failure for seed 1"));
    // `plan` shows which trials are done and which failed.
    let o = bin()
        .args([
            "plan",
            study.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--set",
            "train.epochs=5",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("status: 16 done, 8 failed"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with("[failed]")).count(),
        8
    );

    let out = tmp.path().join("fast");
    let o = bin()
        .args([
            "run",
            study.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            "1",
            "--fail-fast",
        ])
        .args(["--set", "train.epochs=5"])
        .env("MLPSWEEP_TEST_PANIC_SEED", "1")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = fs::read_to_string(out.join("trials.jsonl")).unwrap();
    assert!(
        text.lines().count() < TRIALS && text.lines().last().unwrap().contains("\"failed\""),
        "stopped at the failure"
    );
}

#[test]
fn fresh_moves_old_results_aside_and_another_study_is_refused() {
    let (tmp, study) = setup();
    let out = tmp.path().join("res");
    let quick = ["--set", "train.epochs=2", "--set", "seeds=1"];
    assert!(run(&study, &out, &quick).status.success());
    let old = fs::read(out.join("trials.jsonl")).unwrap();
    let o = run(&study, &out, &[&quick[..], &["--fresh"]].concat());
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("moved the previous results to"));
    assert_eq!(
        fs::read(tmp.path().join("res.previous-1/trials.jsonl")).unwrap(),
        old,
        "nothing deleted"
    );
    // Same name, different study file: refused.
    let other = tmp.path().join("other.toml");
    fs::write(&other, STUDY.replace("epochs = 3000", "epochs = 3")).unwrap();
    let o = run(&other, &out, &quick);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("holds the results of a different study named \"durable\""),
        "{stderr}"
    );
}
