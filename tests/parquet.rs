//! The same table as CSV and as Parquet trains to the same numbers: two
//! studies that differ only in `data.kind` and `data.path` give the same
//! trials, metric for metric (only the file hash, hence the ids, differs).
//! Needs the cargo feature `parquet`: `cargo test --features parquet`.
#![cfg(feature = "parquet")]

mod common;

use std::fs;

use common::{arg, csv, run_ok, write_study};
use polars::prelude::*;

/// 60 rows: three features with two decimals, the label in the middle
/// (three classes), so `label_column` by name is exercised too.
fn table() -> (String, DataFrame) {
    let mut csv = String::from("a,b,label,c\n");
    let (mut a, mut b, mut c, mut y) = (vec![], vec![], vec![], vec![]);
    for i in 0..60i64 {
        let (fa, fb, fc) = (
            format!("{:.2}", (i as f64 * 0.37).sin() * 3.0),
            format!("{:.2}", (i as f64 * 0.11).cos() * 2.0 - 0.5),
            format!("{:.2}", (i % 7) as f64 * 0.25),
        );
        let label = i % 3;
        csv.push_str(&format!("{fa},{fb},{label},{fc}\n"));
        a.push(fa.parse::<f64>().unwrap());
        b.push(fb.parse::<f64>().unwrap());
        c.push(fc.parse::<f64>().unwrap());
        y.push(label);
    }
    let df = df!("a" => a, "b" => b, "label" => y, "c" => c).unwrap();
    (csv, df)
}

fn study(kind: &str, file: &str) -> String {
    format!(
        "name = \"{kind}\"\nseeds = 2\n[data]\nkind = \"{kind}\"\npath = \"{file}\"\nlabel_column = \"label\"\nval = 0.25\n\
         [model]\nwidth = 8\n[train]\noptimizer = \"adam\"\nlr = 0.01\nbatch_size = 16\nepochs = 15\neval_every = 5\n"
    )
}

#[test]
fn the_same_table_as_csv_and_parquet_trains_to_the_same_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let (text, mut df) = table();
    fs::write(tmp.path().join("t.csv"), text).unwrap();
    ParquetWriter::new(fs::File::create(tmp.path().join("t.parquet")).unwrap())
        .finish(&mut df)
        .unwrap();
    let mut tables = Vec::new();
    for (kind, file) in [("csv", "t.csv"), ("parquet", "t.parquet")] {
        let s = write_study(tmp.path(), &format!("{kind}.toml"), &study(kind, file));
        let out = tmp.path().join(kind);
        run_ok(&["run", arg(&s), "--out", arg(&out), "--jobs", "1"]);
        tables.push(csv(&out.join("trials.csv")));
    }
    let metrics = [
        "train_loss",
        "val_loss",
        "train_acc",
        "val_acc",
        "weight_norm",
        "initial_loss",
    ];
    let column = |t: &Vec<Vec<String>>, name: &str| {
        let i = t[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"));
        t[1..].iter().map(|r| r[i].clone()).collect::<Vec<_>>()
    };
    for m in metrics {
        let (c, p) = (column(&tables[0], m), column(&tables[1], m));
        assert_eq!(c.len(), 2);
        assert_eq!(c, p, "{m}");
    }
    assert_ne!(column(&tables[0], "id"), column(&tables[1], "id"));
}
