//! A halving study in shards, rung by rung, as SLURM runs it but on this
//! machine: each rung's shards (`run --shard I/N`, reading the merged
//! folder), then `merge`, then the next rung; a killed shard rerun; and
//! the promote chain of `mlpsweep slurm` against a stand-in `sbatch` that
//! only records its calls. The real cluster runs the same chain in
//! tests/cluster.rs.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    HALVING_BODY, HALVING_SEARCH, arg, complete_lines, fake_sbatch, mlpsweep, run_ok, stderr,
    stdout, tables, temp_study,
};
use serde_json::Value;

/// tests/halving.rs's study: budgets 1, 2, 4, 8, 9; 24 + 12 + 6 + 3 + 3 =
/// 48 record lines in all.
fn halving_study() -> String {
    format!("name = \"halving-shards\"\n{HALVING_BODY}{HALVING_SEARCH}")
}
const BUDGETS: [u64; 5] = [1, 2, 4, 8, 9];
const LINES: usize = 48;

/// (trial id, epochs_trained or 9) of every complete line of `dir`'s log.
fn keys(dir: &Path) -> Vec<(String, u64)> {
    complete_lines(dir)
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let e = v.get("epochs_trained").map_or(9, |e| e.as_u64().unwrap());
            (v["id"].as_str().unwrap().to_string(), e)
        })
        .collect()
}

fn shard_dir(merged: &Path, i: usize, n: usize) -> PathBuf {
    merged.join(format!("shard-{i}-of-{n}"))
}

/// `run --shard i/n` into the default shard folder under `merged`.
fn shard(study: &Path, merged: &Path, i: usize, n: usize) -> Output {
    let out = shard_dir(merged, i, n);
    run_ok(&[
        "run",
        arg(study),
        "--shard",
        &format!("{i}/{n}"),
        "--out",
        arg(&out),
        "--jobs",
        "1",
        "--quiet",
    ])
}

/// `merge` the shard folders of `merged` into it.
fn merge(merged: &Path, n: usize) -> Output {
    let dirs: Vec<String> = (1..=n)
        .map(|i| shard_dir(merged, i, n).display().to_string())
        .collect();
    let mut args = vec!["merge"];
    args.extend(dirs.iter().map(String::as_str));
    run_ok(&args)
}

/// The records the local run stores at `budget`.
fn at_budget(local: &[(String, u64)], budget: u64) -> BTreeSet<String> {
    local
        .iter()
        .filter(|(_, b)| *b == budget)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Each rung in 2 shards, merged before the next: every rung's shards
/// split exactly the trials the local run trained at that budget (none
/// twice, none left out), the merged folder's tables, rungs.csv and
/// record lines are the local run's, the checkpoints live in the merged
/// folder only, and once all rungs are done a shard trains nothing.
/// Catches a shard that splits the whole plan instead of the rung, a merge
/// that drops earlier rungs (the next shards would find rung 0 again), a
/// shard that reads its rung from its own folder, and checkpoints left in
/// the shard folders, where the next rung's other shards cannot see them.
#[test]
fn sharded_rungs_merged_one_by_one_equal_the_local_run() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let local = tmp.path().join("local");
    run_ok(&["run", arg(&study), "--out", arg(&local), "--jobs", "2"]);
    let local_keys = keys(&local);
    assert_eq!(local_keys.len(), LINES);
    let merged = tmp.path().join("cluster");
    for (k, &budget) in BUDGETS.iter().enumerate() {
        let mut rung = Vec::new();
        for i in 1..=2 {
            let before = keys(&shard_dir(&merged, i, 2)).len();
            let o = shard(&study, &merged, i, 2);
            let new = keys(&shard_dir(&merged, i, 2)).split_off(before);
            assert!(
                stderr(&o).contains(&format!(
                    "shard {i}/2 of rung {k} ({budget} epochs): {} of its trials",
                    new.len()
                )),
                "{}",
                stderr(&o)
            );
            assert!(new.iter().all(|(_, b)| *b == budget), "rung {k}: {new:?}");
            rung.extend(new.into_iter().map(|(id, _)| id));
        }
        let distinct: BTreeSet<String> = rung.iter().cloned().collect();
        assert_eq!(
            distinct.len(),
            rung.len(),
            "rung {k}: a trial in both shards"
        );
        assert_eq!(
            distinct,
            at_budget(&local_keys, budget),
            "rung {k}'s trials"
        );
        let o = merge(&merged, 2);
        let next = match BUDGETS.get(k + 1) {
            Some(b) => format!(
                "halving: {} of 5 rungs done; rung {} ({b} epochs,",
                k + 1,
                k + 1
            ),
            None => "halving: all 5 rungs done".to_string(),
        };
        assert!(stderr(&o).contains(&next), "{}", stderr(&o));
    }
    assert!(
        tables(&merged) == tables(&local),
        "the merged tables are the local run's"
    );
    let rungs = |d: &Path| fs::read_to_string(d.join("rungs.csv")).unwrap();
    assert_eq!(rungs(&merged), rungs(&local));
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort();
        v
    };
    assert_eq!(sorted(keys(&merged)), sorted(local_keys));
    // Every trial's latest checkpoint is in the merged folder, none in a shard's.
    assert_eq!(
        fs::read_dir(merged.join("checkpoints")).unwrap().count(),
        24
    );
    for i in 1..=2 {
        assert!(!shard_dir(&merged, i, 2).join("checkpoints").exists());
    }
    let o = shard(&study, &merged, 1, 2);
    assert!(stderr(&o).contains("every rung is done; nothing to train"));
}

