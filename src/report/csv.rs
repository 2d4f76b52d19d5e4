//! CSV exporter: any frame → RFC 4180 text. Floats are written in Rust's
//! shortest round-trip form, so a value parsed back is bit-identical;
//! nulls are empty cells.

use anyhow::Result;
use polars::prelude::*;

/// Render `df` as CSV with a header row. Cells are written straight into
/// the text (trials.csv of benches/p3.toml: 40,000 rows × ~90 columns),
/// each column read through its own type rather than a per-cell
/// `AnyValue`: the same text, without a dynamic lookup per cell.
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
    let cells: Vec<Cells> = columns.iter().map(Cells::of).collect::<Result<_>>()?;
    for i in 0..df.height() {
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            c.write(&mut out, i)?;
        }
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// One column's values, by type; `Any` for the types written rarely.
enum Cells<'a> {
    F64(Vec<Option<f64>>),
    U64(Vec<Option<u64>>),
    I64(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<&'a str>>),
    Any(&'a Column),
}

impl<'a> Cells<'a> {
    fn of(c: &'a Column) -> Result<Cells<'a>> {
        Ok(match c.dtype() {
            DataType::Float64 => Cells::F64(c.f64()?.iter().collect()),
            DataType::UInt64 => Cells::U64(c.u64()?.iter().collect()),
            DataType::Int64 => Cells::I64(c.i64()?.iter().collect()),
            DataType::Boolean => Cells::Bool(c.bool()?.iter().collect()),
            DataType::String => Cells::Str(c.str()?.iter().collect()),
            _ => Cells::Any(c),
        })
    }

    /// Row `i`'s cell, as [`write_cell`] writes its `AnyValue`.
    fn write(&self, out: &mut String, i: usize) -> Result<()> {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            Cells::F64(v) => v[i].map_or(Ok(()), |x| write!(out, "{x}")),
            Cells::U64(v) => v[i].map_or(Ok(()), |x| write!(out, "{x}")),
            Cells::I64(v) => v[i].map_or(Ok(()), |x| write!(out, "{x}")),
            Cells::Bool(v) => v[i].map_or(Ok(()), |x| write!(out, "{x}")),
            Cells::Str(v) => {
                if let Some(s) = v[i] {
                    push_quoted(out, s);
                }
                Ok(())
            }
            Cells::Any(c) => {
                write_cell(out, &c.get(i)?);
                Ok(())
            }
        };
        Ok(())
    }
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
        AnyValue::String(s) => {
            push_quoted(out, s);
            Ok(())
        }
        AnyValue::StringOwned(s) => {
            push_quoted(out, s.as_str());
            Ok(())
        }
        AnyValue::Boolean(b) => write!(out, "{b}"),
        other => write!(out, "{other}"),
    };
}

/// `s` as a CSV field, quoted only when it must be, appended to `out`.
fn push_quoted(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn quote(s: &str) -> String {
    let mut out = String::new();
    push_quoted(&mut out, s);
    out
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

    /// Every typed column writes what the per-cell `AnyValue` path writes
    /// (the typed path is a speed-up only), nulls and quoting included.
    #[test]
    fn typed_columns_write_what_any_values_write() {
        let df = DataFrame::new(
            3,
            vec![
                Column::new("f".into(), vec![Some(1e-7f64), None, Some(-2.5e20)]),
                Column::new("u".into(), vec![Some(0u64), Some(u64::MAX), None]),
                Column::new("i".into(), vec![Some(-3i64), None, Some(i64::MIN)]),
                Column::new("b".into(), vec![Some(true), Some(false), None]),
                Column::new("s".into(), vec![Some("a\nb"), None, Some("plain")]),
                Column::new("u32".into(), vec![Some(7u32), None, Some(9)]),
            ],
        )
        .unwrap();
        let mut expected = String::from("f,u,i,b,s,u32\n");
        for i in 0..df.height() {
            let row: Vec<String> = df
                .columns()
                .iter()
                .map(|c| cell(&c.get(i).unwrap()))
                .collect();
            expected.push_str(&row.join(","));
            expected.push('\n');
        }
        let text = String::from_utf8(render(&df).unwrap()).unwrap();
        assert_eq!(text, expected);
        assert!(
            text.contains("\n0.0000001,0,-3,true,\"a\nb\",7\n,18446744073709551615,,false,,\n")
        );
    }
}
