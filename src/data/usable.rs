//! Settings that only the loaded data can judge, checked before anything
//! is trained or written: a split must leave enough rows, batch norm needs
//! every minibatch of at least 2 rows, and decision-region panels need
//! 2-D classification data. Without these a trial fails at training time
//! (batch norm of one row) or a setting is silently meaningless.
//!
//! The minimum split: at least [`MIN_ROWS`] rows in each split, and for
//! classification every class in the training split (a class never seen in
//! training cannot be learnt, and one row is no sample to fit or judge).

use super::{Dataset, Targets};
use crate::study::{Batch, Config, Study, StudyError, Task};

/// Fewest rows a training or validation split may have.
pub const MIN_ROWS: usize = 2;

/// Check the study's settings against one of its data sets (once per
/// data set; [`batch_norm`] is per trial).
pub fn check_data(exp: &Study, ds: &Dataset) -> Result<(), StudyError> {
    split(exp, ds)?;
    boundaries(exp, ds)
}

fn split(exp: &Study, ds: &Dataset) -> Result<(), StudyError> {
    let (train, n_val) = (ds.train.len(), ds.val.as_ref().map_or(0, |v| v.len()));
    let (val, kind) = (named(exp, "data.val"), named(exp, "data.kind"));
    let key = exp.given_key(&[&val, &kind]);
    if train < MIN_ROWS || (ds.val.is_some() && n_val < MIN_ROWS) {
        return Err(exp.key_error(
            key,
            format!(
                "the split leaves {train} training and {n_val} validation rows; each split needs at least {MIN_ROWS} rows"
            ),
        ));
    }
    if let Targets::Classes(y) = &ds.train.y
        && ds.task == Task::Classification
    {
        let missing: Vec<usize> = (0..ds.n_outputs)
            .filter(|c| !y.contains(&(*c as u32)))
            .collect();
        if !missing.is_empty() {
            return Err(exp.key_error(
                key,
                format!(
                    "the training split ({train} rows) has no row of class {}; every class needs a training row",
                    missing.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Batch norm divides by a minibatch's variance: one row has none (and
/// candle fails mid-training). Training takes minibatches of
/// `Batch::rows(n)` rows and a last, shorter one of `n mod rows` rows.
pub fn batch_norm(exp: &Study, config: &Config, n: usize) -> Result<(), StudyError> {
    if !config.model.batch_norm || config.model.depth == 0 {
        return Ok(());
    }
    let rows = config.train.batch.rows(n);
    let why = if rows < 2 {
        format!("minibatches of {rows} row")
    } else if rows < n && n % rows == 1 {
        format!("{n} training rows in minibatches of {rows}, which leave a last minibatch of 1 row")
    } else {
        return Ok(());
    };
    let (size, norm) = (
        named(exp, "train.batch_size"),
        named(exp, "model.batch_norm"),
    );
    let key = match config.train.batch {
        Batch::Size(_) => exp.given_key(&[&size, &norm]),
        Batch::Full => &norm,
    };
    Err(exp.key_error(
        key,
        format!(
            "batch norm needs every minibatch of at least 2 rows, but this gives {why}; choose another train.batch_size"
        ),
    ))
}

/// How errors name `key`: `grid.<name>` when it is swept (see `Study::blame`).
fn named(exp: &Study, key: &str) -> String {
    let swept = exp.axes.iter().any(|a| a.keys.iter().any(|k| k == key));
    match key.split_once('.') {
        Some((_, name)) if swept => format!("grid.{name}"),
        _ => key.to_string(),
    }
}

/// `[report] boundaries` picks decision-region panels, drawn only for
/// 2-D classification; elsewhere it would be ignored.
fn boundaries(exp: &Study, ds: &Dataset) -> Result<(), StudyError> {
    if exp.report.boundaries.is_empty() || (ds.task == Task::Classification && ds.n_features == 2) {
        return Ok(());
    }
    let task = match ds.task {
        Task::Classification => "classification",
        Task::Regression => "regression",
    };
    Err(exp.key_error(
        "report.boundaries",
        format!(
            "decision regions are drawn for 2-D classification only, but this data is {task} on {} feature(s); remove it",
            ds.n_features
        ),
    ))
}

#[cfg(test)]
mod tests {
    use crate::data::Datasets;
    use crate::plan::Plan;

    /// The error `Datasets::load` gives a spiral of 300 training rows
    /// with batch norm, or `None` when it accepts the study.
    fn bn(train: &str) -> Option<String> {
        let src = format!(
            "name = \"d\"\n[data]\npoints_per_class = 100\n[model]\nbatch_norm = true\n[train]\n{train}\n"
        );
        let exp = crate::testkit::study(&src);
        let plan = Plan::new(&exp).unwrap();
        Datasets::load(&exp, &plan).err().map(|e| e.to_string())
    }

    /// Catches `n % rows == 1` loosened to `< 2` (batch 25 divides 300:
    /// no short batch, accepted) or dropped (batch 23 leaves 1 row), and
    /// `rows < 2` dropped (batch 1) or widened (full batch is fine).
    #[test]
    fn batch_norm_refuses_exactly_the_one_row_minibatches() {
        assert_eq!(bn("batch_size = 25"), None);
        assert_eq!(bn("batch_size = 22"), None); // a last batch of 14 rows
        assert_eq!(bn("batch_size = \"full\""), None);
        let tail = bn("batch_size = 23").unwrap();
        assert!(tail.starts_with("s.toml:7: train.batch_size:"), "{tail}");
        assert!(tail.contains("leave a last minibatch of 1 row"), "{tail}");
        let one = bn("batch_size = 1").unwrap();
        assert!(one.contains("minibatches of 1 row"), "{one}");
    }
}
