//! `mlpsweep gradcheck`: the fused step's gradient against centred
//! differences of the same objective evaluated in double precision (the
//! CS231n notes, Part 3, "Gradient checks").
//!
//! For one trial, at its initial weights, on a fixed minibatch: the
//! analytic gradient is the one `Fused` applies (float32: data loss, plus
//! λ·W and λ₁·sign(W) on the weights); the numerical one is
//! (f(θ + h·eᵢ) − f(θ − h·eᵢ))/2h with h = 1e-5, f the mean data loss +
//! ½λΣ‖W‖² + λ₁Σ|W| computed here in f64 from the same float32 weights. The
//! relative error of an entry is |a − n|/max(|a|, |n|, 1e-12).
//!
//! Batch norm is in f (batch statistics of the minibatch, as in training),
//! so γ, β and the weights under it are checked. Dropout is in f with the
//! masks the analytic gradient drew (from the trial's dropout stream, after
//! the `--steps`), held fixed: the gradient of a step is the gradient for
//! its mask. Max-norm is a projection after the update and clipping a
//! rescaling of the gradient: neither is a term of f, so neither is here.
//!
//! Kinks (ReLU, leaky ReLU and maxout switching, |w| crossing 0 under L1)
//! make a centred difference wrong, not the gradient: as the notes advise,
//! the forward pass records which side of every kink each value is on, and
//! an entry whose ±h evaluations switch any of them is reported as kinked
//! and left out of the verdict. The thresholds, and why they differ from
//! the notes' double-precision ones, are in docs/semantics.md.

use std::fmt::Write as _;
use std::ops::Range;

use anyhow::Result;

use crate::data::{Dataset, Targets};
use crate::engine::{Fused, Layer, Shape};
use crate::plan::Trial;
use crate::study::Activation;

/// The step of the centred differences.
pub const H: f64 = 1e-5;

/// The check fails when any compared entry has a relative error above
/// this … (float32 analytic gradients of the tested networks reach at
/// most 2e-5; a 5% error in one entry gives 0.048: docs/semantics.md).
pub const MAX_REL: f64 = 1e-3;

/// … or when the median relative error of a weight matrix or bias vector
/// is above this (observed: at most 5e-7).
pub const MEDIAN_REL: f64 = 1e-5;

/// [`MAX_REL`] and [`MEDIAN_REL`] for networks with batch norm. Its
/// backward pass removes the batch mean of the gradient (Σ dz = 0 over the
/// minibatch), so the gradient of the layer below, and of its β, is a
/// small difference of large float32 sums: relative errors reach 2.5e-3
/// (median 3e-5) in the tests' matrix (sigmoid on the sine data is the
/// worst), without any bug. One entry wrong by 5% (0.048) still fails.
pub const MAX_REL_BATCH_NORM: f64 = 1e-2;

/// [`MEDIAN_REL`] with batch norm (see [`MAX_REL_BATCH_NORM`]).
pub const MEDIAN_REL_BATCH_NORM: f64 = 1e-4;

/// An entry whose gradient is below this share of the largest of its
/// tensor cannot be checked in float32: its absolute error, ~1e-7 of the
/// larger terms summed into it, would be ~1e-3 of its value. It is counted
/// as `tiny` and left out of the verdict (as are exact zeros on both
/// sides: dead units, losing maxout pieces).
pub const TINY: f64 = 1e-4;

/// … or below this share of the largest entry of the whole gradient: a
/// tensor can be all noise. Batch norm makes the loss invariant to the
/// scale of each unit's incoming weights, so with one input feature (the
/// sine data) the first layer's weight gradient is zero but for ε's effect
/// and float32 rounding (4e-6 of the largest entry; relative errors of
/// 0.3 between two such numbers say nothing about the code).
pub const TINY_OVERALL: f64 = 1e-5;

/// At most this many entries per weight matrix or bias vector are checked
/// (evenly spaced), so large networks stay quick.
pub const PER_TENSOR: usize = 300;

/// At most this many training rows (evenly spaced) form the minibatch.
pub const MAX_ROWS: usize = 64;

