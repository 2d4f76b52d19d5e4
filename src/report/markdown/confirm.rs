//! report.md's "Winner's curse" section (`[search] confirm`): the winner's
//! score at selection and on fresh seeds, and their difference in words.

use super::number;
use crate::report::confirm::Confirmed;
use crate::study::describe;

/// The section, or nothing without `confirm`.
pub fn section(c: Option<&Confirmed>) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let metric = c.metric.name();
    let mut md = format!(
        "\n## Winner's curse\n\nThe search's winner (configuration {}: {}) was retrained on {} \
         fresh seed(s), the seed numbers after the study's, never used for selection. Its score \
         is the one the search ranks by: the median of the final `{metric}` over its finished \
         seeds. The selection score is the best of many noisy medians, so it leans toward luck; \
         the fresh score does not.\n\n| | finished seeds | median `{metric}` |\n|---|---:|---:|\n\
         | selection | {} | {} |\n| fresh | {} of {}{} | {} |\n\n",
        c.config,
        describe(&c.swept),
        c.planned,
        c.selection.len(),
        number(c.selection_score),
        c.fresh.len(),
        c.planned,
        if c.lost > 0 {
            format!(" ({} diverged or failed)", c.lost)
        } else {
            String::new()
        },
        c.fresh_score.map_or("–".to_string(), number),
    );
    md.push_str(&verdict(c));
    md.push('\n');
    md
}

/// The difference in plain words, with its interval and what it says.
fn verdict(c: &Confirmed) -> String {
    let Some((d, ci)) = c.difference else {
        return if c.lost > 0 {
            format!(
                "No fresh score: {} fresh seed(s) diverged or failed and none finished.",
                c.lost
            )
        } else {
            "No fresh seed has finished yet: rerun the study to train them.".into()
        };
    };
    // Positive: the selection score looked better than the fresh one.
    let flip = !c.metric.higher_is_better();
    let sign = |x: f64| if flip { -x } else { x };
    let o = sign(d);
    let band = ci.map(|(lo, hi)| {
        let (a, b) = if flip { (-hi, -lo) } else { (lo, hi) };
        if o >= 0.0 { (a, b) } else { (-b, -a) }
    });
    let word = if o >= 0.0 {
        "overstated"
    } else {
        "understated"
    };
    let level = format!("{}%", (c.level * 1000.0).round() / 10.0);
    let mut s = format!(
        "The winner's selection score {word} its fresh score by {}",
        number(o.abs())
    );
    match band {
        Some((a, b)) => {
            s.push_str(&format!(
                " [{}, {}] (selection − fresh = {}; {level} two-sample percentile bootstrap over \
                 the seeds, the winner held fixed).",
                number(a),
                number(b),
                number(d)
            ));
            s.push_str(if a > 0.0 || b < 0.0 {
                " The interval excludes 0: the gap is larger than the seeds' noise."
            } else {
                " The interval includes 0: with these seeds the gap is within the seeds' noise."
            });
        }
        None => s.push_str(&format!(
            " (selection − fresh = {}; too few seeds for an interval).",
            number(d)
        )),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::Metric;

    fn confirmed(metric: Metric, d: f64, ci: Option<(f64, f64)>) -> Confirmed {
        Confirmed {
            config: 3,
            swept: vec![],
            metric,
            selection: vec![0.1, 0.2, 0.3],
            fresh: vec![0.2, 0.3],
            planned: 2,
            lost: 0,
            selection_score: 0.2,
            fresh_score: Some(0.25),
            difference: Some((d, ci)),
            level: 0.95,
        }
    }

    /// The words follow the metric's direction: a loss lower at selection
    /// (selection − fresh < 0) and an accuracy higher at selection were
    /// both overstated, the interval turned to the same sign; a gap whose
    /// interval holds 0 says so. Numbers chosen by hand.
    #[test]
    fn the_curse_is_worded_by_the_metrics_direction() {
        let loss = verdict(&confirmed(Metric::ValLoss, -0.004, Some((-0.008, -0.001))));
        assert!(
            loss.starts_with(
                "The winner's selection score overstated its fresh score by 0.004000 [0.001000, 0.008000] (selection − fresh = -0.004000;"
            ),
            "{loss}"
        );
        assert!(
            loss.ends_with("The interval excludes 0: the gap is larger than the seeds' noise.")
        );
        let acc = verdict(&confirmed(Metric::ValAcc, 0.02, Some((-0.01, 0.03))));
        assert!(
            acc.contains("overstated its fresh score by 0.02000 [-0.01000, 0.03000]"),
            "{acc}"
        );
        assert!(acc.contains("includes 0"), "{acc}");
        let under = verdict(&confirmed(Metric::ValAcc, -0.02, Some((-0.03, -0.01))));
        assert!(
            under.contains("understated its fresh score by 0.02000 [0.01000, 0.03000]"),
            "{under}"
        );
    }

    /// Fresh seeds that all diverged leave no fresh score, and the
    /// section says so rather than asking for a rerun.
    #[test]
    fn fresh_seeds_that_all_diverged_are_counted_not_awaited() {
        let mut c = confirmed(Metric::ValLoss, 0.0, None);
        (c.fresh, c.fresh_score, c.difference, c.lost) = (vec![], None, None, 2);
        let md = section(Some(&c));
        assert!(
            md.contains("| fresh | 0 of 2 (2 diverged or failed) | – |"),
            "{md}"
        );
        assert!(
            md.contains("No fresh score: 2 fresh seed(s) diverged or failed and none finished.")
        );
    }
}
