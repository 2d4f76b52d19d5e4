use super::*;
use crate::study::LabelColumn;
use csv_file::parse_csv;
use read::{BREAST_CANCER, DIGITS, IRIS, WINE};

fn spec(src: &str) -> DataSpec {
    let e = crate::testkit::study(src);
    e.config_at(&e.coords(0)).unwrap().data
}

#[test]
fn spiral_matches_the_cs231n_formula() {
    // Without noise every point is fixed by the formula: check it here
    // independently of `linspace`.
    let s = spiral(5, 3, 0.0, &mut rng(0, 0));
    let Targets::Classes(y) = &s.y else { panic!() };
    assert_eq!(y, &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    for j in 0..3 {
        for i in 0..5 {
            let r = i as f64 / 4.0;
            let t = 4.0 * j as f64 + i as f64;
            let row = j * 5 + i;
            assert!((s.x[2 * row] as f64 - r * t.sin()).abs() < 1e-6);
            assert!((s.x[2 * row + 1] as f64 - r * t.cos()).abs() < 1e-6);
        }
    }
    // Noise enters only through the angle, so the radius is unchanged.
    let noisy = spiral(5, 3, 0.2, &mut rng(0, 0));
    for row in 0..15 {
        let r = (noisy.x[2 * row].powi(2) + noisy.x[2 * row + 1].powi(2)).sqrt();
        assert!((r as f64 - (row % 5) as f64 / 4.0).abs() < 1e-6);
    }
}

#[test]
fn data_is_fixed_by_the_data_seed() {
    let a = load(&spec("[data]\nkind = \"spiral\"\nseed = 4\n")).unwrap();
    let b = load(&spec("[data]\nkind = \"spiral\"\nseed = 4\n")).unwrap();
    let c = load(&spec("[data]\nkind = \"spiral\"\nseed = 5\n")).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.train.x, c.train.x);
    assert_ne!(
        a.train.x,
        a.val.as_ref().unwrap().x,
        "a fresh validation draw is independent"
    );
    assert_eq!((a.train.len(), a.n_features, a.n_outputs), (300, 2, 3));
}

#[test]
fn every_kind_loads_with_the_expected_shape() {
    let cases = [
        ("circles", 200, 2, 2),
        ("moons", 200, 2, 2),
        ("xor", 200, 2, 2),
        ("blobs", 300, 2, 3),
        ("sine", 200, 1, 1),
    ];
    for (kind, n, d, k) in cases {
        let ds = load(&spec(&format!("[data]\nkind = \"{kind}\"\n"))).unwrap();
        assert_eq!(
            (ds.train.len(), ds.n_features, ds.n_outputs),
            (n, d, k),
            "{kind}"
        );
        assert_eq!(ds.train.x.len(), n * d);
    }
    let cases = [
        ("digits", 1797, 64, 10),
        ("iris", 150, 4, 3),
        ("wine", 178, 13, 3),
        ("breast_cancer", 569, 30, 2),
    ];
    for (kind, n, d, k) in cases {
        let ds = load(&spec(&format!("[data]\nkind = \"{kind}\"\nval = 0.2\n"))).unwrap();
        let n_val = ds.val.as_ref().unwrap().len();
        assert_eq!(
            (ds.train.len() + n_val, ds.n_features, ds.n_outputs),
            (n, d, k),
            "{kind}"
        );
        assert_eq!(n_val, (0.2 * n as f64).round() as usize);
    }
}

#[test]
fn standardisation_uses_training_statistics() {
    let ds = load(&spec("[data]\nkind = \"wine\"\n")).unwrap();
    let d = ds.n_features;
    for k in 0..d {
        let col: Vec<f64> = ds.train.x.chunks(d).map(|r| f64::from(r[k])).collect();
        let mean = col.iter().sum::<f64>() / col.len() as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
        assert!(
            mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3,
            "feature {k}: mean {mean} var {var}"
        );
    }
}