/// A shard killed (SIGKILL) after a trial's rung-1 checkpoint is stored in
/// the merged folder but before its record is, then rerun: the record is
/// stored once, from the checkpoint. And a shard that lost its last
/// records (as a kill between two syncs leaves it) gets them back from the
/// checkpoints without training: the same lines, wall times included. The
/// study then completes to the local run's tables. Catches a rerun that
/// ignores its own folder's records (duplicates), that looks for the
/// checkpoints in its own folder (retrains: other wall times), and a
/// checkpoint whose record is never stored.
#[test]
fn a_killed_shard_resumes_from_the_checkpoints_in_the_merged_folder() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let local = tmp.path().join("local");
    run_ok(&["run", arg(&study), "--out", arg(&local), "--jobs", "2"]);
    let merged = tmp.path().join("cluster");
    shard(&study, &merged, 1, 1);
    merge(&merged, 1);
    // Rung 1 in one shard, killed once the last rung-1 trial's checkpoint is stored.
    let rung1: Vec<String> = at_budget(&keys(&local), 2).into_iter().collect();
    let victim = rung1.last().unwrap();
    let dir = shard_dir(&merged, 1, 1);
    let o = common::bin()
        .args([
            "run",
            arg(&study),
            "--shard",
            "1/1",
            "--out",
            arg(&dir),
            "--jobs",
            "1",
            "--quiet",
        ])
        .env("MLPSWEEP_TEST_KILL_AFTER_CHECKPOINT", format!("{victim}:2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), None, "killed by a signal: {}", stderr(&o));
    let ckpt = fs::read(
        merged
            .join("checkpoints")
            .join(format!("{victim}.safetensors")),
    )
    .unwrap();
    let n = u64::from_le_bytes(ckpt[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&ckpt[8..8 + n]).unwrap();
    assert_eq!(
        header["__metadata__"]["epoch"], "2",
        "the rung-1 checkpoint"
    );
    assert!(!keys(&dir).contains(&(victim.clone(), 2)));
    shard(&study, &merged, 1, 1);
    let stored: Vec<(String, u64)> = keys(&dir).into_iter().filter(|k| k.1 == 2).collect();
    let unique: HashSet<&(String, u64)> = stored.iter().collect();
    assert_eq!(
        (stored.len(), unique.len()),
        (12, 12),
        "each rung-1 record once"
    );

    // Cut the last 3 rung-1 records off the shard's log and rerun it.
    let lines = complete_lines(&dir);
    let (kept, cut) = lines.split_at(lines.len() - 3);
    fs::write(dir.join("trials.jsonl"), kept.join("\n") + "\n").unwrap();
    shard(&study, &merged, 1, 1);
    assert_eq!(
        &complete_lines(&dir)[kept.len()..],
        cut,
        "restored, not retrained"
    );

    merge(&merged, 1);
    for _ in 2..BUDGETS.len() {
        shard(&study, &merged, 1, 1);
        merge(&merged, 1);
    }
    assert!(tables(&merged) == tables(&local));
}

/// Mistakes with the merged folder are refused before anything trains:
/// the shard's own folder as the merged one, and a merged folder of
/// another study (also for `slurm`). Those of a plain study are in
/// tests/bad_input.rs.
#[test]
fn merged_folder_mistakes_are_refused() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let m = tmp.path().join("m");
    let fails = |args: &[&str], code: i32, want: &str| {
        let o = mlpsweep(args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    };
    fails(
        &[
            "run",
            arg(&study),
            "--shard",
            "1/2",
            "--out",
            arg(&m),
            "--merged",
            arg(&m),
        ],
        1,
        "a halving shard writes its records to a folder of its own",
    );
    let other = tmp.path().join("other.toml");
    fs::write(&other, halving_study().replace("seeds = 3", "seeds = 2")).unwrap();
    run_ok(&["run", arg(&other), "--out", arg(&m), "--quiet"]);
    fails(
        &[
            "run",
            arg(&study),
            "--shard",
            "1/2",
            "--out",
            arg(&m.join("s1")),
            "--merged",
            arg(&m),
        ],
        1,
        "holds a different study",
    );
    assert!(
        !m.join("s1").exists(),
        "refused before the shard's folder exists"
    );
    fails(
        &["slurm", arg(&study), "--out", arg(&m)],
        1,
        "holds the results of a different study",
    );
}

/// The promote chain with `sbatch` standing in: each rung's array and
/// promote scripts (the promote job depends on the array, merges the
/// shards and calls `slurm --after-rung K`), a promote job repeated (it
/// submits nothing again), one that finds its rung incomplete (it stops
/// the chain, exit 130, submitting nothing), a resubmission by hand (it
/// submits), the last rung's array cut to its 3 trials, and the end
/// (nothing submitted). Catches a repeated promote job doubling the chain,
/// an incomplete rung resubmitted forever, and scripts that lose the
/// merged folder or the dependency.
#[test]
fn the_promote_chain_submits_each_rung_once() {
    let (tmp, study) = temp_study("h.toml", &halving_study());
    let path = fake_sbatch(&tmp.path().join("bin"));
    let calls = || -> Vec<String> {
        fs::read_to_string(tmp.path().join("bin/calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    };
    let m = tmp.path().join("m");
    let slurm = |extra: &[&str]| -> Output {
        let mut args = vec![
            "slurm",
            arg(&study),
            "--shards",
            "4",
            "--out",
            arg(&m),
            "--submit",
        ];
        args.extend_from_slice(extra);
        common::bin()
            .args(&args)
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let o = slurm(&[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("submitted array job 101 and promote job 102 for rung 0 (1 epochs, 8 configurations, 24 trials)"), "{}", stdout(&o));
    let slurm_dir = m.join("slurm");
    let array = fs::read_to_string(slurm_dir.join("rung-0.sbatch")).unwrap();
    let promote = fs::read_to_string(slurm_dir.join("promote-0.sbatch")).unwrap();
    assert_eq!(
        calls(),
        [
            slurm_dir.join("rung-0.sbatch").display().to_string(),
            format!(
                "--dependency=afterany:101 {}",
                slurm_dir.join("promote-0.sbatch").display()
            )
        ]
        .map(|c| format!("--parsable {c}"))
    );
    for want in [
        "#SBATCH --array=1-4".to_string(),
        "--shard \"$SLURM_ARRAY_TASK_ID/4\"".to_string(),
        format!("--merged '{}'", m.display()),
    ] {
        assert!(array.contains(&want), "{want}:\n{array}");
    }
    assert!(
        promote.contains(&format!(
            "merge '{}'/shard-*-of-4 --out '{}'",
            m.display(),
            m.display()
        )),
        "{promote}"
    );
    assert!(promote.contains("--after-rung 0 --shards 4"), "{promote}");
    // Run the rungs as the jobs would, then each promote job's slurm call.
    for k in 0..BUDGETS.len() {
        for i in 1..=4 {
            shard(&study, &m, i, 4);
        }
        merge(&m, 4);
        let before = calls().len();
        let after = k.to_string();
        if k == 0 {
            // The promote step takes the merged folder's lock: with a run
            // holding it, it is refused and submits nothing.
            let mut held = fs::OpenOptions::new()
                .write(true)
                .open(m.join(".lock"))
                .unwrap();
            held.try_lock().unwrap();
            std::io::Write::write_all(&mut held, b"4242 run\n").unwrap();
            let o = slurm(&["--after-rung", &after]);
            assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
            assert!(
                stderr(&o).contains("another mlpsweep run (pid 4242)"),
                "{}",
                stderr(&o)
            );
            assert_eq!(calls().len(), before);
        }
        let o = slurm(&["--after-rung", &after]);
        assert!(o.status.success(), "{}", stderr(&o));
        match BUDGETS.get(k + 1) {
            Some(next) => {
                assert_eq!(calls().len(), before + 2, "rung {} submitted", k + 1);
                assert!(stdout(&o).contains(&format!("for rung {} ({next} epochs", k + 1)));
                // The same promote job again: nothing more.
                let again = slurm(&["--after-rung", &after]);
                assert!(again.status.success());
                assert!(
                    stdout(&again).contains("was submitted already (array job"),
                    "{}",
                    stdout(&again)
                );
                assert_eq!(calls().len(), before + 2);
            }
            None => {
                assert_eq!(calls().len(), before);
                assert!(stdout(&o).contains("halving: all 5 rungs done; the report is"));
            }
        }
        if k == 0 {
            // Rung 1's promote job, before rung 1 ran: the chain stops.
            let o = slurm(&["--after-rung", "1"]);
            assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
            assert!(stderr(&o).contains("rung 1 is incomplete after its array"));
            assert_eq!(calls().len(), before + 2);
            // By hand, rung 1 is submitted again.
            let o = slurm(&[]);
            assert!(o.status.success());
            assert_eq!(calls().len(), before + 4);
        }
    }
    // The last rungs hold 3 trials: 3 array tasks, not 4.
    let last = fs::read_to_string(slurm_dir.join("rung-4.sbatch")).unwrap();
    assert!(last.contains("#SBATCH --array=1-3\n"), "{last}");
}
