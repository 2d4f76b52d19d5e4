//! Which trials a claim judges together: its `where` and `tune`, then one
//! slice per combination of the swept keys it does not name.

use super::Row;
use super::points::best_of;
use crate::study::{ClaimSpec, Setting, matches};

/// The slices of `claim` over `rows`: its `where`, `tune`, then one group
/// per combination of the swept keys it does not name (all pooled with
/// `pool = true`). `report/settle.rs` reads the configurations of each.
pub(crate) fn claim_slices<'a, 'r>(
    claim: &ClaimSpec,
    axes_keys: &[Vec<String>],
    rows: &'a [Row<'r>],
) -> Vec<(Selection, Vec<&'a Row<'r>>)> {
    let rows: Vec<&'a Row<'r>> = rows
        .iter()
        .filter(|r| matches(r.swept, &claim.filter))
        .collect();
    let rows = match &claim.tune {
        Some(key) => best_of(&rows, key, claim.metric.higher_is_better()),
        None => rows,
    };
    // A key `where` pins to one value labels no slice; one it
    // lists several values of still slices like any other.
    let mut exclude: Vec<String> = claim
        .filter
        .iter()
        .filter(|(_, vs)| vs.len() == 1)
        .map(|(k, _)| k.clone())
        .collect();
    exclude.extend(claim.tune.iter().cloned());
    let group_keys: Vec<String> = match &claim.along {
        // The arms are positions on the search axis, the innermost.
        None if claim.compares_arms() => axes_keys.last().cloned().unwrap_or_default(),
        Some(a) => axes_keys
            .iter()
            .find(|ks| ks.contains(a))
            .cloned()
            .unwrap_or_else(|| vec![a.clone()]),
        // A group key on a zip axis brings its partners: they vary
        // with it, so they cannot define slices.
        None => claim
            .this
            .iter()
            .flat_map(|(k, _)| {
                axes_keys
                    .iter()
                    .find(|ks| ks.contains(k))
                    .cloned()
                    .unwrap_or_else(|| vec![k.clone()])
            })
            .collect(),
    };
    exclude.extend(group_keys.iter().cloned());
    slices(&rows, &exclude, claim.pool)
}

/// Group rows by the settings of every swept key except `exclude`.
/// Settings that pick out a group of trials, as (canonical key, value).
pub(crate) type Selection = Vec<(String, Setting)>;

fn slices<'a, 'r>(
    rows: &[&'a Row<'r>],
    exclude: &[String],
    pool: bool,
) -> Vec<(Selection, Vec<&'a Row<'r>>)> {
    let mut out: Vec<(Selection, Vec<&Row>)> = Vec::new();
    for r in rows {
        let key: Vec<(String, Setting)> = if pool {
            Vec::new()
        } else {
            r.swept
                .iter()
                .filter(|(k, _)| !exclude.contains(k))
                .cloned()
                .collect()
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(*r),
            None => out.push((key, vec![*r])),
        }
    }
    out
}
