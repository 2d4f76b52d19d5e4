//! `[settle]` end to end: rounds of seeds go only where an open claim slice
//! compares, the rounds are the same whatever `--jobs` is, and a run
//! stopped anywhere (between rounds, inside one, with a torn record, by a
//! real SIGKILL) resumes to the same trials and the same report.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::{arg, complete_lines, run_study_ok, stored_ids, temp_study};

/// Two claims: a large effect of the rate (it settles at look 3 with 12
/// seeds: a bootstrap p is at least 1/2000, so with ρ = 3 the early looks'
/// levels are out of its reach) and a small effect of the width at the low
/// rate, which keeps getting seeds for its two configurations only, until
/// it is declared futile.
const STUDY: &str = r#"
name = "settle_test"
seeds = 3
[data]
kind = "spiral"
points_per_class = 30
[model]
depth = 1
[train]
optimizer = "sgd"
batch_size = 30
epochs = 15
[grid]
lr = [0.003, 0.3]
width = [4, 16]
[[claims]]
name = "a high rate ends lower"
statistic = "mean"
expect = "less_than"
this = { lr = 0.3 }
than = { lr = 0.003 }
[[claims]]
name = "wider ends lower at a low rate"
statistic = "mean"
expect = "less_than"
this = { width = 16 }
than = { width = 4 }
where = { lr = 0.003 }
[settle]
max_seeds = 30
round = 3
"#;

/// report.md without the lines that hold wall times and the machine.
fn report(out: &Path) -> String {
    fs::read_to_string(out.join("report.md"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("- Provenance") && !l.starts_with("- Finished"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (plan position, seed) of every stored trial.
fn trials(out: &Path) -> BTreeSet<(u64, u64)> {
    complete_lines(out)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["index"].as_u64().unwrap(), v["seed"].as_u64().unwrap())
        })
        .collect()
}

/// The allocation is the decisions' and not uniform: the two low-rate
/// configurations go to 15 seeds, the high-rate ones stop at 12 where the
/// rate claim settled, 54 trials against 60 for giving everyone 15; the
/// same with one job or two; the report names both looks and the trials.
#[test]
fn rounds_go_where_a_slice_is_open_whatever_the_jobs() {
    let (tmp, study) = temp_study("settle.toml", STUDY);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_study_ok(&study, &one, &["--jobs", "1"]);
    run_study_ok(&study, &two, &["--jobs", "2"]);
    let ids: BTreeSet<String> = stored_ids(&one).into_iter().collect();
    assert_eq!(ids.len(), 54);
    assert_eq!(ids, stored_ids(&two).into_iter().collect());
    assert_eq!(report(&one), report(&two));
    let md = report(&one);
    for want in [
        "| a high rate ends lower | width=4 | holds | 3 | 12 | settled |",
        "| wider ends lower at a low rate | all | inconclusive | 4 | 15 | futile: about 66 seeds would settle it |",
        "Trials given: 54; adding the same seeds to every configuration (15 each) would have cost 60",
        "settled at look 3 of 9 with 12 seeds per configuration",
    ] {
        assert!(md.contains(want), "{want}\n{md}");
    }
    let seeds: Vec<u64> = trials(&one).iter().map(|(_, s)| *s).collect();
    assert_eq!(seeds.iter().filter(|&&s| s >= 12).count(), 2 * 3);
    // Re-reporting a settled study gives the same bytes.
    let before = fs::read(one.join("report.md")).unwrap();
    let o = common::run_ok(&["report", arg(&one)]);
    assert!(o.status.success());
    assert_eq!(before, fs::read(one.join("report.md")).unwrap());
}

/// What a kill leaves is a prefix of trials.jsonl (each record is one
/// appended line), perhaps with a torn last line: between rounds (the 12
/// trials of look 0), inside round 1 (12 + 5), and inside round 4 with a
/// torn record. Rerun from each, the study ends with the clean run's
/// trials, each stored once, and the clean run's report.
#[test]
fn a_run_stopped_between_or_inside_rounds_resumes_to_the_same_end() {
    let (tmp, study) = temp_study("settle.toml", STUDY);
    let clean = tmp.path().join("clean");
    run_study_ok(&study, &clean, &["--jobs", "2"]);
    let lines = complete_lines(&clean);
    for (i, (keep, torn)) in [(12, false), (17, false), (50, true)].iter().enumerate() {
        let out = tmp.path().join(format!("cut{i}"));
        fs::create_dir_all(&out).unwrap();
        fs::copy(clean.join("study.toml"), out.join("study.toml")).unwrap();
        // The sidecar is appended before the lines naming it, so a kill
        // leaves all of it beside a prefix of the lines.
        fs::copy(clean.join("trials.bin"), out.join("trials.bin")).unwrap();
        let mut text: String = lines[..*keep].iter().map(|l| format!("{l}\n")).collect();
        if *torn {
            text.push_str(&lines[*keep][..40]);
        }
        fs::write(out.join("trials.jsonl"), text).unwrap();
        run_study_ok(&study, &out, &["--jobs", "2"]);
        let ids = stored_ids(&out);
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "a trial stored twice");
        assert_eq!(trials(&out), trials(&clean), "cut at {keep}");
        assert_eq!(report(&out), report(&clean), "cut at {keep}");
    }
}

/// A real SIGKILL inside round 1 (after the 12 trials of look 0 and two of
/// round 1 are stored), with trials slow enough (300 epochs) to land it
/// mid-run: the rerun ends with the clean run's trials, each stored once.
#[test]
fn a_run_killed_inside_a_round_resumes_to_the_same_trials() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let slow = STUDY.replace("epochs = 15", "epochs = 300");
    let (tmp, study) = temp_study("settle.toml", &slow);
    let clean = tmp.path().join("clean");
    run_study_ok(&study, &clean, &["--jobs", "2"]);
    let out = tmp.path().join("killed");
    let mut child = common::bin()
        .args(["run", arg(&study), "--out", arg(&out), "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while complete_lines(&out).len() < 14
        && child.try_wait().unwrap().is_none()
        && t0.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    let stored = complete_lines(&out).len();
    assert_eq!(status.signal(), Some(9), "the run ended before the kill");
    assert!(
        (14..complete_lines(&clean).len()).contains(&stored),
        "{stored} stored"
    );
    run_study_ok(&study, &out, &["--jobs", "2"]);
    let ids = stored_ids(&out);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a trial stored twice");
    assert_eq!(trials(&out), trials(&clean));
    assert_eq!(report(&out), report(&clean));
}
