//! Parquet exporter (issue 26): `trials.parquet`, `summary.parquet` and
//! `curves.parquet` beside the CSVs, for pandas and polars. They hold the
//! CSVs' frames as they are typed here (integers UInt64 or Int64, floats
//! Float64, booleans Boolean, text String: a settings column whose values
//! mix kinds is text in every row, as in the CSV), with the CSVs' column
//! names; `curves.parquet` adds each trial's settings to its rows so one
//! read answers a question. polars writes them (zstd, no timestamps): the
//! same records give the same bytes. Pure, like the CSV exporter; the
//! results folder writes them atomically with the other files.

use anyhow::Result;
use polars::prelude::*;

use super::{File, Report, trials};

/// The three Parquet files of `report`, as (name, bytes); none when the
/// crate is built without the `parquet` feature (polars' writer is in it).
pub fn files(report: &Report) -> Result<Vec<File>> {
    if !cfg!(feature = "parquet") {
        return Ok(Vec::new());
    }
    let curves = curves_with_settings(&report.curves, &report.trials)?;
    Ok(vec![
        ("trials.parquet".into(), render(&report.trials)?),
        ("summary.parquet".into(), render(&report.summary)?),
        ("curves.parquet".into(), render(&curves)?),
    ])
}

/// `df` as a Parquet file.
#[cfg(feature = "parquet")]
fn render(df: &DataFrame) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut df.clone())?;
    Ok(out)
}

#[cfg(not(feature = "parquet"))]
fn render(_: &DataFrame) -> Result<Vec<u8>> {
    unreachable!("files() writes no Parquet without the feature")
}

/// curves.csv's columns, then each row's trial's identity and settings
/// from `trials` (`trials::setting_names`), in trials.csv's order and
/// types: a curve row stands alone, like a row of trials.csv.
pub(super) fn curves_with_settings(curves: &DataFrame, trials: &DataFrame) -> Result<DataFrame> {
    let row_of: std::collections::HashMap<u64, IdxSize> = trials
        .column("trial")?
        .u64()?
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((t?, i as IdxSize)))
        .collect();
    let rows = curves
        .column("trial")?
        .u64()?
        .iter()
        .map(|t| {
            t.and_then(|t| row_of.get(&t).copied())
                .ok_or_else(|| anyhow::anyhow!("curve of trial {t:?} has no row in trials"))
        })
        .collect::<Result<Vec<IdxSize>>>()?;
    let take = IdxCa::from_vec("".into(), rows);
    let settings = trials::setting_names(trials)
        .iter()
        .map(|name| trials.column(name)?.take(&take))
        .collect::<PolarsResult<Vec<Column>>>()?;
    // hstack refuses a name curves.csv already has, rather than replace it.
    Ok(curves.hstack(&settings)?)
}

#[cfg(test)]
mod tests;
