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
         | selection | {} | {} |\n| fresh | {} of {} | {} |\n\n",
        c.config,
        describe(&c.swept),
        c.planned,
        c.selection.len(),
        number(c.selection_score),
        c.fresh.len(),
        c.planned,
        c.fresh_score.map_or("–".to_string(), number),
    );
    md.push_str(&verdict(c));
    md.push('\n');
    md
}

/// The difference in plain words, with its interval and what it says.
fn verdict(c: &Confirmed) -> String {
    let Some((d, ci)) = c.difference else {
        return "No fresh seed has finished yet: rerun the study to train them.".into();
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
