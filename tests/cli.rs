//! End-to-end tests through the built binary: a tiny study in a temporary
//! folder, checked by reading the files it writes.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{arg, bin, csv, run, run_ok, run_study_ok, stderr, temp_study, write_study};

const TINY: &str = r#"
name = "tiny"
description = "A smoke test"
seeds = 2
[data]
kind = "spiral"
points_per_class = 30
[model]
activation = "relu"
[train]
epochs = 4
batch_size = 16
eval_every = 2
[grid]
depth = [1, 2]
width = [3, 8, 16]
"#;

/// The study `text` as `dir/study.toml`.
fn study(dir: &Path, text: &str) -> PathBuf {
    write_study(dir, "study.toml", text)
}

/// A temporary folder holding [`TINY`] as `study.toml`.
fn tiny() -> (tempfile::TempDir, PathBuf) {
    temp_study("study.toml", TINY)
}

#[test]
fn a_tiny_study_writes_every_file_with_the_right_rows_and_columns() {
    let (tmp, file) = tiny();
    let out = tmp.path().join("res");
    run_study_ok(&file, &out, &["--jobs", "2"]);
    for f in [
        "study.toml",
        "trials.jsonl",
        "trials.csv",
        "summary.csv",
        "summary.md",
        "curves.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let trials = csv(&out.join("trials.csv"));
    assert_eq!(trials.len(), 1 + 2 * 3 * 2, "header + 12 trials");
    let header = &trials[0];
    for c in [
        "trial",
        "id",
        "config",
        "depth",
        "width",
        "seed",
        "status",
        "params",
        "train_loss",
        "val_loss",
        "train_acc",
        "val_acc",
    ] {
        assert!(
            header.contains(&c.to_string()),
            "trials.csv lacks {c}: {header:?}"
        );
    }
    // Parameter counts computed here independently: 2 inputs, 3 classes.
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &trials[1..] {
        let (d, w): (usize, usize) = (
            row[col("depth")].parse().unwrap(),
            row[col("width")].parse().unwrap(),
        );
        let weights = 2 * w + (d - 1) * w * w + w * 3;
        let biases = d * w + 3;
        assert_eq!(
            row[col("params")].parse::<usize>().unwrap(),
            weights + biases
        );
        assert_eq!(row[col("status")], "ok");
        let loss: f64 = row[col("train_loss")].parse().unwrap();
        assert!(loss.is_finite() && loss > 0.0);
    }
    let summary = csv(&out.join("summary.csv"));
    assert_eq!(summary.len(), 1 + 6, "header + one row per configuration");
    let sh = &summary[0];
    let n = sh.iter().position(|h| h == "n").unwrap();
    assert!(summary[1..].iter().all(|r| r[n] == "2"));
    // The summary mean is the mean of the two seeds' losses.
    let tl = col("train_loss");
    let mean_col = sh.iter().position(|h| h == "train_loss_mean").unwrap();
    let first: Vec<f64> = trials[1..3]
        .iter()
        .map(|r| r[tl].parse().unwrap())
        .collect();
    let m: f64 = summary[1][mean_col].parse().unwrap();
    assert!((m - (first[0] + first[1]) / 2.0).abs() < 1e-12);
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.starts_with("# tiny\n"));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ")).count(),
        1 + 6,
        "table header + 6 rows"
    );
    // Curves: every trial has epochs 0..=4, epoch 0 (before the first
    // update) without a batch loss.
    let curves = csv(&out.join("curves.csv"));
    assert_eq!(curves.len(), 1 + 12 * 5);
    let epochs: Vec<&str> = curves[1..6].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(epochs, ["0", "1", "2", "3", "4"]);
    assert!(curves[1][2].is_empty() && !curves[1][3].is_empty());
}

