//! Readers for single TOML values. Each returns a message that says what is
//! allowed and what was given, so every key's error reads the same way.

use toml::Value;

/// A value as the user wrote it: strings quoted.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// "a string", "an integer", ...: for "got ..." messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// A wrong value for a "got ..." message: an integer as written (it was
/// the right type, the wrong number), anything else with its type (`a
/// float 2.5`, `a string "half"`), so a float is never taken for an integer.
pub fn got(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        other => format!("{} {}", type_name(other), show(other)),
    }
}

/// An integer in `min..=max`.
pub fn uint(v: &Value, min: usize, max: usize) -> Result<usize, String> {
    match v {
        Value::Integer(i) if *i >= min as i64 && *i <= max as i64 => Ok(*i as usize),
        Value::Integer(i) => Err(format!("expected an integer in {min}..={max}, got {i}")),
        other => Err(format!(
            "expected an integer in {min}..={max}, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

/// Any finite number; integers are widened.
pub fn number(v: &Value) -> Result<f64, String> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Float(f) if f.is_finite() => Ok(*f),
        Value::Float(f) => Err(format!("expected a finite number, got {f}")),
        other => Err(format!(
            "expected a number, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

/// A number checked against a range; `desc` is the allowed range in words.
pub fn number_in(v: &Value, ok: impl Fn(f64) -> bool, desc: &str) -> Result<f64, String> {
    let x = number(v).map_err(|e| format!("{e} ({desc})"))?;
    if ok(x) {
        Ok(x)
    } else {
        Err(format!("expected {desc}, got {x}"))
    }
}

/// `true` or `false`.
pub fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Boolean(b) => Ok(*b),
        other => Err(format!(
            "expected true or false, got {} {}",
            type_name(other),
            show(other)
        )),
    }
}

/// One of the named options.
pub fn choice<T: Copy>(v: &Value, options: &[(&str, T)]) -> Result<T, String> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    match v {
        Value::String(s) => options
            .iter()
            .find(|(n, _)| n == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                format!(
                    "unknown value \"{s}\"; expected one of: {}",
                    names.join(", ")
                )
            }),
        other => Err(format!(
            "expected one of: {}; got {} {}",
            names.join(", "),
            type_name(other),
            show(other)
        )),
    }
}

/// Equal as values: `1` and `1.0` are the same grid point.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Integer(x), Value::Float(y)) | (Value::Float(y), Value::Integer(x)) => {
            *x as f64 == *y
        }
        _ => a == b,
    }
}
