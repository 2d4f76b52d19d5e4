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

use crate::codec::{pack_words, unpack, unpack_words};
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
        let (n, k) = (p.examples(), p.outputs);
        let column_major = (0..k).flat_map(|c| (0..n).map(move |i| (i, c)));
        let bits = column_major.map(|(i, c)| u64::from(p.values[i * k + c].to_bits()));
        Repr {
            examples: n,
            outputs: k,
            values: None,
            values32: Some(pack_words(bits)),
        }
    }
}

impl TryFrom<Repr> for Predictions {
    type Error = String;
    fn try_from(r: Repr) -> std::result::Result<Predictions, String> {
        let (n, k) = (r.examples, r.outputs);
        if k == 0 {
            return Err("val_predictions: outputs must be at least 1".into());
        }
        let total = n.checked_mul(k).ok_or("val_predictions: too many values")?;
        let column_major = match (r.values, r.values32) {
            (None, Some(packed)) => narrow_bits(&packed, total)?,
            (Some(packed), None) => narrow_widened(&packed, total)?,
            _ => return Err("val_predictions: needs one of values and values32".into()),
        };
        let mut values = vec![0.0f32; total];
        for (j, v) in column_major.into_iter().enumerate() {
            let (c, i) = (j / n, j % n);
            values[i * k + c] = v;
        }
        Ok(Predictions { outputs: k, values })
    }
}

/// The f32s of a `values32` column: words that fit 32 bits.
fn narrow_bits(packed: &str, total: usize) -> std::result::Result<Vec<f32>, String> {
    let words = unpack_words(packed, total).map_err(|e| format!("val_predictions: {e}"))?;
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
