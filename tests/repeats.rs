//! `[search] repeats` through the binary: the winners do not depend on
//! `--jobs`, a run killed with SIGKILL resumes to the clean result, the
//! SLURM plan is one array whose shards merge to one run, and
//! `repeats.csv` parses back to numbers the report states, the spread of
//! the winners recomputed here by hand.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{arg, bin, complete_lines, csv, run_ok, run_study_ok, stdout, tables, temp_study};

const STUDY: &str = r#"
name = "repeats"
seeds = 2
[data]
kind = "spiral"
points_per_class = 60
[train]
epochs = 300
batch_size = 32
[search]
strategy = "random"
samples = 4
repeats = 4
seed = 3
[space]
lr = { log_uniform = [1e-3, 1.0] }
width = { int_uniform = [2, 3] }
"#;

fn repeats_csv(out: &Path) -> String {
    fs::read_to_string(out.join("repeats.csv")).unwrap()
}

#[test]
fn the_winners_are_the_same_with_one_job_or_two() {
    let (tmp, file) = temp_study("r.toml", STUDY);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_study_ok(&file, &one, &["--jobs", "1"]);
    run_study_ok(&file, &two, &["--jobs", "2"]);
    assert_eq!(repeats_csv(&one), repeats_csv(&two));
    assert_eq!(tables(&one), tables(&two));
    let report = |d: &Path| {
        let md = fs::read_to_string(d.join("report.md")).unwrap();
        let start = md.find("## Repeated searches").expect("the section");
        let end = md[start..]
            .find("\n## Figures")
            .map_or(md.len(), |e| start + e);
        md[start..end].to_string()
    };
    assert_eq!(report(&one), report(&two));
}

