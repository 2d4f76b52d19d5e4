//! report.md's "Tuning curves" section: what the curves estimate and
//! from what, a table of each arm's expected best at a few budgets, and,
//! where two arms share a slice, the budgets at which each is ahead.

use super::number;
use crate::report::percent;
use crate::report::tuning::{ArmCurve, TuningCurves, lead};

/// Budgets the table shows (those up to the largest arm's N, and N
/// itself for every arm).
const BUDGETS: &[usize] = &[1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000];

/// The section, or nothing without tuning curves.
pub fn section(t: Option<&TuningCurves>) -> String {
    let Some(t) = t else {
        return String::new();
    };
    let metric = t.metric.name().replace('_', " ");
    let mut md = intro(t, &metric);
    md.push_str(&table(t));
    md.push_str(&leads(t, &metric));
    md
}

/// The heading, the estimators, the score and the interval.
fn intro(t: &TuningCurves, metric: &str) -> String {
    let (best, worst_first) = if t.metric.higher_is_better() {
        ("highest", "ascending")
    } else {
        ("lowest", "descending")
    };
    let mut md = format!(
        "\n## Tuning curves\n\n\
         How good is the best configuration a search of n finds? For each arm, the expected best \
         of n configurations drawn at random from the N it tried, n = 1..N (Dodge et al. 2019). \
         A configuration's score is the one the search ranks by: the median of its final \
         {metric} over its finished seeds ({}); best is the {best}. The table, the figure and \
         `tuning.csv`'s `expected_best` are the unbiased estimator, drawing without replacement \
         (Tang et al. 2020): Σᵢ v₍ᵢ₎·C(i − 1, n − 1)/C(N, n) over the scores v₍₁₎ … v₍N₎ sorted \
         worst first ({worst_first}), which is the mean over all n-subsets of their best. \
         `tuning.csv` also has Dodge et al.'s with-replacement estimator, Σᵢ v₍ᵢ₎·[(i/N)ⁿ − \
         ((i − 1)/N)ⁿ], which repeats configurations and so falls short of the best at n = N. \
         Brackets: {} percentile intervals of a two-stage bootstrap ({} resamples): N \
         configurations drawn with replacement, then each drawn configuration's seeds with \
         replacement and its median recomputed. The second stage is how seed noise enters: a \
         configuration whose median was lucky on its seeds is not lucky in every resample, so \
         the interval covers both which configurations a search draws and the noise in their \
         scores. Near n = N the interval leans to the better side of the estimate: the best of \
         many resampled medians picks up their seed luck (the winner's curse), and a bootstrap \
         of a maximum is biased there (Bickel & Freedman 1981), so read its far end as how \
         lucky a search of that size can look. Method: `docs/reports.md`.\n\n",
        if t.from_claim {
            "the first claim's metric"
        } else {
            "the default statistic"
        },
        percent(t.level),
        t.reps,
    );
    if t.arms.iter().any(|a| a.name.ends_with("grid")) {
        md.push_str(
            "The random arm pools every block's draws (each an independent draw of the same \
             distribution); the grid arm's curve is what n of its points drawn at random find, \
             and at its N it is the grid's best.\n\n",
        );
    }
    md
}

/// Each arm's expected best and interval at the [`BUDGETS`] and its N;
/// "–" past an arm's N.
fn table(t: &TuningCurves) -> String {
    let largest = t.arms.iter().map(|a| a.points.len()).max().unwrap_or(0);
    let mut budgets: Vec<usize> = BUDGETS.iter().copied().filter(|&n| n <= largest).collect();
    budgets.extend(t.arms.iter().map(|a| a.points.len()));
    budgets.sort_unstable();
    budgets.dedup();
    let names: Vec<String> = t
        .arms
        .iter()
        .map(|a| format!("{} (N = {})", a.name, a.points.len()))
        .collect();
    let mut md = format!(
        "| n | {} |\n|---:|{}\n",
        names.join(" | "),
        "---:|".repeat(names.len())
    );
    for n in budgets {
        let cells: Vec<String> = t.arms.iter().map(|a| cell(a, n)).collect();
        md.push_str(&format!("| {n} | {} |\n", cells.join(" | ")));
    }
    md.push_str(&format!(
        "| train epochs per configuration | {} |\n",
        t.arms
            .iter()
            .map(|a| a
                .points
                .first()
                .map_or("–".into(), |p| epochs(p.train_epochs)))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    md
}

/// Epochs as a whole number when they are one (3 seeds × 20 epochs), else
/// to four significant digits (a mean over configurations with different
/// seed counts).
fn epochs(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        super::thousands(x as u64)
    } else {
        number(x)
    }
}

/// An arm's expected best at n with its interval, or "–" past its N.
fn cell(a: &ArmCurve, n: usize) -> String {
    match a.points.get(n - 1) {
        Some(p) => match p.band {
            Some((lo, hi)) => format!(
                "{} [{}, {}]",
                number(p.expected_best),
                number(lo),
                number(hi)
            ),
            None => number(p.expected_best),
        },
        None => "–".into(),
    }
}

/// For each slice with two arms: who is ahead at which budgets, by the
/// estimates and by intervals that do not overlap.
fn leads(t: &TuningCurves, metric: &str) -> String {
    let mut md = String::new();
    let higher = t.metric.higher_is_better();
    let better = if higher { "higher" } else { "lower" };
    for (i, a) in t.arms.iter().enumerate() {
        let Some(b) = t.arms[i + 1..].iter().find(|b| b.slice == a.slice) else {
            continue;
        };
        let l = lead(a, b, higher);
        let upto = a.points.len().min(b.points.len());
        let say = |runs: &[(usize, usize, Option<bool>)], none: &str| -> String {
            let parts: Vec<String> = runs
                .iter()
                .map(|&(lo, hi, who)| {
                    let span = if lo == hi {
                        format!("n = {lo}")
                    } else {
                        format!("n = {lo}–{hi}")
                    };
                    match who {
                        Some(true) => format!("{} ahead at {span}", a.name),
                        Some(false) => format!("{} ahead at {span}", b.name),
                        None => format!("{none} at {span}"),
                    }
                })
                .collect();
            parts.join("; ")
        };
        md.push_str(&format!(
            "\n**Who is ahead** ({better} expected best {metric}, budgets up to {upto}, the smaller \
             arm's N): {}. Counting a lead only where the two intervals do not overlap: {}.\n",
            say(&l.by_estimate, "tied"),
            say(&l.by_band, "intervals overlap"),
        ));
    }
    md
}
