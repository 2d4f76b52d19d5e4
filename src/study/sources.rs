//! The `[data]` kinds read from files: each file is read now, so a missing
//! file fails before any training, and its content hash (not its path)
//! enters the trial id, so ids do not depend on where the files lie.

use std::path::{Path, PathBuf};

use super::error::{KeyError, key_err};
use super::keys::{Val, Values};
use super::spec::{DataSource, LabelColumn, TASKS, Task, ValSplit};

/// The source of a kind read from files (csv, idx, npy, npz, parquet).
pub(super) fn file_source(
    kind: &str,
    v: &Values,
    study_dir: &Path,
) -> Result<DataSource, KeyError> {
    let path = |key: &str| {
        let Some(Val::Text(p)) = v.get(key) else {
            unreachable!("{key} is required for kind {kind}")
        };
        study_dir.join(p)
    };
    let text = |key: &str| match v.get(key) {
        Some(Val::Text(t)) => t.clone(),
        _ => unreachable!("{key} is required for kind {kind}"),
    };
    let optional = |key: &str| v.get(key).map(|_| path(key));
    Ok(match kind {
        "csv" | "parquet" => {
            let file = path("data.path");
            let file_hash = hash_file(&file, "data.path")?;
            let (label_column, task) = (label_column(v), task(v));
            if kind == "csv" {
                DataSource::Csv {
                    path: file,
                    file_hash,
                    label_column,
                    task,
                }
            } else {
                DataSource::Parquet {
                    path: file,
                    file_hash,
                    label_column,
                    task,
                }
            }
        }
        "idx" => idx_source(&path, &optional)?,
        "npy" => {
            let (x, y) = (path("data.x"), path("data.y"));
            let file_hash = combine(&[hash_file(&x, "data.x")?, hash_file(&y, "data.y")?]);
            DataSource::Npy {
                x,
                y,
                file_hash,
                task: task(v),
            }
        }
        "npz" => {
            let file = path("data.path");
            DataSource::Npz {
                file_hash: hash_file(&file, "data.path")?,
                path: file,
                x: text("data.x"),
                y: text("data.y"),
                task: task(v),
            }
        }
        other => unreachable!("{other} is not read from files"),
    })
}

/// IDX files: the training images and labels, and the test split's when
/// both are given (`check_splits` refused one without the other).
fn idx_source(
    path: &dyn Fn(&str) -> PathBuf,
    optional: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<DataSource, KeyError> {
    let (images, labels) = (path("data.images"), path("data.labels"));
    let test = optional("data.val_images").zip(optional("data.val_labels"));
    let mut hashes = vec![
        hash_file(&images, "data.images")?,
        hash_file(&labels, "data.labels")?,
    ];
    if let Some((i, l)) = &test {
        hashes.push(hash_file(i, "data.val_images")?);
        hashes.push(hash_file(l, "data.val_labels")?);
    }
    Ok(DataSource::Idx {
        images,
        labels,
        test,
        file_hash: combine(&hashes),
    })
}

/// The idx kind's test split and `data.val` agree: both test files or
/// neither, and `"test"` only where there is a test split.
pub(super) fn check_splits(v: &Values) -> Result<(), KeyError> {
    let kind = v.name("data.kind");
    let (images, labels) = (
        v.get("data.val_images").is_some(),
        v.get("data.val_labels").is_some(),
    );
    if images != labels {
        let (given, missing) = if images {
            ("data.val_images", "data.val_labels")
        } else {
            ("data.val_labels", "data.val_images")
        };
        return Err(key_err(
            given,
            format!("the test split needs both files: {missing} is missing"),
        ));
    }
    let val = v.get("data.val");
    let has_test = kind == "fashion_mnist" || images;
    if val == Some(&Val::Split(ValSplit::Test)) && !has_test {
        return Err(key_err(
            "data.val",
            format!(
                "\"test\" needs a test split, but kind = \"{kind}\" has none{}; use a fraction such as 0.2",
                if kind == "idx" {
                    " (give data.val_images and data.val_labels)"
                } else {
                    ""
                }
            ),
        ));
    }
    if images && val != Some(&Val::Split(ValSplit::Test)) {
        return Err(key_err(
            "data.val_images",
            "a test split is given, but data.val asks for another validation split; remove data.val or the test files",
        ));
    }
    Ok(())
}

fn label_column(v: &Values) -> LabelColumn {
    match v.get("data.label_column") {
        Some(Val::Label(l)) => l.clone(),
        _ => LabelColumn::Last,
    }
}

fn task(v: &Values) -> Task {
    TASKS
        .iter()
        .find(|(n, _)| *n == v.name("data.task"))
        .map_or(Task::Classification, |(_, t)| *t)
}

/// FNV-1a of the file's bytes, 16 hex digits; the error names `key`.
fn hash_file(path: &PathBuf, key: &str) -> Result<String, KeyError> {
    let bytes = std::fs::read(path).map_err(|e| {
        key_err(
            key,
            format!(
                "cannot read {}: {e} (paths are relative to the study file)",
                path.display()
            ),
        )
    })?;
    Ok(format!("{:016x}", super::fnv1a(&bytes)))
}

/// One hash of several files' hashes, in order.
fn combine(hashes: &[String]) -> String {
    format!("{:016x}", super::fnv1a(hashes.concat().as_bytes()))
}