#[test]
fn jobs_do_not_change_any_number_and_rerunning_resumes() {
    let (tmp, file) = tiny();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_study_ok(&file, &a, &["--jobs", "1", "--set", "model.dropout=0.2"]);
    run_study_ok(&file, &b, &["--jobs", "2", "--set", "model.dropout=0.2"]);
    for f in ["trials.csv", "summary.csv", "curves.csv", "summary.md"] {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs between --jobs 1 and 2"
        );
    }
    // Rerunning trains nothing and leaves the tables as they were.
    let before = fs::read(a.join("trials.csv")).unwrap();
    let out = run_study_ok(&file, &a, &["--set", "model.dropout=0.2"]);
    assert!(
        stderr(&out).contains("trained 0 trials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(before, fs::read(a.join("trials.csv")).unwrap());
    // Growing the grid trains only the new points.
    let out = run_study_ok(
        &file,
        &a,
        &[
            "--set",
            "model.dropout=0.2",
            "--set",
            "grid.width=[3,8,16,32]",
        ],
    );
    assert!(
        stderr(&out).contains("trained 4 trials"),
        "{}",
        stderr(&out)
    );
    assert_eq!(csv(&a.join("trials.csv")).len(), 1 + 16);
}

#[test]
fn report_rebuilds_the_same_bytes_without_training() {
    let (tmp, file) = tiny();
    let out = tmp.path().join("res");
    run_study_ok(&file, &out, &["--set", "seeds=1"]);
    let files = ["trials.csv", "summary.csv", "summary.md", "curves.csv"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| fs::read(out.join(f)).unwrap())
        .collect();
    for f in files {
        fs::remove_file(out.join(f)).unwrap();
    }
    let jsonl = fs::read(out.join("trials.jsonl")).unwrap();
    run_ok(&["report", arg(&out)]);
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| fs::read(out.join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        jsonl,
        fs::read(out.join("trials.jsonl")).unwrap(),
        "report does not touch the stored trials"
    );
}

#[test]
fn plan_lists_trials_without_training() {
    let (tmp, file) = tiny();
    let out = run_ok(&[
        "plan",
        arg(&file),
        "--set",
        "seeds=3",
        "--out",
        arg(&tmp.path().join("none")),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("6 configurations × 3 seeds = 18 trials (0 stored"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.ends_with("[missing]")).count(),
        18
    );
    assert!(!tmp.path().join("none").exists());
}

#[test]
fn a_folder_holding_another_study_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("res");
    let file = study(tmp.path(), TINY);
    run_study_ok(
        &file,
        &out,
        &["--set", "seeds=1", "--set", "grid.width=[3]"],
    );
    let other = study(
        tmp.path(),
        &TINY.replace("name = \"tiny\"", "name = \"other\""),
    );
    let res = run(&["run", arg(&other), "--out", arg(&out), "--set", "seeds=1"]);
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("holds the results of study \"tiny\", not \"other\""));
}

