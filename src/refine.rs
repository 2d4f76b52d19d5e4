//! `mlpsweep refine`: coarse to fine. Reads a search's results folder,
//! ranks its configurations by the search report's statistic
//! ([`crate::report::search`]) and writes a study whose `[space]` ranges
//! are narrowed to the span of the best K configurations' values,
//! everything else kept and the name suffixed `_refined`.
//!
//! A numeric key's new range: the top K's values span [lo, hi] (in log
//! space for log keys); pad it by [`PAD`] of that span on each side (of
//! the old range's span when the values are all equal), clamp to the old
//! range, and map back. Real bounds are then rounded outward to 3
//! significant digits (and clamped again), integer bounds to the integers
//! outside them; an integer range that closes to one value is opened by
//! one step inside the old range. A choice keeps the values the top K use,
//! in the old order.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use toml::{Table, Value};

use crate::plan::Plan;
use crate::report::search::{self, SearchKey, numeric};
use crate::store::ResultsDir;
use crate::study::{self, Dist, Setting};

/// Padding on each side, as a share of the top K's span.
pub const PAD: f64 = 0.1;

/// Write the refined study of results folder `dir` to `out` (default
/// `dir/<name>_refined.toml`) and return its path, with a sentence on
/// which configurations it narrowed around.
pub fn refine(dir: &Path, top: usize, out: Option<PathBuf>) -> Result<(PathBuf, String)> {
    let results = ResultsDir::new(dir);
    let exp = results.load_study()?;
    let Some(search) = exp.search.as_ref() else {
        bail!(
            "{}: study `{}` is a grid, not a search; refine narrows the [space] of a study with [search] strategy = \"random\" or \"sobol\"",
            dir.join("study.toml").display(),
            exp.name
        );
    };
    if top == 0 {
        bail!("--top 0: refine needs at least one configuration to narrow around");
    }
    let plan = Plan::new(&exp)?;
    let records = results.read_records()?;
    // Ranked on the selection seeds, as the report ranks (a winner's fresh seeds left out).
    let selection = crate::report::confirm::selection(&exp, &plan);
    let summary = search::summarise(&exp, selection.as_ref().unwrap_or(&plan), &records);
    // In a halving study only the configurations of the highest budget
    // are comparable: the top K come from them alone.
    let (n, budget) = match summary
        .as_ref()
        .map(|s| (s.configs.len(), search::top_budget(&s.configs)))
    {
        Some((_, Some((epochs, n)))) => (
            n,
            format!(" trained to the highest budget reached ({epochs} epochs)"),
        ),
        Some((n, None)) => (n, String::new()),
        None => (0, String::new()),
    };
    let Some(summary) = summary.filter(|_| n >= top) else {
        bail!(
            "--top {top}: {} has {n} configurations with a finished seed{budget}; choose K from 1 to {n}",
            dir.display()
        );
    };
    let best: Vec<&search::ConfigStat> = summary.order[..top]
        .iter()
        .map(|&i| &summary.configs[i])
        .collect();
    let mut space = Table::new();
    for (key, path) in summary.keys.iter().zip(&search.paths) {
        let values: Vec<&Setting> = best.iter().filter_map(|c| c.setting(&key.key)).collect();
        let name = path.strip_prefix("space.").unwrap_or(path);
        space.insert(name.to_string(), dist_value(&narrow(key, &values)));
    }
    let mut doc: Table = results
        .study_text()?
        .parse()
        .context("study.toml of the results folder")?;
    let name = format!("{}_refined", exp.name);
    doc.insert("name".into(), Value::String(name.clone()));
    doc.insert("space".into(), Value::Table(space));
    // A halving reference is the full grid of the old space: the refined
    // configurations are not in it, so the refined study drops it.
    if let Some(Value::Table(search)) = doc.get_mut("search")
        && let Some(Value::Table(h)) = search.get_mut("halving")
    {
        h.remove("reference");
        h.remove("max_share");
    }
    let text = toml::to_string(&doc).expect("a TOML table serialises");
    let out = out.unwrap_or_else(|| dir.join(format!("{name}.toml")));
    // The refined study must load as it is written.
    study::from_str(&text, &out, &[]).map_err(|e| anyhow::anyhow!("refined study: {e}"))?;
    std::fs::write(&out, text).with_context(|| format!("writing {}", out.display()))?;
    let basis = format!(
        "narrowed around the best {top} of {n} configurations{budget}, by the median {}",
        summary.metric
    );
    Ok((out, basis))
}

