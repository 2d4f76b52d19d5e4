//! The plan table that `mlpsweep plan` prints: one line per trial with its
//! id, configuration, swept settings and whether it is stored, then a count
//! of configurations × seeds and a tally by status.
//!
//! A pure function of the plan and the stored statuses, returning the text,
//! so the command line only writes it out and the layout is tested here
//! without running the binary.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::plan::Plan;
use crate::study::Study;
use crate::train::Status;

/// What the table calls a trial's state: its stored status, or `missing`.
fn state(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Ok) => "done",
        Some(Status::Diverged) => "diverged",
        Some(Status::Failed) => "failed",
        None => "missing",
    }
}

/// The table for `plan` of `study`, given the status of each trial stored
/// in the results folder `out` (by trial id) and the number of distinct
/// data sets the plan loads. Every line ends with a newline.
pub fn plan_table(
    study: &Study,
    plan: &Plan,
    stored: &HashMap<&str, Status>,
    out: &Path,
    n_datasets: usize,
) -> String {
    let mut text = String::from("trial  id                config  settings\n");
    let mut counts = BTreeMap::<&str, usize>::new();
    for t in &plan.trials {
        let st = state(stored.get(t.id.as_str()).copied());
        *counts.entry(st).or_default() += 1;
        text += &format!(
            "{:>5}  {}  {:>6}  {}  [{st}]\n",
            t.index,
            t.id,
            t.config_index,
            t.label()
        );
    }
    let stored_count = plan.len() - counts.get("missing").copied().unwrap_or(0);
    text += &format!(
        "{} configurations × {} = {} trials ({} stored in {}); {} data set(s)\n",
        plan.n_configs,
        study.replication.describe(),
        plan.len(),
        stored_count,
        out.display(),
        n_datasets
    );
    let by_status: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    text += &format!("status: {}\n", by_status.join(", "));
    text
}

/// The study's cost, for the end of the plan table: trial-epochs and
/// multiply-adds of the distinct trials (`costs[i]`, the forward
/// multiply-adds of `plan.trials[i]` over its epochs; a training step runs
/// forward and backward, about three times that), then, when some trials
/// are stored with wall times, the time the missing ones should take at
/// the stored trials' rate on `jobs` cores.
pub fn cost_lines(
    plan: &Plan,
    costs: &[u64],
    stored: &HashMap<&str, (Status, f64)>,
    jobs: usize,
) -> String {
    let mut seen = std::collections::HashSet::new();
    let (mut epochs, mut macs, mut missing) = (0u64, 0u64, 0u64);
    let (mut done_cost, mut done_secs) = (0u64, 0.0f64);
    for (t, &c) in plan.trials.iter().zip(costs) {
        if !seen.insert(t.id.as_str()) {
            continue;
        }
        epochs += t.config.train.epochs as u64;
        macs += 3 * c;
        match stored.get(t.id.as_str()) {
            Some((Status::Ok, secs)) if *secs > 0.0 => {
                done_cost += c;
                done_secs += secs;
            }
            Some(_) => {}
            None => missing += c,
        }
    }
    let mut text = format!(
        "cost: {epochs} trial-epochs, about {} multiply-adds (forward and backward)\n",
        si(macs as f64)
    );
    if done_cost > 0 && missing > 0 {
        let secs = done_secs / done_cost as f64 * missing as f64 / jobs.max(1) as f64;
        text += &format!(
            "estimated time for the missing trials: about {} on {jobs} core(s), at the stored trials' rate\n",
            duration(secs)
        );
    }
    text
}

/// 1.2e9 → "1.2 G".
fn si(x: f64) -> String {
    let (v, unit) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(s, _)| x >= *s)
        .map_or((x, ""), |(s, u)| (x / s, u));
    format!("{v:.1} {unit}").trim_end().to_string()
}

