//! The bad-input catalogue: every file in `tests/bad_input/` is a malformed
//! or impossible study whose first line says `# expect: <text>`; the run
//! must fail with exit code 1, print one `error: ` paragraph containing
//! that text (file, line where known, key and what is allowed), never
//! panic, and write no results folder. Command-line mistakes follow.

use std::fs;
use std::path::Path;
use std::process::Command;

fn mlpsweep(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlpsweep"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
    assert!(files.len() >= 30, "the catalogue has {} cases", files.len());
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        let want = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{}: no # expect line", file.display()));
        let out = tmp.path().join(file.file_stem().unwrap());
        let (code, stderr) = mlpsweep(&[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert_clean_failure(&name, code, &stderr, want);
        assert_eq!(code, Some(1), "{name}: {stderr}");
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        assert!(
            stderr.contains(&name),
            "{name}: the message names the file: {stderr}"
        );
        assert!(!out.exists(), "{name}: a results folder was written");
        // `plan` validates the same way.
        let (code, stderr) = mlpsweep(&[
            "plan",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_clean_failure(&format!("plan {name}"), code, &stderr, want);
    }
}

#[test]
fn command_line_mistakes_fail_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let study = tmp.path().join("ok.toml");
    fs::write(
        &study,
        "name = \"ok\"\n[train]\nepochs = 1\n[grid]\nwidth = [2, 3]\n",
    )
    .unwrap();
    let s = study.to_str().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let (missing, nowhere) = (tmp.path().join("missing.toml"), tmp.path().join("nowhere"));
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", s, "--out", o, "--set", "train.epoch=5"],
            "--set: train.epoch: unknown key \"epoch\" in [train]; known keys: optimizer, lr",
        ),
        (
            &["run", s, "--out", o, "--set", "epochs"],
            "--set: epochs: expected key=value, e.g. --set train.epochs=5",
        ),
        (
            &["run", s, "--out", o, "--set", "width=0"],
            "--set: model.width: expected an integer in 1..=65536, got 0",
        ),
        (
            &["run", s, "--out", o, "--set", "grid.width=[]"],
            "--set: grid.model.width: expected a non-empty list of values to sweep, got []",
        ),
        (
            &["run", s, "--out", o, "--set", "optimiser=adam"],
            "--set: optimiser: unknown key \"optimiser\"; known keys:",
        ),
        (
            &["run", s, "--out", o, "--set", "train.lr=fast"],
            "--set: train.lr: expected a number, got a string \"fast\"",
        ),
        (
            &["run", missing.to_str().unwrap(), "--out", o],
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
            &["report", nowhere.to_str().unwrap()],
            "nowhere is not a results folder",
        ),
    ];
    for (args, want) in cases {
        let (code, stderr) = mlpsweep(args);
        assert_clean_failure(&format!("{args:?}"), code, &stderr, want);
        assert!(!out.exists(), "{args:?}: a results folder was written");
    }
}
