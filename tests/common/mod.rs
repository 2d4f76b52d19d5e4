//! Helpers shared by the integration tests (`mod common;` in each): a study
//! written from a string into a temporary folder, the built binary run with
//! its status and output captured, and the tables of a results folder read
//! back. Each test file uses only some of them.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod slurm;

/// The `mlpsweep` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mlpsweep"))
}

/// A path as a command-line argument.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Write `text` to `dir/file` and return its path.
pub fn write_study(dir: &Path, file: &str, text: &str) -> PathBuf {
    let p = dir.join(file);
    fs::write(&p, text).unwrap();
    p
}

/// A new temporary folder holding the study `text` as `file`; the folder
/// lives as long as the returned guard.
pub fn temp_study(file: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), file, text);
    (tmp, study)
}

/// Run the binary with `args`, capturing its status, stdout and stderr.
pub fn mlpsweep(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Its stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Its stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// [`mlpsweep`], asserting that it did not panic.
pub fn run(args: &[&str]) -> Output {
    let o = mlpsweep(args);
    assert!(!stderr(&o).contains("panicked"), "panic: {}", stderr(&o));
    o
}

/// [`run`], asserting that it succeeded.
pub fn run_ok(args: &[&str]) -> Output {
    let o = run(args);
    assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
    o
}

/// `mlpsweep run STUDY --out OUT EXTRA…`, asserting success (see [`run_ok`]).
pub fn run_study_ok(study: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", arg(study), "--out", arg(out)];
    args.extend_from_slice(extra);
    run_ok(&args)
}

/// A CSV file's rows (the header first), split at every comma.
pub fn csv(path: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split(',').map(String::from).collect())
        .collect()
}

/// trials.csv and summary.csv of a results folder, as text.
pub fn tables(dir: &Path) -> (String, String) {
    (
        fs::read_to_string(dir.join("trials.csv")).unwrap(),
        fs::read_to_string(dir.join("summary.csv")).unwrap(),
    )
}

/// The complete records of `dir/trials.jsonl`: lines ended by a newline,
/// without it (none when the file is absent). A last line without its
/// newline is torn by a kill, or still being written by a running shard
/// (a record can exceed one write), and is not a record, as the store
/// itself treats it.
pub fn complete_lines(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("trials.jsonl"))
        .unwrap_or_default()
        .split_inclusive('\n')
        .filter_map(|l| l.strip_suffix('\n'))
        .map(String::from)
        .collect()
}

/// The trial ids of the complete records in `dir/trials.jsonl`, in order.
pub fn stored_ids(dir: &Path) -> Vec<String> {
    complete_lines(dir)
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The small halving study of tests/halving.rs and tests/halving_shards.rs
/// without its name and `[search.halving]`: 8 configurations × 3 seeds.
/// Dropout, minibatches and Adam carry state across epochs; evaluations
/// every 4 epochs do not line up with the rungs.
pub const HALVING_BODY: &str = r#"
seeds = 3
[data]
kind = "spiral"
points_per_class = 30
[model]
width = 8
dropout = 0.1
[train]
epochs = 9
eval_every = 4
batch_size = 16
[grid]
lr = [0.01, 0.1, 0.3, 1.0]
optimizer = ["sgd", "adam"]
"#;

/// Its `[search.halving]`: budgets 1, 2, 4, 8 and 9 (16 capped at
/// train.epochs).
pub const HALVING_SEARCH: &str = r#"
[search.halving]
metric = "val_loss"
statistic = "median"
min_epochs = 1
eta = 2
"#;

/// A stand-in `sbatch` in `dir`: it appends its arguments to `dir/calls`
/// and prints the next job id (101, 102, ...).
pub fn fake_sbatch(dir: &Path) -> String {
    fs::create_dir_all(dir).unwrap();
    let script = dir.join("sbatch");
    fs::write(
        &script,
        "#!/bin/sh\nd=$(dirname \"$0\")\necho \"$@\" >> \"$d/calls\"\necho $((100 + $(wc -l < \"$d/calls\")))\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}
