//! report.md's "Repeated searches" section: each repeat's winner, the
//! spread of the tuned result across repeats beside one run's seed noise,
//! whether the winner is stable, and where in the space the winners lie.

use super::number;
use crate::report::percent;
use crate::report::repeats::{Repeats, SliceRepeats};
use crate::report::search::SearchSummary;
use crate::study::describe;

/// The section, or nothing without repeats.
pub fn section(r: Option<&Repeats>, s: Option<&SearchSummary>) -> String {
    let (Some(r), Some(s)) = (r, s) else {
        return String::new();
    };
    let metric = r.metric.name().replace('_', " ");
    let best = if r.metric.higher_is_better() {
        "highest"
    } else {
        "lowest"
    };
    let mut md = format!(
        "\n## Repeated searches\n\n\
         {} independent searches of the same space and budget, repeat r drawn with search seed \
         `seed + r` (Bouthillier et al. 2021: the search is itself a source of variance). A \
         repeat's winner is the configuration it ranks first among its own draws, by the median \
         of its final {metric} over its finished seeds ({best} is best); its score is that \
         median. The repeats share the replicate seeds, so the spread of the winners' scores is \
         the search's own, given those seeds. Brackets: {} percentile bootstrap interval over the \
         repeats. Method: `docs/reports.md`.\n\n",
        r.repeats,
        percent(r.level),
    );
    for sl in &r.slices {
        if sl.slice != "all" {
            md.push_str(&format!("### {}\n\n", sl.slice));
        }
        md.push_str(&winners(sl, s, &metric));
        md.push_str(&spread(sl, r.repeats, s));
        md.push_str(&regions(sl));
    }
    md
}

/// The winners' table.
fn winners(sl: &SliceRepeats, s: &SearchSummary, metric: &str) -> String {
    let mut md =
        format!("| repeat | winner | {metric} (seed median) | seeds |\n|---|---|---|---|\n");
    for w in &sl.winners {
        let c = &s.configs[w.config];
        md.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            w.repeat,
            searched(c, s),
            number(w.score),
            c.seeds.len()
        ));
    }
    md.push('\n');
    md
}

/// `lr=0.01 l2=1e-4`: the searched keys of a configuration.
fn searched(c: &crate::report::search::ConfigStat, s: &SearchSummary) -> String {
    let keys: Vec<(String, crate::study::Setting)> = c
        .swept
        .iter()
        .filter(|(k, _)| s.keys.iter().any(|x| x.key == *k))
        .cloned()
        .collect();
    describe(&keys)
}

/// The spread of the tuned result and the stability line.
fn spread(sl: &SliceRepeats, repeats: usize, s: &SearchSummary) -> String {
    let n = sl.winners.len();
    let mut md = String::new();
    match sl.std {
        Some((sd, interval)) => {
            let band = interval.map_or(String::new(), |(lo, hi)| {
                format!(" [{}, {}]", number(lo), number(hi))
            });
            md.push_str(&format!(
                "- Tuned result across the {n} repeats: mean {}, standard deviation {}{band}, \
                 variance {}.\n",
                number(sl.mean),
                number(sd),
                number(sd * sd)
            ));
        }
        None => md.push_str(&format!(
            "- Tuned result: {} (one repeat finished: no spread yet).\n",
            number(sl.mean)
        )),
    }
    if let (Some(v), Some(seed)) = (sl.variance, sl.seed_variance) {
        // The scores are medians of n seeds: set the search's variance
        // beside one run's and beside that of a mean of n runs (v/n).
        let n_seeds = sl
            .winners
            .iter()
            .map(|w| s.configs[w.config].seeds.len() as f64)
            .sum::<f64>()
            / n as f64;
        let ratio = if seed > 0.0 {
            format!(
                "; the search's variance is {}× one run's and {}× that of a mean of {} runs ({})",
                number(v / seed),
                number(v * n_seeds / seed),
                if n_seeds.fract() == 0.0 {
                    format!("{n_seeds}")
                } else {
                    number(n_seeds)
                },
                number(seed / n_seeds)
            )
        } else {
            String::new()
        };
        md.push_str(&format!(
            "- One run's seed noise beside it: one seed's result of a winner varies with \
             variance {} (the mean over the winners of their seeds' sample variance){ratio}.\n",
            number(seed)
        ));
    }
    if let Some(p) = &sl.predicted {
        md.push_str(&format!(
            "- Predicted from every repeat's draws pooled ({} configurations; each {}-subset \
             alike, the tuning curve's weights on the scores and their squares): a search of {} \
             points finds {} on average, with standard deviation {}.\n",
            p.pool,
            p.n,
            p.n,
            number(p.mean),
            number(p.std)
        ));
    }
    md.push_str(&format!("- {}\n", stability(sl, repeats, s)));
    md
}

/// "The same configuration won 7 of 10 repeats (lr=…)."
fn stability(sl: &SliceRepeats, repeats: usize, s: &SearchSummary) -> String {
    let n = sl.winners.len();
    let unfinished = if n < repeats {
        format!(
            " ({} of {repeats} repeats have a finished configuration)",
            n
        )
    } else {
        String::new()
    };
    match sl.wins.first() {
        Some(&(c, k)) if k > 1 => format!(
            "The same configuration won {k} of {n} repeats ({}); {} distinct configurations won \
             in all{unfinished}.",
            searched(&s.configs[c], s),
            sl.wins.len()
        ),
        _ => format!(
            "No configuration won twice: the {n} repeats chose {n} different configurations{unfinished}."
        ),
    }
}

/// Where the winners lie: per key, each bin with its wins.
fn regions(sl: &SliceRepeats) -> String {
    let n = sl.winners.len();
    let mut keys: Vec<&str> = Vec::new();
    for r in &sl.regions {
        if !keys.contains(&r.key.as_str()) {
            keys.push(&r.key);
        }
    }
    let mut md = format!(
        "\nWhere the winners lie (each numeric key's range cut into {} equally likely bins of \
         its distribution):\n\n| key | bins (wins of {n}) |\n|---|---|\n",
        crate::report::search::MAX_BINS
    );
    for k in keys {
        let cells: Vec<String> = sl
            .regions
            .iter()
            .filter(|r| r.key == k)
            .map(|r| format!("{}: {}", r.bin, r.wins))
            .collect();
        md.push_str(&format!("| `{k}` | {} |\n", cells.join("; ")));
    }
    md.push('\n');
    md
}
