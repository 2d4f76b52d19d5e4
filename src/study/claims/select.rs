//! Selections of trials by their swept settings: `this`, `than` and
//! `[report] boundaries` pick one value per key, `where` one value or a
//! list of them ("one of"). Read against the study's axes, so every key is
//! swept and every value one of its settings.

use toml::Value;

use super::super::{Axis, KeyError, Setting, key_err, show};

/// Settings that pick out a group of trials: (canonical key, value).
pub type Selection = Vec<(String, Setting)>;

/// A `where` filter: (canonical key, the values a trial may have).
pub type Filter = Vec<(String, Vec<Setting>)>;

/// Numbers compare by value: `lr = 1` selects the swept `1.0`.
pub(crate) fn equal(a: &Setting, b: &Setting) -> bool {
    match (a, b) {
        (Setting::Int(x), Setting::Float(y)) | (Setting::Float(y), Setting::Int(x)) => {
            *x as f64 == *y
        }
        _ => a == b,
    }
}

/// What a selection allows for one key: one value, or one of several.
pub trait Allowed {
    /// Whether a trial's setting `v` is allowed.
    fn allows(&self, v: &Setting) -> bool;
}

impl Allowed for Setting {
    fn allows(&self, v: &Setting) -> bool {
        equal(self, v)
    }
}

impl Allowed for Vec<Setting> {
    fn allows(&self, v: &Setting) -> bool {
        self.iter().any(|s| equal(s, v))
    }
}

/// Whether a trial's swept settings match every (key, value) of `sel`: a
/// list of values (a `where` list) matches any one of them.
pub fn matches<A: Allowed>(swept: &[(String, Setting)], sel: &[(String, A)]) -> bool {
    sel.iter()
        .all(|(k, v)| swept.iter().any(|(sk, sv)| sk == k && v.allows(sv)))
}

/// A table of swept key → value, such as `{ activation = "relu" }`, read
/// at `path`: every key must be swept and every value one of its settings.
pub(super) fn select(
    v: Option<&Value>,
    path: &str,
    axes: &[Axis],
    canonical: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Selection, KeyError> {
    let filter = table(v, path, axes, canonical, false)?;
    Ok(filter
        .into_iter()
        .map(|(k, mut vs)| (k, vs.remove(0)))
        .collect())
}

/// A `where` table: like [`select`], and a key may list several of its
/// swept values (`{ lr = [0.01, 0.1] }`), no value twice.
pub(super) fn select_where(
    v: Option<&Value>,
    path: &str,
    axes: &[Axis],
    canonical: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Filter, KeyError> {
    table(v, path, axes, canonical, true)
}

fn table(
    v: Option<&Value>,
    path: &str,
    axes: &[Axis],
    canonical: &dyn Fn(&str) -> Result<String, String>,
    lists: bool,
) -> Result<Filter, KeyError> {
    let sel = match v {
        None => return Ok(Vec::new()),
        Some(Value::Table(sel)) => sel,
        Some(other) => {
            return Err(key_err(
                path,
                format!(
                    "expected a table such as {{ activation = \"relu\" }}, got {}",
                    show(other)
                ),
            ));
        }
    };
    sel.iter()
        .map(|(key, v)| {
            let canon = canonical(key).map_err(|m| key_err(path, m))?;
            let Some(axis) = axes.iter().find(|a| a.keys.contains(&canon)) else {
                return Err(key_err(
                    path,
                    format!("{canon} is not swept; only keys in [grid] or [[zip]] can be selected"),
                ));
            };
            let values = match v {
                Value::Array(items) if lists => items.iter().map(Setting::from_value).collect(),
                _ => vec![Setting::from_value(v)],
            };
            check_values(&canon, &values, axis, path)?;
            Ok((canon, values))
        })
        .collect()
}

/// Every value one of the axis's settings, none twice, at least one.
fn check_values(canon: &str, values: &[Setting], axis: &Axis, path: &str) -> Result<(), KeyError> {
    if values.is_empty() {
        return Err(key_err(
            path,
            format!("{canon} = []: list one or more of its swept values"),
        ));
    }
    let pos = axis.keys.iter().position(|x| x == canon).expect("on axis");
    for (i, value) in values.iter().enumerate() {
        if !(0..axis.len()).any(|j| equal(&axis.setting(j, pos), value)) {
            return Err(key_err(
                path,
                format!("{canon} = {value} is not one of the swept values"),
            ));
        }
        if values[..i].iter().any(|v| equal(v, value)) {
            return Err(key_err(path, format!("{canon} lists {value} twice")));
        }
    }
    Ok(())
}

/// How many positions of `axis` the filter allows (every key of the
/// filter on this axis matching).
pub(super) fn positions(axis: &Axis, filter: &[(String, Vec<Setting>)]) -> Vec<usize> {
    (0..axis.len())
        .filter(|&i| {
            filter
                .iter()
                .all(|(k, vs)| match axis.keys.iter().position(|x| x == k) {
                    Some(pos) => vs.allows(&axis.setting(i, pos)),
                    None => true,
                })
        })
        .collect()
}
