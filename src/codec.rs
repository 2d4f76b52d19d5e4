//! The float codec of the stored records: floats (or any 64-bit words)
//! packed bit for bit into base64, small because neighbouring values share
//! their high bytes. A foundation module: it imports nothing of the crate,
//! so the record, telemetry and predictions all use it without importing
//! each other.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Pack floats bit for bit into base64. The bytes are: one byte `s`; a
/// nibble per value (high nibble first, the last byte padded with 0)
/// giving `k`, how many bytes of the value are kept; then each value's `k`
/// bytes, least significant first. A value is stored as its bits XOR the
/// previous value's bits (the first as is), shifted right by `8·s` bits:
/// `s` is the number of low zero bytes every such word has. Neighbouring
/// values share sign, exponent and leading mantissa bits, so the high
/// bytes are zero and dropped; f32-exact values (full-batch losses) drop
/// their three zero low bytes; a repeated value takes no byte.
pub fn pack(values: impl IntoIterator<Item = f64>) -> String {
    pack_words(values.into_iter().map(f64::to_bits))
}

/// [`pack`] for any 64-bit words, e.g. f32 bits zero-extended: their
/// XOR then never has more than 4 bytes, so an f32 keeps up to one byte
/// fewer than the same value widened to f64 (whose exponent is 3 bits longer and
/// whose 29 zero mantissa bits cost the `s` shift only 3 of 4 bytes).
pub fn pack_words(values: impl IntoIterator<Item = u64>) -> String {
    STANDARD.encode(pack_words_raw(values))
}

/// [`pack_words`]' bytes before base64, for a binary file (`trials.bin`).
pub fn pack_words_raw(values: impl IntoIterator<Item = u64>) -> Vec<u8> {
    let mut prev = 0u64;
    let words: Vec<u64> = values
        .into_iter()
        .map(|v| {
            let w = v ^ prev;
            prev = v;
            w
        })
        .collect();
    let shift = words
        .iter()
        .filter(|w| **w != 0)
        .map(|w| w.trailing_zeros() / 8)
        .min()
        .unwrap_or(0);
    let words: Vec<u64> = words.iter().map(|w| w >> (8 * shift)).collect();
    let kept: Vec<u8> = words
        .iter()
        .map(|w| 8 - (w.leading_zeros() / 8) as u8)
        .collect();
    let mut out = Vec::with_capacity(1 + words.len() * 9 / 2);
    out.push(shift as u8);
    out.extend(
        kept.chunks(2)
            .map(|k| k[0] << 4 | k.get(1).copied().unwrap_or(0)),
    );
    for (w, k) in words.iter().zip(&kept) {
        out.extend_from_slice(&w.to_le_bytes()[..usize::from(*k)]);
    }
    out
}

/// Unpack `n` floats written by [`pack`]; anything else is an error.
pub fn unpack(text: &str, n: usize) -> Result<Vec<f64>, String> {
    Ok(unpack_words(text, n)?
        .into_iter()
        .map(f64::from_bits)
        .collect())
}

/// Unpack `n` words written by [`pack_words`]; anything else is an error.
pub fn unpack_words(text: &str, n: usize) -> Result<Vec<u64>, String> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|e| format!("packed floats: {e}"))?;
    unpack_words_raw(&bytes, n)
}

/// Unpack `n` words from the bytes of [`pack_words_raw`].
pub fn unpack_words_raw(bytes: &[u8], n: usize) -> Result<Vec<u64>, String> {
    let bad = |what: &str| Err(format!("packed floats: {what} (expected {n} values)"));
    let Some((&shift, rest)) = bytes.split_first() else {
        return bad("empty");
    };
    if shift > 7 {
        return bad("shift over 7 bytes");
    }
    if rest.len() < n.div_ceil(2) {
        return bad("too short");
    }
    let (head, mut body) = rest.split_at(n.div_ceil(2));
    if n % 2 == 1 && head[n / 2] & 0xf != 0 {
        return bad("padding nibble not 0");
    }
    let mut prev = 0u64;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let k = usize::from(if i % 2 == 0 {
            head[i / 2] >> 4
        } else {
            head[i / 2] & 0xf
        });
        if k > 8 - usize::from(shift) || k > body.len() {
            return bad("bad length");
        }
        let mut le = [0u8; 8];
        le[..k].copy_from_slice(&body[..k]);
        body = &body[k..];
        prev ^= u64::from_le_bytes(le) << (8 * shift);
        out.push(prev);
    }
    if !body.is_empty() {
        return bad("trailing bytes");
    }
    Ok(out)
}
