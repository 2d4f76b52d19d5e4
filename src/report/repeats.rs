//! The search's own variance (`[search] repeats = R`, Bouthillier et al.
//! 2021): each repeat's winner, the spread of the tuned result across
//! repeats, and how often each configuration and each region of the
//! space wins. Numbers only: `repeats.csv` and report.md's "Repeated
//! searches" section render them.
//!
//! A repeat's winner is the configuration the search ranks first among
//! that repeat's own draws, by the statistic the "Search" section ranks by
//! (the seed median, `search.rs`), within each setting of the other swept
//! axes. Its score is that median. The repeats share the replicate seeds,
//! so a configuration two repeats both pick scores the same in both: the
//! spread across repeats is the search's alone, given those seeds. The
//! interval of its standard deviation is a percentile bootstrap over the
//! repeats, from a stream seeded by the FNV-1a hash of a fixed name, the
//! metric and the slice, so the same records give the same bytes.

use polars::prelude::{Column, DataFrame};

use super::search::{ArmBest, ConfigStat, MAX_BINS, SearchKey, SearchSummary, arm_bests, slice_of};
use crate::metric::Metric;
use crate::stats;
use crate::study::{Arm, Dist, Setting, Study, fnv1a, short_float};

/// One repeat's winner.
#[derive(Debug, Clone, PartialEq)]
pub struct Winner {
    /// The repeat (0-based; search seed `seed + repeat`).
    pub repeat: usize,
    /// Index into the summary's `configs`.
    pub config: usize,
    /// Its score: the seed median of the ranked metric.
    pub score: f64,
}

/// How often the winners fall in one bin of one `[space]` key.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Bare key name (`lr`).
    pub key: String,
    /// The bin: `[0.001, 0.003)` for a numeric key, the value for a choice.
    pub bin: String,
    /// Winners in it.
    pub wins: usize,
}

/// The repeats within one setting of the other swept axes.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceRepeats {
    /// The other axes' settings, or `all`.
    pub slice: String,
    /// One per repeat with a finished configuration, in repeat order.
    pub winners: Vec<Winner>,
    /// Mean of the winners' scores.
    pub mean: f64,
    /// Sample variance (ddof 1) of the winners' scores; `None` below two.
    pub variance: Option<f64>,
    /// Its square root, with the bootstrap interval at `[report] level`.
    pub std: Option<(f64, Option<(f64, f64)>)>,
    /// The mean over the winners of their seeds' sample variance: one
    /// run's seed noise, beside the search's variance; `None` with one seed.
    pub seed_variance: Option<f64>,
    /// Distinct winning configurations (index into `configs` of the first
    /// repeat that chose it) and how many repeats chose it, most first
    /// (ties by first repeat).
    pub wins: Vec<(usize, usize)>,
    /// Per key, each bin the winners fall in, most wins first, keys in
    /// `[space]` order.
    pub regions: Vec<Region>,
    /// The same spread predicted from every repeat's draws pooled.
    pub predicted: Option<Predicted>,
}

/// The best of `n` of the `pool` pooled configurations, every n-subset
/// alike ([`stats::best_of_n_moments`]): what a search of `n` points finds
/// on average and its standard deviation, from all R·n draws at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Predicted {
    /// Configurations pooled (every repeat's, of this slice).
    pub pool: usize,
    /// A search's points (`samples`).
    pub n: usize,
    /// Expected best of n (the tuning curve's value at n).
    pub mean: f64,
    /// Standard deviation of the best of n over the subsets.
    pub std: f64,
}

/// The repeated searches of a study (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Repeats {
    /// The metric the search ranks by.
    pub metric: Metric,
    /// `[search] repeats`.
    pub repeats: usize,
    /// `[report] level`.
    pub level: f64,
    /// One per setting of the other swept axes, in plan order.
    pub slices: Vec<SliceRepeats>,
}

/// The repeats of a search summary; `None` without `repeats` above 1.
pub fn of(exp: &Study, s: &SearchSummary) -> Option<Repeats> {
    let search = exp.search.as_ref()?;
    if search.repeats < 2 {
        return None;
    }
    let repeat_of = |config: usize| search.repeat(*exp.coords(config).last()?).map(Arm::Block);
    let bests = arm_bests(&s.configs, &s.order, &s.keys, repeat_of);
    let mut slices: Vec<SliceRepeats> = Vec::new();
    for b in &bests {
        if !slices.iter().any(|x| x.slice == b.slice) {
            let of_slice: Vec<&ArmBest> = bests.iter().filter(|x| x.slice == b.slice).collect();
            let mut sl = slice(s, &b.slice, &of_slice, exp.report.bootstrap);
            // Under halving the medians are at different budgets: not
            // draws of one quantity, so nothing to pool.
            if exp.halving.is_none() {
                sl.predicted = predicted(s, &b.slice, search.samples);
            }
            slices.push(sl);
        }
    }
    Some(Repeats {
        metric: s.metric,
        repeats: search.repeats,
        level: s.level,
        slices,
    })
}

