//! report.md's "Search" section, for random and Sobol searches: the best
//! configurations with intervals, border warnings, and what mattered.

use super::number;
use crate::report::percent;
use crate::report::search::{BORDER, SearchSummary};
use crate::study::{Arm, Setting, short_float};

/// The section, or nothing for a grid study.
pub fn section(s: Option<&SearchSummary>, swept: &[String]) -> String {
    let Some(s) = s else {
        return String::new();
    };
    let metric = s.metric.name().replace('_', " ");
    let level = percent(s.level);
    let mut md = intro(s, &metric, &level);
    md.push_str(&best_table(s, swept, &metric, &level));
    md.push_str(&borders(s));
    md.push_str(&arms(s, swept, &metric));
    md.push_str(&importance(s, &level));
    md
}

/// The heading and how configurations are ranked.
fn intro(s: &SearchSummary, metric: &str, level: &str) -> String {
    let better = if s.metric.higher_is_better() {
        "higher"
    } else {
        "lower"
    };
    let mut md = format!(
        "\n## Search\n\n\
         Configurations are ranked by the median over their finished seeds of the final {metric} \
         ({}; {better} is better, ties in plan order). Brackets: {level} percentile bootstrap \
         intervals of the median ({} resamples of each configuration's seeds).\n\n",
        if s.from_claim {
            "the first claim's metric"
        } else {
            "the default statistic"
        },
        s.reps
    );
    if let Some((epochs, n)) = crate::report::search::top_budget(&s.configs) {
        md.push_str(&format!(
            "Successive halving stopped configurations at different budgets: the {n} trained to \
             the highest budget reached ({epochs} epochs) rank first, among themselves; the rest \
             follow by budget (column `epochs`), their medians taken at fewer epochs.\n\n"
        ));
    }
    md
}

/// "The best k of n configurations": their settings, medians and IQRs.
fn best_table(s: &SearchSummary, swept: &[String], metric: &str, level: &str) -> String {
    let mut md = format!(
        "### The best {} of {} configurations\n\n",
        s.top.len(),
        s.configs.len()
    );
    let halving = s.configs.iter().any(|c| c.epochs.is_some());
    let mut header = vec!["rank".to_string(), "config".to_string()];
    header.extend(swept.iter().cloned());
    if halving {
        header.push("epochs".to_string());
    }
    header.extend([
        "n".to_string(),
        format!("median {metric} [{level}]"),
        "IQR".to_string(),
    ]);
    md.push_str(&format!("| {} |\n", header.join(" | ")));
    let align: Vec<&str> = (0..header.len())
        .map(|i| {
            if (2..2 + swept.len()).contains(&i) {
                "---"
            } else {
                "---:"
            }
        })
        .collect();
    md.push_str(&format!("|{}|\n", align.join("|")));
    for (rank, (i, interval)) in s.top.iter().enumerate() {
        let c = &s.configs[*i];
        let mut row = vec![(rank + 1).to_string(), c.config.to_string()];
        row.extend(c.swept.iter().map(|(_, v)| show(v)));
        if halving {
            row.push(c.epochs.map_or("–".into(), |e| e.to_string()));
        }
        row.push(c.seeds.len().to_string());
        row.push(match interval {
            Some((lo, hi)) => format!("{} [{}, {}]", number(c.median), number(*lo), number(*hi)),
            None => number(c.median),
        });
        row.push(number(c.quartiles.1 - c.quartiles.0));
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}

/// Warnings for a best value near the end of its range.
fn borders(s: &SearchSummary) -> String {
    let mut md = String::new();
    for b in &s.borders {
        let (a, z) = b.bounds;
        let (end, edge) = if b.low { ("lowest", a) } else { ("highest", z) };
        md.push_str(&format!(
            "\n> **At the border:** the best configuration's `{}` = {} lies in the {end} {:.0}% of its \
             range [{}, {}]{}: the best value may lie {} {}. Widen the range past that end \
             (`mlpsweep refine` keeps it inside).\n",
            short(&b.key),
            show(&b.value),
            100.0 * BORDER,
            number_short(a),
            number_short(z),
            if b.log { " (in log space)" } else { "" },
            if b.low { "below" } else { "above" },
            number_short(edge),
        ));
    }
    md
}

/// "What mattered": each key's share of the variance of the medians.
fn importance(s: &SearchSummary, level: &str) -> String {
    let mut md = format!(
        "\n### What mattered\n\n\
         The importance of a key is the share of the variance of the configurations' medians its \
         main effect explains: ε² = (SS_between − (B − 1)·MS_within)/SS_total of the medians \
         grouped into B bins of the key (one bin per choice; numeric keys in up to {} bins of \
         equal counts by rank), clamped to [0, 1], so a key without effect scores about 0. \
         Shares need not add up to 100%: the rest is interactions and seed noise. Brackets: \
         {level} percentile bootstrap intervals ({} resamples of the seeds within every \
         configuration, medians and shares recomputed). Method: `docs/reports.md`.\n\n\
         | key | distribution | bins | importance [{level}] |\n|---|---|---:|---:|\n",
        crate::report::search::MAX_BINS,
        s.reps
    );
    let mut keys: Vec<usize> = (0..s.keys.len()).collect();
    keys.sort_by(|&a, &b| {
        let v = |i: usize| s.importance[i].share.unwrap_or(-1.0);
        v(b).total_cmp(&v(a))
    });
    for i in keys {
        let (k, imp) = (&s.keys[i], &s.importance[i]);
        let cell = match (imp.share, imp.interval) {
            (Some(x), Some((lo, hi))) => {
                format!("{:.0}% [{:.0}%, {:.0}%]", 100.0 * x, 100.0 * lo, 100.0 * hi)
            }
            (Some(x), None) => format!("{:.0}%", 100.0 * x),
            _ => "–".into(),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {cell} |\n",
            k.name(),
            k.dist.describe(),
            imp.bins
        ));
    }
    md
}

