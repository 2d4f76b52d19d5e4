//! IDX files, the format MNIST and Fashion-MNIST ship in (LeCun et al.,
//! <http://yann.lecun.com/exdb/mnist/>): a 4-byte magic number (two zero
//! bytes, the element type, the number of dimensions), each dimension as a
//! big-endian u32, then the values in row-major order. Only unsigned bytes
//! (type 0x08), the type image sets use, are read. A file starting with
//! the gzip magic (1f 8b) is decompressed first, so the `.gz` files read as
//! they are downloaded.

use std::io::Read;
use std::path::Path;

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Idx {
    /// The dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The values, row-major.
    pub values: Vec<u8>,
}

/// Read an IDX file (raw or gzip). The error names the file.
pub(super) fn read(path: &Path) -> Result<Idx, String> {
    let at = path.display();
    let raw = std::fs::read(path).map_err(|e| format!("cannot read {at}: {e}"))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(&raw).map_err(|e| format!("{at}: the gzip stream is damaged or truncated ({e})"))?
    } else {
        raw
    };
    parse(bytes).map_err(|e| format!("{at}: {e}"))
}

fn gunzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() * 2);
    flate2::read::GzDecoder::new(raw).read_to_end(&mut out)?;
    Ok(out)
}

/// The element types of the IDX format, by their code.
fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "short",
        0x0C => "int",
        0x0D => "float",
        0x0E => "double",
        _ => "unknown",
    }
}

/// Parse an IDX file's bytes: header, then exactly as many values as the
/// dimensions promise.
pub(super) fn parse(mut bytes: Vec<u8>) -> Result<Idx, String> {
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(format!(
            "not an IDX file: its magic number is [{}], an IDX file starts 00 00 08 <dimensions>",
            start.join(" ")
        ));
    }
    if bytes[2] != 0x08 {
        return Err(format!(
            "IDX element type 0x{:02x} ({}): only unsigned bytes (0x08), as image sets use, are read",
            bytes[2],
            type_name(bytes[2])
        ));
    }
    let ndim = usize::from(bytes[3]);
    let header = 4 + 4 * ndim;
    if ndim == 0 || bytes.len() < header {
        return Err(format!(
            "the IDX header promises {ndim} dimensions, but the file is {} bytes long",
            bytes.len()
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or("the IDX dimensions overflow")?;
    let held = bytes.len() - header;
    if held != count {
        let shape: Vec<String> = dims.iter().map(usize::to_string).collect();
        return Err(format!(
            "the IDX header promises {count} values ({}), but the file holds {held}{}",
            shape.join(" × "),
            if held < count {
                ": it is truncated"
            } else {
                ""
            }
        ));
    }
    bytes.drain(..header);
    Ok(Idx {
        dims,
        values: bytes,
    })
}