/// One slice's winners and what they say.
fn slice(s: &SearchSummary, name: &str, bests: &[&ArmBest], reps: usize) -> SliceRepeats {
    let winners: Vec<Winner> = bests
        .iter()
        .map(|b| Winner {
            repeat: match b.arm {
                Arm::Block(r) => r,
                Arm::Grid => unreachable!("repeats have no grid"),
            },
            config: b.best,
            score: s.configs[b.best].median,
        })
        .collect();
    let scores: Vec<f64> = winners.iter().map(|w| w.score).collect();
    let seed = fnv1a(format!("repeats-std\u{1f}{}\u{1f}{name}", s.metric.name()).as_bytes());
    let std = stats::std(&scores).map(|sd| {
        (
            sd,
            stats::bootstrap(&scores, stats::std, reps, s.level, seed),
        )
    });
    let seed_vars: Vec<f64> = winners
        .iter()
        .filter_map(|w| stats::std(&s.configs[w.config].seeds).map(|sd| sd * sd))
        .collect();
    SliceRepeats {
        slice: name.to_string(),
        mean: stats::mean(&scores),
        variance: std.map(|(sd, _)| sd * sd),
        std,
        seed_variance: (!seed_vars.is_empty()).then(|| stats::mean(&seed_vars)),
        wins: wins(&s.configs, &winners),
        regions: s
            .keys
            .iter()
            .flat_map(|k| regions(k, &s.configs, &winners))
            .collect(),
        winners,
        predicted: None,
    }
}

/// The spread of a search of `n` points predicted from the slice's pooled
/// configurations (their seed medians).
fn predicted(s: &SearchSummary, name: &str, n: usize) -> Option<Predicted> {
    let pool: Vec<f64> = s
        .configs
        .iter()
        .filter(|c| slice_of(&s.keys, c) == name)
        .map(|c| c.median)
        .collect();
    let (mean, var) = stats::best_of_n_moments(&pool, n, s.metric.higher_is_better())?;
    Some(Predicted {
        pool: pool.len(),
        n,
        mean,
        std: var.sqrt(),
    })
}

/// Distinct winning settings and their counts, most first, ties by the
/// first repeat that chose them.
fn wins(configs: &[ConfigStat], winners: &[Winner]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for w in winners {
        match out
            .iter_mut()
            .find(|(c, _)| configs[*c].swept == configs[w.config].swept)
        {
            Some(e) => e.1 += 1,
            None => out.push((w.config, 1)),
        }
    }
    // A stable sort keeps first-chosen order among equal counts.
    out.sort_by_key(|e| std::cmp::Reverse(e.1));
    out
}

/// The winners of `key`, counted per bin: [`MAX_BINS`] equally likely
/// bins of the key's distribution for a numeric key (equal widths in log
/// space for log keys), each value for a choice. Most wins first.
fn regions(key: &SearchKey, configs: &[ConfigStat], winners: &[Winner]) -> Vec<Region> {
    let mut out: Vec<(usize, Region)> = Vec::new();
    for w in winners {
        let Some(setting) = configs[w.config].setting(&key.key) else {
            continue;
        };
        let (order, bin) = bin_of(key, setting);
        match out.iter_mut().find(|(o, _)| *o == order) {
            Some((_, r)) => r.wins += 1,
            None => out.push((
                order,
                Region {
                    key: key.name().to_string(),
                    bin,
                    wins: 1,
                },
            )),
        }
    }
    out.sort_by(|a, b| b.1.wins.cmp(&a.1.wins).then(a.0.cmp(&b.0)));
    out.into_iter().map(|(_, r)| r).collect()
}

/// A setting's bin (its position, for ordering) and the bin's label.
fn bin_of(key: &SearchKey, setting: &Setting) -> (usize, String) {
    if let Dist::Choice(values) = &key.dist {
        let i = values
            .iter()
            .position(|v| Setting::from_value(v) == *setting)
            .unwrap_or(0);
        return (i, setting.to_string());
    }
    let x = super::search::numeric(Some(setting));
    let p = key.position(x).unwrap_or(0.0);
    let j = ((p * MAX_BINS as f64).floor() as usize).min(MAX_BINS - 1);
    let (a, b) = key.bounds().expect("numeric");
    let edge = |u: f64| {
        if key.is_log() {
            (a.ln() + u * (b.ln() - a.ln())).exp()
        } else {
            a + u * (b - a)
        }
    };
    let k = MAX_BINS as f64;
    let close = if j + 1 == MAX_BINS { "]" } else { ")" };
    let label = format!(
        "[{}, {}{close}",
        short_float(edge(j as f64 / k)),
        short_float(edge((j + 1) as f64 / k))
    );
    (j, label)
}

/// `repeats.csv`: one row per (slice, repeat) winner, columns `slice`,
/// `repeat`, `config` (as summary.csv), each `[space]` key's setting,
/// `metric` and `score` (the winner's seed median) and `seeds`.
pub fn frame(r: &Repeats, s: &SearchSummary) -> anyhow::Result<DataFrame> {
    let rows = || {
        r.slices
            .iter()
            .flat_map(|sl| sl.winners.iter().map(move |w| (sl, w)))
    };
    let height = rows().count();
    let mut cols = vec![
        Column::new(
            "slice".into(),
            rows().map(|(sl, _)| sl.slice.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "repeat".into(),
            rows().map(|(_, w)| w.repeat as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "config".into(),
            rows()
                .map(|(_, w)| s.configs[w.config].config as u64)
                .collect::<Vec<_>>(),
        ),
    ];
    for k in &s.keys {
        // Exact values (shortest round trip), as trials.csv keeps them.
        let exact = |st: Option<&Setting>| match st {
            Some(Setting::Float(x)) => x.to_string(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        cols.push(Column::new(
            k.name().into(),
            rows()
                .map(|(_, w)| exact(s.configs[w.config].setting(&k.key)))
                .collect::<Vec<_>>(),
        ));
    }
    cols.push(Column::new(
        "metric".into(),
        rows().map(|_| r.metric.name()).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "score".into(),
        rows().map(|(_, w)| w.score).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "seeds".into(),
        rows()
            .map(|(_, w)| s.configs[w.config].seeds.len() as u64)
            .collect::<Vec<_>>(),
    ));
    Ok(DataFrame::new(height, cols)?)
}

#[cfg(test)]
mod tests;
