//! NumPy arrays: `.npy` files and the arrays of an `.npz` archive (a zip
//! of `.npy` files, stored or deflated), as the format is specified in
//! `numpy/lib/format.py`: the magic `\x93NUMPY`, a version, the header's
//! length (2 bytes in version 1, 4 in versions 2 and 3), a Python dict
//! literal with `descr`, `fortran_order` and `shape`, then the values.
//!
//! Read: float (f4, f8), integer (i1…i8, u1…u8) and bool arrays of either
//! byte order, in C order. Refused with a message that says what to do:
//! Fortran order, object and structured arrays, other dtypes, shapes that
//! do not fit (features n × …, targets n or n × 1, the same n).

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use super::read::{Features, Read, Table};
use super::{DataError, Targets, err};
use crate::study::Task;

/// A numeric array: its shape and its values' bytes.
struct Array {
    shape: Vec<usize>,
    dtype: Dtype,
    bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Dtype {
    kind: u8,
    size: usize,
    big: bool,
}

impl Array {
    fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size
    }

    /// Value `i` as an f64 (exact for every dtype read but i8/u8 past 2^53).
    fn get(&self, i: usize) -> f64 {
        let Dtype { kind, size, big } = self.dtype;
        let b = &self.bytes[i * size..(i + 1) * size];
        let mut a = [0u8; 8];
        a[..size].copy_from_slice(b);
        if big {
            a[..size].reverse();
        }
        let signed = |bits: u32| {
            let raw = u64::from_le_bytes(a);
            ((raw << (64 - bits)) as i64 >> (64 - bits)) as f64
        };
        match (kind, size) {
            (b'f', 4) => f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]])),
            (b'f', _) => f64::from_le_bytes(a),
            (b'i', s) => signed(8 * s as u32),
            (b'u' | b'b', _) => u64::from_le_bytes(a) as f64,
            _ => unreachable!("dtypes are checked when read"),
        }
    }
}

/// Features and targets from two `.npy` files.
pub(super) fn read_npy(x: &Path, y: &Path, task: Task) -> Result<Read, DataError> {
    let load = |p: &Path, key: &str| {
        let bytes =
            std::fs::read(p).map_err(|e| err(key, format!("cannot read {}: {e}", p.display())))?;
        parse(&bytes).map_err(|m| err(key, format!("{}: {m}", p.display())))
    };
    let (xa, ya) = (load(x, "data.x")?, load(y, "data.y")?);
    table(xa, ya, task)
}

/// Features and targets from two arrays of an `.npz` archive.
pub(super) fn read_npz(path: &Path, x: &str, y: &str, task: Task) -> Result<Read, DataError> {
    let at = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| err("data.path", format!("cannot read {at}: {e}")))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| {
        err(
            "data.path",
            format!("{at} is not an .npz (zip) archive: {e}"),
        )
    })?;
    let mut member = |name: &str, key: &str| {
        let entry = format!("{name}.npy");
        let names: Vec<String> = zip
            .file_names()
            .filter_map(|n| n.ok()?.strip_suffix(".npy").map(String::from))
            .collect();
        let mut f = zip.by_name(&entry).map_err(|_| {
            err(
                key,
                format!(
                    "{at} has no array \"{name}\"; it holds: {}",
                    names.join(", ")
                ),
            )
        })?;
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes)
            .map_err(|e| err(key, format!("{at}: cannot read array \"{name}\": {e}")))?;
        parse(&bytes).map_err(|m| err(key, format!("{at}: array \"{name}\": {m}")))
    };
    let (xa, ya) = (member(x, "data.x")?, member(y, "data.y")?);
    table(xa, ya, task)
}

/// Parse an `.npy` file's bytes.
fn parse(bytes: &[u8]) -> Result<Array, String> {
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err("not an .npy file: it does not start with the magic \\x93NUMPY".into());
    }
    let (len, start) = match bytes[6] {
        1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(format!("unknown .npy format version {v}")),
    };
    let header = bytes
        .get(start..start + len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("the .npy header is truncated or not text")?;
    let dtype = dtype(field(header, "descr")?)?;
    if field(header, "fortran_order")?.starts_with("True") {
        return Err(
            "the array is in Fortran (column-major) order; save it in C order, e.g. np.save(path, np.ascontiguousarray(a))"
                .into(),
        );
    }
    let shape = shape(field(header, "shape")?)?;
    let count: usize = shape.iter().product();
    let data = &bytes[start + len..];
    if data.len() != count * dtype.size {
        return Err(format!(
            "the header promises {count} values of {} bytes (shape {}), but the file holds {} bytes{}",
            dtype.size,
            show(&shape),
            data.len(),
            if data.len() < count * dtype.size {
                ": it is truncated"
            } else {
                ""
            }
        ));
    }
    Ok(Array {
        shape,
        dtype,
        bytes: data.to_vec(),
    })
}

