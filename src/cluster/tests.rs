//! The job scripts read back by a real shell: hostile values in every
//! place a value goes (the study path, the results folder, `--set`s, the
//! partition) add no line and run no command.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::chain::{Kind, Step, scripts as rung_scripts};
use super::script::{quote_path, tests::HOSTILE};
use super::{SlurmOptions, scripts};

fn study() -> crate::study::Study {
    crate::study::from_str("name = \"h\"\nseeds = 1\n", Path::new("h.toml"), &[]).unwrap()
}

/// Options with a results folder under `dir` whose name holds `$(…)` and
/// backquotes, and every hostile value as a `--set`.
fn hostile_options(dir: &Path) -> SlurmOptions {
    SlurmOptions {
        shards: 3,
        cpus_per_task: 2,
        time: "00:10:00".into(),
        partition: Some("short".into()),
        out: dir.join("res$(touch${IFS}pwned)`touch${IFS}pwned`;&|<>"),
        sets: HOSTILE.iter().map(|v| format!("data.noise={v}")).collect(),
    }
}

/// The words each command of `script`'s body passes to mlpsweep, as `sh`
/// parses them (the binary swapped for `printf`), with task 1's variables.
/// Runs in `dir`, with `HOME` there, so that anything executed leaves a
/// file in it.
fn words(script: &str, dir: &Path) -> Vec<String> {
    let exe = quote_path(&std::env::current_exe().unwrap());
    let body: Vec<&str> = script
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("set "))
        .collect();
    let body = body.join("\n").replace(&exe, "printf '%s\\000'");
    let o = Command::new("sh")
        .args(["-c", &body])
        .current_dir(dir)
        .env("HOME", dir)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env_remove("SLURM_CPUS_PER_TASK")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut w: Vec<String> = o
        .stdout
        .split(|b| *b == 0)
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .collect();
    w.pop();
    w
}

/// Lines of a script that are not what the generator writes: the
/// shebang, comments, directives, `set`, the commands and their
/// continuation. A value that added a line shows up here.
fn foreign_lines(script: &str) -> Vec<&str> {
    let exe = quote_path(&std::env::current_exe().unwrap());
    script
        .lines()
        .filter(|l| {
            !(l.starts_with('#')
                || *l == "set -euo pipefail"
                || l.starts_with(&format!("exec {exe} "))
                || l.starts_with(&format!("{exe} "))
                || l.starts_with("    --out "))
        })
        .collect()
}

/// `--set`s after `words`, as mlpsweep receives them.
fn with_sets(words: &[&str], opts: &SlurmOptions) -> Vec<String> {
    let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
    for s in &opts.sets {
        w.extend(["--set".to_string(), s.clone()]);
    }
    w
}

/// The plain study's array and merge scripts. Catches a value written
/// bare or double-quoted into the body (`$(…)` would run, `'` would end
/// the quoting, a newline would start a command).
#[test]
fn hostile_values_reach_mlpsweep_as_they_are_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let opts = hostile_options(dir.path());
    let study_file = dir.path().join("a b'$(touch pwned).toml");
    let (array, merge) = scripts(&study(), &study_file, &opts).unwrap();
    assert!(foreign_lines(&array).is_empty(), "{array}");
    assert!(foreign_lines(&merge).is_empty(), "{merge}");
    let (out, study_path) = (opts.out.display().to_string(), study_file.display());
    let shard = format!("{out}/shard-1-of-3");
    let want = with_sets(
        &[
            "run",
            &study_path.to_string(),
            "--shard",
            "1/3",
            "--jobs",
            "2",
            "--out",
            &shard,
            "--quiet",
        ],
        &opts,
    );
    assert_eq!(words(&array, dir.path()), want);
    let glob = format!("{out}/shard-*-of-3");
    assert_eq!(words(&merge, dir.path()), ["merge", &glob, "--out", &out]);
    let left: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "something ran: {left:?}");
}

/// A halving rung's array and promote scripts, and a settle round's
/// array and judge scripts, the follow-up job's own `mlpsweep slurm`
/// arguments included. Catches `slurm_args` passing a value on unquoted
/// into the next step's command, or a round's judge job continuing with
/// the halving flag.
#[test]
fn hostile_values_pass_through_both_chains_unchanged() {
    for (kind, after) in [(Kind::Rung, "--after-rung"), (Kind::Round, "--after-round")] {
        let dir = tempfile::tempdir().unwrap();
        let opts = hostile_options(dir.path());
        let study_file = dir.path().join("s;t.toml");
        let step = Step {
            kind,
            index: 0,
            about: "1 trials".into(),
            key: "1".into(),
            trials: vec!["0123456789abcdef".into()],
        };
        let (array, follow) = rung_scripts(&study(), &study_file, &opts, &step).unwrap();
        assert!(foreign_lines(&array).is_empty(), "{array}");
        assert!(foreign_lines(&follow).is_empty(), "{follow}");
        let (out, s) = (
            opts.out.display().to_string(),
            study_file.display().to_string(),
        );
        let shard = format!("{out}/shard-1-of-3");
        let run = [
            "run", &s, "--shard", "1/3", "--jobs", "2", "--out", &shard, "--merged", &out,
            "--quiet",
        ];
        assert_eq!(words(&array, dir.path()), with_sets(&run, &opts));
        let glob = format!("{out}/shard-*-of-3");
        let chain = [
            "merge",
            &glob,
            "--out",
            &out,
            "slurm",
            &s,
            after,
            "0",
            "--shards",
            "3",
            "--cpus-per-task",
            "2",
            "--time",
            "00:10:00",
            "--partition",
            "short",
            "--out",
            &out,
        ];
        let mut want = with_sets(&chain, &opts);
        want.push("--submit".into());
        assert_eq!(words(&follow, dir.path()), want);
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}

/// An #SBATCH value SLURM would not take is refused before anything is
/// written, naming the flag and the value escaped. Catches a check that
/// is not called on one of the two paths (plain, halving).
#[test]
fn hostile_directive_values_are_refused_by_both_generators() {
    let dir = tempfile::tempdir().unwrap();
    let rung = Step {
        kind: Kind::Rung,
        index: 0,
        about: "1 epochs, 1 configurations, 1 trials".into(),
        key: "1".into(),
        trials: vec!["0123456789abcdef".into()],
    };
    let file = dir.path().join("h.toml");
    type Spoil = fn(&mut SlurmOptions);
    let cases: [(&str, Spoil); 4] = [
        ("--partition \"short\\nrm -rf ~\": ", |o| {
            o.partition = Some("short\nrm -rf ~".into())
        }),
        ("--time \"1:00\\nrm -rf ~\": ", |o| {
            o.time = "1:00\nrm -rf ~".into()
        }),
        ("--out \"", |o| o.out = o.out.join("a\nrm -rf ~")),
        ("--set \"data.noise=0.1\\nrm -rf ~\": ", |o| {
            o.sets = vec!["data.noise=0.1\nrm -rf ~".into()]
        }),
    ];
    for (want, spoil) in cases {
        let mut opts = hostile_options(dir.path());
        opts.out = dir.path().join("res");
        spoil(&mut opts);
        for e in [
            scripts(&study(), &file, &opts).unwrap_err(),
            rung_scripts(&study(), &file, &opts, &rung).unwrap_err(),
        ] {
            let e = e.to_string();
            assert!(e.starts_with(want), "{e}");
        }
    }
}
