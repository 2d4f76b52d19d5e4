//! Reading a CSV table (`kind = "csv"` and the shipped sets): a header
//! row, numeric features and one label column, with errors that name the
//! file, the line, the column or the `[data]` key at fault.
//!
//! The `csv` crate splits the records, so quoted fields (`"1.0"`,
//! `"setosa"`, a label holding a comma), CRLF line endings and a UTF-8
//! byte-order mark read as a spreadsheet writes them.

use std::collections::BTreeMap;

use csv::{ReaderBuilder, StringRecord, Trim};

use super::{DataError, Split, Targets, err};
use crate::study::{LabelColumn, Task};

/// Parse a CSV with a header row; `file` names it in the errors that point
/// into it. Returns the rows, the feature count and the class count (0 for
/// regression). Class labels are mapped to `0..K` in sorted order
/// (numerically when they are all integers).
///
/// The checks run in a fixed order (header, label column, each row left to
/// right, row count, labels), so a file with several faults always reports
/// the same one first.
pub(super) fn parse_csv(
    text: &str,
    file: &str,
    label: &LabelColumn,
    task: Task,
) -> Result<(Split, usize, usize), DataError> {
    let mut records = records(text);
    let (_, header) = records
        .next()
        .transpose()?
        .ok_or_else(|| err("data.path", "the CSV file is empty"))?;
    let names = header_names(&header)?;
    let col = label_index(label, &names)?;
    let (x, labels) = read_rows(records, &names, col, file)?;
    if labels.len() < 2 {
        return Err(err("data.path", "the CSV has fewer than two data rows"));
    }
    let d = names.len() - 1;
    Ok(match task {
        Task::Regression => {
            let y = regression_targets(&labels, &names[col], file)?;
            let split = Split {
                x,
                y: Targets::Values(y),
            };
            (split, d, 0)
        }
        Task::Classification => {
            let raw: Vec<&str> = labels.iter().map(|(_, s)| s.as_str()).collect();
            let (y, classes) = class_indices(&raw)?;
            let split = Split {
                x,
                y: Targets::Classes(y),
            };
            (split, d, classes)
        }
    })
}

/// The records of `text`, each with its 1-based line number in the file
/// (where it starts), cells trimmed. A byte-order mark is dropped, and
/// blank lines are skipped, but line numbers count them. Rows of any width
/// come through: [`read_rows`] reports a wrong one in its own words.
fn records(text: &str) -> impl Iterator<Item = Result<(usize, StringRecord), DataError>> + '_ {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = LineCounter::default();
    ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(text.as_bytes())
        .into_records()
        .map(move |r| {
            // The input is a `&str` and the rows may differ in width, so
            // the reader has nothing to reject; map its error all the same.
            let r = r.map_err(|e| err("data.path", format!("cannot parse the CSV: {e}")))?;
            let from = r.position().map_or(0, |p| p.byte() as usize);
            Ok((lines.line_at(text, from), r))
        })
        .filter(|r| !matches!(r, Ok((_, rec)) if rec.len() == 1 && rec[0].is_empty()))
}

