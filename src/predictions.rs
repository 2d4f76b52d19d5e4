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
        let total = n
            .checked_mul(k)
            .ok_or("val_predictions: too many values")?;
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
mod tests {
    use super::*;

    #[test]
    fn softmax_matches_a_hand_computed_row() {
        // e^0, e^1, e^2 over their sum 1 + e + e².
        let mut row = [1.0f32, 2.0, 3.0];
        softmax(&mut row);
        let s = 1.0 + 1f64.exp() + 2f64.exp();
        for (v, want) in row.iter().zip([1.0 / s, 1f64.exp() / s, 2f64.exp() / s]) {
            assert!((f64::from(*v) - want).abs() < 1e-7, "{v} vs {want}");
        }
    }

    #[test]
    fn stored_predictions_read_back_bit_for_bit_in_row_order() {
        // Three examples, two classes; awkward values included.
        let p = Predictions {
            outputs: 2,
            values: vec![0.25, 0.75, 1e-30, 1.0, 0.1, 0.9],
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.starts_with(r#"{"examples":3,"outputs":2,"values":""#));
        let back: Predictions = serde_json::from_str(&json).unwrap();
        assert_eq!(back.outputs, 2);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.values), bits(&p.values));
        assert_eq!(back.row(1), &[1e-30, 1.0]);
    }

    #[test]
    fn a_wrong_count_or_a_non_f32_value_is_an_error() {
        let good = serde_json::to_value(Predictions {
            outputs: 1,
            values: vec![0.5, 1.5],
        })
        .unwrap();
        let mut short = good.clone();
        short["examples"] = 3.into();
        assert!(serde_json::from_value::<Predictions>(short).is_err());
        let mut wide = good;
        wide["values"] = crate::train::pack([0.1f64, 0.2]).into();
        assert!(serde_json::from_value::<Predictions>(wide).is_err());
    }
}
