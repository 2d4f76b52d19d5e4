//! CSV exporter: any frame → RFC 4180 text. Floats are written in Rust's
//! shortest round-trip form, so a value parsed back is bit-identical;
//! nulls are empty cells.

use anyhow::Result;
use polars::prelude::*;

/// Render `df` as CSV with a header row.
pub fn render(df: &DataFrame) -> Result<Vec<u8>> {
    let mut out = String::new();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| quote(n.as_str()))
        .collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for i in 0..df.height() {
        let mut cells = Vec::with_capacity(df.width());
        for c in df.columns() {
            cells.push(cell(&c.get(i)?));
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// One value as CSV text.
pub(crate) fn cell(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => String::new(),
        AnyValue::Float64(x) => format!("{x}"),
        AnyValue::Float32(x) => format!("{x}"),
        AnyValue::String(s) => quote(s),
        AnyValue::StringOwned(s) => quote(s.as_str()),
        AnyValue::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nulls_quotes_and_exact_floats() {
        let df = DataFrame::new(
            2,
            vec![
                Column::new("a".into(), vec![Some(0.1f64), None]),
                Column::new("b".into(), vec!["x,y", "q\""]),
                Column::new("c".into(), vec![1u64, 2]),
            ],
        )
        .unwrap();
        let text = String::from_utf8(render(&df).unwrap()).unwrap();
        assert_eq!(text, "a,b,c\n0.1,\"x,y\",1\n,\"q\"\"\",2\n");
    }
}
