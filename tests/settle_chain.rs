//! A `[settle]` study as SLURM runs it, but on this machine: each round's
//! shards (`run --shard I/N`, reading the merged folder), `merge`, then
//! the judge job's `mlpsweep slurm --after-round K` against a stand-in
//! `sbatch` that only records its calls. The real cluster runs the same
//! chain in tests/cluster_settle.rs.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{arg, complete_lines, fake_sbatch, run_ok, stderr, stdout, temp_study};

/// tests/settle.rs's study: the rate claim settles at look 3 (12 seeds),
/// the width claim's slice gets seeds for its two configurations until it
/// is declared futile at look 4 (15 seeds); 12 + 12 + 12 + 12 + 6 = 54
/// trials, in 5 rounds.
const STUDY: &str = include_str!("settle_chain.toml");

/// Trials per round of the local run, from its `look K of 9: …, T trials
/// to train` lines.
const ROUNDS: [usize; 5] = [12, 12, 12, 12, 6];

/// report.md without the lines that hold wall times and the machine.
fn report(out: &Path) -> String {
    fs::read_to_string(out.join("report.md"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("- Provenance") && !l.starts_with("- Finished"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The trial ids of `lines` (record lines).
fn ids(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["id"].as_str().unwrap().to_string()
        })
        .collect()
}

fn shard_dir(merged: &Path, i: usize) -> PathBuf {
    merged.join(format!("shard-{i}-of-3"))
}

/// Every record line of the three shard folders.
fn shard_lines(merged: &Path) -> Vec<String> {
    (1..=3)
        .flat_map(|i| complete_lines(&shard_dir(merged, i)))
        .collect()
}

/// Shard `i` of 3 of the next round, reading the merged folder (the
/// default, the parent of its own).
fn shard(study: &Path, merged: &Path, i: usize) {
    let out = shard_dir(merged, i);
    let o = run_ok(&[
        "run",
        arg(study),
        "--shard",
        &format!("{i}/3"),
        "--out",
        arg(&out),
        "--jobs",
        "1",
        "--quiet",
    ]);
    assert!(stderr(&o).contains("of round"), "{}", stderr(&o));
}

/// `merge` the three shard folders into `merged`.
fn merge(merged: &Path) -> Output {
    let dirs: Vec<String> = (1..=3)
        .map(|i| shard_dir(merged, i).display().to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(String::as_str));
    common::mlpsweep(&args)
}

/// One round as the array and the judge job's merge run it: 3 shards,
/// then `merge`.
fn round(study: &Path, merged: &Path) {
    for i in 1..=3 {
        shard(study, merged, i);
    }
    let o = merge(merged);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The judge chain with `sbatch` standing in, against a local `run` of
/// the same study: each round's shards train exactly the trials the local
/// run added at that look (its log is appended round by round), the judge
/// job submits the next round's array and judge job once (a repeated judge
/// job submits nothing; a judge job whose round has not run stops the
/// chain, exit 130), a merge of a round begun but not finished exits 130
/// naming only that round's unstored trials, the chain ends after the
/// local run's last look, and the merged report is the local one's.
/// Catches a round that takes
/// configurations no open slice compares, a shard split over the whole
/// plan, a merge that calls a settle study incomplete, a judge job that
/// doubles the chain, and judging that differs from the local run's.
#[test]
fn the_judge_chain_trains_the_local_runs_rounds_and_submits_each_once() {
    let (tmp, study) = temp_study("settle_chain.toml", STUDY);
    let local = tmp.path().join("local");
    let o = run_ok(&["run", arg(&study), "--out", arg(&local), "--jobs", "1"]);
    let looks: Vec<usize> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("look "))
        .map(|l| l.split(", ").nth(1).unwrap().split(' ').next().unwrap())
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(looks, ROUNDS, "{}", stderr(&o));
    let local_lines = complete_lines(&local);

    let path = fake_sbatch(&tmp.path().join("bin"));
    let calls = || -> usize {
        fs::read_to_string(tmp.path().join("bin/calls"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    let m = tmp.path().join("m");
    let slurm = |extra: &[&str]| -> Output {
        let mut args = vec!["slurm", arg(&study), "--shards", "3", "--out", arg(&m)];
        args.extend_from_slice(extra);
        args.push("--submit");
        common::bin()
            .args(&args)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let o = slurm(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(
            "submitted array job 101 and judge job 102 for round 0 \
             (look 0 of 9: 4 configurations to 3 seeds, 12 trials)"
        ),
        "{}",
        stdout(&o)
    );
    let judge = fs::read_to_string(m.join("slurm/judge-0.sbatch")).unwrap();
    assert!(judge.contains("--after-round 0 --shards 3"), "{judge}");
    assert!(judge.contains("#SBATCH --job-name=mlpsweep-settle_chain-judge"));
    let (mut before, mut seen) = (0, BTreeSet::new());
    for (k, n) in ROUNDS.iter().enumerate() {
        if k == 1 {
            // Shard 1 alone: the round has begun, so the merge names the
            // rest of it missing (exit 130, the judge script stops there),
            // and not the seeds no look has given yet.
            shard(&study, &m, 1);
            let o = merge(&m);
            assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
            let alone = complete_lines(&shard_dir(&m, 1)).len() - seen_in(&m, 1, &seen);
            let want = format!("missing {} trial(s)", n - alone);
            assert!(stderr(&o).contains(&want), "{want}: {}", stderr(&o));
        }
        round(&study, &m);
        let lines = shard_lines(&m);
        assert_eq!(lines.len(), before + n, "round {k} trained {n} trials once");
        let added: BTreeSet<String> = ids(&lines).difference(&seen).cloned().collect();
        assert_eq!(
            added,
            ids(&local_lines[before..before + n]),
            "round {k} added the local run's trials"
        );
        (before, seen) = (before + n, ids(&lines));
        let submitted = calls();
        let after = k.to_string();
        let o = slurm(&["--after-round", &after]);
        assert!(o.status.success(), "{}", stderr(&o));
        if k + 1 < ROUNDS.len() {
            let want = format!("for round {} (look {} of 9", k + 1, k + 1);
            assert!(stdout(&o).contains(&want), "{want}: {}", stdout(&o));
            assert_eq!(calls(), submitted + 2, "round {} submitted", k + 1);
            let again = slurm(&["--after-round", &after]);
            assert!(again.status.success(), "{}", stderr(&again));
            assert!(
                stdout(&again).contains("was submitted already (array job"),
                "{}",
                stdout(&again)
            );
            assert_eq!(
                calls(),
                submitted + 2,
                "a repeated judge job submits nothing"
            );
            let early = slurm(&["--after-round", &(k + 1).to_string()]);
            assert_eq!(early.status.code(), Some(130), "{}", stderr(&early));
            assert!(stderr(&early).contains(&format!("round {} is incomplete", k + 1)));
            assert_eq!(calls(), submitted + 2);
        } else {
            assert_eq!(calls(), submitted, "nothing after the last look");
            assert!(
                stdout(&o).contains(
                    "settle: every slice settled, futile or at the cap after look 4 of 9 \
                     (54 trials, 60 with the same seeds for every configuration)"
                ),
                "{}",
                stdout(&o)
            );
        }
    }
    assert_eq!(ids(&complete_lines(&m)), ids(&local_lines));
    assert_eq!(
        report(&m),
        report(&local),
        "the merged report is the local run's"
    );
}

/// Lines of shard `i`'s log whose trial is in `seen` (stored before this
/// round).
fn seen_in(merged: &Path, i: usize, seen: &BTreeSet<String>) -> usize {
    ids(&complete_lines(&shard_dir(merged, i)))
        .intersection(seen)
        .count()
}