/// One row of the table: a weight matrix (`W1`, …), bias vector (`b1`, …),
/// or a batch-normalised layer's shift and scale (`beta1`, `gamma1`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `W<l>`, `b<l>`, `beta<l>` or `gamma<l>`, layers counted from 1 (the
    /// output layer last).
    pub name: String,
    /// Entries compared (not kinked, not tiny).
    pub checked: usize,
    /// Entries whose centred difference crossed a kink.
    pub kinked: usize,
    /// Entries too small to check in float32, or zero on both sides (see
    /// [`TINY`]).
    pub tiny: usize,
    /// Largest relative error over the checked entries (0 when none).
    pub max_rel: f64,
    /// Median relative error over the checked entries (0 when none).
    pub median_rel: f64,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Rows of the minibatch.
    pub rows: usize,
    /// Optimiser steps taken before the check.
    pub steps: usize,
    /// One row per weight matrix and bias vector.
    pub table: Vec<Row>,
    /// The thresholds that apply: ([`MAX_REL`], [`MEDIAN_REL`]), or the
    /// batch-norm ones.
    pub limits: (f64, f64),
}

impl Outcome {
    /// Whether some entry was checked and every tensor is within the
    /// thresholds.
    pub fn passed(&self) -> bool {
        !self.inconclusive()
            && self
                .table
                .iter()
                .all(|r| r.max_rel <= self.limits.0 && r.median_rel <= self.limits.1)
    }

    /// Whether no entry at all could be checked (every one kinked or too
    /// small for float32): such a check says nothing, so it neither passes
    /// nor fails.
    pub fn inconclusive(&self) -> bool {
        self.table.iter().all(|r| r.checked == 0)
    }

    /// The table as text (Markdown), with the verdict.
    pub fn render(&self) -> String {
        let mut s = format!(
            "gradient check: {} rows, after {} steps, h = {H:e}, relative error |a - n| / max(|a|, |n|, 1e-12)\n\n",
            self.rows, self.steps
        );
        s.push_str("| tensor | checked | kinked | tiny | max rel. error | median rel. error |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|\n");
        for r in &self.table {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.2e} | {:.2e} |",
                r.name, r.checked, r.kinked, r.tiny, r.max_rel, r.median_rel
            );
        }
        let _ = writeln!(
            s,
            "\n{}: max ≤ {:e} and median ≤ {:e} per tensor{}",
            if self.inconclusive() {
                "INCONCLUSIVE (no entry could be checked: every one crossed a kink or was too small; try more --steps or another --trial)"
            } else if self.passed() {
                "passed"
            } else {
                "FAILED"
            },
            self.limits.0,
            self.limits.1,
            if self.limits.0 == MAX_REL {
                ""
            } else {
                " (batch norm's thresholds)"
            }
        );
        s
    }
}

/// Check the gradient of `trial` on `data` at its initial weights, or
/// after `steps` optimiser steps of the trial's own settings on the same
/// minibatch (which moves zero biases off ReLU kinks: at initialisation a
/// spiral point at the origin puts every first-layer unit on its kink).
/// `corrupt`, for the tests of the checker itself, multiplies analytic
/// gradient entry `i` (an index into the flat parameter vector) by 1.05.
pub fn check(
    trial: &Trial,
    data: &Dataset,
    steps: usize,
    corrupt: Option<usize>,
) -> Result<Outcome> {
    let cfg = &trial.config;
    let model = crate::train::initial_model(trial, data)?;
    let mut fused = Fused::new(&model, &cfg.train, &data.train)?;
    let n = data.train.len();
    let m = cfg.train.batch.rows(n).clamp(1, MAX_ROWS);
    let rows: Vec<u32> = (0..m).map(|i| (i * n / m) as u32).collect();
    let (analytic, masks) = analytic(&mut fused, trial, &rows, steps, corrupt)?;
    let params: Vec<f64> = fused.params()?.iter().map(|v| f64::from(*v)).collect();
    let shape = fused.shape();
    let objective = Objective::new(shape, data, &rows, &masks, cfg.train.l2, cfg.train.l1);
    let mut probe = Probe::new(&objective, params, &analytic, cfg.train.l1);
    let table = tensors(shape)
        .into_iter()
        .map(|(name, range, weights)| probe.row(name, range, weights))
        .collect();
    let limits = if shape.batch_norm {
        (MAX_REL_BATCH_NORM, MEDIAN_REL_BATCH_NORM)
    } else {
        (MAX_REL, MEDIAN_REL)
    };
    Ok(Outcome {
        rows: m,
        steps,
        table,
        limits,
    })
}