/// Line numbers of records, from the byte offsets the reader gives. The
/// reader's own line count is where it stood before the line ends and
/// blank lines it skips ahead of a record (and it counts a CRLF file's
/// line ends late), so a record's line is counted here instead: the line
/// of its first byte after those skipped line ends.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    /// The line of the record the reader began reading at byte `from` of
    /// `text`; records must come in order.
    fn line_at(&mut self, text: &str, from: usize) -> usize {
        let skipped = text.as_bytes()[from..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = from + skipped;
        self.line += text.as_bytes()[self.offset..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = start;
        self.line + 1
    }
}

/// The column names of the header row; a table needs at least a feature
/// and a label.
fn header_names(header: &StringRecord) -> Result<Vec<String>, DataError> {
    let names: Vec<String> = header.iter().map(String::from).collect();
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
pub(super) fn label_index(label: &LabelColumn, names: &[String]) -> Result<usize, DataError> {
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
        LabelColumn::Name(s) => {
            let at: Vec<usize> = (0..names.len()).filter(|&i| names[i] == *s).collect();
            match at.as_slice() {
                [i] => Ok(*i),
                [] => Err(err(
                    "data.label_column",
                    format!(
                        "no column named \"{s}\"; the header has: {}",
                        names.join(", ")
                    ),
                )),
                // Taking the first would silently train on the other as a feature.
                many => Err(err(
                    "data.label_column",
                    format!(
                        "\"{s}\" is ambiguous: columns {} share that header; give the column's 0-based index instead",
                        many.iter()
                            .map(usize::to_string)
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                )),
            }
        }
    }
}

/// A label cell as text, with the line it is on.
type Label = (usize, String);

/// Read the data rows: the features as numbers, row-major, and the label
/// cells as text with their line numbers, since what a label means depends
/// on the task. Stops at the first row of the wrong width or the first
/// feature cell that is not a finite number.
fn read_rows(
    records: impl Iterator<Item = Result<(usize, StringRecord), DataError>>,
    names: &[String],
    col: usize,
    file: &str,
) -> Result<(Vec<f32>, Vec<Label>), DataError> {
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for record in records {
        let (line, cells) = record?;
        if cells.len() != names.len() {
            return Err(err(
                "data.path",
                format!(
                    "line {line}: {} fields, but the header has {}",
                    cells.len(),
                    names.len()
                ),
            ));
        }
        for (c, cell) in cells.iter().enumerate() {
            if c == col {
                labels.push((line, cell.to_string()));
            } else {
                let v = cell.parse().map_err(|_| {
                    err(
                        "data.path",
                        format!(
                            "line {line}, column \"{}\": \"{cell}\" is not a number",
                            names[c]
                        ),
                    )
                })?;
                x.push(finite(v, cell, file, line, &names[c])?);
            }
        }
    }
    Ok((x, labels))
}

/// `v`, read from `cell`, unless it is NaN or infinite: such a value would
/// make every trial diverge, which would blame the hyperparameters. The
/// error names the file, the line and the column.
fn finite(v: f32, cell: &str, file: &str, line: usize, column: &str) -> Result<f32, DataError> {
    if v.is_finite() {
        return Ok(v);
    }
    let what = if cell.parse::<f64>().is_ok_and(f64::is_finite) {
        "is too large for a 32-bit float"
    } else {
        "is not a finite number"
    };
    Err(err(
        "data.path",
        format!("{file}:{line}: column \"{column}\": \"{cell}\" {what}"),
    ))
}

/// Regression targets: every label cell must be a finite number (rows
/// counted from 1, without the header, for one that is not a number).
fn regression_targets(labels: &[Label], column: &str, file: &str) -> Result<Vec<f32>, DataError> {
    labels
        .iter()
        .enumerate()
        .map(|(i, (line, s))| {
            let v = s.parse::<f32>().map_err(|_| {
                err(
                    "data.label_column",
                    format!("row {}: target \"{s}\" is not a number", i + 1),
                )
            })?;
            finite(v, s, file, *line, column)
        })
        .collect()
}

/// Class labels as indices `0..K` in sorted order: numerically when every
/// label is an integer (so 2 < 10), as text otherwise. Returns the indices
/// and K, which must be at least two.
pub(super) fn class_indices(raw_labels: &[&str]) -> Result<(Vec<u32>, usize), DataError> {
    let all_int = raw_labels.iter().all(|s| s.parse::<i64>().is_ok());
    let key = |s: &str| {
        if all_int {
            (s.parse::<i64>().unwrap_or(0), String::new())
        } else {
            (0, s.to_string())
        }
    };
    let mut classes: BTreeMap<(i64, String), u32> = BTreeMap::new();
    for &s in raw_labels {
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
    let y = raw_labels.iter().map(|&s| classes[&key(s)]).collect();
    Ok((y, classes.len()))
}
