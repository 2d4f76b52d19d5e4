//! The bad-input catalogue: every file in `tests/bad_input/` is a malformed
//! or impossible study whose first line says `# expect: <text>`; any
//! `# set: KEY=VALUE` lines after it are passed as `--set KEY=VALUE`. The run
//! must fail with exit code 1, print one `error: ` paragraph containing
//! that text (the file, line where known, key and what is allowed; a `--set`
//! mistake says `--set:` instead of the file), never panic, and write no
//! results folder. This is the one place for study-file mistakes.
//! Command-line mistakes (flags, missing files) follow.

mod common;

use std::fs;
use std::path::Path;

use common::{arg, mlpsweep, stderr, write_study};

fn assert_clean_failure(what: &str, code: Option<i32>, stderr: &str, want: &str) {
    assert!(
        stderr.contains(want),
        "{what}:\n got: {stderr}\nwant: {want}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{what}: {stderr}"
    );
    assert!(
        stderr.trim_end().lines().count() <= 8,
        "{what}: one short paragraph, got:\n{stderr}"
    );
    assert_ne!(code, Some(0), "{what}");
}

/// A catalogued case: the message it expects and its `--set` overrides.
struct Case {
    want: String,
    sets: Vec<String>,
}

/// Read the `# expect:` line and the `# set:` lines that follow it.
fn case(file: &Path) -> Case {
    let text = fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let want = lines
        .next()
        .and_then(|l| l.strip_prefix("# expect: "))
        .unwrap_or_else(|| panic!("{}: no # expect line", file.display()))
        .to_string();
    let sets = lines
        .map_while(|l| l.strip_prefix("# set: "))
        .flat_map(|s| ["--set".to_string(), s.to_string()])
        .collect();
    Case { want, sets }
}

#[test]
fn every_catalogued_study_fails_with_its_message_and_writes_nothing() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_input");
    let tmp = tempfile::tempdir().unwrap();
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 56, "the catalogue has {} cases", files.len());
    for file in files {
        let Case { want, sets } = case(&file);
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        let out = tmp.path().join(file.file_stem().unwrap());
        let args = |command| [&[command, arg(&file), "--out", arg(&out)], &sets[..]].concat();
        let o = mlpsweep(&args("run"));
        let (code, stderr) = (o.status.code(), stderr(&o));
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_clean_failure(&name, code, &stderr, &want);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        if sets.is_empty() {
            assert!(
                stderr.contains(&name),
                "{name}: the message names the file: {stderr}"
            );
        } else {
            assert!(
                stderr.starts_with("error: --set: "),
                "{name}: the message names the --set: {stderr}"
            );
        }
        assert!(!out.exists(), "{name}: a results folder was written");
        // `plan` validates the same way.
        let o = mlpsweep(&args("plan"));
        let plan = format!("plan {name}");
        assert_clean_failure(&plan, o.status.code(), &common::stderr(&o), &want);
        // So does `gradcheck` (it read the data without the plan's checks),
        // but for a halving reference folder, which only a run judges by.
        if !want.contains("search.halving.reference") {
            let o = mlpsweep(&[&["gradcheck", arg(&file)], &sets[..]].concat());
            let check = format!("gradcheck {name}");
            assert_clean_failure(&check, o.status.code(), &common::stderr(&o), &want);
        }
    }
}

#[test]
fn command_line_mistakes_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(
        tmp.path(),
        "ok.toml",
        "name = \"ok\"\n[train]\nepochs = 1\n[grid]\nwidth = [2, 3]\n",
    );
    let s = arg(&study);
    let out = tmp.path().join("out");
    let o = arg(&out);
    let (missing, nowhere) = (tmp.path().join("missing.toml"), tmp.path().join("nowhere"));
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", arg(&missing), "--out", o],
            "missing.toml: cannot read the study file",
        ),
        (
            &["run", s, "--out", o, "--jobs", "0"],
            "--jobs: expected at least 1",
        ),
        (
            &["run", s, "--out", o, "--jobs", "many"],
            "invalid value 'many' for '--jobs <JOBS>'",
        ),
        (
            &["run", s, "--out", o, "--bogus"],
            "unexpected argument '--bogus'",
        ),
        (
            &["report", arg(&nowhere)],
            "nowhere is not a results folder",
        ),
        (
            &[
                "run",
                s,
                "--out",
                o,
                "--shard",
                "1/2",
                "--merged",
                arg(&nowhere),
            ],
            "--merged: only for a shard (--shard) of a halving study",
        ),
        (
            &["run", s, "--out", o, "--merged", arg(&nowhere)],
            "the following required arguments were not provided",
        ),
        (
            &["slurm", s, "--out", o, "--after-rung", "0"],
            "--after-rung: only for a halving study",
        ),
        (
            &["slurm", s, "--out", o, "--after-round", "0"],
            "--after-round: only for a settle study",
        ),
        // Every I/O error names its path (was a bare "error: Not a directory").
        (
            &["run", s, "--out", s],
            "ok.toml: exists and is not a folder",
        ),
        (
            &["plan", s, "--out", s],
            "ok.toml: exists and is not a folder",
        ),
        (
            &["run", arg(tmp.path()), "--out", o],
            ": cannot read the study file: Is a directory",
        ),
    ];
    for (args, want) in cases {
        let res = mlpsweep(args);
        assert_clean_failure(&format!("{args:?}"), res.status.code(), &stderr(&res), want);
        assert!(!out.exists(), "{args:?}: a results folder was written");
    }
}