/// The CSV's winners, and the report's mean and standard deviation
/// recomputed from them: mean Σx/R, sample variance Σ(x − mean)²/(R − 1).
#[test]
fn repeats_csv_parses_back_to_the_reported_spread() {
    let (tmp, file) = temp_study("r.toml", STUDY);
    let out = tmp.path().join("r");
    run_study_ok(&file, &out, &[]);
    let rows = csv(&out.join("repeats.csv"));
    assert_eq!(
        rows[0],
        [
            "slice", "repeat", "config", "lr", "width", "metric", "score", "seeds"
        ]
    );
    let rows = &rows[1..];
    assert_eq!(rows.len(), 4, "one winner per repeat");
    let summary = csv(&out.join("summary.csv"));
    let col = |name: &str| summary[0].iter().position(|c| c == name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(row[1], r.to_string());
        // Repeat r's configurations are r·4 .. r·4 + 3 on the search axis.
        let config: usize = row[2].parse().unwrap();
        assert_eq!(config / 4, r, "{row:?}");
        // Its score is the best val_loss median among its repeat's four.
        let medians: Vec<f64> = summary[1..]
            .iter()
            .filter(|s| s[col("config")].parse::<usize>().unwrap() / 4 == r)
            .map(|s| s[col("val_loss_median")].parse().unwrap())
            .collect();
        let best = medians.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(row[6].parse::<f64>().unwrap(), best, "{row:?}");
        assert_eq!(row[5], "val_loss");
    }
    let x: Vec<f64> = rows.iter().map(|r| r[6].parse().unwrap()).collect();
    let mean = x.iter().sum::<f64>() / 4.0;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3.0;
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("- Tuned result across the 4 repeats"))
        .expect("the spread line");
    // report.md prints four significant digits.
    let four = |v: f64| {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    };
    assert!(
        line.contains(&format!("mean {},", four(mean))),
        "{line} vs {mean}"
    );
    assert!(
        line.contains(&format!("standard deviation {} [", four(var.sqrt()))),
        "{line} vs {}",
        var.sqrt()
    );
    // The figure: one dot per winner, and the legend's marker.
    let svg = fs::read_to_string(out.join("figures/repeats_val_loss.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("valid SVG");
    assert_eq!(svg.matches("<circle").count(), 4 + 1);
    assert!(md.contains("](figures/repeats_val_loss.svg)"));
    // The predicted mean of a 4-point search is the pooled tuning curve's
    // expected best at n = 4.
    let tuning = csv(&out.join("tuning.csv"));
    let at4 = tuning[1..].iter().find(|r| r[1] == "4").unwrap();
    let predicted = md
        .lines()
        .find(|l| l.starts_with("- Predicted from every repeat's draws pooled (16 configurations"))
        .expect("the predicted line");
    let e: f64 = at4[2].parse().unwrap();
    assert!(
        predicted.contains(&format!("points finds {} on average", four(e))),
        "{predicted} vs {e}"
    );
}

/// SIGKILL mid-sweep, then the same command again: the stored trials and
/// the winners equal those of one clean run.
#[test]
fn a_killed_run_resumes_to_the_clean_winners() {
    let (tmp, file) = temp_study("r.toml", STUDY);
    let slow = ["--set", "train.epochs=3000", "--jobs", "2"];
    let clean = tmp.path().join("clean");
    run_study_ok(&file, &clean, &slow);
    let total = complete_lines(&clean).len();
    let out = tmp.path().join("killed");
    let mut child = bin()
        .args(["run", arg(&file), "--out", arg(&out)])
        .args(slow)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while complete_lines(&out).len() < 3
        && child.try_wait().unwrap().is_none()
        && t0.elapsed() < Duration::from_secs(120)
    {
        sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "killed mid-sweep");
    let stored = complete_lines(&out).len();
    assert!(
        0 < stored && stored < total,
        "{stored} of {total} stored at the kill"
    );
    run_study_ok(&file, &out, &slow);
    assert_eq!(complete_lines(&out).len(), total);
    assert_eq!(repeats_csv(&out), repeats_csv(&clean));
    assert_eq!(tables(&out), tables(&clean));
}

/// The repeats are independent: `slurm` plans them in one array (no
/// rung scripts), and its shards, run as the array would, merge to the
/// winners of one run.
#[test]
fn slurm_plans_the_repeats_in_one_array_whose_shards_merge_to_one_run() {
    let (tmp, file) = temp_study("r.toml", STUDY);
    let plan = tmp.path().join("plan");
    let o = run_ok(&["slurm", arg(&file), "--shards", "3", "--out", arg(&plan)]);
    let array = fs::read_to_string(plan.join("slurm/array.sbatch")).unwrap();
    assert!(array.contains("#SBATCH --array=1-3"), "{array}");
    assert!(
        array.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""),
        "{array}"
    );
    let mut scripts: Vec<String> = fs::read_dir(plan.join("slurm"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sbatch"))
        .collect();
    scripts.sort();
    assert_eq!(scripts, ["array.sbatch", "merge.sbatch"], "{}", stdout(&o));
    let whole = tmp.path().join("whole");
    run_study_ok(&file, &whole, &[]);
    let mut merge = vec!["merge".to_string()];
    for i in 1..=3 {
        let dir = tmp.path().join(format!("shard-{i}-of-3"));
        run_study_ok(&file, &dir, &["--shard", &format!("{i}/3")]);
        merge.push(arg(&dir).to_string());
    }
    let merged = tmp.path().join("merged");
    merge.extend(["--out".to_string(), arg(&merged).to_string()]);
    run_ok(&merge.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(repeats_csv(&merged), repeats_csv(&whole));
}

/// Crossed with a `[grid]` axis, each setting of it has its own repeats:
/// one winner per (depth, repeat), each the best of its depth's repeat.
#[test]
fn each_setting_of_another_axis_has_its_own_winners() {
    let crossed = STUDY.replace("[search]", "[grid]\ndepth = [1, 2]\n[search]");
    let (tmp, file) = temp_study("r.toml", &crossed);
    let out = tmp.path().join("r");
    run_study_ok(&file, &out, &["--set", "search.repeats=2"]);
    let rows = csv(&out.join("repeats.csv"));
    let got: Vec<(&str, &str)> = rows[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("depth=1", "0"),
            ("depth=1", "1"),
            ("depth=2", "0"),
            ("depth=2", "1")
        ]
    );
    // Depth outermost: depth d's repeat r holds configurations 8d + 4r .. 8d + 4r + 3.
    for r in &rows[1..] {
        let config: usize = r[2].parse().unwrap();
        let depth: usize = r[0].trim_start_matches("depth=").parse().unwrap();
        let repeat: usize = r[1].parse().unwrap();
        assert_eq!(config / 4, 2 * (depth - 1) + repeat, "{r:?}");
    }
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    let section = &md[md.find("## Repeated searches").expect("the section")..];
    assert!(section.contains("### depth=1\n") && section.contains("### depth=2\n"));
}

const HALVING: &str = r#"
name = "halving_repeats"
seeds = 2
[data]
kind = "spiral"
points_per_class = 30
[train]
epochs = 8
batch_size = 16
[search]
strategy = "random"
samples = 6
seed = 3
[search.halving]
min_epochs = 2
eta = 2
[space]
lr = { log_uniform = [1e-3, 1.0] }
"#;

/// Each stored trial's furthest budget (epochs trained), by id.
fn reached(out: &Path) -> BTreeMap<String, u64> {
    let mut by_id = BTreeMap::new();
    for line in complete_lines(out) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let e = v["epochs_trained"].as_u64().unwrap_or(8);
        let id = v["id"].as_str().unwrap().to_string();
        let best = by_id.entry(id).or_insert(0);
        *best = e.max(*best);
    }
    by_id
}

/// With halving each repeat makes its own promotions: every trial goes
/// exactly as far as in the search run alone with seed `3 + r` (budgets
/// 2, 4, 8; each repeat 6 → 3 → 2 configurations, where one joint
/// halving over 18 would keep 9 → 5).
#[test]
fn with_halving_each_repeat_promotes_as_if_run_alone() {
    let (tmp, file) = temp_study("h.toml", HALVING);
    let both = tmp.path().join("both");
    run_study_ok(&file, &both, &["--set", "search.repeats=3"]);
    let mut alone = BTreeMap::new();
    for r in 0..3 {
        let out = tmp.path().join(format!("alone{r}"));
        run_study_ok(&file, &out, &["--set", &format!("search.seed={}", 3 + r)]);
        alone.extend(reached(&out));
    }
    let both = reached(&both);
    assert_eq!(both, alone);
    let at = |e: u64| both.values().filter(|&&x| x == e).count();
    // Trials (2 seeds each): 3 repeats × (3 stopped at 2, 1 at 4, 2 at 8).
    assert_eq!((at(2), at(4), at(8)), (3 * 3 * 2, 3 * 2, 3 * 2 * 2));
    // Each repeat's winner is its last rung's best: the halving section's
    // winners, one per repeat.
    let out = tmp.path().join("both");
    let mut winners: Vec<String> = csv(&out.join("repeats.csv"))[1..]
        .iter()
        .map(|r| r[2].clone())
        .collect();
    winners.sort();
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("each repeat ranks and keeps among its own"),
        "{md}"
    );
    let mut kept: Vec<String> = md
        .lines()
        .filter_map(|l| l.strip_prefix("- configuration "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    kept.sort();
    assert_eq!(winners, kept);
    // No predicted spread: the medians are at different budgets.
    assert!(!md.contains("- Predicted from"), "{md}");
    assert!(out.join("figures/repeats_val_loss.svg").is_file());
}