/// The narrowed distribution of `key` around `values` (see the module docs).
pub fn narrow(key: &SearchKey, values: &[&Setting]) -> Dist {
    let (a, b) = match &key.dist {
        Dist::Choice(choices) => {
            return Dist::Choice(
                choices
                    .iter()
                    .filter(|c| values.contains(&&Setting::from_value(c)))
                    .cloned()
                    .collect(),
            );
        }
        _ => key.bounds().expect("numeric"),
    };
    type Map = fn(f64) -> f64;
    let (to, from): (Map, Map) = if key.is_log() {
        (f64::ln, f64::exp)
    } else {
        (|x| x, |x| x)
    };
    let ts: Vec<f64> = values.iter().map(|v| to(numeric(Some(v)))).collect();
    let (lo, hi) = ts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(p, q), t| {
            (p.min(*t), q.max(*t))
        });
    let pad = if hi > lo {
        PAD * (hi - lo)
    } else {
        PAD * (to(b) - to(a))
    };
    let lo = from((lo - pad).max(to(a))).max(a);
    let hi = from((hi + pad).min(to(b))).min(b);
    match key.dist {
        Dist::Uniform(..) | Dist::LogUniform(..) => {
            let (lo, hi) = (round3(lo, false).max(a), round3(hi, true).min(b));
            if matches!(key.dist, Dist::Uniform(..)) {
                Dist::Uniform(lo, hi)
            } else {
                Dist::LogUniform(lo, hi)
            }
        }
        _ => {
            let (a, b) = (a as i64, b as i64);
            let (mut lo, mut hi) = (
                (lo.floor() as i64).clamp(a, b),
                (hi.ceil() as i64).clamp(a, b),
            );
            if lo == hi {
                if hi < b {
                    hi += 1;
                } else {
                    lo -= 1;
                }
            }
            if matches!(key.dist, Dist::IntUniform(..)) {
                Dist::IntUniform(lo, hi)
            } else {
                Dist::IntLogUniform(lo, hi)
            }
        }
    }
}

/// `x` rounded to 3 significant digits, up or down (never toward it from
/// the wrong side): 0.012345 → 0.0123 down, 0.0124 up.
pub fn round3(x: f64, up: bool) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let s = format!("{x:.2e}");
    let (m, e) = s.split_once('e').expect("scientific notation");
    let (m, e): (f64, i32) = (m.parse().expect("mantissa"), e.parse().expect("exponent"));
    let mut digits = (m * 100.0).round() as i64;
    let value = |d: i64| -> f64 { format!("{d}e{}", e - 2).parse().expect("a decimal") };
    // Within float noise of x is x itself: 0.01 + 0.07 is 0.08, not 0.0801.
    let off = |d: i64| (value(d) - x).abs() > 1e-12 * x.abs();
    if up && value(digits) < x && off(digits) {
        digits += 1;
    }
    if !up && value(digits) > x && off(digits) {
        digits -= 1;
    }
    value(digits)
}

