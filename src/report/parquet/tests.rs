use super::*;

/// A trials frame laid out as `trials::frame` lays it out: identity and
/// swept settings, status .. message, then the other settings.
fn trials() -> DataFrame {
    df!(
        "trial" => [0u64, 1],
        "id" => ["a", "b"],
        "config" => [0u64, 1],
        "width" => [8i64, 16],
        "seed" => [5u64, 6],
        "status" => ["ok", "diverged"],
        "val_loss" => [Some(0.5f64), None],
        "message" => [None::<&str>, Some("nan")],
        "batch_norm" => [true, false],
        "lr" => [0.1f64, 0.1],
    )
    .unwrap()
}

fn curves() -> DataFrame {
    df!(
        "trial" => [1u64, 0, 1],
        "epoch" => [0u64, 0, 1],
        "val_loss" => [Some(2.0f64), Some(1.0), None],
    )
    .unwrap()
}

#[test]
fn the_settings_are_the_columns_around_the_outcome() {
    assert_eq!(
        trials::setting_names(&trials()),
        ["id", "config", "width", "seed", "batch_norm", "lr"]
    );
}

#[test]
fn each_curve_row_carries_its_trials_settings_typed() {
    let out = curves_with_settings(&curves(), &trials()).unwrap();
    let names: Vec<&str> = out.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "trial",
            "epoch",
            "val_loss",
            "id",
            "config",
            "width",
            "seed",
            "batch_norm",
            "lr"
        ]
    );
    let width: Vec<Option<i64>> = out.column("width").unwrap().i64().unwrap().iter().collect();
    assert_eq!(width, [Some(16), Some(8), Some(16)]);
    let id: Vec<Option<&str>> = out.column("id").unwrap().str().unwrap().iter().collect();
    assert_eq!(id, [Some("b"), Some("a"), Some("b")]);
    let bn: Vec<Option<bool>> = out
        .column("batch_norm")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(bn, [Some(false), Some(true), Some(false)]);
    // The curve's own val_loss, not the trial's final one.
    let v: Vec<Option<f64>> = out
        .column("val_loss")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(v, [Some(2.0), Some(1.0), None]);
}

#[test]
fn a_curve_of_an_unknown_trial_or_a_clashing_name_is_an_error() {
    let mut c = curves();
    c.with_column(Column::new("trial".into(), [1u64, 7, 1]))
        .unwrap();
    let e = curves_with_settings(&c, &trials()).unwrap_err();
    assert!(e.to_string().contains("trial Some(7)"), "{e}");
    let mut t = trials();
    t.rename("lr", "epoch".into()).unwrap();
    assert!(curves_with_settings(&curves(), &t).is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn a_frame_reads_back_with_its_dtypes_and_the_same_bytes_twice() {
    let df = trials();
    let bytes = render(&df).unwrap();
    assert_eq!(bytes, render(&df).unwrap(), "Parquet bytes vary");
    let back = ParquetReader::new(std::io::Cursor::new(bytes))
        .finish()
        .unwrap();
    assert!(back.equals_missing(&df), "{back}\n{df}");
    let dtypes: Vec<DataType> = back.dtypes();
    assert_eq!(
        dtypes,
        [
            DataType::UInt64,
            DataType::String,
            DataType::UInt64,
            DataType::Int64,
            DataType::UInt64,
            DataType::String,
            DataType::Float64,
            DataType::String,
            DataType::Boolean,
            DataType::Float64,
        ]
    );
}
