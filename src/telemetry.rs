//! Babysitting telemetry (the CS231n notes, Part 3): what a trial's
//! network looks like inside, at its evaluation epochs.
//!
//! - per hidden layer: the mean and standard deviation of the activations
//!   over the training split, the share of saturated units (tanh,
//!   sigmoid) and of dead units (ReLU family);
//! - per weight layer: the update-to-weight ratio ‖ΔW‖_F/‖W‖_F of the
//!   epoch's last step;
//! - at the end: the share of near-zero weights (`weight_sparsity`).
//!
//! The activation statistics come from the evaluation's forward pass over
//! the training split (`Fused::evaluate_with_stats`), so they cost one more
//! pass over outputs already computed, at evaluation epochs only. None of
//! it touches the training arithmetic. The exact definitions are in
//! docs/semantics.md ("Telemetry"); the stored format in docs/reports.md.

use serde::{Deserialize, Serialize};

use crate::codec::{pack, unpack};
use crate::engine::{Evaluation, Layer, Shape};
use crate::study::Activation;

/// A unit is saturated when, on every training point, its local derivative
/// is below this share of the activation's largest derivative.
pub const SATURATION_SHARE: f64 = 0.05;

/// A weight counts as (near) zero when |w| < this × the largest |w| of its
/// layer (`weight_sparsity`).
pub const SPARSE_REL: f64 = 1e-3;

/// Activation statistics of one hidden layer over the training split
/// (evaluation mode: no dropout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerActivations {
    /// Mean over every unit and training point.
    pub mean: f64,
    /// Standard deviation (ddof 0) over every unit and training point.
    pub std: f64,
    /// tanh and sigmoid: share of the layer's units saturated on every
    /// training point.
    pub saturated: Option<f64>,
    /// ReLU family (relu, leaky_relu, maxout): share of the layer's units
    /// that output exactly 0 on every training point.
    pub dead: Option<f64>,
}

/// What a trial's record keeps of its telemetry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "Repr", try_from = "Repr")]
pub struct Telemetry {
    /// The untrained network's activations (epoch 0), per hidden layer.
    pub initial: Vec<LayerActivations>,
    /// Per evaluation epoch of the curve, in order: per weight layer (the
    /// output layer last), ‖ΔW‖_F/‖W‖_F of the epoch's last step.
    pub update_ratio: Vec<Vec<f64>>,
    /// Per evaluation epoch, per hidden layer.
    pub activations: Vec<Vec<LayerActivations>>,
    /// Share of weights with |w| < [`SPARSE_REL`]·max|w| of their layer,
    /// over all weight matrices, at the end of training.
    pub weight_sparsity: Option<f64>,
}

impl Telemetry {
    /// The last evaluation's update ratios' median over the weight layers
    /// (the mean of the middle two for an even count): `update_ratio`.
    pub fn final_update_ratio(&self) -> Option<f64> {
        let mut r = self.update_ratio.last()?.clone();
        if r.is_empty() || r.iter().any(|v| v.is_nan()) {
            return None;
        }
        r.sort_by(f64::total_cmp);
        let n = r.len();
        Some(if n % 2 == 1 {
            r[n / 2]
        } else {
            0.5 * (r[n / 2 - 1] + r[n / 2])
        })
    }

    /// The last evaluation's saturated share, averaged over the hidden
    /// layers: `saturated_fraction` (tanh and sigmoid only).
    pub fn final_saturated(&self) -> Option<f64> {
        let last = self.activations.last()?;
        let s: Option<Vec<f64>> = last.iter().map(|a| a.saturated).collect();
        let s = s.filter(|s| !s.is_empty())?;
        Some(s.iter().sum::<f64>() / s.len() as f64)
    }
}

/// Whether `activation` saturates (tanh, sigmoid) rather than dies.
fn saturates(activation: Activation) -> bool {
    matches!(activation, Activation::Tanh | Activation::Sigmoid)
}

/// Per hidden layer, the statistics of an evaluation made with
/// `Fused::evaluate_with_stats` (empty for one made without).
///
/// Saturated: tanh′ = 1 − a² and σ′ = a(1 − a) = ¼(1 − (2a − 1)²), so
/// with u = |a| (tanh) or u = |2a − 1| (sigmoid) the derivative relative to
/// its maximum is 1 − u² for both; a unit is saturated when 1 − u² <
/// [`SATURATION_SHARE`] at its point of smallest u (tanh: |a| > 0.97468;
/// sigmoid: a < 0.01266 or a > 0.98734).
pub fn activations(shape: &Shape, ev: &Evaluation) -> Vec<LayerActivations> {
    let scale = match shape.activation {
        Activation::Sigmoid => 2.0,
        _ => 1.0,
    };
    ev.sums
        .iter()
        .zip(&ev.peaks)
        .map(|(s, peaks)| {
            let n = s.count.max(1) as f64;
            let mean = s.sum / n;
            let std = (s.sum_sq / n - mean * mean).max(0.0).sqrt();
            let units = peaks.len().max(1) as f64;
            let saturated = saturates(shape.activation).then(|| {
                let sat = s
                    .floor
                    .iter()
                    .filter(|f| {
                        let u = scale * f64::from(**f);
                        1.0 - u * u < SATURATION_SHARE
                    })
                    .count();
                sat as f64 / units
            });
            let dead = (!saturates(shape.activation))
                .then(|| peaks.iter().filter(|p| **p == 0.0).count() as f64 / units);
            LayerActivations {
                mean,
                std,
                saturated,
                dead,
            }
        })
        .collect()
}