/// A distribution as its `[space]` entry, `{ log_uniform = [a, b] }`.
fn dist_value(d: &Dist) -> Value {
    let (name, arg) = match d {
        Dist::Uniform(a, b) => ("uniform", vec![Value::Float(*a), Value::Float(*b)]),
        Dist::LogUniform(a, b) => ("log_uniform", vec![Value::Float(*a), Value::Float(*b)]),
        Dist::IntUniform(a, b) => ("int_uniform", vec![Value::Integer(*a), Value::Integer(*b)]),
        Dist::IntLogUniform(a, b) => (
            "int_log_uniform",
            vec![Value::Integer(*a), Value::Integer(*b)],
        ),
        Dist::Choice(v) => ("choice", v.clone()),
    };
    let mut t = Table::new();
    t.insert(name.into(), Value::Array(arg));
    Value::Table(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(dist: Dist) -> SearchKey {
        SearchKey {
            key: "train.lr".into(),
            dist,
        }
    }

    fn floats(xs: &[f64]) -> Vec<Setting> {
        xs.iter().map(|x| Setting::Float(*x)).collect()
    }

    /// log_uniform [1e-4, 1], top values 1e-3 and 1e-2: in log10 space the
    /// span is [−3, −2], padded by 0.1 to [−3.1, −1.9]: 10^−3.1 =
    /// 0.000794328…, rounded down to 3 digits 0.000794; 10^−1.9 =
    /// 0.0125892…, rounded up 0.0126. Catches padding in value space
    /// (which gives [0.0001, 0.0109]) and rounding the wrong way.
    #[test]
    fn a_log_range_narrows_in_log_space() {
        let v = floats(&[1e-3, 1e-2]);
        let d = narrow(
            &key(Dist::LogUniform(1e-4, 1.0)),
            &v.iter().collect::<Vec<_>>(),
        );
        assert_eq!(d, Dist::LogUniform(0.000794, 0.0126));
    }

    /// uniform [0, 0.7], top values 0.05 and 0.25: span 0.2, pad 0.02:
    /// [0.03, 0.27]; the low end of 0.01 alone would pad below 0 and is
    /// clamped to the old bound: [0, 0.01 + 0.07] = [0, 0.08] (pad 0.1 of
    /// the old span 0.7 when all values are equal).
    #[test]
    fn a_linear_range_pads_and_clamps() {
        let k = key(Dist::Uniform(0.0, 0.7));
        let v = floats(&[0.25, 0.05]);
        assert_eq!(
            narrow(&k, &v.iter().collect::<Vec<_>>()),
            Dist::Uniform(0.03, 0.27)
        );
        let v = floats(&[0.01]);
        assert_eq!(
            narrow(&k, &v.iter().collect::<Vec<_>>()),
            Dist::Uniform(0.0, 0.08)
        );
    }

    /// int_log_uniform [4, 512], top widths 32 and 128: ln span [ln 32,
    /// ln 128], pad 0.1·ln 4: 32/4^0.1 = 27.86 → 27, 128·4^0.1 = 147.03 →
    /// 148. int_uniform [1, 4] with 4 alone: pad 0.3 → [3.7, 4] → [3, 4].
    #[test]
    fn integer_ranges_round_outward() {
        let w = [Setting::Int(128), Setting::Int(32)];
        let d = narrow(
            &key(Dist::IntLogUniform(4, 512)),
            &w.iter().collect::<Vec<_>>(),
        );
        assert_eq!(d, Dist::IntLogUniform(27, 148));
        let d = narrow(&key(Dist::IntUniform(1, 4)), &[&Setting::Int(4)]);
        assert_eq!(d, Dist::IntUniform(3, 4));
    }

    /// The choices the top K use, in the old order.
    #[test]
    fn choices_keep_the_used_values_in_order() {
        let k = key(Dist::Choice(vec![
            Value::String("relu".into()),
            Value::String("tanh".into()),
            Value::String("maxout".into()),
        ]));
        let used = [Setting::Str("maxout".into()), Setting::Str("relu".into())];
        assert_eq!(
            narrow(&k, &used.iter().collect::<Vec<_>>()),
            Dist::Choice(vec![
                Value::String("relu".into()),
                Value::String("maxout".into())
            ])
        );
    }

    #[test]
    fn round3_goes_the_asked_way() {
        assert_eq!(round3(0.012345, false), 0.0123);
        assert_eq!(round3(0.012345, true), 0.0124);
        assert_eq!(round3(0.0123, true), 0.0123);
        assert_eq!(round3(147.03, true), 148.0);
        assert_eq!(round3(0.0, true), 0.0);
    }
}
