//! IDX files, Fashion-MNIST's missing-package error, `max_rows` and the
//! test split, on small files the tests write.

use std::io::Write;
use std::path::Path;

use super::read::fashion_mnist;
use super::*;
use crate::study::from_str;

/// An IDX file of unsigned bytes with these dimensions.
fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend(d.to_be_bytes());
    }
    out.extend(values);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn idx_headers_are_checked() {
    let ok = idx::parse(idx_bytes(&[2, 1, 3], &[1, 2, 3, 4, 5, 6])).unwrap();
    assert_eq!(
        (ok.dims, ok.values),
        (vec![2, 1, 3], vec![1, 2, 3, 4, 5, 6])
    );
    let cases = [
        (
            b"\x1f\x8b\x08\x00".to_vec(),
            "its magic number is [1f 8b 08 00]",
        ),
        (
            {
                let mut b = idx_bytes(&[2], &[0, 0, 0, 0, 0, 0, 0, 0]);
                b[2] = 0x0D;
                b
            },
            "IDX element type 0x0d (float)",
        ),
        (
            idx_bytes(&[2, 3], &[1, 2, 3]),
            "promises 6 values (2 × 3), but the file holds 3: it is truncated",
        ),
        (
            idx_bytes(&[2], &[1, 2, 3]),
            "promises 2 values (2), but the file holds 3",
        ),
        (
            vec![0, 0, 8, 3, 0, 0],
            "promises 3 dimensions, but the file is 6 bytes long",
        ),
    ];
    for (bytes, want) in cases {
        let e = idx::parse(bytes).unwrap_err();
        assert!(e.contains(want), "{e}\nwant: {want}");
    }
}

#[test]
fn gzip_files_are_read_and_a_truncated_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (good, cut) = (dir.path().join("a.gz"), dir.path().join("b.gz"));
    let z = gzip(&idx_bytes(&[3], &[0, 1, 2]));
    std::fs::write(&good, &z).unwrap();
    std::fs::write(&cut, &z[..z.len() - 6]).unwrap();
    assert_eq!(idx::read(&good).unwrap().values, vec![0, 1, 2]);
    let e = idx::read(&cut).unwrap_err();
    assert!(
        e.contains("b.gz: the gzip stream is damaged or truncated"),
        "{e}"
    );
}

/// Ten 2×2 images: image i has every pixel 10·i + 5 (class i mod 2, so
/// five a class), plus a test split of four images.
fn write_images(dir: &Path) {
    let px: Vec<u8> = (0..10u8).flat_map(|i| [10 * i + 5; 4]).collect();
    let labels: Vec<u8> = (0..10).map(|i| i % 2).collect();
    std::fs::write(dir.join("im.gz"), gzip(&idx_bytes(&[10, 2, 2], &px))).unwrap();
    std::fs::write(dir.join("lb"), idx_bytes(&[10], &labels)).unwrap();
    std::fs::write(dir.join("tim"), idx_bytes(&[4, 2, 2], &[255; 16])).unwrap();
    std::fs::write(dir.join("tlb"), idx_bytes(&[4], &[0, 1, 1, 0])).unwrap();
}

fn load_in(dir: &Path, data: &str) -> Result<Dataset, String> {
    let src = format!("name = \"d\"\n[data]\n{data}\n");
    let e = from_str(&src, &dir.join("s.toml"), &[]).map_err(|e| e.to_string())?;
    let spec = e.config_at(&e.coords(0)).map_err(|e| e.to_string())?.data;
    load(&spec).map_err(|e| e.to_string())
}

#[test]
fn idx_images_scale_to_one_and_the_test_split_validates() {
    let dir = tempfile::tempdir().unwrap();
    write_images(dir.path());
    let files = "kind = \"idx\"\nimages = \"im.gz\"\nlabels = \"lb\"\n";
    let test = "val_images = \"tim\"\nval_labels = \"tlb\"\n";
    let ds = load_in(dir.path(), &format!("{files}{test}")).unwrap();
    assert_eq!((ds.n_features, ds.n_outputs, ds.train.len()), (4, 2, 10));
    // 25/255 and 255/255, not standardised: images default to raw [0, 1].
    assert_eq!(ds.train.x[8], 25.0 / 255.0);
    let val = ds.val.unwrap();
    assert_eq!(val.x, vec![1.0; 16]);
    assert_eq!(val.y, Targets::Classes(vec![0, 1, 1, 0]));
    // Without a test split the default is a held-out fraction, stratified:
    // 0.2 of 10 rows is one row of each class.
    let ds = load_in(dir.path(), files).unwrap();
    let Targets::Classes(v) = ds.val.unwrap().y else {
        panic!()
    };
    assert_eq!(
        (ds.train.len(), {
            let mut v = v;
            v.sort();
            v
        }),
        (8, vec![0, 1])
    );
}

#[test]
fn max_rows_keeps_a_stratified_seeded_subset() {
    let dir = tempfile::tempdir().unwrap();
    write_images(dir.path());
    let base =
        "kind = \"idx\"\nimages = \"im.gz\"\nlabels = \"lb\"\nval = \"none\"\nmax_rows = 4\n";
    let a = load_in(dir.path(), base).unwrap();
    let Targets::Classes(y) = &a.train.y else {
        panic!()
    };
    assert_eq!(y.iter().filter(|&&c| c == 1).count(), 2, "{y:?}");
    // Each kept row is an original image, in the file's order.
    let firsts: Vec<f32> = a.train.x.chunks(4).map(|r| r[0] * 255.0).collect();
    assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
    assert_eq!(a, load_in(dir.path(), base).unwrap());
    let other = load_in(dir.path(), &format!("{base}seed = 1\n")).unwrap();
    assert_ne!(a.train.x, other.train.x);
}

#[test]
fn idx_mistakes_name_the_key_and_the_files() {
    let dir = tempfile::tempdir().unwrap();
    write_images(dir.path());
    std::fs::write(dir.path().join("lb9"), idx_bytes(&[9], &[0; 9])).unwrap();
    let e = load_in(
        dir.path(),
        "kind = \"idx\"\nimages = \"im.gz\"\nlabels = \"lb9\"\n",
    )
    .unwrap_err();
    assert!(
        e.starts_with("data.labels: ") && e.contains("lb9 holds 9 labels, but "),
        "{e}"
    );
    assert!(e.ends_with("im.gz holds 10 images"), "{e}");
    let e = load_in(
        dir.path(),
        "kind = \"idx\"\nimages = \"im.gz\"\nlabels = \"lb\"\nval_images = \"tim\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("data.val_images: the test split needs both files: data.val_labels is missing"),
        "{e}"
    );
    let e = load_in(
        dir.path(),
        "kind = \"idx\"\nimages = \"im.gz\"\nlabels = \"lb\"\nval = \"test\"\n",
    )
    .unwrap_err();
    assert!(
        e.contains("data.val: \"test\" needs a test split, but kind = \"idx\" has none"),
        "{e}"
    );
}

#[test]
fn a_missing_fashion_mnist_names_the_package_and_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let e = fashion_mnist(dir.path()).err().unwrap();
    assert_eq!(e.key, "data.kind");
    assert!(
        e.message
            .contains("train-images-idx3-ubyte.gz, which is missing"),
        "{e}"
    );
    assert!(e.message.ends_with("install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)"), "{e}");
}
