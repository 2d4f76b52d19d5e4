//! `--set key=value`: edits to the parsed study before validation. The
//! value is read as TOML (`8`, `0.1`, `[4, 8]`, `"relu"`) and as a bare
//! string when it is not valid TOML (`relu`). Setting a swept key to a
//! single value removes it from the grid. `section.key` sets a key of a
//! section whose rows allow it (`sections.rs`: `[replicates]`, `[search]`,
//! `[search.halving]`, `[report]`), e.g. `--set search.samples=128` to grow
//! a search; `space.<key>` sets a key's distribution.

use toml::{Table, Value};

use super::error::{KeyError, key_err};
use super::keys::{Type, canonical};
use super::sections::{TOP, settable};

/// Apply one override; returns the key as errors about it will name it.
pub fn apply(doc: &mut Table, spec: &str) -> Result<String, KeyError> {
    let (key, raw) = spec
        .split_once('=')
        .ok_or_else(|| key_err(spec, "expected key=value, e.g. --set train.epochs=5"))?;
    let key = key.trim();
    let raw = raw.trim();
    let value = parse_value(key, raw)?;
    if key.is_empty() {
        return Err(key_err(
            spec,
            "expected key=value, e.g. --set train.epochs=5",
        ));
    }
    // `--set name=x`: a top-level key that is a single value.
    if TOP
        .keys
        .iter()
        .any(|k| k.name == key && !matches!(k.ty, Type::Table(_)))
    {
        doc.insert(key.to_string(), value);
        return Ok(key.to_string());
    }
    // `--set replicates.init=5`: one source of a crossed design;
    // `--set search.samples=128`: grow a search; `search.halving.eta=2`,
    // `report.level=0.9`; `--set space.lr={...}`: a key's distribution.
    let section = settable(key)
        .map(|(s, name)| (s.path, name))
        .or_else(|| key.strip_prefix("space.").map(|name| ("space", name)));
    if let Some((path, name)) = section {
        table_at(doc, path)?.insert(name.to_string(), value);
        return Ok(key.to_string());
    }
    if let Some(grid_key) = key.strip_prefix("grid.") {
        let canon = canonical(grid_key).map_err(|m| key_err(key, m))?;
        let grid = doc
            .entry("grid")
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(grid) = grid else {
            return Err(key_err("grid", "expected a table"));
        };
        remove_grid_key(grid, &canon);
        grid.insert(canon.clone(), value);
        // The form errors on grid values take (see `Study::blame`).
        return Ok(format!(
            "grid.{}",
            canon.split_once('.').map(|(_, n)| n).unwrap_or(&canon)
        ));
    }
    let canon = canonical(key).map_err(|m| key_err(key, m))?;
    // A scalar for a swept or drawn key pins it: drop it from the grid and the space.
    for table in ["grid", "space"] {
        if let Some(Value::Table(t)) = doc.get_mut(table) {
            remove_grid_key(t, &canon);
        }
    }
    let (section, name) = canon.split_once('.').expect("canonical keys are dotted");
    let sec = doc
        .entry(section)
        .or_insert_with(|| Value::Table(Table::new()));
    let Value::Table(sec) = sec else {
        return Err(key_err(section, "expected a table"));
    };
    sec.insert(name.to_string(), value);
    Ok(canon)
}

/// The table at a dotted section path (`search.halving`), made if absent.
fn table_at<'a>(doc: &'a mut Table, path: &str) -> Result<&'a mut Table, KeyError> {
    let mut table = doc;
    let mut at = String::new();
    for part in path.split('.') {
        at = if at.is_empty() {
            part.to_string()
        } else {
            format!("{at}.{part}")
        };
        let entry = table
            .entry(part)
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(t) = entry else {
            return Err(key_err(at, "expected a table"));
        };
        table = t;
    }
    Ok(table)
}

/// The value of `--set key=raw`: TOML (`8`, `0.1`, `[4, 8]`, `"relu"`),
/// else a bare string (`relu`).
fn parse_value(key: &str, raw: &str) -> Result<Value, KeyError> {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => Ok(t.remove("v").expect("the key parsed")),
        // A number TOML cannot hold (`1e400`, 2^64) is not a bare string:
        // "got a string" would misname what was typed.
        Err(_) if looks_numeric(raw) => Err(key_err(
            key,
            format!("{raw} is outside the range of TOML numbers (64-bit integers and floats)"),
        )),
        Err(_) => Ok(Value::String(raw.to_string())),
    }
}

/// Whether a bare value was meant as a number: it starts like one and Rust
/// reads it as one (TOML's own grammar refused it).
fn looks_numeric(raw: &str) -> bool {
    raw.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'))
        && raw.replace('_', "").parse::<f64>().is_ok()
}

/// Remove a key from `[grid]` (or `[space]`) whatever spelling the file
/// used (plain, dotted, or nested table).
fn remove_grid_key(grid: &mut Table, canon: &str) {
    let (section, name) = canon.split_once('.').expect("canonical keys are dotted");
    grid.retain(|k, _| canonical(k).map(|c| c != canon).unwrap_or(true));
    if let Some(Value::Table(sub)) = grid.get_mut(section) {
        sub.remove(name);
    }
}

/// The same key however it was spelled (plain, dotted, under `grid.`).
pub fn same_key(a: &str, b: &str) -> bool {
    let norm = |k: &str| {
        let k = k.strip_prefix("grid.").unwrap_or(k);
        canonical(k).unwrap_or_else(|_| k.to_string())
    };
    norm(a) == norm(b)
}
