//! report.md's "Claims": a table of every claim's verdict, how the
//! p-values were adjusted, then per claim what it expects, what would
//! settle it, and the evidence in each slice.

use super::{number, thousands};
use crate::report::claims::{Outcome, SeedsNeeded, SliceVerdict, Verdict, label, p_text};
use crate::report::reference::HalvingVerdict;
use crate::study::{ClaimSpec, Expect, Filter, Statistic};

/// `## Claims`: a table of every claim's verdict, how the p-values were
/// adjusted, then a subsection per claim with what it expects and the
/// evidence in each slice.
/// A halving study's verdict against its reference full grid (no slices,
/// no p-value) is one more row and subsection.
#[cfg(test)]
pub fn section(verdicts: &[Verdict], level: f64, halving: Option<&HalvingVerdict>) -> String {
    section_with(verdicts, level, halving, None)
}

/// [`section`], with `note` in place of the paragraph on the fixed-n Holm
/// family (a `[settle]` study's verdicts are sequential).
pub fn section_with(
    verdicts: &[Verdict],
    level: f64,
    halving: Option<&HalvingVerdict>,
    note: Option<String>,
) -> String {
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
    if let Some(h) = halving {
        md.push_str(&format!("| {} | **{}** | – |\n", h.name, h.outcome));
    }
    let family = verdicts
        .iter()
        .flat_map(|v| &v.slices)
        .filter(|s| s.test.is_some())
        .count();
    if let Some(note) = note.filter(|_| !verdicts.is_empty()) {
        md.push_str(&note);
    } else if !verdicts.is_empty() {
        md.push_str(&format!(
            "\nEach slice's p-value is shown raw and Holm-adjusted over the family of all {family} \
         slice tests of this study's claims; verdicts use the adjusted p-values. Seeds that \
         would settle an inconclusive verdict are per configuration, for the observed effect \
         at the claim's α/{family} (Holm's strictest step, so conservative) with power {} \
         (normal approximation); an effect pointing against the claim gets no count, and no \
         count at or below the seeds already run is given.\n",
            crate::stats::SEEDS_POWER
        ));
    }
    for v in verdicts {
        md.push_str(&claim_detail(v, level));
    }
    if let Some(h) = halving {
        md.push_str(&h.detail);
    }
    md.push('\n');
    md
}

/// A claim's subsection: the expectation in words with its α, filter and
/// pooling, what would settle it when inconclusive, then one line per
/// slice.
fn claim_detail(v: &Verdict, level: f64) -> String {
    let c = &v.claim;
    let what = expectation(c);
    let mut notes = vec![format!("α = {}", c.alpha)];
    if !c.filter.is_empty() {
        notes.push(format!("only {}", filter_text(&c.filter)));
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
        let counted = v
            .slices
            .iter()
            .any(|s| matches!(s.seeds_needed, Some(SeedsNeeded::About(_))));
        if c.pool && counted {
            md.push_str(&format!(" {POOLED_COUNTS}"));
        }
    }
    md.push_str("\n\n");
    for sv in &v.slices {
        md.push_str(&slice_line(c, sv, level));
    }
    md
}

/// The expectation in words, naming the axis or both groups:
/// "mean of train_loss is decreasing along `width`", "median of train_loss
/// of activation=relu is less than of activation=tanh".
fn expectation(c: &ClaimSpec) -> String {
    let stat = format!("{} of {}", c.statistic.name(), c.metric);
    match (&c.along, c.expect) {
        (Some(a), Expect::Differs) => {
            format!("{stat} changes along `{a}`, either way (two-sided)")
        }
        (Some(a), e) => format!("{stat} is {} along `{a}`", e.name()),
        (None, e) if c.statistic == Statistic::ProbabilityOfOutperforming && c.compares_arms() => {
            format!(
                "{stat}: the random blocks' winners are {} the grid's winner, seed by seed",
                e.name().replace('_', " ")
            )
        }
        (None, e) if c.statistic == Statistic::EnsembleGain => format!(
            "ensemble_gain of {} is {} 0 in each configuration (the ensemble {} its average member)",
            c.metric,
            e.name().replace('_', " "),
            if e == Expect::GreaterThan {
                "beats"
            } else {
                "is worse than"
            }
        ),
        (None, Expect::Differs) => format!(
            "{stat} of {} differs from that of {}, either way (two-sided)",
            label(&c.this),
            label(&c.than)
        ),
        (None, e) => format!(
            "{stat} of {} is {} that of {}",
            label(&c.this),
            e.name().replace('_', " "),
            label(&c.than)
        ),
    }
}

