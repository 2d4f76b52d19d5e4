use super::*;

fn write(df: &mut DataFrame) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(df)
        .unwrap();
    (dir, path)
}

fn message(df: &mut DataFrame, label: LabelColumn, task: Task) -> String {
    let (_dir, path) = write(df);
    let e = read(&path, &label, task).err().unwrap();
    format!("{}: {}", e.key, e.message)
}

#[test]
fn text_labels_map_in_sorted_order_and_features_keep_their_order() {
    let mut df = df!(
        "b" => [1.5f64, 2.5, 3.5],
        "kind" => ["setosa", "virginica", "setosa"],
        "a" => [1i32, 2, 3],
    )
    .unwrap();
    let (_dir, path) = write(&mut df);
    let r = read(
        &path,
        &LabelColumn::Name("kind".into()),
        Task::Classification,
    )
    .unwrap();
    assert_eq!((r.train.d, r.k), (2, 2));
    assert_eq!(r.train.y, Targets::Classes(vec![0, 1, 0]));
    let Features::Floats(x) = r.train.x else {
        panic!()
    };
    assert_eq!(x, vec![1.5, 1.0, 2.5, 2.0, 3.5, 3.0]);
}

#[test]
fn bad_tables_are_refused_by_name() {
    let mut df = df!(
        "a" => [1.0f64, 2.0, 3.0],
        "when" => ["x", "y", "z"],
        "flag" => [true, false, true],
        "y" => [0i64, 1, 0],
    )
    .unwrap();
    let m = message(&mut df, LabelColumn::Last, Task::Classification);
    assert!(m.starts_with("data.path: "), "{m}");
    assert!(
        m.ends_with("feature columns must be numbers, but \"when\" (str), \"flag\" (bool) are not"),
        "{m}"
    );
    let m = message(
        &mut df,
        LabelColumn::Name("label".into()),
        Task::Classification,
    );
    assert_eq!(
        m,
        "data.label_column: no column named \"label\"; the header has: a, when, flag, y"
    );
    let mut nulls = df!("a" => [Some(1.0f64), None, Some(3.0)], "y" => [0i64, 1, 0]).unwrap();
    let m = message(&mut nulls, LabelColumn::Last, Task::Classification);
    assert!(
        m.ends_with("column \"a\" has 1 missing values (null)"),
        "{m}"
    );
    let mut text_target = df!("a" => [1.0f64, 2.0], "y" => ["p", "q"]).unwrap();
    let m = message(&mut text_target, LabelColumn::Last, Task::Regression);
    assert!(m.contains("column \"y\" is str, not numbers"), "{m}");
}