/// Per weight layer: ‖after − before‖_F / ‖before‖_F over its weight matrix
/// (biases excluded), summed in f64. `before` and `after` are flat
/// parameter vectors laid out by `layers`.
pub fn update_ratios(layers: &[Layer], before: &[f32], after: &[f32]) -> Vec<f64> {
    layers
        .iter()
        .map(|layer| {
            let range = layer.weights();
            let (mut d2, mut w2) = (0.0f64, 0.0f64);
            for (b, a) in before[range.clone()].iter().zip(&after[range]) {
                let (b, a) = (f64::from(*b), f64::from(*a));
                d2 += (a - b) * (a - b);
                w2 += b * b;
            }
            d2.sqrt() / w2.sqrt()
        })
        .collect()
}

/// Share of weights with |w| < [`SPARSE_REL`]·max|w| of their own layer,
/// over every weight matrix (biases excluded). Per layer, because layers
/// differ in scale (a 2-input first layer has larger weights).
pub fn weight_sparsity(layers: &[Layer], params: &[f32]) -> Option<f64> {
    let (mut small, mut total) = (0usize, 0usize);
    for layer in layers {
        let w = &params[layer.weights()];
        let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let cut = SPARSE_REL * f64::from(max);
        small += w.iter().filter(|v| f64::from(v.abs()) < cut).count();
        total += w.len();
    }
    (total > 0).then(|| small as f64 / total as f64)
}

/// The stored shape: packed columns (`train::record::pack`), flattened
/// evaluation by evaluation, layer by layer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repr {
    /// Hidden layers.
    hidden: usize,
    /// Weight layers (hidden + output).
    weights: usize,
    /// Evaluations (the entries of the curve's `eval_epochs`).
    evals: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    initial: Option<Columns>,
    update_ratio: String,
    activations: Columns,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_sparsity: Option<f64>,
}

/// Activation statistics as packed columns (`saturated` and `dead` only
/// for the activations they apply to).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    mean: String,
    std: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saturated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dead: Option<String>,
}

impl Columns {
    fn of<'a>(rows: impl Iterator<Item = &'a LayerActivations> + Clone) -> Columns {
        let all = |f: fn(&LayerActivations) -> Option<f64>| {
            let v: Option<Vec<f64>> = rows.clone().map(f).collect();
            v.map(pack)
        };
        Columns {
            mean: pack(rows.clone().map(|a| a.mean)),
            std: pack(rows.clone().map(|a| a.std)),
            saturated: all(|a| a.saturated),
            dead: all(|a| a.dead),
        }
    }

    fn rows(&self, n: usize) -> Result<Vec<LayerActivations>, String> {
        let mean = unpack(&self.mean, n)?;
        let std = unpack(&self.std, n)?;
        let opt = |c: &Option<String>| c.as_deref().map(|c| unpack(c, n)).transpose();
        let (saturated, dead) = (opt(&self.saturated)?, opt(&self.dead)?);
        Ok((0..n)
            .map(|i| LayerActivations {
                mean: mean[i],
                std: std[i],
                saturated: saturated.as_ref().map(|s| s[i]),
                dead: dead.as_ref().map(|d| d[i]),
            })
            .collect())
    }
}

impl From<Telemetry> for Repr {
    fn from(t: Telemetry) -> Repr {
        let hidden = t.activations.first().map_or(t.initial.len(), Vec::len);
        let weights = t.update_ratio.first().map_or(hidden + 1, Vec::len);
        Repr {
            hidden,
            weights,
            evals: t.activations.len(),
            initial: (!t.initial.is_empty()).then(|| Columns::of(t.initial.iter())),
            update_ratio: pack(t.update_ratio.iter().flatten().copied()),
            activations: Columns::of(t.activations.iter().flatten()),
            weight_sparsity: t.weight_sparsity,
        }
    }
}

impl TryFrom<Repr> for Telemetry {
    type Error = String;
    fn try_from(r: Repr) -> Result<Telemetry, String> {
        let ratios = unpack(&r.update_ratio, r.evals * r.weights)?;
        let acts = r.activations.rows(r.evals * r.hidden)?;
        let initial = match &r.initial {
            Some(c) => c.rows(r.hidden)?,
            None => Vec::new(),
        };
        let chunks = |n: usize| n.max(1);
        Ok(Telemetry {
            initial,
            update_ratio: ratios
                .chunks(chunks(r.weights))
                .map(<[f64]>::to_vec)
                .collect(),
            activations: if r.hidden == 0 {
                vec![Vec::new(); r.evals]
            } else {
                acts.chunks(r.hidden)
                    .map(<[LayerActivations]>::to_vec)
                    .collect()
            },
            weight_sparsity: r.weight_sparsity,
        })
    }
}

#[cfg(test)]
mod tests;
