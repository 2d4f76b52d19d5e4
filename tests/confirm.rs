//! `[search] confirm = k` end to end: the winner (and only it) is trained
//! on k fresh seeds whose ids are the ones more seeds would give; every
//! other table is the same study's without `confirm`; confirm.csv's numbers
//! are recomputed here from trials.jsonl by hand; the phase is the same
//! whatever `--jobs` is, and a run stopped anywhere resumes to the same end.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use common::{arg, complete_lines, run_study_ok, stored_ids, temp_study};

/// 12 random rates on the moons, 3 selection seeds, 4 fresh ones.
const STUDY: &str = r#"
name = "confirm_test"
seeds = 3
[data]
kind = "moons"
[train]
epochs = 10
[search]
strategy = "random"
samples = 12
confirm = 4
[space]
lr = { log_uniform = [1e-3, 0.3] }
"#;
const CONFIGS: u64 = 12;
const SEEDS: u64 = 3;
const FRESH: u64 = 4;

/// report.md without the lines that hold wall times and the machine.
fn report(out: &Path) -> String {
    fs::read_to_string(out.join("report.md"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("- Provenance") && !l.starts_with("- Finished"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (config, seed) → final val_loss of every stored record, read from the
/// JSON lines: own trials sit at config·3 + seed, fresh ones after all of
/// them at 36 + config·4 + (seed − 3) (the plan's order, DESIGN.md).
fn val_losses(out: &Path) -> BTreeMap<(u64, u64), f64> {
    complete_lines(out)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let (i, seed) = (v["index"].as_u64().unwrap(), v["seed"].as_u64().unwrap());
            let config = if seed < SEEDS {
                i / SEEDS
            } else {
                (i - CONFIGS * SEEDS) / FRESH
            };
            let loss = v["metrics"]["val_loss"].as_f64().unwrap();
            ((config, seed), loss)
        })
        .collect()
}

/// The median of a few numbers, written out: the middle one, or the mean
/// of the two middle ones.
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Only the winner gets fresh seeds (3..6, the numbers after the study's),
/// and confirm.csv says what trials.jsonl says, recomputed here: the winner
/// is the lowest median val_loss over seeds 0..2, the fresh score the
/// median over seeds 3..6, the difference selection − fresh, inside its
/// interval. The fresh trials' ids are the ones `seeds = 7` gives.
#[test]
fn only_the_winner_gets_fresh_seeds_and_the_csv_matches_the_records() {
    let (tmp, study) = temp_study("confirm.toml", STUDY);
    let out = tmp.path().join("a");
    run_study_ok(&study, &out, &["--jobs", "2"]);
    let losses = val_losses(&out);
    assert_eq!(losses.len() as u64, CONFIGS * SEEDS + FRESH);
    let score = |c: u64| median((0..SEEDS).map(|s| losses[&(c, s)]).collect());
    let best = (0..CONFIGS)
        .min_by(|&a, &b| score(a).total_cmp(&score(b)))
        .unwrap();
    let fresh_keys: Vec<(u64, u64)> = losses.keys().filter(|k| k.1 >= SEEDS).copied().collect();
    assert_eq!(fresh_keys, (3..7).map(|s| (best, s)).collect::<Vec<_>>());
    let fresh = median((3..7).map(|s| losses[&(best, s)]).collect());
    let rows = common::csv(&out.join("confirm.csv"));
    assert_eq!(
        rows[0].join(","),
        "config,settings,metric,statistic,selection_seeds,fresh_seeds,fresh_planned,selection,fresh,difference,lo,hi,optimism"
    );
    let row = &rows[1];
    let num = |i: usize| row[i].parse::<f64>().unwrap();
    assert_eq!(row[0], best.to_string());
    assert_eq!((&row[2][..], &row[3][..]), ("val_loss", "median"));
    assert_eq!((&row[4][..], &row[5][..], &row[6][..]), ("3", "4", "4"));
    assert_eq!(num(7), score(best));
    assert_eq!(num(8), fresh);
    assert!((num(9) - (score(best) - fresh)).abs() < 1e-15);
    assert!(num(10) <= num(9) && num(9) <= num(11), "{row:?}");
    assert_eq!(num(12), -num(9), "optimism of a loss is fresh − selection");
    // The fresh ids are what the same configuration gets with 7 seeds.
    let seven = tmp.path().join("seven.toml");
    fs::write(
        &seven,
        STUDY
            .replace("seeds = 3", "seeds = 7")
            .replace("confirm = 4\n", ""),
    )
    .unwrap();
    let listing = common::stdout(&common::run_ok(&["plan", arg(&seven)]));
    let ids: BTreeSet<String> = stored_ids(&out).into_iter().collect();
    let found = ids
        .iter()
        .filter(|id| listing.contains(id.as_str()))
        .count();
    assert_eq!(found, ids.len(), "every stored id is in the 7-seed plan");
}

/// Every table but the new section is the same study's without
/// `confirm`: the fresh seeds never enter the ranking, the tuning curves,
/// the summary or the claims.
#[test]
fn other_tables_are_the_study_without_confirm() {
    let (tmp, study) = temp_study("confirm.toml", STUDY);
    let (with, without) = (tmp.path().join("with"), tmp.path().join("without"));
    run_study_ok(&study, &with, &[]);
    run_study_ok(&study, &without, &["--set", "search.confirm=0"]);
    for f in [
        "trials.csv",
        "summary.csv",
        "tuning.csv",
        "curves.csv",
        "claims.json",
    ] {
        let (a, b) = (
            fs::read(with.join(f)).unwrap(),
            fs::read(without.join(f)).unwrap(),
        );
        assert!(a == b, "{f} differs");
    }
    let md = report(&with);
    let (head, rest) = md.split_once("\n## Winner's curse").expect("the section");
    let tail = &rest[rest.find("\n## Figures").unwrap()..];
    assert_eq!(
        format!("{head}{tail}"),
        report(&without).replace("confirm = 4\n", "")
    );
    assert!(!without.join("confirm.csv").exists());
    assert!(rest.contains("| fresh | 4 of 4 |"), "{rest}");
}

/// The same trials and report with one job or two; rerunning trains
/// nothing; a run cut between the passes, inside the fresh pass, or with a
/// torn fresh record resumes to the clean run's trials (each stored once)
/// and report.
#[test]
fn the_phase_is_the_same_whatever_the_jobs_and_resumes_from_any_cut() {
    let (tmp, study) = temp_study("confirm.toml", STUDY);
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    run_study_ok(&study, &one, &["--jobs", "1"]);
    run_study_ok(&study, &two, &["--jobs", "2"]);
    let set = |p: &Path| stored_ids(p).into_iter().collect::<BTreeSet<_>>();
    assert_eq!(set(&one), set(&two));
    assert_eq!(report(&one), report(&two));
    let again = common::stderr(&run_study_ok(&study, &one, &[]));
    assert!(again.contains("trained 0 trials"), "{again}");
    let lines = complete_lines(&two);
    for (i, (keep, torn)) in [(36, false), (38, false), (39, true)].iter().enumerate() {
        let out = tmp.path().join(format!("cut{i}"));
        fs::create_dir_all(&out).unwrap();
        fs::copy(two.join("study.toml"), out.join("study.toml")).unwrap();
        fs::copy(two.join("trials.bin"), out.join("trials.bin")).unwrap();
        let mut text: String = lines[..*keep].iter().map(|l| format!("{l}\n")).collect();
        if *torn {
            text.push_str(&lines[*keep][..40]);
        }
        fs::write(out.join("trials.jsonl"), text).unwrap();
        run_study_ok(&study, &out, &["--jobs", "2"]);
        let ids = stored_ids(&out);
        assert_eq!(ids.len(), set(&out).len(), "a trial stored twice");
        assert_eq!(set(&out), set(&two), "cut at {keep}");
        assert_eq!(report(&out), report(&two), "cut at {keep}");
    }
}

/// `--shard` and `mlpsweep slurm` are refused with the reason, before
/// anything is written.
#[test]
fn shards_are_refused() {
    let (tmp, study) = temp_study("confirm.toml", STUDY);
    let out = tmp.path().join("s");
    let o = common::run(&["run", arg(&study), "--out", arg(&out), "--shard", "1/2"]);
    assert!(!o.status.success());
    assert!(common::stderr(&o).contains("[search] confirm retrains the winner"));
    assert!(!out.join("trials.jsonl").exists());
    let o = common::run(&["slurm", arg(&study), "--out", arg(&out)]);
    assert!(!o.status.success());
    assert!(common::stderr(&o).contains("write the array with --set search.confirm=0"));
    assert!(!out.join("slurm").exists());
}

/// A real SIGKILL inside the fresh pass (the 2 search trials and one
/// fresh trial stored), with trials slow enough (20,000 epochs) to land
/// it mid-run: the rerun ends with the clean run's trials, each stored
/// once, and its report.
#[test]
fn a_run_killed_inside_the_fresh_pass_resumes_to_the_same_trials() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let slow = STUDY
        .replace("seeds = 3", "seeds = 1")
        .replace("samples = 12", "samples = 2")
        .replace("epochs = 10", "epochs = 20000");
    let (tmp, study) = temp_study("confirm.toml", &slow);
    let clean = tmp.path().join("clean");
    run_study_ok(&study, &clean, &["--jobs", "2"]);
    assert_eq!(complete_lines(&clean).len(), 2 + 4);
    let out = tmp.path().join("killed");
    let mut child = common::bin()
        .args(["run", arg(&study), "--out", arg(&out), "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while complete_lines(&out).len() < 3
        && child.try_wait().unwrap().is_none()
        && t0.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let stored = complete_lines(&out).len();
    assert_eq!(status.signal(), Some(9), "the run ended before the kill");
    assert!((3..6).contains(&stored), "{stored} stored");
    let again = common::stderr(&run_study_ok(&study, &out, &["--jobs", "2"]));
    assert!(
        again.contains(&format!("trained {} trials", 6 - stored)),
        "{again}"
    );
    let ids = stored_ids(&out);
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a trial stored twice");
    let set = |p: &Path| stored_ids(p).into_iter().collect::<BTreeSet<_>>();
    assert_eq!(set(&out), set(&clean));
    assert_eq!(report(&out), report(&clean));
}