/// Both splits are standardised with the *training* split's per-feature
/// mean and population std (ddof 0, as documented on `standardize`).
/// The oracle is computed here in f64 from the same data loaded with
/// `standardize = false`: every value must equal (x − mean_train) /
/// std_train. Covers a fresh validation draw (spiral), a held-out
/// fraction of a generated set (blobs) and of a shipped table (wine).
/// Catches: the validation split standardised with its own statistics
/// or not at all, and ddof 1 instead of 0 (a 0.17 % scale change here,
/// far above the f32 tolerance).
#[test]
fn validation_is_standardised_with_training_statistics() {
    let cases = [
        "kind = \"spiral\"\nval = \"fresh\"",
        "kind = \"blobs\"\ndims = 3\nval = 0.25",
        "kind = \"wine\"\nval = 0.2",
    ];
    for case in cases {
        let raw = load(&spec(&format!(
            "[data]\n{case}\nseed = 3\nstandardize = false\n"
        )))
        .unwrap();
        let std = load(&spec(&format!(
            "[data]\n{case}\nseed = 3\nstandardize = true\n"
        )))
        .unwrap();
        let d = raw.n_features;
        let n = raw.train.len() as f64;
        let (raw_val, std_val) = (raw.val.as_ref().unwrap(), std.val.as_ref().unwrap());
        assert_eq!(
            (std.train.len(), std_val.len()),
            (raw.train.len(), raw_val.len())
        );
        assert_eq!((&std.train.y, &std_val.y), (&raw.train.y, &raw_val.y));
        for k in 0..d {
            let col: Vec<f64> = raw.train.x.chunks(d).map(|r| f64::from(r[k])).collect();
            let mean = col.iter().sum::<f64>() / n;
            let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            assert!(sd > 0.0, "{case:?}: feature {k} is constant");
            for (split, a, b) in [
                ("train", &raw.train.x, &std.train.x),
                ("val", &raw_val.x, &std_val.x),
            ] {
                for (row, (ra, rb)) in a.chunks(d).zip(b.chunks(d)).enumerate() {
                    let want = (f64::from(ra[k]) - mean) / sd;
                    let got = f64::from(rb[k]);
                    assert!(
                        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                        "{case:?}: {split} row {row} feature {k}: {got} != {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn csv_label_columns_and_errors() {
    let text = "a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n";
    let (s, d, k) = parse_csv(text, "t.csv", &LabelColumn::Last, Task::Classification).unwrap();
    assert_eq!((d, k), (2, 2));
    assert_eq!(s.y, Targets::Classes(vec![0, 1, 0]));
    assert_eq!(s.x, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let numeric = "a,b,c\n1,2,0.5\n3,4,1.5\n";
    let (s, _, _) = parse_csv(
        numeric,
        "t.csv",
        &LabelColumn::Name("a".into()),
        Task::Regression,
    )
    .unwrap();
    assert_eq!(s.y, Targets::Values(vec![1.0, 3.0]));
    assert_eq!(s.x, vec![2.0, 0.5, 4.0, 1.5]);
    let e = parse_csv(text, "t.csv", &LabelColumn::Index(3), Task::Classification).unwrap_err();
    assert_eq!(
        e.to_string(),
        "data.label_column: column 3 is out of range: the file has 3 columns (0..=2)"
    );
    let e = parse_csv(
        "a,b\n1,x\n2,y\n",
        "t.csv",
        &LabelColumn::Index(0),
        Task::Classification,
    )
    .unwrap_err();
    assert!(e.to_string().contains("line 2, column \"b\""), "{e}");
    let e = parse_csv(
        "a,b\n1,x\n2\n",
        "t.csv",
        &LabelColumn::Last,
        Task::Classification,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "data.path: line 3: 1 fields, but the header has 2"
    );
}

/// The numbers of a CSV file read by a plain comma split, as the reader
/// did before it used the `csv` crate: features row-major, labels as text.
fn comma_split(text: &str) -> (Vec<f32>, Vec<String>) {
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let (label, features) = cells.split_last().unwrap();
        x.extend(features.iter().map(|c| c.parse::<f32>().unwrap()));
        labels.push(label.to_string());
    }
    (x, labels)
}

#[test]
fn shipped_tables_read_as_a_plain_comma_split() {
    for (file, text) in [
        ("digits.csv", DIGITS),
        ("iris.csv", IRIS),
        ("wine.csv", WINE),
        ("breast_cancer.csv", BREAST_CANCER),
    ] {
        let (want_x, labels) = comma_split(text);
        let (s, d, k) = parse_csv(text, file, &LabelColumn::Last, Task::Classification).unwrap();
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&s.x), bits(&want_x), "{file}");
        assert_eq!(s.x.len(), labels.len() * d, "{file}");
        // The shipped labels are already 0..K, so they are their own indices.
        let want_y: Vec<u32> = labels.iter().map(|l| l.parse().unwrap()).collect();
        assert_eq!(k, 1 + *want_y.iter().max().unwrap() as usize, "{file}");
        assert_eq!(s.y, Targets::Classes(want_y), "{file}");
    }
}

#[test]
fn quoted_fields_a_byte_order_mark_and_crlf_read_like_the_plain_file() {
    let plain = "label,a,b\nsetosa,1.5,-2\nversicolor,3,4e-1\n\nsetosa,5,6\n";
    let by_name = LabelColumn::Name("label".into());
    let want = parse_csv(plain, "p.csv", &by_name, Task::Classification).unwrap();
    for variant in [
        "\"label\",\"a\",\"b\"\n\"setosa\",\"1.5\",\"-2\"\n\"versicolor\",3,\"4e-1\"\n\n\"setosa\",5,6\n",
        "\u{feff}label,a,b\nsetosa,1.5,-2\nversicolor,3,4e-1\n\nsetosa,5,6\n",
        "label,a,b\r\nsetosa,1.5,-2\r\nversicolor,3,4e-1\r\n\r\nsetosa,5,6\r\n",
        "\u{feff}\"label\",\"a\" ,b\r\n setosa ,\"1.5\",-2\r\nversicolor,3,4e-1\r\n\r\nsetosa,5,6",
    ] {
        let got = parse_csv(variant, "v.csv", &by_name, Task::Classification);
        assert_eq!(got, Ok(want.clone()), "{variant:?}");
    }
    // A quoted label may hold a comma; a quoted number is still a number.
    let text = "a,\"b\",label\n1,\"2\",\"Iris setosa, wild\"\n3,4,other\n";
    let (s, d, k) = parse_csv(text, "q.csv", &LabelColumn::Last, Task::Classification).unwrap();
    assert_eq!((d, k, s.x), (2, 2, vec![1.0, 2.0, 3.0, 4.0]));
    assert_eq!(s.y, Targets::Classes(vec![0, 1]));
}

#[test]
fn line_numbers_count_blank_lines_and_quoted_line_breaks() {
    let e = parse_csv(
        "a,b\n\n1,x\n   \n2\n",
        "t.csv",
        &LabelColumn::Last,
        Task::Classification,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "data.path: line 5: 1 fields, but the header has 2"
    );
    let crlf = "\u{feff}a,b\r\n\r\n1,x\r\n\r\n\r\n2\r\n";
    let e = parse_csv(crlf, "t.csv", &LabelColumn::Last, Task::Classification).unwrap_err();
    assert_eq!(
        e.to_string(),
        "data.path: line 6: 1 fields, but the header has 2"
    );
    // A record is numbered by the line it starts on.
    let text = "a,label\n1,\"two\nlines\"\n2,y\nz,w\n";
    let e = parse_csv(text, "t.csv", &LabelColumn::Last, Task::Classification).unwrap_err();
    assert_eq!(
        e.to_string(),
        "data.path: line 5, column \"a\": \"z\" is not a number"
    );
    for empty in ["", "\u{feff}", "\n\n  \n"] {
        let e = parse_csv(empty, "t.csv", &LabelColumn::Last, Task::Classification).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.path: the CSV file is empty",
            "{empty:?}"
        );
    }
}

#[test]
fn non_finite_values_name_the_file_line_and_column() {
    let class = |text: &str| {
        parse_csv(text, "dir/f.csv", &LabelColumn::Last, Task::Classification)
            .unwrap_err()
            .to_string()
    };
    for (cell, what) in [
        ("NaN", "is not a finite number"),
        ("nan", "is not a finite number"),
        ("inf", "is not a finite number"),
        ("-Infinity", "is not a finite number"),
        ("\"NaN\"", "is not a finite number"),
        ("1e39", "is too large for a 32-bit float"),
    ] {
        let text = format!("a,b,label\n1,2,0\n\n3,{cell},1\n");
        let shown = cell.trim_matches('"');
        assert_eq!(
            class(&text),
            format!("data.path: dir/f.csv:4: column \"b\": \"{shown}\" {what}")
        );
    }
    // A class label is text: "nan" is a class like any other.
    let text = "a,label\n1,nan\n2,ok\n";
    assert!(parse_csv(text, "f.csv", &LabelColumn::Last, Task::Classification).is_ok());
    // A regression target must be finite too; one that is not a number
    // keeps its message.
    let regress = |text: &str| {
        parse_csv(
            text,
            "f.csv",
            &LabelColumn::Name("y".into()),
            Task::Regression,
        )
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        regress("x,y\n1,0.5\n2,-inf\n"),
        "data.path: f.csv:3: column \"y\": \"-inf\" is not a finite number"
    );
    assert_eq!(
        regress("x,y\n1,0.5\n2,big\n"),
        "data.label_column: row 2: target \"big\" is not a number"
    );
}

#[test]
fn label_noise_flips_about_the_requested_share() {
    let clean = load(&spec("[data]\nkind = \"moons\"\npoints_per_class = 1000\n")).unwrap();
    let noisy = load(&spec(
        "[data]\nkind = \"moons\"\npoints_per_class = 1000\nlabel_noise = 0.1\n",
    ))
    .unwrap();
    let (Targets::Classes(a), Targets::Classes(b)) = (&clean.train.y, &noisy.train.y) else {
        panic!()
    };
    let flipped = a.iter().zip(b).filter(|(x, y)| x != y).count();
    assert!((150..250).contains(&flipped), "{flipped} of 2000 flipped");
}
