//! `[grid]` and `[[zip]]`: the swept axes, their values, and the
//! mixed-radix order of grid points (first axis outermost), as in
//! scikit-learn's `ParameterGrid`.

use std::fmt;

use serde::Serialize;
use toml::{Table, Value};

use super::error::{KeyError, key_err};
use super::keys::canonical;
use super::values::{same_value, show, type_name};

/// Largest number of trials a study may expand to; a typo such as
/// `width = [1, 2, ..., 100000]` should fail fast, not fill the disk.
pub const MAX_TRIALS: usize = 1_000_000;

/// One swept dimension: a `[grid]` key, or a `[[zip]]` group whose keys vary together.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// Canonical dotted keys (`model.width`); one for a grid axis, several for a zip.
    pub keys: Vec<String>,
    /// `points[i][k]` is the value of `keys[k]` at position `i` of this axis.
    pub(crate) points: Vec<Vec<Value>>,
    /// Whether the points were drawn (`[space]`) rather than listed.
    pub sampled: bool,
}

impl Axis {
    /// Number of positions along the axis.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the axis is empty (never true for a loaded study).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The value of key `k` at position `i`, as a [`Setting`].
    pub fn setting(&self, i: usize, k: usize) -> Setting {
        Setting::from_value(&self.points[i][k])
    }
}

/// A swept value, typed for tables: integers, floats, strings and booleans.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Setting {
    /// An integer such as a width.
    Int(i64),
    /// A float such as a learning rate.
    Float(f64),
    /// A name such as an activation.
    Str(String),
    /// A flag.
    Bool(bool),
}

impl Setting {
    pub(crate) fn from_value(v: &Value) -> Setting {
        match v {
            Value::Integer(i) => Setting::Int(*i),
            Value::Float(f) => Setting::Float(*f),
            Value::Boolean(b) => Setting::Bool(*b),
            Value::String(s) => Setting::Str(s.clone()),
            other => Setting::Str(other.to_string()),
        }
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Int(i) => write!(f, "{i}"),
            Setting::Float(x) => write!(f, "{}", short_float(*x)),
            Setting::Str(s) => write!(f, "{s}"),
            Setting::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A float for people, so that two settings a person wrote never print
/// alike: as written (shortest round-trip digits) when that has at most 6
/// significant digits (every hand-written grid value: `1.0001e-3` prints
/// `0.0010001`, never `0.001` beside `1e-3`), else rounded to 4 (a drawn
/// `0.0009053505719434595` shows as `9.054e-4`). Below 1e-3 and from 1e6
/// up it is scientific (`9.403e-6`, not `0.000009403`). Display only:
/// configurations, ids and `trials.csv` keep the exact value.
pub fn short_float(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return x.to_string();
    }
    let exact = format!("{x:e}");
    let digits = exact
        .split('e')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    let v: f64 = if digits <= 6 {
        x
    } else {
        format!("{x:.3e}")
            .parse()
            .expect("a formatted float parses")
    };
    if (1e-3..1e6).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}
/// `depth=2 width=64`: settings with their bare key names, for labels.
pub fn describe(sel: &[(String, Setting)]) -> String {
    sel.iter()
        .map(|(k, v)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Mixed-radix digits of configuration `i`, first axis outermost.
pub fn coords(axes: &[Axis], mut i: usize) -> Vec<usize> {
    let mut c = vec![0; axes.len()];
    for (a, axis) in axes.iter().enumerate().rev() {
        c[a] = i % axis.len();
        i /= axis.len();
    }
    c
}

/// The axes of `[grid]` (one per key, file order) then of each `[[zip]]`,
/// then the drawn points of a search (`space`, innermost), checked:
/// non-empty lists of single values, no key on two axes, at most
/// [`MAX_TRIALS`] trials with `n_seeds` seeds.
pub fn axes(
    grid: Option<&Value>,
    zips: Option<&Value>,
    space: Option<(Axis, &[String])>,
    n_seeds: usize,
) -> Result<Vec<Axis>, KeyError> {
    let mut axes: Vec<Axis> = Vec::new();
    let mut seen = Vec::<String>::new();
    let mut claim = |canon: &str, key: &str| -> Result<(), KeyError> {
        if seen.iter().any(|s| s == canon) {
            return Err(key_err(
                key,
                format!("{canon} is swept twice; a key may appear on one axis only"),
            ));
        }
        seen.push(canon.to_string());
        Ok(())
    };
    if let Some(grid) = grid {
        let Value::Table(grid) = grid else {
            return Err(key_err("grid", "expected a table of lists"));
        };
        for (key, list) in flatten(grid, "") {
            let path = format!("grid.{key}");
            let canon = canonical(&key).map_err(|m| key_err(&path, m))?;
            claim(&canon, &path)?;
            let values = grid_list(&list, &path, true)?;
            axes.push(Axis {
                keys: vec![canon],
                points: values.into_iter().map(|v| vec![v]).collect(),
                sampled: false,
            });
        }
    }
    if let Some(zips) = zips {
        let Value::Array(zips) = zips else {
            return Err(key_err(
                "zip",
                "expected [[zip]] tables of lists that vary together",
            ));
        };
        for (z, group) in zips.iter().enumerate() {
            axes.push(zip_axis(z, group, &mut claim)?);
        }
    }
    if let Some((axis, paths)) = space {
        for (canon, path) in axis.keys.iter().zip(paths) {
            if seen.iter().any(|s| s == canon) {
                return Err(key_err(
                    path,
                    format!(
                        "{canon} is both drawn in [space] and swept in [grid] or [[zip]]; a key may appear on one axis only"
                    ),
                ));
            }
        }
        axes.push(axis);
    }
    let configs: usize = axes.iter().map(Axis::len).product();
    if configs.saturating_mul(n_seeds) > MAX_TRIALS {
        return Err(key_err(
            "grid",
            format!(
                "{configs} configurations × {n_seeds} seeds exceeds the limit of {MAX_TRIALS} trials"
            ),
        ));
    }
    Ok(axes)
}

/// One `[[zip]]` group: lists of equal length, no point twice.
fn zip_axis(
    z: usize,
    group: &Value,
    claim: &mut dyn FnMut(&str, &str) -> Result<(), KeyError>,
) -> Result<Axis, KeyError> {
    let Value::Table(group) = group else {
        return Err(key_err(format!("zip[{z}]"), "expected a table of lists"));
    };
    let mut keys = Vec::new();
    let mut lists = Vec::new();
    for (key, list) in flatten(group, "") {
        let path = format!("zip[{z}].{key}");
        let canon = canonical(&key).map_err(|m| key_err(&path, m))?;
        claim(&canon, &path)?;
        lists.push(grid_list(&list, &path, false)?);
        keys.push(canon);
    }
    if keys.is_empty() {
        return Err(key_err(format!("zip[{z}]"), "empty [[zip]] group"));
    }
    let n = lists[0].len();
    if let Some(k) = lists.iter().position(|l| l.len() != n) {
        return Err(key_err(
            format!("zip[{z}].{}", keys[k]),
            format!(
                "has {} values but {} has {n}; keys in one [[zip]] vary together and need lists of equal length",
                lists[k].len(),
                keys[0]
            ),
        ));
    }
    let points: Vec<Vec<Value>> = (0..n)
        .map(|i| lists.iter().map(|l| l[i].clone()).collect())
        .collect();
    for (i, p) in points.iter().enumerate() {
        let same = |q: &Vec<Value>| q.iter().zip(p).all(|(a, b)| same_value(a, b));
        if points[..i].iter().any(same) {
            let shown: Vec<String> = p.iter().map(show).collect();
            return Err(key_err(
                format!("zip[{z}]"),
                format!("the point ({}) is listed twice", shown.join(", ")),
            ));
        }
    }
    Ok(Axis {
        keys,
        points,
        sampled: false,
    })
}

/// Flatten nested tables into dotted keys: in `[grid]`, `width = [..]`,
/// `"train.lr" = [..]` and `train.lr = [..]` (a nested table) all become
/// (key, list); a stored study's every leaf, for telling two apart.
pub fn flatten(t: &Table, prefix: &str) -> Vec<(String, Value)> {
    flatten_where(t, prefix, &|_, _| true)
}

/// Flatten nested tables into dotted keys, descending into a table when
/// `descend(prefix, key)` says so (`[space]` keeps a distribution's table
/// whole and descends only into section names).
pub(crate) fn flatten_where(
    t: &Table,
    prefix: &str,
    descend: &dyn Fn(&str, &str) -> bool,
) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(sub) if descend(prefix, k) => {
                out.extend(flatten_where(sub, &key, descend))
            }
            other => out.push((key, other.clone())),
        }
    }
    out
}

