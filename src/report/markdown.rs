//! Markdown exporter: `summary.md`, a header saying what was run and one
//! table row per configuration, formatted for people (mean ± std, sensible
//! precision, thousands separators).

mod search;
mod variance;

use anyhow::Result;
use polars::prelude::*;

use super::Report;
use super::claims::{Outcome, SliceVerdict, Verdict, p_text};
use super::plot::Figure;
use crate::metric::{Aggregate, Metric};
use crate::plan::Plan;
use crate::study::{ClaimSpec, Statistic, Study};

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A loss-like number with four significant digits.
pub fn number(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if x.abs() >= 1e-3 && x.abs() < 1e4 {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}

/// A share as a whole percentage: 0.734 → `73%`.
pub fn percent_cell(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// `mean ± std`, or the mean alone where std is undefined (one seed).
pub fn mean_std(mean: Option<f64>, std: Option<f64>, percent: bool) -> String {
    let f = |x: f64| {
        if percent {
            format!("{:.1}", 100.0 * x)
        } else {
            number(x)
        }
    };
    match (mean, std) {
        (None, _) => "–".into(),
        (Some(m), None) => f(m),
        (Some(m), Some(s)) => format!("{} ± {}", f(m), f(s)),
    }
}

fn f64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<f64>> {
    Ok(df.column(name)?.f64()?.get(i))
}

/// Row `i`'s `aggregate` of metric `m`, read from the column the summary
/// writer named with the same [`Metric::column`].
fn agg_at(df: &DataFrame, m: Metric, aggregate: Aggregate, i: usize) -> Result<Option<f64>> {
    f64_at(df, &m.column(aggregate), i)
}

fn u64_at(df: &DataFrame, name: &str, i: usize) -> Result<Option<u64>> {
    Ok(df.column(name)?.u64()?.get(i))
}

fn header(exp: &Study, plan: &Plan, report: &Report) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "- {} configurations × {} = {} trials; {} stored.\n",
        plan.n_configs,
        exp.replication.describe(),
        plan.len(),
        report.trials.height()
    ));
    if !report.swept.is_empty() {
        let axes: Vec<String> = exp
            .axes
            .iter()
            .map(|a| {
                if let Some(search) = exp.search.as_ref().filter(|_| a.sampled) {
                    return format!("`{}` drawn: {}", a.keys.join("/"), search.describe());
                }
                let vals: Vec<String> = (0..a.len())
                    .map(|i| {
                        (0..a.keys.len())
                            .map(|k| a.setting(i, k).to_string())
                            .collect::<Vec<_>>()
                            .join("/")
                    })
                    .collect();
                format!("`{}` ∈ {{{}}}", a.keys.join("/"), vals.join(", "))
            })
            .collect();
        md.push_str(&format!("- Swept: {}.\n", axes.join("; ")));
    }
    let fixed = exp.fixed_settings();
    if !fixed.is_empty() {
        let f: Vec<String> = fixed.iter().map(|(k, v)| format!("`{k}` = {v}")).collect();
        md.push_str(&format!("- Fixed: {}.\n", f.join(", ")));
    }
    md
}

/// The table's legend; the stuck rule in it follows `[report] stuck_relative`.
/// With batch norm in some configuration it says what `params` counts.
fn legend(exp: &Study) -> String {
    // Read off the settings (resolving every configuration would read a
    // CSV file per configuration).
    let key = "model.batch_norm";
    let normed = exp
        .fixed_settings()
        .iter()
        .any(|(k, v)| k == key && matches!(v, crate::study::Setting::Bool(true)))
        || exp.axes.iter().any(|a| {
            a.keys.iter().enumerate().any(|(k, name)| {
                name == key && a.points.iter().any(|p| p[k].as_bool() == Some(true))
            })
        });
    let params = if normed {
        " With batch norm (`model.batch_norm`), params counts γ and β (two per hidden \
         unit, per piece with maxout) instead of the hidden layers' biases, which such a \
         network does not have; the running statistics are state, not parameters."
    } else {
        ""
    };
    let text = format!(
        "Depth counts hidden layers. Losses are mean data losses at the last epoch \
         (cross-entropy or MSE, without the L2 term), evaluated without dropout; accuracies in %. \
         Cells are mean ± sample std (ddof = 1) over the seeds that finished, then median [IQR] of \
         the train loss and the stuck share: seeds whose final train loss is more than δ = {} above \
         {} (`stuck_relative = \"{}\"`). Dead units (where any) are the mean share of hidden units \
         that output 0 on every training point. Diverged or failed trials are counted, not averaged.",
        exp.report.stuck_delta,
        super::stuck::compared_with(exp.report.stuck_relative),
        exp.report.stuck_relative.name()
    );
    text + params
}