/// The analytic gradient on `rows` after `steps` steps of the trial's own
/// settings (entry `corrupt` scaled by 1.05), and the dropout masks it drew.
fn analytic(
    fused: &mut Fused,
    trial: &Trial,
    rows: &[u32],
    steps: usize,
    corrupt: Option<usize>,
) -> Result<(Vec<f32>, Vec<Vec<f32>>)> {
    let mut dropout_rng = trial.seeds.dropout_rng();
    for _ in 0..steps {
        fused.step(rows, &mut dropout_rng)?;
    }
    // With dropout, the check's masks are the next ones the trial's stream gives.
    let (mut analytic, masks) = fused.gradient_with_masks(rows, Some(&mut dropout_rng))?;
    if let Some(i) = corrupt {
        anyhow::ensure!(
            i < analytic.len(),
            "--corrupt {i}: past the {} parameters",
            analytic.len()
        );
        analytic[i] *= 1.05;
    }
    Ok((analytic, masks))
}

/// The tensors of the table, in order: per layer its weights, then its
/// biases (or, under batch norm, its shift and scale), as (name, range in
/// the flat parameters, whether they are weights).
fn tensors(shape: &Shape) -> Vec<(String, Range<usize>, bool)> {
    let mut out = Vec::new();
    for (l, layer) in shape.layers.iter().enumerate() {
        let (k, Layer { cols, b_off, .. }) = (l + 1, *layer);
        out.push((format!("W{k}"), layer.weights(), true));
        if shape.batch_norm && k < shape.layers.len() {
            out.push((format!("beta{k}"), b_off..b_off + cols, false));
            out.push((format!("gamma{k}"), b_off + cols..b_off + 2 * cols, false));
        } else {
            out.push((format!("b{k}"), b_off..b_off + cols, false));
        }
    }
    out
}

/// Centred differences of the objective around `params`, compared with the
/// analytic gradient one tensor at a time.
struct Probe<'a> {
    objective: &'a Objective<'a>,
    params: Vec<f64>,
    /// `params` with at most one entry moved by ±h.
    theta: Vec<f64>,
    analytic: &'a [f32],
    l1: f64,
    /// The kink sides at `params`; an entry whose ±h sides differ is kinked.
    base_kinks: Vec<u32>,
    plus_kinks: Vec<u32>,
    minus_kinks: Vec<u32>,
    /// The largest analytic entry, for [`TINY_OVERALL`].
    overall: f64,
}

impl<'a> Probe<'a> {
    fn new(objective: &'a Objective<'a>, params: Vec<f64>, analytic: &'a [f32], l1: f64) -> Self {
        let mut base_kinks = Vec::new();
        objective.eval(&params, &mut base_kinks);
        let overall = analytic
            .iter()
            .map(|v| f64::from(*v).abs())
            .fold(0.0, f64::max);
        Probe {
            objective,
            theta: params.clone(),
            params,
            analytic,
            l1,
            base_kinks,
            plus_kinks: Vec::new(),
            minus_kinks: Vec::new(),
            overall,
        }
    }

    /// Check up to [`PER_TENSOR`] evenly spaced entries of `range`.
    fn row(&mut self, name: String, range: Range<usize>, weights: bool) -> Row {
        let len = range.len();
        let take = len.min(PER_TENSOR);
        let scale = range
            .clone()
            .map(|i| f64::from(self.analytic[i]).abs())
            .fold(0.0, f64::max);
        let (mut errors, mut kinked, mut tiny) = (Vec::new(), 0, 0);
        for j in 0..take {
            match self.entry(range.start + j * len / take, weights, scale) {
                Entry::Kinked => kinked += 1,
                Entry::Tiny => tiny += 1,
                Entry::Error(e) => errors.push(e),
            }
        }
        errors.sort_by(f64::total_cmp);
        let median = match errors.len() {
            0 => 0.0,
            k if k % 2 == 1 => errors[k / 2],
            k => 0.5 * (errors[k / 2 - 1] + errors[k / 2]),
        };
        Row {
            name,
            checked: errors.len(),
            kinked,
            tiny,
            max_rel: errors.last().copied().unwrap_or(0.0),
            median_rel: median,
        }
    }