/// The text after `'key':` in the header dict.
fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, String> {
    let at = header
        .find(&format!("'{key}'"))
        .ok_or_else(|| format!("the .npy header has no '{key}'"))?;
    let rest = &header[at + key.len() + 2..];
    let colon = rest.find(':').ok_or("the .npy header is malformed")?;
    Ok(rest[colon + 1..].trim_start())
}

fn dtype(descr: &str) -> Result<Dtype, String> {
    if descr.starts_with('[') {
        return Err(
            "structured arrays (a record dtype) are not read; save one plain numeric array".into(),
        );
    }
    let text = descr
        .strip_prefix('\'')
        .and_then(|d| d.split('\'').next())
        .ok_or("the .npy header's descr is malformed")?;
    let (order, rest) = text.split_at(1.min(text.len()));
    let big = order == ">";
    let mut chars = rest.chars();
    let kind = chars.next().unwrap_or(' ');
    let size: usize = chars.as_str().parse().unwrap_or(0);
    let ok = matches!(
        (kind, size),
        ('f', 4 | 8) | ('i' | 'u', 1 | 2 | 4 | 8) | ('b', 1)
    );
    if kind == 'O' {
        return Err("an object array (dtype 'O') holds Python objects, not numbers; save a float or integer array".into());
    }
    if !ok {
        return Err(format!(
            "dtype '{text}' is not read: float (f4, f8), integer (i1…i8, u1…u8) and bool arrays are"
        ));
    }
    Ok(Dtype {
        kind: kind as u8,
        size,
        big,
    })
}

fn shape(text: &str) -> Result<Vec<usize>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.split(')').next())
        .ok_or("the .npy header's shape is malformed")?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("the .npy shape ({inner}) is malformed"))
        })
        .collect()
}

fn show(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("({})", parts.join(", "))
}

/// The arrays as a table: features n × (the product of the other
/// dimensions), finite; targets n or n × 1, class labels or finite reals.
fn table(x: Array, y: Array, task: Task) -> Result<Read, DataError> {
    let n = *x.shape.first().ok_or_else(|| {
        err(
            "data.x",
            "the features are a 0-dimensional array; they need one row per example",
        )
    })?;
    let d: usize = x.shape[1..].iter().product();
    if n < 2 || d == 0 {
        return Err(err(
            "data.x",
            format!(
                "the features have shape {}: at least 2 rows of 1 feature are needed",
                show(&x.shape)
            ),
        ));
    }
    if !(y.shape.len() == 1 || (y.shape.len() == 2 && y.shape[1] == 1)) {
        return Err(err(
            "data.y",
            format!(
                "the targets have shape {}; they need shape (n,) or (n, 1)",
                show(&y.shape)
            ),
        ));
    }
    if y.shape[0] != n {
        return Err(err(
            "data.y",
            format!("the features have {n} rows, the targets {}", y.shape[0]),
        ));
    }
    let mut xs = Vec::with_capacity(n * d);
    for i in 0..x.len() {
        let v = x.get(i) as f32;
        if !v.is_finite() {
            return Err(err(
                "data.x",
                format!(
                    "row {}, column {}: {} is not a finite 32-bit number",
                    i / d,
                    i % d,
                    x.get(i)
                ),
            ));
        }
        xs.push(v);
    }
    let (y, k) = targets(&y, task)?;
    Ok(Read {
        train: Table {
            x: Features::Floats(xs),
            d,
            y,
        },
        test: None,
        k,
        task,
    })
}

/// Class labels mapped to 0..K in numeric order (as a CSV's integer labels
/// are), or finite regression targets.
fn targets(y: &Array, task: Task) -> Result<(Targets, usize), DataError> {
    let values: Vec<f64> = (0..y.len()).map(|i| y.get(i)).collect();
    match task {
        Task::Regression => {
            let mut out = Vec::with_capacity(values.len());
            for (r, v) in values.iter().enumerate() {
                let f = *v as f32;
                if !f.is_finite() {
                    return Err(err(
                        "data.y",
                        format!("row {r}: target {v} is not a finite 32-bit number"),
                    ));
                }
                out.push(f);
            }
            Ok((Targets::Values(out), 0))
        }
        Task::Classification => {
            if let Some((r, v)) = values
                .iter()
                .enumerate()
                .find(|(_, v)| v.fract() != 0.0 || !v.is_finite())
            {
                return Err(err(
                    "data.y",
                    format!(
                        "row {r}: {v} is not a class label (an integer); for real targets set data.task = \"regression\""
                    ),
                ));
            }
            let classes: BTreeSet<i64> = values.iter().map(|v| *v as i64).collect();
            if classes.len() < 2 {
                return Err(err(
                    "data.y",
                    "the labels hold a single class; classification needs at least two",
                ));
            }
            let index: Vec<i64> = classes.into_iter().collect();
            let y = values
                .iter()
                .map(|v| {
                    index
                        .binary_search(&(*v as i64))
                        .expect("a label of the set") as u32
                })
                .collect();
            Ok((Targets::Classes(y), index.len()))
        }
    }
}

#[cfg(test)]
#[path = "npy_tests.rs"]
mod tests;
