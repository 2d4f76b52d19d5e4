//! `--set key=value`: edits to the parsed study before validation. The
//! value is read as TOML (`8`, `0.1`, `[4, 8]`, `"relu"`) and as a bare
//! string when it is not valid TOML (`relu`). Setting a swept key to a
//! single value removes it from the grid. `search.<key>` and
//! `space.<key>` set a key of `[search]` or `[space]`, e.g.
//! `--set search.samples=128` to grow a search; `settle.<key>` a key of
//! `[settle]`, e.g. `--set settle.max_seeds=20`.

use toml::{Table, Value};

use super::error::{KeyError, key_err};
use super::keys::canonical;

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
    if matches!(key, "name" | "description" | "seeds") {
        doc.insert(key.to_string(), value);
        return Ok(key.to_string());
    }
    // `--set replicates.init=5`: one source of a crossed design;
    // `--set search.samples=128`: grow a search; `--set space.lr={...}`.
    for head in ["replicates", "search", "space", "settle"] {
        if let Some(name) = key.strip_prefix(head).and_then(|k| k.strip_prefix('.')) {
            let table = doc
                .entry(head)
                .or_insert_with(|| Value::Table(Table::new()));
            let Value::Table(table) = table else {
                return Err(key_err(head, "expected a table"));
            };
            // `--set search.halving.eta=2`: one key of `[search.halving]`.
            if head == "search"
                && let Some(sub) = name.strip_prefix("halving.")
            {
                let halving = table
                    .entry("halving")
                    .or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(halving) = halving else {
                    return Err(key_err("search.halving", "expected a table"));
                };
                halving.insert(sub.to_string(), value);
                return Ok(key.to_string());
            }
            table.insert(name.to_string(), value);
            return Ok(key.to_string());
        }
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
