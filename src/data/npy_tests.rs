use std::io::Write;

use super::*;

/// An `.npy` file as `np.save` writes it (format 1.0: the header padded
/// with spaces and a newline to a multiple of 64 bytes).
fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let order = if fortran { "True" } else { "False" };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h.as_bytes());
    out.extend(data);
    out
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The helper writes what NumPy 2 wrote here for
/// `np.save(b, np.array([[1.5, -2], [3, 4], [5, 6]], dtype='<f4'))`
/// (header text and data bytes printed by python3, copied in).
#[test]
fn the_fixture_writer_matches_numpy() {
    let numpy_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
    let data = hex("0000c03f000000c000004040000080400000a0400000c040");
    let ours = npy("<f4", false, "(3, 2)", &data);
    assert_eq!(ours.len(), 128 + 24);
    assert_eq!(&ours[8..10], &[0x76, 0x00]);
    assert!(
        std::str::from_utf8(&ours[10..128])
            .unwrap()
            .starts_with(numpy_header)
    );
    let a = parse(&ours).unwrap();
    assert_eq!(a.shape, vec![3, 2]);
    let v: Vec<f64> = (0..a.len()).map(|i| a.get(i)).collect();
    assert_eq!(v, vec![1.5, -2.0, 3.0, 4.0, 5.0, 6.0]);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Big-endian int16 [-3, 7, 300] as NumPy saved it (`>i2`, data
/// fffd0007012c), and the other integer and bool dtypes.
#[test]
fn integer_and_bool_dtypes_of_either_byte_order_read() {
    let a = parse(&npy(">i2", false, "(3,)", &hex("fffd0007012c"))).unwrap();
    assert_eq!(
        (0..3).map(|i| a.get(i)).collect::<Vec<_>>(),
        vec![-3.0, 7.0, 300.0]
    );
    let i8s: Vec<u8> = [-5i64, 1 << 40]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let a = parse(&npy("<i8", false, "(2,)", &i8s)).unwrap();
    assert_eq!((a.get(0), a.get(1)), (-5.0, (1u64 << 40) as f64));
    let a = parse(&npy("|u1", false, "(2,)", &[0, 255])).unwrap();
    assert_eq!((a.get(0), a.get(1)), (0.0, 255.0));
    let a = parse(&npy("|b1", false, "(2,)", &[1, 0])).unwrap();
    assert_eq!((a.get(0), a.get(1)), (1.0, 0.0));
    let f8: Vec<u8> = 0.1f64.to_be_bytes().to_vec();
    assert_eq!(parse(&npy(">f8", false, "(1,)", &f8)).unwrap().get(0), 0.1);
}

#[test]
fn bad_arrays_are_refused_with_what_to_do() {
    let cases = [
        (
            npy("<f4", true, "(2, 2)", &f32s(&[1., 2., 3., 4.])),
            "Fortran (column-major) order",
        ),
        (
            npy("|O", false, "(2,)", &[0; 16]),
            "object array (dtype 'O')",
        ),
        (
            npy("<U3", false, "(1,)", &[0; 12]),
            "dtype '<U3' is not read",
        ),
        (
            npy("<f2", false, "(1,)", &[0; 2]),
            "dtype '<f2' is not read",
        ),
        (
            npy("<f4", false, "(3,)", &f32s(&[1., 2.])),
            "promises 3 values of 4 bytes (shape (3)), but the file holds 8 bytes: it is truncated",
        ),
        (b"PK\x03\x04 not numpy".to_vec(), "not an .npy file"),
    ];
    for (bytes, want) in cases {
        let e = parse(&bytes).err().unwrap();
        assert!(e.contains(want), "{e}\nwant: {want}");
    }
    let structured = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
    let mut b = npy("<f4", false, "(1,)", &[0; 4]);
    let h = std::str::from_utf8(&b[10..128])
        .unwrap()
        .replacen("'<f4'", "[('a', '<f4')]", 1);
    assert!(h.starts_with(structured));
    b.splice(10..128, h.bytes().take(118));
    assert!(parse(&b).err().unwrap().contains("structured arrays"));
}

fn arrays(x: Vec<u8>, y: Vec<u8>, task: Task) -> Result<Read, DataError> {
    table(parse(&x).unwrap(), parse(&y).unwrap(), task)
}

#[test]
fn features_and_labels_become_a_table() {
    // Labels 10, 2, 5 map to classes 2, 0, 1: numeric order, as CSV's.
    let x = npy("<f4", false, "(3, 2, 1)", &f32s(&[1., 2., 3., 4., 5., 6.]));
    let y: Vec<u8> = [10i32, 2, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
    let r = arrays(
        x.clone(),
        npy("<i4", false, "(3, 1)", &y),
        Task::Classification,
    )
    .unwrap();
    assert_eq!((r.train.d, r.k), (2, 3));
    assert_eq!(r.train.y, Targets::Classes(vec![2, 0, 1]));
    let half = npy(
        "<f8",
        false,
        "(3,)",
        &[0.5f64, 1., 2.]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    let e = arrays(x.clone(), half.clone(), Task::Classification)
        .err()
        .unwrap();
    assert_eq!(e.key, "data.y");
    assert!(e.message.contains("row 0: 0.5 is not a class label"), "{e}");
    let r = arrays(x.clone(), half, Task::Regression).unwrap();
    assert_eq!(r.train.y, Targets::Values(vec![0.5, 1.0, 2.0]));
    let short = npy("<i4", false, "(2,)", &y[..8]);
    let e = arrays(x.clone(), short, Task::Classification)
        .err()
        .unwrap();
    assert_eq!(e.message, "the features have 3 rows, the targets 2");
    let wide = npy("<i4", false, "(1, 3)", &y);
    let e = arrays(x, wide, Task::Classification).err().unwrap();
    assert!(
        e.message
            .contains("shape (1, 3); they need shape (n,) or (n, 1)"),
        "{e}"
    );
    let nan = npy("<f4", false, "(2, 1)", &f32s(&[1., f32::NAN]));
    let e = arrays(
        nan,
        npy("<i4", false, "(2,)", &y[..8]),
        Task::Classification,
    )
    .err()
    .unwrap();
    assert!(
        e.message.contains("row 1, column 0: NaN is not a finite"),
        "{e}"
    );
}

/// An archive holding `x.npy` stored and `y.npy` deflated, as
/// `np.savez` and `np.savez_compressed` write them.
#[test]
fn npz_members_read_stored_or_deflated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let x = npy("<f4", false, "(2, 1)", &f32s(&[1., 2.]));
    let y: Vec<u8> = [0i64, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("x.npy", stored).unwrap();
    zip.write_all(&x).unwrap();
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("y.npy", deflated).unwrap();
    zip.write_all(&npy("<i8", false, "(2,)", &y)).unwrap();
    zip.finish().unwrap();
    let r = read_npz(&path, "x", "y", Task::Classification).unwrap();
    assert_eq!(r.train.y, Targets::Classes(vec![0, 1]));
    let e = read_npz(&path, "features", "y", Task::Classification)
        .err()
        .unwrap();
    assert_eq!(e.key, "data.x");
    assert!(
        e.message
            .ends_with("has no array \"features\"; it holds: x, y"),
        "{e}"
    );
    std::fs::write(&path, b"not a zip").unwrap();
    let e = read_npz(&path, "x", "y", Task::Classification)
        .err()
        .unwrap();
    assert!(e.message.contains("is not an .npz (zip) archive"), "{e}");
}
