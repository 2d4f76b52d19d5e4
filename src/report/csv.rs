//! CSV exporter: any frame → RFC 4180 text. Floats are written in Rust's
//! shortest round-trip form, so a value parsed back is bit-identical;
//! nulls are empty cells.

use anyhow::Result;
use polars::prelude::*;

/// Render `df` as CSV with a header row. Cells are written straight into
/// the text (trials.csv of benches/p3.toml: 40,000 rows × ~90 columns).
pub fn render(df: &DataFrame) -> Result<Vec<u8>> {
    let mut out = String::new();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| quote(n.as_str()))
        .collect();
    out.push_str(&names.join(","));
    out.push('\n');
    let columns: Vec<Column> = df.columns().iter().map(|c| c.rechunk()).collect();
    for i in 0..df.height() {
        for (k, c) in columns.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            write_cell(&mut out, &c.get(i)?);
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// One value as CSV text.
pub(crate) fn cell(v: &AnyValue) -> String {
    let mut out = String::new();
    write_cell(&mut out, v);
    out
}

/// [`cell`], appended to `out`.
fn write_cell(out: &mut String, v: &AnyValue) {
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = match v {
        AnyValue::Null => Ok(()),
        AnyValue::Float64(x) => write!(out, "{x}"),
        AnyValue::Float32(x) => write!(out, "{x}"),
        AnyValue::String(s) => out.write_str(&quote(s)),
        AnyValue::StringOwned(s) => out.write_str(&quote(s.as_str())),
        AnyValue::Boolean(b) => write!(out, "{b}"),
        other => write!(out, "{other}"),
    };
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
