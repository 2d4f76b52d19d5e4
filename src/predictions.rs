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
//! Stored as `{"examples": n, "outputs": k, "values": "<packed>"}`: the
//! f32 values widened to f64 and packed by `train::record::pack` (exact,
//! bit for bit), output by output (every example's probability of class 0,
//! then of class 1, …): neighbours then share more high bits than the
//! probabilities of different classes of one example do.

use candle_core::Result;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Targets};
use crate::fused::Fused;
use crate::train::{pack, unpack};

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

/// How [`Predictions`] are written in `trials.jsonl`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repr {
    examples: usize,
    outputs: usize,
    values: String,
}

impl From<Predictions> for Repr {
    fn from(p: Predictions) -> Repr {
        let (n, k) = (p.examples(), p.outputs);
        let column_major = (0..k).flat_map(|c| (0..n).map(move |i| (i, c)));
        Repr {
            examples: n,
            outputs: k,
            values: pack(column_major.map(|(i, c)| f64::from(p.values[i * k + c]))),
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
        let packed = unpack(&r.values, total).map_err(|e| format!("val_predictions: {e}"))?;
        let mut values = vec![0.0f32; total];
        for (j, v) in packed.into_iter().enumerate() {
            let narrow = v as f32;
            if f64::from(narrow).to_bits() != v.to_bits() {
                return Err("val_predictions: a value is not an f32".into());
            }
            let (c, i) = (j / n, j % n);
            values[i * k + c] = narrow;
        }
        Ok(Predictions { outputs: k, values })
    }
}

#[cfg(test)]
mod tests;