    /// Entry `i`'s centred difference against its analytic gradient;
    /// `scale` is the largest analytic entry of its tensor.
    fn entry(&mut self, i: usize, weights: bool, scale: f64) -> Entry {
        let p = self.params[i];
        self.theta[i] = p + H;
        let plus = self.objective.eval(&self.theta, &mut self.plus_kinks);
        self.theta[i] = p - H;
        let minus = self.objective.eval(&self.theta, &mut self.minus_kinks);
        self.theta[i] = p;
        let crosses_l1 = weights && self.l1 > 0.0 && (p + H).signum() != (p - H).signum();
        if self.plus_kinks != self.base_kinks || self.minus_kinks != self.base_kinks || crosses_l1 {
            return Entry::Kinked;
        }
        let (a, num) = (f64::from(self.analytic[i]), (plus - minus) / (2.0 * H));
        if a.abs().max(num.abs()) < (TINY * scale).max(TINY_OVERALL * self.overall) {
            return Entry::Tiny;
        }
        Entry::Error((a - num).abs() / a.abs().max(num.abs()).max(1e-12))
    }
}

/// What one compared entry gave.
enum Entry {
    /// Its ±h evaluations crossed a kink.
    Kinked,
    /// Too small to check in float32.
    Tiny,
    /// Its relative error.
    Error(f64),
}

/// The objective in f64 on a fixed minibatch: mean data loss + ½λΣ‖W‖² +
/// λ₁Σ|W| over the weight matrices, through batch norm (batch statistics,
/// the step's ε) and fixed dropout masks when the network has them.
struct Objective<'a> {
    shape: &'a Shape,
    /// The minibatch, examples × features.
    x: Vec<f64>,
    classes: Option<Vec<usize>>,
    values: Option<Vec<f64>>,
    /// Per hidden layer, `units × rows` multipliers (empty: no dropout).
    masks: Vec<Vec<f64>>,
    l2: f64,
    l1: f64,
}