/// `where` in words: "lr=0.01 or 0.1, depth=2".
fn filter_text(filter: &Filter) -> String {
    filter
        .iter()
        .map(|(k, vs)| {
            let vs: Vec<String> = vs.iter().map(ToString::to_string).collect();
            let short = k.rsplit('.').next().unwrap_or(k);
            format!("{short}={}", vs.join(" or "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a share claim gets no seed count: a share is one number per
/// configuration, judged across the axis's settings, so the seed formula
/// (two samples of seeds) does not apply.
const SHARE_SETTLE: &str = "Seeds needed are not estimated for a share: it is one number per configuration, judged across the settings of the axis; more seeds per source narrow each share's interval, and more settings along the axis sharpen the trend test.";

/// Why an ensemble trend gets no seed count: like a share, its values are
/// one per configuration, judged across the settings of the axis.
const ENSEMBLE_SETTLE: &str = "Seeds needed are not estimated for a trend in an ensemble: it is one number per configuration, judged across the settings of the axis; more settings along the axis sharpen the trend test.";

/// Why a best_of_block claim gets no seed count here: its observations
/// are the blocks (independent searches), and its evidence counts blocks
/// or seeds itself (`claims/blocks.rs`).
const BLOCKS_SETTLE: &str = "A best_of_block claim is settled by more blocks (each block, one random search, is one observation) or more seeds (both arms share them): the evidence says which, and about how many.";

/// Why P(A > B) between a search's arms gets no seed count: its runs are
/// the blocks (independent searches) crossed with the seeds.
const ARMS_SETTLE: &str = "P(A > B) between the arms is settled by more blocks (each block, one random search, is one run of the random arm) or more seeds (both arms share them).";

/// The sentence that replaces a seed count for a configuration-level
/// trend (`share`, `ensemble`, `ensemble_gain` along an axis), if `c` is one.
fn config_settle(c: &ClaimSpec) -> Option<&'static str> {
    match c.statistic {
        Statistic::Share => Some(SHARE_SETTLE),
        Statistic::Ensemble => Some(ENSEMBLE_SETTLE),
        Statistic::EnsembleGain if c.along.is_some() => Some(ENSEMBLE_SETTLE),
        Statistic::BestOfBlock => Some(BLOCKS_SETTLE),
        Statistic::ProbabilityOfOutperforming if c.compares_arms() => Some(ARMS_SETTLE),
        _ => None,
    }
}

/// With `pool = true` a group holds several configurations, so a count
/// is of trials per group, not seeds per configuration.
const POOLED_COUNTS: &str = "With the other axes pooled, these counts are trials per group (seeds × the configurations pooled), not seeds per configuration.";

/// Why a slice whose group (or every setting) has no finished trial gets
/// no seed count: diverged trials have no final metric, and more seeds of
/// the same setting would diverge too.
const UNJUDGED: &str = "Diverged and failed trials enter no statistic (docs/reports.md), so no number of seeds settles it while they all diverge; a claim about divergence itself needs another statistic.";

/// Whether a slice has no test because some group or setting lost every
/// trial (see [`UNJUDGED`]).
fn unjudged(sv: &SliceVerdict) -> bool {
    sv.test.is_none() && sv.points.iter().any(|p| p.none_finished())
}

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
    let unjudged_slices = open.iter().filter(|s| unjudged(s)).count();
    if unjudged_slices > 0 {
        return format!(
            "{unjudged_slices} of its {} inconclusive slice(s) cannot be judged: every trial of a group or setting diverged or failed. {UNJUDGED}",
            open.len()
        );
    }
    if let Some(text) = config_settle(&v.claim) {
        return text.into();
    }
    settle_counts(&open)
}

/// The seed sentences of an inconclusive claim's open slices: how many
/// point the other way, show no effect, or already ran the seeds the
/// effect asks for, and the most any other slice needs.
fn settle_counts(open: &[&SliceVerdict]) -> String {
    let n = open.len();
    let count =
        |f: &dyn Fn(Option<SeedsNeeded>) -> bool| open.iter().filter(|s| f(s.seeds_needed)).count();
    let other = count(&|s| s == Some(SeedsNeeded::OtherWay));
    let none = count(&|s| s.is_none());
    let enough = count(&|s| matches!(s, Some(SeedsNeeded::NotBySeeds { .. })));
    let mut out = Vec::new();
    if other > 0 {
        out.push(format!(
            "{other} of its {n} inconclusive slice(s) point the other way: more seeds would most likely make them fail."
        ));
    }
    if none > 0 {
        out.push(format!(
            "{none} of its {n} inconclusive slice(s) show no effect (zero or undefined), which no number of seeds settles."
        ));
    }
    if enough > 0 {
        out.push(format!(
            "{enough} of its {n} inconclusive slice(s) already ran the seeds the observed effect asks for: more seeds at this effect size would not be expected to settle them."
        ));
    }
    let counts: Vec<usize> = open
        .iter()
        .filter_map(|s| match s.seeds_needed {
            Some(SeedsNeeded::About(k)) => Some(k),
            _ => None,
        })
        .collect();
    if let Some(most) = counts.iter().max() {
        let what = if counts.len() == n {
            "every inconclusive slice"
        } else {
            "the other inconclusive slices"
        };
        out.push(seeds_text(*most, what));
    }
    out.join(" ")
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

/// What more seeds would do for one slice, in a sentence.
fn need_text(need: SeedsNeeded) -> String {
    match need {
        SeedsNeeded::About(n) => seeds_text(n, "it"),
        SeedsNeeded::OtherWay => {
            "The effect points the other way: more seeds would most likely make it fail.".into()
        }
        SeedsNeeded::NotBySeeds { run } => format!(
            "The {run} seeds run are already as many as the observed effect asks for: more seeds at this effect size would not be expected to settle it."
        ),
    }
}

/// A slice's bullet: its verdict, the test evidence, raw and adjusted p,
/// what would settle it when inconclusive, and the statistic at each point
/// with its bootstrap interval at `level`.
fn slice_line(c: &ClaimSpec, sv: &SliceVerdict, level: f64) -> String {
    let pts: Vec<String> = sv
        .points
        .iter()
        .map(|p| {
            let mut text = match (p.value, p.ci) {
                (Some(x), Some((lo, hi))) => {
                    format!("{} {} [{}, {}]", p.label, number(x), number(lo), number(hi))
                }
                (Some(x), None) => format!("{} {}", p.label, number(x)),
                _ => format!("{} –", p.label),
            };
            match p.lost() {
                Some(lost) if p.none_finished() => text.push_str(&format!(" ({lost})")),
                Some(lost) => text.push_str(&format!(" ({lost}, left out)")),
                None => {}
            }
            text
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
        (Outcome::Inconclusive, _) if unjudged(sv) => format!(" {UNJUDGED}"),
        (Outcome::Inconclusive, _) if config_settle(c).is_some() => {
            format!(" {}", config_settle(c).unwrap_or_default())
        }
        (Outcome::Inconclusive, Some(need)) => format!(" {}", need_text(need)),
        (Outcome::Inconclusive, None) => {
            " The observed effect is zero or undefined: no number of seeds would settle it.".into()
        }
        _ => String::new(),
    };
    // A comparison of arms shows best_of_block's points (`claims/arms.rs`).
    let per_point = if c.compares_arms() {
        Statistic::BestOfBlock.name()
    } else if matches!(
        c.statistic,
        Statistic::ProbabilityOfImprovement | Statistic::ProbabilityOfOutperforming
    ) {
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
        crate::report::percent(level),
        pts.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The claims section states raw and adjusted p, the family size, and
    /// what would settle an inconclusive slice and claim (the most any
    /// slice needs), or that nothing would. Catches the adjusted p shown
    /// in place of the raw one, the family miscounted (the undefined slice
    /// is not in it), and the claim's count taken from the wrong slice.
    #[test]
    fn claims_state_p_values_and_the_seeds_that_would_settle_them() {
        let src = "name = \"c\"\nseeds = 8\n[grid]\nwidth = [2, 8]\n[[claims]]\nname = \"x\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
        let e = crate::study::from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let slice = |name: &str, p: Option<(f64, f64)>, seeds: Option<usize>| SliceVerdict {
            slice: name.into(),
            outcome: Outcome::Inconclusive,
            evidence: "e".into(),
            points: Vec::new(),
            test: p.map(|(p, _)| crate::report::claims::Test { p, expected: true }),
            p_adjusted: p.map(|(_, a)| a),
            estimate: None,
            effect: None,
            seeds_needed: seeds.map(SeedsNeeded::About),
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
        let md = section(std::slice::from_ref(&v), 0.95, None);
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
        let md = section(std::slice::from_ref(&v), 0.95, None);
        assert!(
            md.contains("1 of its 3 inconclusive slice(s) show no effect"),
            "{md}"
        );
        assert!(md.contains("No test (undefined). The observed effect is zero or undefined: no number of seeds would settle it."), "{md}");
        v.slices[0].seeds_needed = Some(SeedsNeeded::OtherWay);
        v.slices[1].seeds_needed = Some(SeedsNeeded::NotBySeeds { run: 8 });
        v.slices[2].seeds_needed = Some(SeedsNeeded::About(30));
        let md = section(std::slice::from_ref(&v), 0.95, None);
        assert!(md.contains("Holm-adjusted p = 0.0600. The effect points the other way: more seeds would most likely make it fail."), "{md}");
        assert!(md.contains("The 8 seeds run are already as many as the observed effect asks for: more seeds at this effect size would not be expected to settle it."), "{md}");
        assert!(md.contains("1 of its 3 inconclusive slice(s) point the other way: more seeds would most likely make them fail. 1 of its 3 inconclusive slice(s) already ran the seeds"), "{md}");
        assert!(
            md.contains(
                "About 30 seeds per configuration would settle the other inconclusive slices."
            ),
            "{md}"
        );
        assert!(!md.contains("About 12 seeds"), "{md}");
        assert!(!md.contains(POOLED_COUNTS), "{md}");
        // Pooled, a count is of trials per group, and says so.
        v.claim.pool = true;
        let md = section(std::slice::from_ref(&v), 0.95, None);
        assert!(md.contains(POOLED_COUNTS), "{md}");
    }

    /// The Expected line names the axis, or both groups of a comparison,
    /// and says `differs` is two-sided; a `where` list reads "or". Catches
    /// the `than` group dropped (ten committed reports printed "is less
    /// than (α = 0.05)."), the groups swapped, and a list shown as one
    /// value.
    #[test]
    fn the_expected_line_names_both_groups() {
        let expected = |claim: &str| {
            let src = format!(
                "name = \"c\"\nseeds = 3\n[grid]\nwidth = [2, 8, 32]\nlr = [0.01, 0.1, 1.0]\n[[claims]]\nname = \"x\"\n{claim}"
            );
            let e = crate::study::from_str(&src, std::path::Path::new("s.toml"), &[]).unwrap();
            let c = &e.report.claims[0];
            let v = Verdict {
                claim: c.clone(),
                outcome: Outcome::Holds,
                slices: Vec::new(),
            };
            let md = claim_detail(&v, 0.95);
            md.lines()
                .find(|l| l.starts_with("Expected:"))
                .unwrap()
                .to_string()
        };
        assert_eq!(
            expected("expect = \"less_than\"\nthis = { width = 8 }\nthan = { width = 2 }\n"),
            "Expected: mean of train_loss of width=8 is less than that of width=2 (α = 0.05)."
        );
        assert_eq!(
            expected(
                "statistic = \"median\"\nexpect = \"differs\"\nthis = { width = 32 }\nthan = { width = 2 }\nwhere = { lr = [0.01, 0.1] }\n"
            ),
            "Expected: median of train_loss of width=32 differs from that of width=2, either way (two-sided) (α = 0.05; only lr=0.01 or 0.1)."
        );
        assert_eq!(
            expected("expect = \"differs\"\nalong = \"lr\"\n"),
            "Expected: mean of train_loss changes along `train.lr`, either way (two-sided) (α = 0.05)."
        );
        assert_eq!(
            expected("expect = \"decreasing\"\nalong = \"width\"\n"),
            "Expected: mean of train_loss is decreasing along `model.width` (α = 0.05)."
        );
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

    /// A slice whose group lost every trial says so in its point, its
    /// settle text and the claim's; a point that lost some says how many
    /// were left out. Catches the counts dropped from report.md and the
    /// "no effect" text shown for a group that never finished.
    #[test]
    fn lost_trials_are_stated() {
        use crate::report::claims::Point;
        let src = "name = \"c\"\nseeds = 8\n[grid]\nwidth = [2, 8]\n[[claims]]\nname = \"x\"\nexpect = \"less_than\"\nthis = { width = 8 }\nthan = { width = 2 }\n";
        let e = crate::study::from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
        let point = |label: &str, n, diverged| Point {
            label: label.into(),
            n,
            value: (n > 0).then_some(0.5),
            ci: None,
            trials: 8,
            diverged,
            failed: 0,
        };
        let v = Verdict {
            claim: e.report.claims[0].clone(),
            outcome: Outcome::Inconclusive,
            slices: vec![SliceVerdict {
                slice: "all".into(),
                outcome: Outcome::Inconclusive,
                evidence: "e".into(),
                points: vec![point("width=8", 5, 3), point("width=2", 0, 8)],
                test: None,
                p_adjusted: None,
                estimate: None,
                effect: None,
                seeds_needed: None,
            }],
        };
        let md = section(std::slice::from_ref(&v), 0.95, None);
        assert!(md.contains("width=8 0.5000 (3 of 8 trials diverged, left out); width=2 – (all 8 trials diverged)."), "{md}");
        assert!(
            md.contains("1 of its 1 inconclusive slice(s) cannot be judged"),
            "{md}"
        );
        assert!(
            md.contains(&format!("No test (undefined). {UNJUDGED}")),
            "{md}"
        );
    }
}
