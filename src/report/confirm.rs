//! The winner's curse, measured (`[search] confirm = k`): the search's
//! winner retrained on k fresh seeds, never used for selection.
//!
//! Input: the study, its full plan (the fresh seeds included, see
//! `study/confirm.rs`) and the stored records. Output: [`selection`], the
//! plan every other table is built from (the study's own seeds only, so the
//! ranking, the tuning curves and every other section are exactly what the
//! same study without `confirm` reports), and [`measure`], the section's
//! numbers.
//!
//! The score is the search's: the median over a configuration's finished
//! seeds of the metric the search ranks by (`report/search.rs`). The
//! selection score is the winner's median over its selection seeds, the
//! fresh score its median over the fresh seeds; the difference is
//! selection − fresh (DESIGN.md's winner's-curse bullet). Its interval is a
//! two-sample percentile bootstrap (`stats::two_sample_differences`: each
//! group resampled at its own size, independently) at `[report] level` with
//! `[report] bootstrap` replicates, from a ChaCha8 generator seeded by the
//! FNV-1a hash of a fixed name and the metric, like the other report
//! bootstraps. It covers the seeds' noise around the winner; it does not
//! redo the selection (the winner is held fixed).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::search::SearchSummary;
use crate::metric::Metric;
use crate::plan::Plan;
use crate::stats;
use crate::study::{Setting, Study, fnv1a};
use crate::train::TrialRecord;

/// The winner and its scores at selection and on fresh seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmed {
    /// The winner's configuration index.
    pub config: usize,
    /// Its swept settings.
    pub swept: Vec<(String, Setting)>,
    /// The metric the search ranks by.
    pub metric: Metric,
    /// The metric on each finished selection seed, in plan order.
    pub selection: Vec<f64>,
    /// The metric on each finished fresh seed, in seed order.
    pub fresh: Vec<f64>,
    /// The fresh seeds asked for (`confirm`).
    pub planned: usize,
    /// Fresh seeds stored that diverged or failed (in no score).
    pub lost: usize,
    /// Median of `selection`.
    pub selection_score: f64,
    /// Median of `fresh`; `None` before any fresh seed finished.
    pub fresh_score: Option<f64>,
    /// selection − fresh, with its bootstrap interval at `level`.
    pub difference: Option<(f64, Option<(f64, f64)>)>,
    /// `[report] level`.
    pub level: f64,
}

impl Confirmed {
    /// How much the selection score flattered the winner: selection −
    /// fresh, signed so that positive means the selection score looked
    /// better than the fresh one (lower for a loss, higher for an accuracy).
    pub fn optimism(&self) -> Option<f64> {
        let (d, _) = self.difference?;
        Some(if self.metric.higher_is_better() {
            d
        } else {
            -d
        })
    }
}

/// The plan without the fresh seeds (`None` without `confirm`): what every
/// table but this section is built from.
pub fn selection(exp: &Study, plan: &Plan) -> Option<Plan> {
    if exp.confirm() == 0 {
        return None;
    }
    let n = exp.selection_seeds();
    let mut sel = plan.clone();
    sel.trials.retain(|t| t.replicate < n);
    Some(sel)
}

/// The winner's configuration index: the search's best by its seed
/// median over the selection seeds; `None` for a grid study or before any
/// selection trial finished.
pub fn winner(exp: &Study, plan: &Plan, records: &[TrialRecord]) -> Option<usize> {
    let sel = selection(exp, plan)?;
    let s = super::search::summarise(exp, &sel, records)?;
    Some(s.configs[*s.order.first()?].config)
}

/// The section's numbers, from the search summary (built over the
/// selection seeds) and the full plan's fresh trials; `None` without
/// `confirm` or a winner.
pub fn measure(
    exp: &Study,
    plan: &Plan,
    records: &[TrialRecord],
    search: Option<&SearchSummary>,
) -> Option<Confirmed> {
    let planned = exp.confirm();
    let s = search.filter(|_| planned > 0)?;
    let best = &s.configs[*s.order.first()?];
    let by_id: std::collections::HashMap<&str, &TrialRecord> =
        records.iter().map(|r| (r.id.as_str(), r)).collect();
    let n = exp.selection_seeds();
    let stored: Vec<&TrialRecord> = plan
        .trials
        .iter()
        .filter(|t| t.config_index == best.config && t.replicate >= n)
        .filter_map(|t| by_id.get(t.id.as_str()).copied())
        .collect();
    let lost = stored.iter().filter(|r| r.finished().is_none()).count();
    let fresh: Vec<f64> = stored
        .iter()
        .filter(|r| r.finished().is_some())
        .filter_map(|r| r.value(s.metric, exp.report.target_acc))
        .filter(|v| v.is_finite())
        .collect();
    let fresh_score = stats::median(&fresh);
    let difference = fresh_score.map(|f| {
        let mut rng = ChaCha8Rng::seed_from_u64(fnv1a(
            format!("confirm\u{1f}{}", s.metric.name()).as_bytes(),
        ));
        let diffs = stats::two_sample_differences(
            &mut rng,
            (&best.seeds, &fresh),
            exp.report.bootstrap,
            stats::median,
        );
        (
            best.median - f,
            stats::percentile_interval(&diffs, exp.report.level),
        )
    });
    Some(Confirmed {
        config: best.config,
        swept: best.swept.clone(),
        metric: s.metric,
        selection: best.seeds.clone(),
        fresh,
        planned,
        lost,
        selection_score: best.median,
        fresh_score,
        difference,
        level: exp.report.level,
    })
}

/// `confirm.csv`: one row, the winner, with both scores, their seed
/// counts, the difference (selection − fresh) and its interval.
pub fn csv(c: &Confirmed) -> Vec<u8> {
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let (d, ci) = c.difference.map_or((None, None), |(d, ci)| (Some(d), ci));
    let row = [
        c.config.to_string(),
        crate::study::describe(&c.swept),
        c.metric.name().to_string(),
        "median".to_string(),
        c.selection.len().to_string(),
        c.fresh.len().to_string(),
        c.planned.to_string(),
        c.selection_score.to_string(),
        cell(c.fresh_score),
        cell(d),
        cell(ci.map(|i| i.0)),
        cell(ci.map(|i| i.1)),
        cell(c.optimism()),
    ];
    let quoted: Vec<String> = row
        .iter()
        .map(|s| {
            if s.contains([',', '"']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.clone()
            }
        })
        .collect();
    format!(
        "config,settings,metric,statistic,selection_seeds,fresh_seeds,fresh_planned,selection,fresh,difference,lo,hi,optimism\n{}\n",
        quoted.join(",")
    )
    .into_bytes()
}