impl<'a> Objective<'a> {
    fn new(
        shape: &'a Shape,
        data: &Dataset,
        rows: &[u32],
        masks: &[Vec<f32>],
        l2: f64,
        l1: f64,
    ) -> Objective<'a> {
        let d = data.n_features;
        let x = rows
            .iter()
            .flat_map(|&r| &data.train.x[r as usize * d..(r as usize + 1) * d])
            .map(|v| f64::from(*v))
            .collect();
        let (classes, values) = match &data.train.y {
            Targets::Classes(c) => (
                Some(rows.iter().map(|&r| c[r as usize] as usize).collect()),
                None,
            ),
            Targets::Values(v) => (
                None,
                Some(rows.iter().map(|&r| f64::from(v[r as usize])).collect()),
            ),
        };
        let masks = masks
            .iter()
            .map(|m| m.iter().map(|v| f64::from(*v)).collect())
            .collect();
        Objective {
            shape,
            x,
            classes,
            values,
            masks,
            l2,
            l1,
        }
    }

    /// The objective at `p`; `kinks` receives which side of each kink every
    /// hidden value is on (ReLU and leaky ReLU: z > 0; maxout: the winning
    /// piece, the first on ties, as the step picks it). Layer by layer over
    /// the whole minibatch, since batch norm couples its examples.
    fn eval(&self, p: &[f64], kinks: &mut Vec<u32>) -> f64 {
        kinks.clear();
        let shape = self.shape;
        let d = shape.sizes[0];
        let rows = self.x.len() / d;
        let n_layers = shape.layers.len();
        // Activations, examples × width.
        let (mut a, mut width) = (self.x.clone(), d);
        for (
            l,
            &Layer {
                w_off,
                fan_in,
                cols,
                b_off,
            },
        ) in shape.layers.iter().enumerate()
        {
            let hidden = l + 1 < n_layers;
            let normed = shape.batch_norm && hidden;
            let mut z = vec![0.0; rows * cols];
            for (e, ze) in z.chunks_exact_mut(cols).enumerate() {
                if !normed {
                    ze.copy_from_slice(&p[b_off..b_off + cols]);
                }
                for (i, ai) in a[e * width..e * width + fan_in].iter().enumerate() {
                    let row = &p[w_off + i * cols..w_off + (i + 1) * cols];
                    for (zc, w) in ze.iter_mut().zip(row) {
                        *zc += ai * w;
                    }
                }
            }
            if normed {
                self.batch_norm(&mut z, cols, &p[b_off..b_off + 2 * cols]);
            }
            if !hidden {
                (a, width) = (z, cols);
                break;
            }
            let units = cols / shape.pieces;
            a = z
                .chunks_exact(cols)
                .flat_map(|ze| self.activate(ze, kinks))
                .collect();
            if let Some(mask) = self.masks.get(l) {
                for (e, ae) in a.chunks_exact_mut(units).enumerate() {
                    for (u, v) in ae.iter_mut().enumerate() {
                        *v *= mask[u * rows + e];
                    }
                }
            }
            width = units;
        }
        let mut loss = 0.0;
        for (e, out) in a.chunks_exact(width).enumerate() {
            loss += match (&self.classes, &self.values) {
                (Some(c), _) => {
                    let max = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = out.iter().map(|v| (v - max).exp()).sum();
                    sum.ln() + max - out[c[e]]
                }
                (_, Some(v)) => (out[0] - v[e]).powi(2),
                _ => unreachable!("targets are classes or values"),
            };
        }
        let mut total = loss / rows as f64;
        for layer in &shape.layers {
            let w = &p[layer.weights()];
            total += 0.5 * self.l2 * w.iter().map(|v| v * v).sum::<f64>();
            total += self.l1 * w.iter().map(|v| v.abs()).sum::<f64>();
        }
        total
    }

    /// Batch norm in training, in place on `z` (examples × `cols`): per
    /// column the minibatch mean μ and biased variance σ², then
    /// γ·(z − μ)/√(σ² + ε) + β, with ε the step's (f32, widened);
    /// `beta_gamma` is β then γ, as the flat vector stores them.
    fn batch_norm(&self, z: &mut [f64], cols: usize, beta_gamma: &[f64]) {
        let rows = z.len() / cols;
        let eps = f64::from(crate::model::BN_EPS);
        for c in 0..cols {
            let mu = (0..rows).map(|e| z[e * cols + c]).sum::<f64>() / rows as f64;
            let var = (0..rows)
                .map(|e| (z[e * cols + c] - mu).powi(2))
                .sum::<f64>()
                / rows as f64;
            let (beta, gamma) = (beta_gamma[c], beta_gamma[cols + c]);
            let inv = 1.0 / (var + eps).sqrt();
            for e in 0..rows {
                let v = &mut z[e * cols + c];
                *v = gamma * (*v - mu) * inv + beta;
            }
        }
    }

    fn activate(&self, z: &[f64], kinks: &mut Vec<u32>) -> Vec<f64> {
        match self.shape.activation {
            Activation::Relu => z
                .iter()
                .map(|&v| {
                    kinks.push(u32::from(v > 0.0));
                    v.max(0.0)
                })
                .collect(),
            Activation::LeakyRelu { .. } => z
                .iter()
                .map(|&v| {
                    // The slope the step uses (f32), widened.
                    let alpha = f64::from(self.shape.alpha);
                    kinks.push(u32::from(v > 0.0));
                    if v > 0.0 { v } else { alpha * v }
                })
                .collect(),
            Activation::Tanh => z.iter().map(|v| v.tanh()).collect(),
            Activation::Sigmoid => z.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect(),
            Activation::Maxout { .. } => z
                .chunks_exact(self.shape.pieces)
                .map(|group| {
                    let (mut best, mut arg) = (f64::NEG_INFINITY, 0);
                    for (k, &v) in group.iter().enumerate() {
                        if v > best {
                            (best, arg) = (v, k);
                        }
                    }
                    kinks.push(arg as u32);
                    best
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
