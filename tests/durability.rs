//! Never lose a trial: kill the binary with SIGKILL mid-sweep and inside
//! the report write, stop it with SIGINT and SIGTERM, run two at once, and
//! make trials fail — then check that every trial is stored exactly once and
//! that the tables equal those of one clean, uninterrupted run.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{arg, bin, complete_lines, stderr, temp_study};

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
/// The test hook in `store::write_atomic`: SIGKILL before renaming this file.
const KILL_BEFORE_RENAME: &str = "MLPSWEEP_TEST_KILL_BEFORE_RENAME";

fn setup() -> (tempfile::TempDir, PathBuf) {
    temp_study("durable.toml", STUDY)
}

/// `mlpsweep run STUDY --out OUT --jobs 2 EXTRA…`, stderr captured.
fn command(study: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.args(["run", arg(study), "--out", arg(out), "--jobs", "2"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn start(study: &Path, out: &Path, extra: &[&str]) -> Child {
    command(study, out, extra).spawn().unwrap()
}

fn run(study: &Path, out: &Path, extra: &[&str]) -> Output {
    start(study, out, extra).wait_with_output().unwrap()
}

/// Complete records in trials.jsonl (a line torn by a kill is not one).
fn stored_lines(out: &Path) -> usize {
    complete_lines(out).len()
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

/// How a run ended after a signal.
struct Stopped {
    status: ExitStatus,
    stderr: String,
    /// Complete records in trials.jsonl right after it ended.
    stored: usize,
}

/// Send `signal` (a name for kill(1): KILL, TERM, INT) to the run `child`
/// on `out`, wait for it to end, and check that the signal landed mid-sweep:
/// the run stored trials beyond the `before` found when it started, and
/// not all of them.
fn stop(child: Child, out: &Path, before: usize, signal: &str) -> Stopped {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    let stopped = Stopped {
        status: o.status,
        stderr: stderr(&o),
        stored: stored_lines(out),
    };
    assert!(
        before < stopped.stored && stopped.stored < TRIALS,
        "SIG{signal} did not land mid-sweep: {before} trials stored before, {} after ({:?}): {}",
        stopped.stored,
        stopped.status,
        stopped.stderr
    );
    stopped
}

/// Run `cmd` (a run on `out`) until it has stored `n` more trials, then
/// [`stop`] it with `signal`.
fn stop_mid_run(mut cmd: Command, out: &Path, n: usize, signal: &str) -> Stopped {
    let before = stored_lines(out);
    let mut child = cmd.spawn().unwrap();
    wait_for_trials(&mut child, out, before + n);
    stop(child, out, before, signal)
}

/// The run ended by SIGKILL (its stderr shown otherwise).
fn assert_killed(status: ExitStatus, stderr: &str) {
    assert_eq!(status.signal(), Some(9), "died of SIGKILL: {stderr}");
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

/// trials.csv and summary.csv of one clean, uninterrupted run, shared by
/// the tests of this file (computed once).
fn clean_tables() -> &'static (String, String) {
    static CLEAN: OnceLock<(String, String)> = OnceLock::new();
    CLEAN.get_or_init(|| {
        let (tmp, study) = setup();
        let out = tmp.path().join("clean");
        let o = run(&study, &out, &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        common::tables(&out)
    })
}

fn assert_clean_tables(out: &Path) {
    assert!(
        common::tables(out) == *clean_tables(),
        "trials.csv and summary.csv of {} equal the clean run's",
        out.display()
    );
}

/// The report's files in `out` and `out/figures` (temporary copies
/// included), by name relative to `out`.
fn report_files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for sub in ["", "figures"] {
        let Ok(dir) = fs::read_dir(out.join(sub)) else {
            continue;
        };
        for entry in dir {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(out)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            if path.is_file()
                && !["trials.jsonl", "trials.bin", "study.toml", ".lock"].contains(&name.as_str())
            {
                files.insert(name, fs::read(&path).unwrap());
            }
        }
    }
    files
}

/// The files temporary copies were taken for: `summary.csv` for
/// `summary.csv.<pid>-<n>.tmp` (a temporary name is unique per process and write).
fn temporary(files: &BTreeMap<String, Vec<u8>>) -> Vec<&str> {
    files
        .keys()
        .filter_map(|n| n.strip_suffix(".tmp"))
        .map(|n| n.rsplit_once('.').map_or(n, |(file, _)| file))
        .collect()
}

/// SIGKILL (a crash, an OOM kill, `scancel --signal=KILL`) at three points
/// known to be mid-sweep, then a record torn mid-line: guards against a
/// trial lost, stored twice, or rerun when already stored, and against a
/// resumed run whose tables differ from a clean run's.
#[test]
fn killed_runs_resume_to_exactly_the_clean_result() {
    let (tmp, study) = setup();
    let out = tmp.path().join("killed");
    // SIGKILL after the first trial is stored, about a third, and about two thirds.
    for more in [1, TRIALS / 3 - 1, TRIALS / 3] {
        let s = stop_mid_run(command(&study, &out, &[]), &out, more, "KILL");
        assert_killed(s.status, &s.stderr);
    }
    // A power cut while writing: the last record is torn mid-line.
    let log = out.join("trials.jsonl");
    let text = fs::read_to_string(&log).unwrap();
    let last_start = text.trim_end().rfind('\n').map(|i| i + 1).unwrap_or(0);
    let torn = &text[..last_start + (text.len() - last_start) / 2];
    fs::write(&log, torn).unwrap();
    let before = stored_lines(&out);

    let o = run(&study, &out, &[]);
    let stderr = stderr(&o);
    assert!(o.status.success(), "{stderr}");
    let resumed = TRIALS - before;
    assert!(
        stderr.contains(&format!("trained {resumed} trials")),
        "only the missing and the torn trial rerun: {stderr}"
    );
    assert_each_trial_once(&out);
    assert_clean_tables(&out);
}

/// Stop a run with `signal` mid-sweep; check the documented graceful stop
/// (exit 130, finished trials kept, the partial report written, the message
/// saying how to resume); then resume and compare with a clean run.
fn stops_gracefully_and_resumes(signal: &str) {
    let (tmp, study) = setup();
    let out = tmp.path().join(signal);
    let s = stop_mid_run(command(&study, &out, &[]), &out, 3, signal);
    let stderr = &s.stderr;
    assert_eq!(s.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "stopped early: {} of {TRIALS} trials are stored and the partial report is written",
            s.stored
        )) && stderr.contains("resume with: mlpsweep run"),
        "{stderr}"
    );
    // The partial report is there and covers what is stored.
    let rows = fs::read_to_string(out.join("trials.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows, s.stored);
    assert!(out.join("summary.csv").is_file() && out.join("report.md").is_file());
    assert!(temporary(&report_files(&out)).is_empty());
    let o = run(&study, &out, &[]);
    let stderr = common::stderr(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("trained {} trials", TRIALS - s.stored)),
        "the rerun trains only what is missing: {stderr}"
    );
    assert_each_trial_once(&out);
    assert_clean_tables(&out);
}

/// Ctrl-C: guards against a lost trial, a missing partial report or a
/// wrong exit code when a user interrupts.
#[test]
fn sigint_stops_gracefully_and_the_rerun_completes() {
    stops_gracefully_and_resumes("INT");
}

/// SIGTERM, what SLURM sends at the time limit and on `scancel`: guards
/// against it killing the run outright instead of stopping like Ctrl-C.
#[test]
fn sigterm_stops_gracefully_and_the_rerun_completes() {
    stops_gracefully_and_resumes("TERM");
}

/// A kill inside the report write, landed deterministically by the test
/// hook (after summary.csv's temporary copy is written, before its rename;
/// trials.csv is already renamed): guards against a torn table under a
/// final name, a temporary file taken for a report, and a report that
/// `mlpsweep report` or a rerun cannot rebuild to the clean run's tables.
#[test]
fn a_kill_during_the_report_write_leaves_no_torn_table() {
    let (tmp, study) = setup();
    let out = tmp.path().join("report-kill");
    // A run that SIGKILLs itself before renaming summary.csv.tmp.
    let hooked = || {
        let mut cmd = command(&study, &out, &[]);
        cmd.env(KILL_BEFORE_RENAME, "summary.csv");
        cmd
    };

    // The first report ever: SIGTERM mid-sweep, and the partial report's
    // write is killed. trials.csv is complete, summary.csv absent.
    let s = stop_mid_run(hooked(), &out, 2, "TERM");
    assert_killed(s.status, &s.stderr);
    let first = report_files(&out);
    assert_eq!(
        temporary(&first),
        ["summary.csv"],
        "killed where the hook says"
    );
    assert!(first.contains_key("trials.csv") && !first.contains_key("summary.csv"));
    let rows = String::from_utf8_lossy(&first["trials.csv"])
        .lines()
        .count()
        - 1;
    assert_eq!(rows, s.stored, "trials.csv is whole");

    // `mlpsweep report` writes the partial report whole.
    let o = common::mlpsweep(&["report", arg(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let previous = report_files(&out);
    assert!(temporary(&previous).is_empty(), "{:?}", previous.keys());
    assert!(previous.contains_key("summary.csv"));

    // The resumed run trains the rest; its report write is killed half-way.
    let o = hooked().output().unwrap();
    assert_killed(o.status, &stderr(&o));
    assert_eq!(
        stored_lines(&out),
        TRIALS,
        "training ended before the report"
    );
    let killed = report_files(&out);
    assert_eq!(temporary(&killed), ["summary.csv"]);

    // A rerun trains nothing and rebuilds the report.
    let o = run(&study, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("trained 0 trials"), "{}", stderr(&o));
    let rebuilt = report_files(&out);
    assert!(temporary(&rebuilt).is_empty(), "{:?}", rebuilt.keys());
    // Right after the kill, every file under its final name was either the
    // previous complete version or the new complete one.
    for (name, bytes) in killed.iter().filter(|(n, _)| !n.ends_with(".tmp")) {
        assert!(
            previous.get(name) == Some(bytes) || rebuilt.get(name) == Some(bytes),
            "{name} was torn by the kill"
        );
    }
    // The kill landed between the two: trials.csv new, summary.csv as before.
    assert!(
        killed["trials.csv"] == rebuilt["trials.csv"]
            && previous["trials.csv"] != rebuilt["trials.csv"],
        "trials.csv was replaced before the kill"
    );
    assert!(
        killed["summary.csv"] == previous["summary.csv"]
            && previous["summary.csv"] != rebuilt["summary.csv"],
        "summary.csv kept its previous version"
    );
    assert_each_trial_once(&out);
    assert_clean_tables(&out);
}

/// Guards against two runs appending to one trials.jsonl, and against a
/// crashed (SIGKILLed) run's lock blocking the folder forever.
#[test]
fn a_second_run_on_the_same_folder_is_refused_and_a_dead_ones_lock_is_not() {
    let (tmp, study) = setup();
    let out = tmp.path().join("locked");
    let mut first = start(&study, &out, &[]);
    wait_for_trials(&mut first, &out, 1);
    let second = run(&study, &out, &[]);
    let stderr = common::stderr(&second);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another mlpsweep run (pid {}) is writing to this folder",
            first.id()
        )),
        "{stderr}"
    );
    // A crashed run leaves no stuck lock.
    let s = stop(first, &out, 0, "KILL");
    assert_killed(s.status, &s.stderr);
    let third = run(&study, &out, &[]);
    assert!(third.status.success(), "{}", common::stderr(&third));
    assert_each_trial_once(&out);
    assert_clean_tables(&out);
}

/// Guards against one failing trial taking the sweep down, failures
/// counted in the statistics instead of beside them, `plan` not showing
/// them, and `--fail-fast` not stopping (exit 130) at the first one.
#[test]
fn failed_trials_are_isolated_counted_and_fail_fast_stops() {
    let (tmp, study) = setup();
    let out = tmp.path().join("fail");
    let o = bin()
        .args([
            "run",
            arg(&study),
            "--out",
            arg(&out),
            "--set",
            "train.epochs=5",
        ])
        .env("MLPSWEEP_TEST_PANIC_SEED", "1")
        .output()
        .unwrap();
    let stderr = stderr(&o);
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
    let o = common::mlpsweep(&[
        "plan",
        arg(&study),
        "--out",
        arg(&out),
        "--set",
        "train.epochs=5",
    ]);
    let stdout = common::stdout(&o);
    assert!(stdout.contains("status: 16 done, 8 failed"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.ends_with("[failed]")).count(),
        8
    );

    let out = tmp.path().join("fast");
    let o = bin()
        .args([
            "run",
            arg(&study),
            "--out",
            arg(&out),
            "--jobs",
            "1",
            "--fail-fast",
        ])
        .args(["--set", "train.epochs=5"])
        .env("MLPSWEEP_TEST_PANIC_SEED", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", common::stderr(&o));
    let text = fs::read_to_string(out.join("trials.jsonl")).unwrap();
    assert!(
        text.lines().count() < TRIALS && text.lines().last().unwrap().contains("\"failed\""),
        "stopped at the failure"
    );
}

/// Guards against `--fresh` deleting results instead of moving them aside,
/// and against a different study with the same name appending to a folder.
#[test]
fn fresh_moves_old_results_aside_and_another_study_is_refused() {
    let (tmp, study) = setup();
    let out = tmp.path().join("res");
    let quick = ["--set", "train.epochs=2", "--set", "seeds=1"];
    assert!(run(&study, &out, &quick).status.success());
    let old = fs::read(out.join("trials.jsonl")).unwrap();
    let o = run(&study, &out, &[&quick[..], &["--fresh"]].concat());
    assert!(o.status.success());
    assert!(stderr(&o).contains("moved the previous results to"));
    assert_eq!(
        fs::read(tmp.path().join("res.previous-1/trials.jsonl")).unwrap(),
        old,
        "nothing deleted"
    );
    // Same name, a study whose trials differ: refused, naming the key.
    let other = tmp.path().join("other.toml");
    fs::write(
        &other,
        STUDY.replace("points_per_class = 60", "points_per_class = 50"),
    )
    .unwrap();
    let o = run(&other, &out, &quick);
    let stderr = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("holds results of a different version of study \"durable\"")
            && stderr.contains("data.points_per_class: 60 → 50"),
        "{stderr}"
    );
}

/// The flagship durability study under successive halving: 8
/// configurations × 3 seeds, budgets 300, 600, 1200, 2400, 3000; 24 + 12 +
/// 6 + 3 + 3 = 48 record lines in all.
const HALVING: &str = "\n[search.halving]\nmin_epochs = 300\neta = 2\n";
const HALVING_LINES: usize = 48;

/// Kill -9 a halving study at three points, then rerun: (1) inside the
/// first checkpoint write of a trial that wins (before the rename, rung 0),
/// (2) after that trial's rung-2 checkpoint is stored but before its record
/// is (the checkpoint one rung ahead of the records), (3) at an arbitrary
/// point mid-study. The resumed run's trials.csv, summary.csv and rungs.csv
/// equal a clean run's; every (trial, rung) record is stored once and none
/// is missing; no temporary checkpoint is left. Catches a rerun that
/// retrains from scratch into a duplicate record, a checkpoint whose record
/// is never stored, or promotions that differ after a resume.
#[test]
fn killed_halving_runs_resume_to_exactly_the_clean_result() {
    let (tmp, study) = temp_study("durable.toml", &format!("{STUDY}{HALVING}"));
    let clean = tmp.path().join("clean");
    let o = run(&study, &clean, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // A winner: a trial trained to the end (no epochs_trained in its line).
    let winner = complete_lines(&clean)
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v.get("epochs_trained").is_none())
        .map(|v| v["id"].as_str().unwrap().to_string())
        .unwrap();

    let out = tmp.path().join("killed");
    let hooks = [
        (KILL_BEFORE_RENAME, format!("{winner}.safetensors")),
        (
            "MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT",
            format!("{winner}:1200"),
        ),
    ];
    for (var, value) in &hooks {
        let before = stored_lines(&out);
        let o = command(&study, &out, &[]).env(var, value).output().unwrap();
        assert_killed(o.status, &stderr(&o));
        let after = stored_lines(&out);
        assert!(
            after >= before && after < HALVING_LINES,
            "{var}: {before} → {after}"
        );
    }
    // The rung-2 checkpoint is there, its record not.
    let ckpt = out
        .join("checkpoints")
        .join(format!("{winner}.safetensors"));
    assert!(ckpt.is_file());
    // An arbitrary SIGKILL mid-study.
    let before = stored_lines(&out);
    let mut child = start(&study, &out, &[]);
    wait_for_trials(&mut child, &out, before + 1);
    let pid = child.id().to_string();
    Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    let o = child.wait_with_output().unwrap();
    assert_killed(o.status, &stderr(&o));
    assert!(
        stored_lines(&out) < HALVING_LINES,
        "the kill landed mid-study"
    );

    let o = run(&study, &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(common::tables(&out) == common::tables(&clean));
    assert_eq!(
        fs::read_to_string(out.join("rungs.csv")).unwrap(),
        fs::read_to_string(clean.join("rungs.csv")).unwrap()
    );
    let mut seen = HashSet::new();
    for line in complete_lines(&out) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let key = (
            v["id"].to_string(),
            v.get("epochs_trained").map(|e| e.to_string()),
        );
        assert!(seen.insert(key.clone()), "{key:?} stored twice");
    }
    assert_eq!(seen.len(), HALVING_LINES);
    let tmp_left: Vec<_> = fs::read_dir(out.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(tmp_left.is_empty(), "{tmp_left:?}");
}
