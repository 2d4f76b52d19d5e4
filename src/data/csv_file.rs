//! Reading a CSV table (`kind = "csv"` and the shipped sets): a header
//! row, numeric features and one label column, with errors that name the
//! line, the column or the `[data]` key at fault.

use std::collections::BTreeMap;

use super::{DataError, Split, Targets, err};
use crate::study::{LabelColumn, Task};

/// Parse a CSV with a header row. Returns the rows, the feature count and
/// the class count (0 for regression). Class labels are mapped to
/// `0..K` in sorted order (numerically when they are all integers).
///
/// The checks run in a fixed order (header, label column, each row left to
/// right, row count, labels), so a file with several faults always reports
/// the same one first.
pub(super) fn parse_csv(
    text: &str,
    label: &LabelColumn,
    task: Task,
) -> Result<(Split, usize, usize), DataError> {
    // Blank lines are skipped, but line numbers in errors count them.
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .ok_or_else(|| err("data.path", "the CSV file is empty"))?;
    let names = header_names(header)?;
    let col = label_index(label, &names)?;
    let (x, raw_labels) = read_rows(lines, &names, col)?;
    if raw_labels.len() < 2 {
        return Err(err("data.path", "the CSV has fewer than two data rows"));
    }
    let d = names.len() - 1;
    Ok(match task {
        Task::Regression => {
            let y = regression_targets(&raw_labels)?;
            let split = Split {
                x,
                y: Targets::Values(y),
            };
            (split, d, 0)
        }
        Task::Classification => {
            let (y, classes) = class_indices(&raw_labels)?;
            let split = Split {
                x,
                y: Targets::Classes(y),
            };
            (split, d, classes)
        }
    })
}

/// The column names of the header row; a table needs at least a feature
/// and a label.
fn header_names(header: &str) -> Result<Vec<&str>, DataError> {
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    if names.len() < 2 {
        return Err(err(
            "data.path",
            "the CSV needs a header row and at least two columns (features and a label)",
        ));
    }
    Ok(names)
}

/// Where `data.label_column` points among `names`; the errors list what
/// the file has, so a typo is easy to see.
fn label_index(label: &LabelColumn, names: &[&str]) -> Result<usize, DataError> {
    match label {
        LabelColumn::Last => Ok(names.len() - 1),
        LabelColumn::Index(i) if *i < names.len() => Ok(*i),
        LabelColumn::Index(i) => Err(err(
            "data.label_column",
            format!(
                "column {i} is out of range: the file has {} columns (0..={})",
                names.len(),
                names.len() - 1
            ),
        )),
        LabelColumn::Name(s) => names.iter().position(|n| n == s).ok_or_else(|| {
            err(
                "data.label_column",
                format!(
                    "no column named \"{s}\"; the header has: {}",
                    names.join(", ")
                ),
            )
        }),
    }
}

/// Read the data rows (each with its 0-based line number in the file):
/// the features as numbers, row-major, and the label cells as text, since
/// what a label means depends on the task. Stops at the first row of the
/// wrong width or the first feature cell that is not a number.
fn read_rows<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    names: &[&str],
    col: usize,
) -> Result<(Vec<f32>, Vec<String>), DataError> {
    let mut x = Vec::new();
    let mut raw_labels = Vec::new();
    for (lineno, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(err(
                "data.path",
                format!(
                    "line {}: {} fields, but the header has {}",
                    lineno + 1,
                    cells.len(),
                    names.len()
                ),
            ));
        }
        for (c, cell) in cells.iter().enumerate() {
            if c == col {
                raw_labels.push(cell.to_string());
            } else {
                x.push(feature(cell, lineno, names[c])?);
            }
        }
    }
    Ok((x, raw_labels))
}

/// One feature cell as a number; the error names the line and the column.
fn feature(cell: &str, lineno: usize, column: &str) -> Result<f32, DataError> {
    cell.parse().map_err(|_| {
        err(
            "data.path",
            format!(
                "line {}, column \"{column}\": \"{cell}\" is not a number",
                lineno + 1
            ),
        )
    })
}

/// Regression targets: every label cell must be a number (rows counted
/// from 1, without the header).
fn regression_targets(raw_labels: &[String]) -> Result<Vec<f32>, DataError> {
    raw_labels
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<f32>().map_err(|_| {
                err(
                    "data.label_column",
                    format!("row {}: target \"{s}\" is not a number", i + 1),
                )
            })
        })
        .collect()
}

/// Class labels as indices `0..K` in sorted order: numerically when every
/// label is an integer (so 2 < 10), as text otherwise. Returns the indices
/// and K, which must be at least two.
fn class_indices(raw_labels: &[String]) -> Result<(Vec<u32>, usize), DataError> {
    let all_int = raw_labels.iter().all(|s| s.parse::<i64>().is_ok());
    let key = |s: &String| {
        if all_int {
            (s.parse::<i64>().unwrap_or(0), String::new())
        } else {
            (0, s.clone())
        }
    };
    let mut classes: BTreeMap<(i64, String), u32> = BTreeMap::new();
    for s in raw_labels {
        classes.insert(key(s), 0);
    }
    for (i, v) in classes.values_mut().enumerate() {
        *v = i as u32;
    }
    if classes.len() < 2 {
        return Err(err(
            "data.label_column",
            "the label column holds a single class; classification needs at least two",
        ));
    }
    let y = raw_labels.iter().map(|s| classes[&key(s)]).collect();
    Ok((y, classes.len()))
}