/// Seconds as "42 s", "3.5 min" or "1.2 h".
fn duration(secs: f64) -> String {
    if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 5400.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study_and_plan(text: &str) -> (Study, Plan) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("listed.toml");
        std::fs::write(&path, text).unwrap();
        let study = crate::study::load(&path, &[]).unwrap();
        let plan = Plan::new(&study).unwrap();
        (study, plan)
    }

    #[test]
    fn one_line_per_trial_then_the_counts_and_the_status_tally() {
        let (study, plan) = study_and_plan(
            "name = \"listed\"\nseeds = 2\n[grid]\nwidth = [2, 3]\ndepth = [1, 2]\n",
        );
        assert_eq!(plan.len(), 8);
        let t = &plan.trials;
        let stored = HashMap::from([
            (t[0].id.as_str(), Status::Ok),
            (t[1].id.as_str(), Status::Diverged),
            (t[5].id.as_str(), Status::Failed),
            (t[6].id.as_str(), Status::Ok),
            ("0123456789abcdef", Status::Ok), // stored, but not in this plan
        ]);
        let text = plan_table(&study, &plan, &stored, Path::new("results/listed"), 1);
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 8 + 2);
        assert_eq!(lines[0], "trial  id                config  settings");
        let want = [
            "done", "diverged", "missing", "missing", "missing", "failed", "done",
        ];
        for (i, (line, trial)) in lines[1..9].iter().zip(t).enumerate() {
            // index (width 5), id, config (width 6), settings, [state]
            assert_eq!(&line[..5], format!("{i:>5}"), "{line}");
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields[0].parse::<usize>().unwrap(), trial.index);
            assert_eq!(fields[1], trial.id);
            assert_eq!(fields[1].len(), 16);
            assert_eq!(fields[2].parse::<usize>().unwrap(), trial.config_index);
            assert_eq!(&line[7..23], trial.id, "{line}");
            assert_eq!(&line[23..31], format!("  {:>6}", trial.config_index));
            let state = want.get(i).copied().unwrap_or("missing");
            assert_eq!(
                line[33..].to_string(),
                format!("{}  [{state}]", trial.label()),
                "{line}"
            );
            assert!(trial.label().contains(&format!("seed={}", trial.seed)));
        }
        assert_eq!(
            lines[9],
            "4 configurations × 2 seeds = 8 trials (4 stored in results/listed); 1 data set(s)"
        );
        assert_eq!(lines[10], "status: 1 diverged, 2 done, 1 failed, 4 missing");
    }

    /// 4 trials of 100 epochs with forward costs 1e6, 2e6, 3e6, 4e6:
    /// 400 trial-epochs and 3 × 1e7 = 30 M multiply-adds. Trial 0 took
    /// 2 s for 1e6 (2e-6 s each); the missing trials 2 and 3 cost 7e6, so
    /// 14 s on one core and 7 s on two. The diverged trial 1 is neither
    /// missing nor a rate. Catches the 3× dropped, a missing trial counted
    /// as done, or the time not divided over the cores.
    #[test]
    fn the_cost_counts_every_distinct_trial_and_times_the_missing_ones() {
        let (_, plan) = study_and_plan(
            "name = \"c\"\nseeds = 2\n[train]\nepochs = 100\n[grid]\nwidth = [2, 3]\n",
        );
        let t = &plan.trials;
        let costs = [1_000_000, 2_000_000, 3_000_000, 4_000_000];
        let stored = HashMap::from([
            (t[0].id.as_str(), (Status::Ok, 2.0)),
            (t[1].id.as_str(), (Status::Diverged, 9.0)),
        ]);
        let one = cost_lines(&plan, &costs, &stored, 1);
        assert_eq!(
            one,
            "cost: 400 trial-epochs, about 30.0 M multiply-adds (forward and backward)\n\
             estimated time for the missing trials: about 14 s on 1 core(s), at the stored trials' rate\n"
        );
        assert!(cost_lines(&plan, &costs, &stored, 2).contains("about 7 s on 2 core(s)"));
        // Nothing stored: no estimate.
        assert_eq!(
            cost_lines(&plan, &costs, &HashMap::new(), 2)
                .lines()
                .count(),
            1
        );
    }

    #[test]
    fn an_unswept_study_lists_its_seeds_and_nothing_stored() {
        let (study, plan) = study_and_plan("name = \"one\"\nseeds = 3\n");
        let text = plan_table(&study, &plan, &HashMap::new(), Path::new("out"), 1);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + 3 + 2);
        for (line, trial) in lines[1..4].iter().zip(&plan.trials) {
            assert!(
                line.ends_with(&format!("  seed={}  [missing]", trial.seed)),
                "{line}"
            );
        }
        assert_eq!(
            lines[4],
            "1 configurations × 3 seeds = 3 trials (0 stored in out); 1 data set(s)"
        );
        assert_eq!(lines[5], "status: 3 missing");
    }
}