/// "What each search found": with `[search] blocks`, each block's and the
/// grid's best configuration, ranked as above; nothing otherwise.
fn arms(s: &SearchSummary, swept: &[String], metric: &str) -> String {
    if s.arm_bests.is_empty() {
        return String::new();
    }
    let sliced = s.arm_bests.iter().any(|a| a.slice != "all");
    let mut md = format!(
        "\n### What each search found\n\n\
         Each block of the random draws is a search of its own; each block and the grid find \
         their best configuration by the ranking above (a `best_of_block` claim compares \
         them).\n\n| {}search | config | {} | n | median {metric} | IQR |\n|{}---|---:|{}---:|---:|---:|\n",
        if sliced { "slice | " } else { "" },
        swept.join(" | "),
        if sliced { "---|" } else { "" },
        "---|".repeat(swept.len()),
    );
    for a in &s.arm_bests {
        let c = &s.configs[a.best];
        let arm = match a.arm {
            Arm::Block(b) => format!("block {b}"),
            Arm::Grid => "grid".to_string(),
        };
        let settings: Vec<String> = c.swept.iter().map(|(_, v)| show(v)).collect();
        let slice = if sliced {
            format!("{} | ", a.slice)
        } else {
            String::new()
        };
        md.push_str(&format!(
            "| {slice}{arm} | {} | {} | {} | {} | {} |\n",
            c.config,
            settings.join(" | "),
            c.seeds.len(),
            number(c.median),
            number(c.quartiles.1 - c.quartiles.0),
        ));
    }
    md
}

fn short(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// A setting as the tables show it: floats to 4 significant digits.
fn show(v: &Setting) -> String {
    match v {
        Setting::Float(x) => short_float(*x),
        other => other.to_string(),
    }
}

fn number_short(x: f64) -> String {
    short_float(x)
}
