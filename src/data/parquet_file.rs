//! Parquet tables (`kind = "parquet"`), read through polars and then
//! handled as a CSV table is.

use std::path::Path;

use super::read::Read;
use super::{DataError, err};
use crate::study::{LabelColumn, Task};

/// Read a Parquet table.
pub(super) fn read(path: &Path, _label: &LabelColumn, _task: Task) -> Result<Read, DataError> {
    Err(err(
        "data.path",
        format!("{}: Parquet is not read yet", path.display()),
    ))
}