/// A list of values to sweep. `distinct`: no value twice (grid axes; a
/// zip's lists may repeat values as long as the tuples differ).
fn grid_list(v: &Value, path: &str, distinct: bool) -> Result<Vec<Value>, KeyError> {
    let Value::Array(list) = v else {
        return Err(key_err(
            path,
            format!(
                "expected a non-empty list of values to sweep, got {} {}",
                type_name(v),
                show(v)
            ),
        ));
    };
    if list.is_empty() {
        return Err(key_err(
            path,
            "expected a non-empty list of values to sweep, got []",
        ));
    }
    for (i, x) in list.iter().enumerate() {
        if matches!(x, Value::Array(_) | Value::Table(_)) {
            return Err(key_err(
                path,
                format!(
                    "expected single values, got {} at position {i}",
                    type_name(x)
                ),
            ));
        }
        if distinct && list[..i].iter().any(|y| same_value(x, y)) {
            return Err(key_err(path, format!("value {} is listed twice", show(x))));
        }
    }
    Ok(list.clone())
}

#[cfg(test)]
mod tests {
    use super::short_float;

    /// Catches the old rounding to 4 digits for hand-written values
    /// (`1.0001e-3` printed `0.001`, the same as `1e-3`), plain notation
    /// for small numbers (`0.000009403`), and drawn values shown with all
    /// 16 digits.
    #[test]
    fn short_float_tells_written_values_apart() {
        assert_eq!(short_float(1e-3), "0.001");
        assert_eq!(short_float(1.0001e-3), "0.0010001");
        assert_ne!(short_float(1e-3), short_float(1.0001e-3));
        assert_eq!(short_float(9.403e-6), "9.403e-6");
        assert_eq!(short_float(1e-4), "1e-4");
        assert_eq!(short_float(0.0009053505719434595), "9.054e-4");
        assert_eq!(short_float(0.12345678), "0.1235");
        assert_eq!(short_float(3.0), "3");
        assert_eq!(short_float(0.05), "0.05");
        assert_eq!(short_float(-2.5e-7), "-2.5e-7");
        assert_eq!(short_float(2e6), "2e6");
        assert_eq!(short_float(123456.0), "123456");
        assert_eq!(short_float(0.0), "0");
    }
}