#[test]
fn report_md_has_claims_verdicts_and_figures_that_parse() {
    let tmp = tempfile::tempdir().unwrap();
    let text = format!(
        "{TINY}\n[[claims]]\nname = \"wider nets fit better\"\nstatistic = \"mean\"\nalong = \"width\"\nexpect = \"decreasing\"\n"
    );
    let file = study(tmp.path(), &text);
    let out = tmp.path().join("res");
    let res = run_study_ok(&file, &out, &["--set", "seeds=3"]);
    let stderr = stderr(&res);
    assert!(
        stderr.contains("claims:") && stderr.contains("wider nets fit better"),
        "{stderr}"
    );
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let claims = md.find("## Claims").expect("a Claims section");
    assert!(
        claims < md.find("## What was run").unwrap(),
        "claims come first"
    );
    assert!(md.contains("| wider nets fit better | **"), "{md}");
    assert!(md.contains("Spearman ρ = "), "the evidence is printed");
    assert!(md.contains("Provenance: mlpsweep "), "{md}");
    // Every image link resolves and every figure is well-formed XML.
    let links: Vec<&str> = md
        .match_indices("](figures/")
        .map(|(i, _)| {
            let rest = &md[i + 2..];
            &rest[..rest.find(')').unwrap()]
        })
        .collect();
    assert!(links.len() >= 4, "{links:?}");
    for link in &links {
        let svg = fs::read_to_string(out.join(link)).unwrap_or_else(|e| panic!("{link}: {e}"));
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{link} is not XML: {e}"));
    }
    // The metric-vs-axis figure has one series per depth, and its legend says so.
    let svg = fs::read_to_string(out.join("figures/train_loss_vs_width.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(
        texts.contains(&"depth=1") && texts.contains(&"depth=2"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("train loss vs width")),
        "{texts:?}"
    );
    // 2-D classification data: decision regions with one circle per training point in each panel.
    let svg = fs::read_to_string(out.join("figures/boundaries.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 6 * 90, "6 panels × 90 training points");
}

#[test]
fn report_boundaries_picks_the_decision_region_panels() {
    let tmp = tempfile::tempdir().unwrap();
    let text = TINY.replace("[grid]", "[report]\nboundaries = { width = 8 }\n[grid]");
    let file = study(tmp.path(), &text);
    let out = tmp.path().join("res");
    run_study_ok(&file, &out, &["--set", "seeds=1"]);
    let svg = fs::read_to_string(out.join("figures/boundaries.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(
        circles,
        2 * 90,
        "width=8 at depth 1 and 2: two panels of 90 training points"
    );
    let titles: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect();
    assert!(
        titles.iter().any(|t| t.starts_with("depth=1 width=8"))
            && titles.iter().any(|t| t.starts_with("depth=2 width=8")),
        "{titles:?}"
    );
}

#[test]
fn diverged_trials_are_stored_counted_and_not_retrained() {
    // lr = 5 makes the sine regression overflow; lr = 0.01 trains.
    let tmp = tempfile::tempdir().unwrap();
    let file = study(
        tmp.path(),
        "name = \"div\"\nseeds = 2\n[data]\nkind = \"sine\"\n[model]\nwidth = 16\n\
         [train]\nepochs = 20\n[grid]\nlr = [0.01, 5.0]\n",
    );
    let out = tmp.path().join("res");
    let args = ["run", arg(&file), "--out", arg(&out)];
    let first = run_ok(&args);
    let stderr = stderr(&first);
    assert!(stderr.contains("2 diverged"), "{stderr}");
    assert!(!stderr.contains("stopped early"), "{stderr}");
    let trials = csv(&out.join("trials.csv"));
    let s = trials[0].iter().position(|c| c == "status").unwrap();
    let status: Vec<&str> = trials[1..].iter().map(|row| &row[s][..]).collect();
    assert_eq!(status, ["ok", "ok", "diverged", "diverged"]);
    // The summary counts the diverged seeds and averages over none of them.
    let summary = csv(&out.join("summary.csv"));
    let col = |name: &str| summary[0].iter().position(|c| c == name).unwrap();
    let (n, nd) = (col("n"), col("n_diverged"));
    assert_eq!((&summary[1][n][..], &summary[1][nd][..]), ("2", "0"));
    assert_eq!((&summary[2][n][..], &summary[2][nd][..]), ("0", "2"));
    // Resuming finds all four stored.
    let again = run_ok(&args);
    let stderr = common::stderr(&again);
    assert!(stderr.contains("trained 0 trials"), "{stderr}");
}

#[test]
fn a_lone_trial_on_spare_cores_gives_the_same_numbers() {
    // One trial and two jobs: the spare worker takes part in its matrix
    // products (wide enough for gemm to split them). Nothing may change.
    let tmp = tempfile::tempdir().unwrap();
    let file = study(
        tmp.path(),
        "name = \"lone\"\n[data]\npoints_per_class = 200\n[model]\ndepth = 2\nwidth = 300\n\
         dropout = 0.2\n[train]\nbatch_size = 200\nepochs = 3\neval_every = 1\n",
    );
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, jobs) in [(&a, "1"), (&b, "2")] {
        run_study_ok(&file, dir, &["--jobs", jobs]);
    }
    for f in ["trials.csv", "summary.csv", "curves.csv"] {
        assert_eq!(
            fs::read(a.join(f)).unwrap(),
            fs::read(b.join(f)).unwrap(),
            "{f} differs between --jobs 1 and 2"
        );
    }
}

/// A reader that stops reading (`mlpsweep plan STUDY | head -1`) ends the
/// command quietly with status 0, as for ripgrep: guards against the panic
/// and backtrace that printing to a closed pipe once gave, for each
/// subcommand that prints to stdout.
#[test]
fn output_to_a_closed_pipe_ends_quietly_with_status_0() {
    let tmp = tempfile::tempdir().unwrap();
    // 3 × 300 configurations × 10 seeds: a table far larger than a pipe's
    // buffer, so writing it must hit the closed pipe.
    let widths: Vec<String> = (1..=300).map(|w| w.to_string()).collect();
    let big = format!(
        "name = \"big\"\nseeds = 10\n[grid]\ndepth = [1, 2, 3]\nwidth = [{}]\n",
        widths.join(", ")
    );
    let file = write_study(tmp.path(), "big.toml", &big);
    let none = tmp.path().join("none");
    // Read the first line, then close the read end.
    let mut child = bin()
        .args(["plan", arg(&file), "--out", arg(&none)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "trial  id                config  settings\n");
    let o = child.wait_with_output().unwrap();
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "quietly");

    // A pipe whose reader is gone before the command starts: nothing is
    // read at all, whatever the command prints.
    let slurm_out = tmp.path().join("slurm");
    let small = study(tmp.path(), TINY);
    for args in [
        vec!["plan", arg(&file), "--out", arg(&none)],
        vec!["plan", arg(&small), "--out", arg(&none)],
        vec!["slurm", arg(&small), "--out", arg(&slurm_out)],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = bin().args(&args).stdout(writer).output().unwrap();
        assert!(!stderr(&o).contains("panicked"), "{args:?}: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("error"), "{args:?}: {}", stderr(&o));
    }
    assert!(!none.exists(), "plan writes no results folder");
    // slurm wrote its scripts before printing them.
    assert!(slurm_out.join("slurm/array.sbatch").is_file());
}

#[test]
fn a_csv_as_spreadsheets_write_it_trains_like_the_plain_file() {
    // The same table twice: plain, and as a spreadsheet exports it (a
    // byte-order mark, CRLF line ends, every field quoted). The label is
    // the first column, found by name, so a mark left on the header fails.
    let rows: Vec<[String; 3]> = (0..24)
        .map(|i| {
            let (a, b) = (f64::from(i) * 0.25 - 3.0, f64::from(i * 7 % 11) - 5.0);
            let label = if a * b > 0.0 { "setosa" } else { "versicolor" };
            [label.to_string(), a.to_string(), b.to_string()]
        })
        .collect();
    let table = |quote: &str, end: &str| {
        let q = |cells: &[String]| {
            let cells: Vec<String> = cells.iter().map(|c| format!("{quote}{c}{quote}")).collect();
            cells.join(",") + end
        };
        let header = q(&["label".into(), "a".into(), "b".into()]);
        header + &rows.iter().map(|r| q(r)).collect::<String>()
    };
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("plain.csv"), table("", "\n")).unwrap();
    let sheet = format!("\u{feff}{}", table("\"", "\r\n"));
    fs::write(tmp.path().join("sheet.csv"), sheet).unwrap();
    let tables: Vec<_> = ["plain", "sheet"]
        .iter()
        .map(|name| {
            let text = format!(
                "name = \"{name}\"\n[data]\nkind = \"csv\"\npath = \"{name}.csv\"\n\
                 label_column = \"label\"\n[train]\nepochs = 3\n[grid]\nwidth = [3, 5]\n"
            );
            let file = write_study(tmp.path(), &format!("{name}.toml"), &text);
            let out = tmp.path().join(name);
            run_study_ok(&file, &out, &[]);
            // The file's hash and the trial ids made from it differ; every
            // other cell must not.
            ["trials.csv", "summary.csv"].map(|f| {
                let rows = csv(&out.join(f));
                let keep: Vec<bool> = rows[0]
                    .iter()
                    .map(|c| c != "id" && c != "file_hash")
                    .collect();
                rows.iter()
                    .map(|r| {
                        r.iter()
                            .zip(&keep)
                            .filter(|(_, k)| **k)
                            .map(|(c, _)| c.clone())
                    })
                    .map(Vec::from_iter)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert_eq!(tables[0][0].len(), 1 + 2, "header + 2 trials");
    assert_eq!(tables[0], tables[1]);
}
