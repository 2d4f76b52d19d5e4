//! A trial's predictions on the validation split, stored in its record so
//! the report can build each configuration's ensemble of seeds
//! (`report/ensemble.rs`): per validation example, the softmax class
//! probabilities (classification) or the output (regression) of the final
//! network, in evaluation mode.
//!
//! One forward pass of the validation split at the end of a trial, through
//! the fused kernels (`Fused::outputs`); it draws nothing and writes only
//! evaluation scratch, so no trained number changes.
//!
//! Stored as `{"examples": n, "outputs": k, "values32": "<packed>"}`: the
//! f32 bits packed by `codec::pack_words` (exact, bit for bit),
//! output by output (every example's probability of class 0, then of class
//! 1, …): neighbours then share more high bits than the probabilities of
//! different classes of one example do. Lines written before it hold
//! `values` instead, the same f32 values widened to f64 and packed by
//! `pack`: 15–19% longer on the flagship, ensembles and P3
//! (docs/performance.md, "Records, issue 23").

use candle_core::Result;
use serde::{Deserialize, Serialize};

use crate::codec::{pack_words, pack_words_raw, unpack, unpack_words, unpack_words_raw};
use crate::data::{Dataset, Targets};
use crate::fused::Fused;

/// Validation predictions of one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Repr", try_from = "Repr")]
pub struct Predictions {
    /// Values per example: the number of classes, or 1 for regression.
    pub outputs: usize,
    /// `examples × outputs`, row-major: class probabilities (each row sums
    /// to about 1) or regression outputs.
    pub values: Vec<f32>,
}

impl Predictions {
    /// Number of examples.
    pub fn examples(&self) -> usize {
        self.values.len() / self.outputs.max(1)
    }

    /// Example `i`'s values.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.outputs..(i + 1) * self.outputs]
    }

    /// The f32 bits output by output (every example's value of output 0,
    /// then of output 1, …), as they are packed.
    fn column_major_bits(&self) -> impl Iterator<Item = u64> + '_ {
        let (n, k) = (self.examples(), self.outputs);
        (0..k).flat_map(move |c| (0..n).map(move |i| u64::from(self.values[i * k + c].to_bits())))
    }

    /// The bytes `trials.bin` keeps: examples and outputs (u32,
    /// little-endian), then the column-major f32 bits packed by
    /// `codec::pack_words_raw` (the `values32` column without its base64).
    pub fn to_bytes(&self) -> Vec<u8> {
        let count = |v: usize| u32::try_from(v).expect("under 2^32 values").to_le_bytes();
        let mut out = Vec::with_capacity(8 + self.values.len() * 4);
        out.extend_from_slice(&count(self.examples()));
        out.extend_from_slice(&count(self.outputs));
        out.extend(pack_words_raw(self.column_major_bits()));
        out
    }

    /// Read back what [`Predictions::to_bytes`] wrote; anything else is an error.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Predictions, String> {
        let count = |at: usize| -> std::result::Result<usize, String> {
            let b = bytes.get(at..at + 4).ok_or("val_predictions: cut short")?;
            Ok(u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
        };
        let (n, k) = (count(0)?, count(4)?);
        let total = checked_total(n, k)?;
        let words =
            unpack_words_raw(&bytes[8..], total).map_err(|e| format!("val_predictions: {e}"))?;
        Ok(from_columns(n, k, narrow_words(words)?))
    }
}

/// `n × k` values, checked.
fn checked_total(n: usize, k: usize) -> std::result::Result<usize, String> {
    if k == 0 {
        return Err("val_predictions: outputs must be at least 1".into());
    }
    n.checked_mul(k)
        .ok_or_else(|| "val_predictions: too many values".to_string())
}

/// Predictions from their column-major values.
fn from_columns(n: usize, k: usize, column_major: Vec<f32>) -> Predictions {
    let mut values = vec![0.0f32; n * k];
    for (j, v) in column_major.into_iter().enumerate() {
        let (c, i) = (j / n, j % n);
        values[i * k + c] = v;
    }
    Predictions { outputs: k, values }
}

/// The predictions of `fused`'s network on `data`'s validation split;
/// `None` without one.
pub fn of(fused: &mut Fused, data: &Dataset) -> Result<Option<Predictions>> {
    let Some(val) = data.val.as_ref() else {
        return Ok(None);
    };
    let outputs = data.n_outputs;
    let mut values = fused.outputs(&val.x)?;
    if matches!(val.y, Targets::Classes(_)) {
        for row in values.chunks_exact_mut(outputs) {
            softmax(row);
        }
    }
    Ok(Some(Predictions { outputs, values }))
}

/// Softmax in place, in f32, shifted by the largest logit (as the loss is).
pub fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// How [`Predictions`] are written in `trials.jsonl`: `values32` now,
/// `values` in lines written before it (read, never written).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repr {
    examples: usize,
    outputs: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    values32: Option<String>,
}

impl From<Predictions> for Repr {
    fn from(p: Predictions) -> Repr {
        Repr {
            examples: p.examples(),
            outputs: p.outputs,
            values: None,
            values32: Some(pack_words(p.column_major_bits())),
        }
    }
}

impl TryFrom<Repr> for Predictions {
    type Error = String;
    fn try_from(r: Repr) -> std::result::Result<Predictions, String> {
        let (n, k) = (r.examples, r.outputs);
        let total = checked_total(n, k)?;
        let column_major = match (r.values, r.values32) {
            (None, Some(packed)) => narrow_bits(&packed, total)?,
            (Some(packed), None) => narrow_widened(&packed, total)?,
            _ => return Err("val_predictions: needs one of values and values32".into()),
        };
        Ok(from_columns(n, k, column_major))
    }
}

/// The f32s of a `values32` column: words that fit 32 bits.
fn narrow_bits(packed: &str, total: usize) -> std::result::Result<Vec<f32>, String> {
    let words = unpack_words(packed, total).map_err(|e| format!("val_predictions: {e}"))?;
    narrow_words(words)
}

/// Words that must each be an f32's bits.
fn narrow_words(words: Vec<u64>) -> std::result::Result<Vec<f32>, String> {
    words
        .into_iter()
        .map(|w| {
            u32::try_from(w)
                .map(f32::from_bits)
                .map_err(|_| "val_predictions: a value is not an f32".to_string())
        })
        .collect()
}

/// The f32s of an old `values` column: f64s that are f32-exact.
fn narrow_widened(packed: &str, total: usize) -> std::result::Result<Vec<f32>, String> {
    let wide = unpack(packed, total).map_err(|e| format!("val_predictions: {e}"))?;
    wide.into_iter()
        .map(|v| {
            let narrow = v as f32;
            match f64::from(narrow).to_bits() == v.to_bits() {
                true => Ok(narrow),
                false => Err("val_predictions: a value is not an f32".to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
