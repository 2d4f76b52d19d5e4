//! The statistic at a setting or group ([`Point`]): from the trials'
//! values with a seeded bootstrap interval, or a configuration-level value
//! (`share`, `ensemble`, `ensemble_gain`); and `tune`'s pick of the best
//! setting of a key within each group.

use super::{Point, Row, sample, stat_of_sample};
use crate::stats;
use crate::study::{ClaimSpec, ReportSpec, Setting, Statistic, fnv1a};

/// `tune`: within each combination of the other swept keys, keep only the
/// setting of `key` with the best mean metric (highest when `higher`, else
/// lowest), as if that setting had been tuned for the group.
pub(super) fn best_of<'a, 'r>(rows: &[&'a Row<'r>], key: &str, higher: bool) -> Vec<&'a Row<'r>> {
    let rest = |r: &Row| -> Vec<(String, Setting)> {
        r.swept.iter().filter(|(k, _)| k != key).cloned().collect()
    };
    let value = |r: &Row| {
        r.swept
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let mut groups: Vec<Vec<(String, Setting)>> = Vec::new();
    for r in rows {
        let g = rest(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let mut keep = Vec::new();
    for g in groups {
        let members: Vec<&'a Row<'r>> = rows.iter().copied().filter(|r| rest(r) == g).collect();
        let mut settings: Vec<Setting> = Vec::new();
        for r in &members {
            if let Some(v) = value(r)
                && !settings.contains(&v)
            {
                settings.push(v);
            }
        }
        let score = |s: &Setting| {
            let xs: Vec<f64> = members
                .iter()
                .filter(|r| value(r).as_ref() == Some(s))
                .filter_map(|r| r.value)
                .collect();
            (!xs.is_empty()).then(|| stats::mean(&xs))
        };
        let best = settings
            .iter()
            .filter_map(|s| score(s).map(|m| (s.clone(), m)))
            .reduce(|a, b| {
                let better = if higher { b.1 > a.1 } else { b.1 < a.1 };
                if better { b } else { a }
            });
        match best {
            Some((s, _)) => keep.extend(
                members
                    .into_iter()
                    .filter(|r| value(r).as_ref() == Some(&s)),
            ),
            // No setting finished: keep them all, so the group's lost
            // trials are counted rather than the group vanishing.
            None => keep.extend(members),
        }
    }
    keep
}

pub(super) fn seed(claim: &ClaimSpec, slice: &str, group: &str) -> u64 {
    fnv1a(format!("{}\u{1f}{slice}\u{1f}{group}", claim.name).as_bytes())
}

pub(super) fn point(
    claim: &ClaimSpec,
    spec: &ReportSpec,
    slice: &str,
    label: String,
    rows: &[&Row],
) -> (Point, Vec<f64>) {
    if claim.statistic == Statistic::Share {
        return (share_point(label, rows), Vec::new());
    }
    if claim.statistic == Statistic::Ensemble {
        let value = |r: &Row| r.ensemble.map(|e| (e, None));
        return (config_point(label, rows, value), Vec::new());
    }
    if claim.statistic == Statistic::EnsembleGain {
        let value = |r: &Row| r.gain.map(|g| (g.gain, g.ci));
        return (config_point(label, rows, value), Vec::new());
    }
    let xs = sample(claim.statistic, rows);
    let value = stat_of_sample(claim.statistic, &xs);
    let ci = stats::bootstrap(
        &xs,
        |s| stat_of_sample(claim.statistic, s),
        spec.bootstrap,
        spec.level,
        seed(claim, slice, &label),
    );
    (Point::of(label, rows, xs.len(), value, ci), xs)
}

/// A `share` claim's point: the variance share of the one configuration
/// at this setting, with its bootstrap interval over the sources' seeds
/// (`report::variance`). Undefined when the setting pools several
/// configurations (a share is not averaged across them) or none was
/// decomposed.
fn share_point(label: String, rows: &[&Row]) -> Point {
    config_point(label, rows, |r| r.share)
}

/// The point of a configuration-level value (`share`, `ensemble`,
/// `ensemble_gain`): the
/// value of the one configuration at this setting, with its interval if
/// any. Undefined when the setting pools several configurations (such a
/// value is not averaged across them) or the configuration has none.
fn config_point(
    label: String,
    rows: &[&Row],
    value: impl Fn(&Row) -> Option<(f64, Option<(f64, f64)>)>,
) -> Point {
    let one_config = rows.windows(2).all(|w| w[0].config == w[1].config);
    let share = rows.first().and_then(|r| value(r)).filter(|_| one_config);
    let n = rows.iter().filter(|r| r.finished()).count();
    Point::of(label, rows, n, share.map(|s| s.0), share.and_then(|s| s.1))
}
