//! `[settle]`: sequential seeds. The study's seeds are trained as usual;
//! then, in rounds of `round` seeds (the next seed numbers), only the
//! configurations an open claim slice compares get more, until every slice
//! is settled, futile, or at `max_seeds`. Only the settings are read here;
//! the decisions are the `settle` module, a layer above.

use toml::Value;

use super::error::{KeyError, key_err};
use super::replicates::Replication;
use super::sections::SETTLE;
use super::values::{number_in, uint};

/// `[settle]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settle {
    /// The seeds of each configuration at the cap (the study's own seeds
    /// included).
    pub max_seeds: usize,
    /// Seeds added per round to each configuration still compared.
    pub round: usize,
    /// Exponent ρ of the α-spending function α·t^ρ (3: close to
    /// O'Brien–Fleming, little spent early; 1: close to Pocock).
    pub rho: f64,
    /// The seeds a round may add, in order: the next seed numbers after the
    /// study's largest seed, up to `max_seeds` in all.
    pub extra: Vec<u64>,
}

/// Read `[settle]` (`None` without one). `claims` is the number of the
/// study's claims and `halving` whether it has `[search.halving]`: settle
/// serves claims and refuses halving, whose rungs rank rather than judge.
pub fn parse(
    v: Option<&Value>,
    replication: &Replication,
    claims: usize,
    halving: bool,
) -> Result<Option<Settle>, KeyError> {
    let Some(t) = SETTLE.table(v)? else {
        return Ok(None);
    };
    let Replication::Seeds(seeds) = replication else {
        return Err(key_err(
            "settle",
            "adds seeds to configurations, so it needs `seeds`, not a [replicates] table",
        ));
    };
    if halving {
        return Err(key_err(
            "settle",
            "cannot be combined with [search.halving] (halving ranks configurations, settle judges claims)",
        ));
    }
    if claims == 0 {
        return Err(key_err(
            "settle",
            "adds seeds where a claim is still open, and this study has no [[claims]]",
        ));
    }
    let base = seeds.len();
    let max_seeds = match t.raw("max_seeds") {
        None => {
            return Err(key_err(
                "settle.max_seeds",
                "missing: settle needs max_seeds, the seeds per configuration at the cap",
            ));
        }
        Some(v) => uint(v, base + 1, 100_000).map_err(|m| {
            key_err(
                "settle.max_seeds",
                format!("{m} (the cap must be above the study's {base} seeds)"),
            )
        })?,
    };
    let round = match t.raw("round") {
        None => base.min(max_seeds - base),
        Some(v) => uint(v, 1, max_seeds - base).map_err(|m| {
            key_err(
                "settle.round",
                format!("{m} (seeds added per round, at most max_seeds − seeds)"),
            )
        })?,
    };
    let rho = match t.raw("rho") {
        None => 3.0,
        Some(v) => number_in(v, |x| (0.1..=20.0).contains(&x), "an exponent in [0.1, 20]")
            .map_err(|m| key_err("settle.rho", m))?,
    };
    let next = seeds.iter().copied().max().unwrap_or(0) + 1;
    let extra = (next..).take(max_seeds - base).collect();
    Ok(Some(Settle {
        max_seeds,
        round,
        rho,
        extra,
    }))
}