/// The legend's sentence on the ensemble columns, when the table has them.
fn ensemble_legend(report: &Report) -> Result<&'static str> {
    Ok(if OptionalColumns::of(&report.summary)?.ensemble {
        " The ensemble averages the predicted class probabilities (regression: outputs) of a \
         configuration's finished seeds on the validation split and scores that mean: \
         cross-entropy with probabilities floored at 1e-12, accuracy of its argmax; \
         \"–\" where fewer than two seeds finished or one has no stored predictions."
    } else {
        ""
    })
}

/// The per-configuration table, shared by summary.md and report.md.
fn table(report: &Report) -> Result<String> {
    let s = &report.summary;
    let cols = OptionalColumns::of(s)?;
    let mut header: Vec<String> = report.swept.clone();
    header.extend(
        [
            "n",
            "params",
            "train loss",
            "median [IQR]",
            "stuck",
            "val loss",
            "train acc",
            "val acc",
        ]
        .map(String::from),
    );
    if cols.ensemble {
        header.extend(["ensemble val loss", "ensemble val acc"].map(String::from));
    }
    if cols.dead {
        header.push("dead units".into());
    }
    if cols.bad {
        header.push("diverged / failed".into());
    }
    let mut md = table_head(&header, report.swept.len());
    for i in 0..s.height() {
        let row = table_row(report, cols, i)?;
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    Ok(md)
}

/// A Markdown table's header row and alignment row: the first `left`
/// columns (the swept settings) left-aligned, the numbers right-aligned.
pub fn table_head(header: &[String], left: usize) -> String {
    let align: Vec<&str> = (0..header.len())
        .map(|i| if i < left { "---" } else { "---:" })
        .collect();
    format!("| {} |\n|{}|\n", header.join(" | "), align.join("|"))
}

/// The table's columns shown only where some configuration needs them.
/// Every column is looked up with `?`: a column the summary does not have
/// is an error, never a silently empty cell or a hidden column.
#[derive(Clone, Copy)]
struct OptionalColumns {
    /// Dead units, where any (ReLU at high learning rates).
    dead: bool,
    /// Diverged / failed counts, where any trial diverged or failed.
    bad: bool,
    /// The ensemble of the seeds, where some configuration has one (its
    /// column is absent from summary.csv without a validation split).
    ensemble: bool,
}

impl OptionalColumns {
    fn of(s: &DataFrame) -> Result<Self> {
        let mut cols = OptionalColumns {
            dead: false,
            bad: false,
            ensemble: false,
        };
        if let Ok(c) = s.column(super::ENSEMBLE_VAL_LOSS) {
            cols.ensemble = c.f64()?.iter().any(|v| v.is_some());
        }
        for i in 0..s.height() {
            let bad =
                u64_at(s, "n_diverged", i)?.unwrap_or(0) + u64_at(s, "n_failed", i)?.unwrap_or(0);
            cols.bad |= bad > 0;
            cols.dead |= agg_at(s, Metric::DeadFraction, Aggregate::Mean, i)?.unwrap_or(0.0) > 0.0;
        }
        Ok(cols)
    }
}

/// Configuration `i`'s cells, in the header's order.
fn table_row(report: &Report, cols: OptionalColumns, i: usize) -> Result<Vec<String>> {
    let s = &report.summary;
    let mut row: Vec<String> = Vec::new();
    for name in &report.swept {
        // Drawn floats shown to 4 significant digits; summary.csv keeps them exact.
        row.push(match s.column(name)?.get(i)? {
            AnyValue::Float64(x) => crate::study::short_float(x),
            v => super::csv::cell(&v),
        });
    }
    row.push(u64_at(s, "n", i)?.unwrap_or(0).to_string());
    row.push(
        u64_at(s, "params", i)?
            .map(thousands)
            .unwrap_or_else(|| "–".into()),
    );
    let at = |m: Metric, a: Aggregate| agg_at(s, m, a, i);
    row.push(mean_std(
        at(Metric::TrainLoss, Aggregate::Mean)?,
        at(Metric::TrainLoss, Aggregate::Std)?,
        false,
    ));
    row.push(
        match (
            at(Metric::TrainLoss, Aggregate::Median)?,
            at(Metric::TrainLoss, Aggregate::Iqr)?,
        ) {
            (Some(m), Some(q)) => format!("{} [{}]", number(m), number(q)),
            _ => "–".into(),
        },
    );
    row.push(
        f64_at(s, "stuck_fraction", i)?
            .map(|f| format!("{:.0}%", 100.0 * f))
            .unwrap_or_else(|| "–".into()),
    );
    for m in [Metric::ValLoss, Metric::TrainAcc, Metric::ValAcc] {
        row.push(mean_std(
            at(m, Aggregate::Mean)?,
            at(m, Aggregate::Std)?,
            m.is_accuracy(),
        ));
    }
    if cols.ensemble {
        let cell = |name: &str, percent: bool| -> Result<String> {
            Ok(match f64_at(s, name, i)? {
                Some(x) if percent => format!("{:.1}", 100.0 * x),
                Some(x) => number(x),
                None => "–".into(),
            })
        };
        row.push(cell(super::ENSEMBLE_VAL_LOSS, false)?);
        row.push(cell(super::ENSEMBLE_VAL_ACC, true)?);
    }
    if cols.dead {
        row.push(
            at(Metric::DeadFraction, Aggregate::Mean)?
                .map(|f| format!("{:.1}%", 100.0 * f))
                .unwrap_or_else(|| "–".into()),
        );
    }
    if cols.bad {
        row.push(format!(
            "{} / {}",
            u64_at(s, "n_diverged", i)?.unwrap_or(0),
            u64_at(s, "n_failed", i)?.unwrap_or(0)
        ));
    }
    Ok(row)
}

/// Render `summary.md`: what was run and the table.
pub fn render_summary(exp: &Study, plan: &Plan, report: &Report) -> Result<Vec<u8>> {
    let mut md = format!("# {}\n\n", exp.name);
    if !exp.description.is_empty() {
        md.push_str(&format!("{}\n\n", exp.description));
    }
    md.push_str(&header(exp, plan, report));
    md.push_str(&format!(
        "\n{}{}\n\n",
        legend(exp),
        ensemble_legend(report)?
    ));
    md.push_str(&table(report)?);
    Ok(md.into_bytes())
}

/// Render `report.md`: claims and verdicts first, then what was run, the
/// table and the figures. `provenance` is the version, git revision and
/// core count (gathered by the caller, so rendering stays pure).
pub fn render_report(
    exp: &Study,
    plan: &Plan,
    report: &Report,
    figures: &[Figure],
    provenance: &str,
) -> Result<Vec<u8>> {
    let mut md = format!("# {}\n\n", exp.name);
    if !exp.description.is_empty() {
        md.push_str(&format!("{}\n\n", exp.description));
    }
    if !report.verdicts.is_empty() {
        md.push_str(&claims_section(&report.verdicts, exp.report.level));
    }
    md.push_str("## What was run\n\n");
    md.push_str(&header(exp, plan, report));
    md.push_str(&outcomes_line(report)?);
    md.push_str(&format!("- Provenance: {provenance}.\n"));
    md.push_str(&format!(
        "\n## Results\n\n{}{}\n\n",
        legend(exp),
        ensemble_legend(report)?
    ));
    md.push_str(&table(report)?);
    md.push_str(&variance::section(exp, plan, report, exp.report.level));
    md.push_str(&search::section(report.search.as_ref(), &report.swept));
    if !figures.is_empty() {
        md.push_str("\n## Figures\n\n");
        for (i, f) in figures.iter().enumerate() {
            md.push_str(&format!(
                "![{}](figures/{})\n\n*Figure {}.* {}\n\n",
                f.caption,
                f.file,
                i + 1,
                f.caption
            ));
        }
    }
    Ok(md.into_bytes())
}

/// `## Claims`: a table of every claim's verdict, how the p-values were
/// adjusted, then a subsection per claim with what it expects and the
/// evidence in each slice.
fn claims_section(verdicts: &[Verdict], level: f64) -> String {
    let mut md =
        String::from("## Claims\n\n| claim | verdict | slices holding |\n|---|---|---:|\n");
    for v in verdicts {
        let held = v
            .slices
            .iter()
            .filter(|s| s.outcome == Outcome::Holds)
            .count();
        md.push_str(&format!(
            "| {} | **{}** | {held} of {} |\n",
            v.claim.name,
            v.outcome,
            v.slices.len()
        ));
    }
    let family = verdicts
        .iter()
        .flat_map(|v| &v.slices)
        .filter(|s| s.test.is_some())
        .count();
    md.push_str(&format!(
        "\nEach slice's p-value is shown raw and Holm-adjusted over the family of all {family} \
         slice tests of this study's claims; verdicts use the adjusted p-values. Seeds that \
         would settle an inconclusive verdict are per configuration, for the observed effect \
         at the claim's α with power {} (normal approximation).\n",
        crate::stats::SEEDS_POWER
    ));
    for v in verdicts {
        md.push_str(&claim_detail(v, level));
    }
    md.push('\n');
    md
}

/// A claim's subsection: the expectation in words with its α, filter and
/// pooling, what would settle it when inconclusive, then one line per
/// slice.
fn claim_detail(v: &Verdict, level: f64) -> String {
    let c = &v.claim;
    let what = match (&c.along, c.expect) {
        (Some(a), e) => format!(
            "{} of {} is {} along `{a}`",
            c.statistic.name(),
            c.metric,
            e.name()
        ),
        (None, e) => format!(
            "{} of {} is {}",
            c.statistic.name(),
            c.metric,
            e.name().replace('_', " ")
        ),
    };
    let mut notes = vec![format!("α = {}", c.alpha)];
    if !c.filter.is_empty() {
        notes.push(format!(
            "only {}",
            c.filter
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if c.pool {
        notes.push("other axes pooled".into());
    }
    let mut md = format!(
        "\n### {} — {}\n\nExpected: {what} ({}).",
        c.name,
        v.outcome,
        notes.join("; ")
    );
    if v.outcome == Outcome::Inconclusive {
        md.push_str(&format!(" {}", claim_settle(v)));
    }
    md.push_str("\n\n");
    for sv in &v.slices {
        md.push_str(&slice_line(c, sv, level));
    }
    md
}

/// Why a share claim gets no seed count: a share is one number per
/// configuration, judged across the axis's settings, so the seed formula
/// (two samples of seeds) does not apply.
const SHARE_SETTLE: &str = "Seeds needed are not estimated for a share: it is one number per configuration, judged across the settings of the axis; more seeds per source narrow each share's interval, and more settings along the axis sharpen the trend test.";

/// Why a best_of_block claim gets no seed count here: its observations
/// are the blocks (independent searches), and its evidence counts blocks
/// or seeds itself (`claims/blocks.rs`).
const BLOCKS_SETTLE: &str = "A best_of_block claim is settled by more blocks (each block, one random search, is one observation) or more seeds (both arms share them): the evidence says which, and about how many.";

/// What would settle an inconclusive claim: the most seeds any of its
/// inconclusive slices needs, or why no number would.
fn claim_settle(v: &Verdict) -> String {
    let open: Vec<&SliceVerdict> = v
        .slices
        .iter()
        .filter(|s| s.outcome == Outcome::Inconclusive)
        .collect();
    if open.is_empty() {
        return "Its slices disagree: some hold, some fail.".into();
    }
    if v.claim.statistic == Statistic::Share {
        return SHARE_SETTLE.into();
    }
    if v.claim.statistic == Statistic::BestOfBlock {
        return BLOCKS_SETTLE.into();
    }
    let none = open.iter().filter(|s| s.seeds_needed.is_none()).count();
    if none > 0 {
        return format!(
            "{none} of its {} inconclusive slice(s) show no effect (zero or undefined), which no number of seeds settles.",
            open.len()
        );
    }
    let most = open
        .iter()
        .filter_map(|s| s.seeds_needed)
        .max()
        .unwrap_or(0);
    seeds_text(most, "every inconclusive slice")
}

/// Above this many seeds per configuration the count says nothing more
/// than "the observed effect is practically zero".
const SEEDS_SHOWN: usize = 10_000;

/// "About 45 seeds would settle it.", or past [`SEEDS_SHOWN`] a sentence
/// that does not print a meaningless thirteen-digit count.
fn seeds_text(n: usize, what: &str) -> String {
    if n > SEEDS_SHOWN {
        format!(
            "More than {} seeds per configuration would be needed to settle {what}: the observed effect is practically zero.",
            thousands(SEEDS_SHOWN as u64)
        )
    } else if what == "it" {
        format!("About {n} seeds would settle it.")
    } else {
        format!("About {n} seeds per configuration would settle {what}.")
    }
}

/// A slice's bullet: its verdict, the test evidence, raw and adjusted p,
/// what would settle it when inconclusive, and the statistic at each point
/// with its bootstrap interval at `level`.
fn slice_line(c: &ClaimSpec, sv: &SliceVerdict, level: f64) -> String {
    let pts: Vec<String> = sv
        .points
        .iter()
        .map(|p| match (p.value, p.ci) {
            (Some(x), Some((lo, hi))) => {
                format!("{} {} [{}, {}]", p.label, number(x), number(lo), number(hi))
            }
            (Some(x), None) => format!("{} {}", p.label, number(x)),
            _ => format!("{} –", p.label),
        })
        .collect();
    let p = match (sv.test, sv.p_adjusted) {
        (Some(t), Some(adj)) => format!(
            " Slice test: p {}, Holm-adjusted p {}.",
            p_text(t.p),
            p_text(adj)
        ),
        _ => " No test (undefined).".into(),
    };
    let settle = match (sv.outcome, sv.seeds_needed) {
        (Outcome::Inconclusive, _) if c.statistic == Statistic::Share => format!(" {SHARE_SETTLE}"),
        (Outcome::Inconclusive, _) if c.statistic == Statistic::BestOfBlock => {
            format!(" {BLOCKS_SETTLE}")
        }
        (Outcome::Inconclusive, Some(n)) => format!(" {}", seeds_text(n, "it")),
        (Outcome::Inconclusive, None) => {
            " The observed effect is zero or undefined: no number of seeds would settle it.".into()
        }
        _ => String::new(),
    };
    let per_point = if c.statistic == Statistic::ProbabilityOfImprovement {
        "median"
    } else {
        c.statistic.name()
    };
    format!(
        "- **{}** — {}: {}.{p}{settle} {} with {} bootstrap intervals: {}.\n",
        sv.slice,
        sv.outcome,
        sv.evidence,
        per_point,
        super::percent(level),
        pts.join("; ")
    )
}

/// How the stored trials ended, and the training time they took.
fn outcomes_line(report: &Report) -> Result<String> {
    let status = report.trials.column("status")?.str()?.clone();
    let count = |s: &str| {
        (0..status.len())
            .filter(|i| status.get(*i) == Some(s))
            .count()
    };
    Ok(format!(
        "- Finished: {}, diverged: {}, failed: {}. Compute: {:.1} s of training over all stored trials.\n",
        count("ok"),
        count("diverged"),
        count("failed"),
        report.trial_seconds
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legend says what `params` counts when batch norm is on in some
    /// configuration (fixed, or swept), and says nothing of it otherwise.
    /// Catches the note missing from a swept `batch_norm` or shown for
    /// every study.
    #[test]
    fn the_legend_explains_params_under_batch_norm() {
        let legend_of = |body: &str| {
            let src = format!("name = \"l\"\n{body}");
            legend(&crate::study::from_str(&src, std::path::Path::new("s.toml"), &[]).unwrap())
        };
        let note = "params counts γ and β";
        assert!(!legend_of("").contains(note));
        assert!(!legend_of("[model]\nbatch_norm = false\n").contains(note));
        assert!(legend_of("[model]\nbatch_norm = true\n").contains(note));
        assert!(legend_of("[grid]\nbatch_norm = [false, true]\n").contains(note));
    }

    /// The claims section states raw and adjusted p, the family size, and
    /// what would settle an inconclusive slice and claim (the most any
    /// slice needs), or that nothing would. Catches the adjusted p shown
    /// in place of the raw one, the family miscounted (the undefined slice
    /// is not in it), and the claim's count taken from the wrong slice.
    #[test]
    fn claims_state_p_values_and_the_seeds_that_would_settle_them() {
        let src = "name = \"c\"\n[grid]\nwidth = [2, 8]\n[[claims]]\nname = \"x\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
        let e = crate::study::from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let slice = |name: &str, p: Option<(f64, f64)>, seeds| SliceVerdict {
            slice: name.into(),
            outcome: Outcome::Inconclusive,
            evidence: "e".into(),
            points: Vec::new(),
            test: p.map(|(p, _)| super::super::claims::Test { p, expected: true }),
            p_adjusted: p.map(|(_, a)| a),
            seeds_needed: seeds,
        };
        let mut v = Verdict {
            claim: e.report.claims[0].clone(),
            outcome: Outcome::Inconclusive,
            slices: vec![
                slice("depth=1", Some((0.03, 0.06)), Some(12)),
                slice("depth=2", Some((0.2, 0.4)), Some(45)),
                slice("depth=3", None, Some(7)),
            ],
        };
        let md = claims_section(std::slice::from_ref(&v), 0.95);
        assert!(md.contains("family of all 2 slice tests"), "{md}");
        assert!(
            md.contains("- **depth=1** — inconclusive: e. Slice test: p = 0.0300, Holm-adjusted p = 0.0600. About 12 seeds would settle it."),
            "{md}"
        );
        assert!(
            md.contains("About 45 seeds per configuration would settle every inconclusive slice."),
            "{md}"
        );
        v.slices[2].seeds_needed = None;
        let md = claims_section(std::slice::from_ref(&v), 0.95);
        assert!(
            md.contains("1 of its 3 inconclusive slice(s) show no effect"),
            "{md}"
        );
        assert!(md.contains("No test (undefined). The observed effect is zero or undefined: no number of seeds would settle it."), "{md}");
    }

    /// Seed counts past 10,000 are not printed: they only say the effect is
    /// practically zero (max_norm's lr = 3 slice asked for 4.2e12 seeds).
    /// Catches the cap dropped or applied below it.
    #[test]
    fn absurd_seed_counts_are_not_printed() {
        assert_eq!(seeds_text(45, "it"), "About 45 seeds would settle it.");
        assert_eq!(
            seeds_text(10_000, "it"),
            "About 10000 seeds would settle it."
        );
        assert!(seeds_text(10_001, "it").starts_with("More than 10,000 seeds"));
        assert_eq!(
            seeds_text(7, "every inconclusive slice"),
            "About 7 seeds per configuration would settle every inconclusive slice."
        );
    }

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.3456), "12.35");
        assert_eq!(number(0.00001234), "1.234e-5");
        assert_eq!(mean_std(Some(0.5), None, false), "0.5000");
        assert_eq!(mean_std(Some(0.975), Some(0.0124), true), "97.5 ± 1.2");
        assert_eq!(mean_std(None, None, false), "–");
    }
}
