//! `mlpsweep gradcheck` through the binary: it passes for every
//! activation, both losses and L2, with and without batch norm and dropout
//! (exit 0, a table row per tensor), fails with exit 4 on a gradient made
//! wrong in one entry, and refuses a trial number past the plan (exit 1).

mod common;
use common::*;

/// A grid over every activation with L2 on, plain and with batch norm
/// and dropout, for spiral classification and sine regression: trial k is
/// activation k. Five steps first, so ReLU biases leave the kink at the
/// spiral's origin point. Catches the refusal of batch norm coming back,
/// and β/γ rows missing from the table.
#[test]
fn every_activation_and_loss_passes_through_the_cli() {
    for data in [
        "[data]\npoints_per_class = 30\n",
        "[data]\nkind = \"sine\"\npoints = 60\n",
    ] {
        for (extra, rows) in [
            ("", &["| W1 |", "| b1 |", "| W3 |", "| b3 |"][..]),
            (
                "batch_norm = true\ndropout = 0.2\n",
                &["| W1 |", "| beta1 |", "| gamma1 |", "| gamma2 |", "| b3 |"][..],
            ),
        ] {
            let text = format!(
                "name = \"g\"\n{data}[model]\ndepth = 2\nwidth = 6\n{extra}[train]\nlr = 0.01\nl2 = 0.01\n\
                 [grid]\nactivation = [\"relu\", \"leaky_relu\", \"tanh\", \"sigmoid\", \"maxout\"]\n"
            );
            let (_tmp, study) = temp_study("g.toml", &text);
            for trial in 0..5 {
                let t = trial.to_string();
                let o = run(&["gradcheck", arg(&study), "--trial", &t, "--steps", "5"]);
                let out = stdout(&o);
                assert_eq!(
                    o.status.code(),
                    Some(0),
                    "{data}{extra} trial {trial}: {out}{}",
                    stderr(&o)
                );
                for row in rows.iter().chain(&["passed"]) {
                    assert!(out.contains(row), "{row} missing: {out}");
                }
            }
        }
    }
}

/// The test hook makes entry 0 (the first weight of W1) 5% wrong: the
/// check must say so and exit 4. Without the hook the same trial passes.
#[test]
fn a_wrong_gradient_entry_fails_with_exit_4() {
    let (_tmp, study) = temp_study(
        "g.toml",
        "name = \"g\"\n[data]\npoints_per_class = 30\n[model]\nactivation = \"tanh\"\n[train]\nl2 = 0.01\n",
    );
    let ok = run(&["gradcheck", arg(&study)]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    let bad = run(&["gradcheck", arg(&study), "--corrupt", "0"]);
    assert_eq!(bad.status.code(), Some(4), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("FAILED"), "{}", stdout(&bad));
    let past = run(&["gradcheck", arg(&study), "--trial", "1"]);
    assert_eq!(past.status.code(), Some(1));
    assert!(
        stderr(&past).contains("--trial 1: the study has 1 trials"),
        "{}",
        stderr(&past)
    );
}

/// A batch-normalised trial with a 5% error planted in entry 0 (the
/// first weight of W1) fails with exit 4 under batch norm's looser
/// thresholds, and passes without it. Catches thresholds loose enough to
/// let a real bug by.
#[test]
fn a_wrong_gradient_entry_fails_with_batch_norm_too() {
    let (_tmp, study) = temp_study(
        "bn.toml",
        "name = \"bn\"\n[data]\npoints_per_class = 30\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\nbatch_norm = true\n[train]\nl2 = 0.01\n",
    );
    let ok = run(&["gradcheck", arg(&study)]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("batch norm's thresholds"),
        "{}",
        stdout(&ok)
    );
    let bad = run(&["gradcheck", arg(&study), "--corrupt", "0"]);
    assert_eq!(bad.status.code(), Some(4), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("FAILED"), "{}", stdout(&bad));
}
