//! Parquet tables (`kind = "parquet"`), read through polars and then
//! handled as a CSV table is: the label column by index or name (the last
//! by default), class labels mapped to 0..K in sorted order (numeric when
//! every label is an integer), every feature a finite number. Feature
//! columns that are not numbers are refused together, by name, and so are
//! missing values (Parquet has nulls, CSV has none).
//!
//! Compiled with the cargo feature `parquet` (polars' Parquet reader);
//! without it [`read`] refuses with a message saying so.

use std::path::Path;

#[cfg(feature = "parquet")]
use polars::prelude::*;

#[cfg(feature = "parquet")]
use super::Targets;
#[cfg(feature = "parquet")]
use super::csv_file::{class_indices, label_index};
use super::read::Read;
#[cfg(feature = "parquet")]
use super::read::{Features, Table};
use super::{DataError, err};
use crate::study::{LabelColumn, Task};

/// Without the `parquet` feature: refuse, naming the feature.
#[cfg(not(feature = "parquet"))]
pub(super) fn read(path: &Path, _label: &LabelColumn, _task: Task) -> Result<Read, DataError> {
    Err(err(
        "data.kind",
        format!(
            "cannot read {}: this mlpsweep was built without Parquet support; rebuild with `cargo build --features parquet` or convert the table to CSV",
            path.display()
        ),
    ))
}

/// Read a Parquet table.
#[cfg(feature = "parquet")]
pub(super) fn read(path: &Path, label: &LabelColumn, task: Task) -> Result<Read, DataError> {
    let at = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| err("data.path", format!("cannot read {at}: {e}")))?;
    let df = ParquetReader::new(file).finish().map_err(|e| {
        err(
            "data.path",
            format!("{at} is not a readable Parquet file: {e}"),
        )
    })?;
    let names: Vec<String> = df.columns().iter().map(|c| c.name().to_string()).collect();
    if names.len() < 2 || df.height() < 2 {
        return Err(err(
            "data.path",
            format!("{at} needs at least two columns (features and a label) and two rows"),
        ));
    }
    let col = label_index(label, &names)?;
    let features: Vec<&Column> = (0..names.len())
        .filter(|&c| c != col)
        .map(|c| &df.columns()[c])
        .collect();
    let odd: Vec<String> = features
        .iter()
        .filter(|c| !c.dtype().is_primitive_numeric())
        .map(|c| format!("\"{}\" ({})", c.name(), c.dtype()))
        .collect();
    if !odd.is_empty() {
        return Err(err(
            "data.path",
            format!(
                "{at}: feature columns must be numbers, but {} {} not",
                odd.join(", "),
                if odd.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    let (n, d) = (df.height(), features.len());
    let mut x = vec![0f32; n * d];
    for (j, c) in features.iter().enumerate() {
        for (i, v) in numbers(c, &at.to_string())?.into_iter().enumerate() {
            if !(v as f32).is_finite() {
                return Err(err(
                    "data.path",
                    format!(
                        "{at}: row {}, column \"{}\": {v} is not a finite number",
                        i + 1,
                        c.name()
                    ),
                ));
            }
            x[i * d + j] = v as f32;
        }
    }
    let (y, k) = labels(&df.columns()[col], task, &at.to_string())?;
    Ok(Read {
        train: Table {
            x: Features::Floats(x),
            d,
            y,
        },
        test: None,
        k,
        task,
    })
}

/// A numeric column's values as f64, refusing nulls.
#[cfg(feature = "parquet")]
fn numbers(c: &Column, file: &str) -> Result<Vec<f64>, DataError> {
    if c.null_count() > 0 {
        return Err(err(
            "data.path",
            format!(
                "{file}: column \"{}\" has {} missing values (null)",
                c.name(),
                c.null_count()
            ),
        ));
    }
    let f = c
        .cast(&DataType::Float64)
        .and_then(|c| c.f64().cloned())
        .map_err(|e| err("data.path", format!("{file}: column \"{}\": {e}", c.name())))?;
    Ok(f.into_no_null_iter().collect())
}

/// The label column: class indices (labels as text, as CSV reads them) or
/// regression targets.
#[cfg(feature = "parquet")]
fn labels(c: &Column, task: Task, file: &str) -> Result<(Targets, usize), DataError> {
    match task {
        Task::Regression => {
            if !c.dtype().is_primitive_numeric() {
                return Err(err(
                    "data.label_column",
                    format!(
                        "column \"{}\" is {}, not numbers: regression needs real targets",
                        c.name(),
                        c.dtype()
                    ),
                ));
            }
            let v = numbers(c, file)?;
            Ok((
                Targets::Values(v.into_iter().map(|t| t as f32).collect()),
                0,
            ))
        }
        Task::Classification => {
            if c.null_count() > 0 {
                return Err(err(
                    "data.label_column",
                    format!(
                        "{file}: column \"{}\" has {} missing labels (null)",
                        c.name(),
                        c.null_count()
                    ),
                ));
            }
            let text = c.cast(&DataType::String).map_err(|e| {
                err(
                    "data.label_column",
                    format!("{file}: column \"{}\": {e}", c.name()),
                )
            })?;
            let raw: Vec<String> = (0..text.len())
                .map(|i| {
                    text.get(i).map(|v| match v {
                        AnyValue::String(s) => s.to_string(),
                        AnyValue::StringOwned(s) => s.to_string(),
                        other => other.to_string(),
                    })
                })
                .collect::<PolarsResult<_>>()
                .map_err(|e| err("data.label_column", e.to_string()))?;
            let refs: Vec<&str> = raw.iter().map(String::as_str).collect();
            let (y, k) = class_indices(&refs)?;
            Ok((Targets::Classes(y), k))
        }
    }
}

#[cfg(all(test, feature = "parquet"))]
#[path = "parquet_tests.rs"]
mod tests;
