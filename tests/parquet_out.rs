//! trials.parquet, summary.parquet and curves.parquet (issue 26) hold what
//! the CSVs beside them hold: read back with polars, every cell equals the
//! CSV's, parsed independently with the `csv` crate (floats bit for bit);
//! columns are typed (no text column where the CSV is numeric); each
//! curve row carries its trial's settings as trials.csv has them; and
//! `mlpsweep report` rewrites the same bytes.
#![cfg(feature = "parquet")]

mod common;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use common::{arg, run_ok, write_study};
use polars::prelude::*;

/// 16 small trials: integer, float and text axes, a learning rate that
/// diverges (lr = 5 overflows the sine regression, as in tests/cli.rs:
/// empty metrics, a message), a validation split.
const STUDY: &str = r#"
name = "parquet_out"
seeds = 2
[data]
kind = "sine"
val = 0.25
[train]
epochs = 20
eval_every = 5
[grid]
width = [4, 8]
activation = ["relu", "tanh"]
lr = [0.01, 5.0]
"#;

/// A CSV file as its header and rows of cells.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = ::csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

/// Whether a Parquet value is the CSV cell `text`: an empty cell is null,
/// numbers parse to the same value (NaN to NaN), booleans and text equal.
fn same(text: &str, v: &AnyValue) -> bool {
    match v {
        AnyValue::Null => text.is_empty(),
        AnyValue::Float64(x) => text
            .parse::<f64>()
            .is_ok_and(|t| t.to_bits() == x.to_bits() || (t.is_nan() && x.is_nan())),
        AnyValue::UInt64(x) => text.parse::<u64>().is_ok_and(|t| t == *x),
        AnyValue::Int64(x) => text.parse::<i64>().is_ok_and(|t| t == *x),
        AnyValue::Boolean(b) => text == if *b { "true" } else { "false" },
        AnyValue::String(s) => text == *s,
        other => panic!("unexpected Parquet value {other:?}"),
    }
}

/// Every cell of the CSV's columns equals the frame's, and every column
/// of the frame has one of the four kinds of type.
fn assert_matches(csv: &(Vec<String>, Vec<Vec<String>>), df: &DataFrame, file: &str) {
    let (header, rows) = csv;
    assert_eq!(df.height(), rows.len(), "{file}: row count");
    for c in df.columns() {
        assert!(
            matches!(
                c.dtype(),
                DataType::UInt64
                    | DataType::Int64
                    | DataType::Float64
                    | DataType::Boolean
                    | DataType::String
            ),
            "{file}: {} is {}",
            c.name(),
            c.dtype()
        );
    }
    for (k, name) in header.iter().enumerate() {
        let col = df
            .column(name)
            .unwrap_or_else(|_| panic!("{file}: no {name}"));
        for (i, row) in rows.iter().enumerate() {
            let v = col.get(i).unwrap();
            assert!(
                same(&row[k], &v),
                "{file} row {i} {name}: csv {:?}, parquet {v:?}",
                row[k]
            );
        }
    }
}

fn dtype(df: &DataFrame, name: &str) -> DataType {
    df.column(name).unwrap().dtype().clone()
}

#[test]
fn the_parquet_files_hold_the_csvs_typed_and_the_curves_carry_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let study = write_study(tmp.path(), "s.toml", STUDY);
    let out = tmp.path().join("out");
    run_ok(&[
        "run",
        arg(&study),
        "--out",
        arg(&out),
        "--jobs",
        "1",
        "--quiet",
    ]);
    let mut frames = HashMap::new();
    for name in ["trials", "summary", "curves"] {
        let csv = read_csv(&out.join(format!("{name}.csv")));
        let df = read_parquet(&out.join(format!("{name}.parquet")));
        assert_matches(&csv, &df, name);
        if name != "curves" {
            let cols: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(cols, csv.0, "{name}: the CSV's columns, in order");
        }
        frames.insert(name, (csv, df));
    }
    let trials = &frames["trials"].1;
    assert!(
        trials
            .column("status")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .any(|s| s == Some("diverged")),
        "lr = 5 diverges, so empty metrics and a message are compared"
    );
    for (name, want) in [
        ("trial", DataType::UInt64),
        ("width", DataType::Int64),
        ("lr", DataType::Float64),
        ("activation", DataType::String),
        ("stuck", DataType::Boolean),
        ("val_loss", DataType::Float64),
        ("epochs", DataType::Int64),
    ] {
        assert_eq!(dtype(trials, name), want, "trials.parquet {name}");
    }
    assert_eq!(dtype(&frames["summary"].1, "n"), DataType::UInt64);
    assert_curves_carry_settings(&frames["curves"], &frames["trials"].0);
    // A rebuilt report writes the same bytes.
    let before: Vec<Vec<u8>> = ["trials", "summary", "curves"]
        .iter()
        .map(|n| fs::read(out.join(format!("{n}.parquet"))).unwrap())
        .collect();
    run_ok(&["report", arg(&out)]);
    for (n, b) in ["trials", "summary", "curves"].iter().zip(before) {
        assert!(
            fs::read(out.join(format!("{n}.parquet"))).unwrap() == b,
            "{n}.parquet changed"
        );
    }
}

/// curves.parquet: curves.csv's columns first, then the settings of the
/// trial of each row, cell for cell as that trial's row of trials.csv.
fn assert_curves_carry_settings(
    curves: &((Vec<String>, Vec<Vec<String>>), DataFrame),
    trials_csv: &(Vec<String>, Vec<Vec<String>>),
) {
    let ((header, _), df) = curves;
    let cols: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(cols[..header.len()], header[..]);
    let extra = &cols[header.len()..];
    for s in [
        "id",
        "config",
        "width",
        "activation",
        "lr",
        "seed",
        "epochs",
        "kind",
    ] {
        assert!(extra.contains(&s), "curves.parquet lacks {s}: {extra:?}");
    }
    for s in ["status", "val_loss_mean", "message", "params"] {
        assert!(
            !extra.contains(&s),
            "curves.parquet repeats the outcome {s}"
        );
    }
    let (t_header, t_rows) = trials_csv;
    let row_of: HashMap<&str, &Vec<String>> = t_rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let trial = df.column("trial").unwrap();
    for i in 0..df.height() {
        let t = trial.get(i).unwrap().to_string();
        let trow = row_of[t.as_str()];
        for s in extra {
            let k = t_header.iter().position(|h| h == s).unwrap();
            let v = df.column(s).unwrap().get(i).unwrap();
            assert!(
                same(&trow[k], &v),
                "curve row {i} {s}: trial has {:?}, curve {v:?}",
                trow[k]
            );
        }
    }
}
