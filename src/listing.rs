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
