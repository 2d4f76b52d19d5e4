//! The real Fashion-MNIST files of the Debian package
//! `dataset-fashion-mnist`, read through `kind = "fashion_mnist"`. Where
//! the package is not installed the test says so and passes, unless
//! `MLPSWEEP_REQUIRE_DATASETS=1` (set by `.ci/run`, which installs it).
//!
//! The expected numbers were read from the same files with python3's
//! `gzip` module (`gzip.open(f).read()[8:]` for labels, `[16:]` for images).

use std::path::Path;

use mlpsweep::data::{Dataset, FASHION_MNIST_DIR, Targets, load};
use mlpsweep::study::from_str;

const REQUIRE: &str = "MLPSWEEP_REQUIRE_DATASETS";

fn fashion(extra: &str) -> Option<Dataset> {
    if !Path::new(FASHION_MNIST_DIR).is_dir() {
        assert!(
            std::env::var(REQUIRE).as_deref() != Ok("1"),
            "{REQUIRE}=1 but {FASHION_MNIST_DIR} is missing: apt-get install dataset-fashion-mnist"
        );
        println!("SKIPPED: {FASHION_MNIST_DIR} is missing (apt-get install dataset-fashion-mnist)");
        return None;
    }
    let src = format!("name = \"f\"\n[data]\nkind = \"fashion_mnist\"\n{extra}");
    let study = from_str(&src, Path::new("f.toml"), &[]).unwrap();
    let spec = study.config_at(&study.coords(0)).unwrap().data;
    Some(load(&spec).unwrap())
}

fn classes(t: &Targets) -> &[u32] {
    match t {
        Targets::Classes(c) => c,
        Targets::Values(_) => panic!("Fashion-MNIST is classification"),
    }
}

#[test]
fn fashion_mnist_reads_the_packaged_files() {
    let Some(ds) = fashion("") else { return };
    assert_eq!((ds.n_features, ds.n_outputs), (784, 10));
    assert_eq!(ds.train.len(), 60_000);
    let y = classes(&ds.train.y);
    // python3: list(labels[:10]) and labels.count(c) == 6000 for every c.
    assert_eq!(&y[..10], &[9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    assert!((0..10).all(|c| y.iter().filter(|&&l| l == c).count() == 6000));
    // python3: sum(images[:784]) == 76247, max 255; pixels are divided by 255.
    let first: f64 = ds.train.x[..784]
        .iter()
        .map(|&v| f64::from(v) * 255.0)
        .sum();
    assert!((first - 76_247.0).abs() < 1e-2, "{first}");
    assert_eq!(ds.train.x[..784].iter().copied().fold(0.0, f32::max), 1.0);
    // The test split validates by default: python3 list(t10k_labels[:5]).
    let val = ds.val.expect("the test split");
    assert_eq!(val.len(), 10_000);
    assert_eq!(&classes(&val.y)[..5], &[9, 2, 1, 1, 6]);
}

#[test]
fn a_fashion_mnist_subset_keeps_the_classes_balanced() {
    let Some(ds) = fashion("max_rows = 5000\n") else {
        return;
    };
    let y = classes(&ds.train.y);
    assert_eq!(y.len(), 5000);
    assert!((0..10).all(|c| y.iter().filter(|&&l| l == c).count() == 500));
    assert_eq!(ds.val.expect("the test split").len(), 10_000);
}
