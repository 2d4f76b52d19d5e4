//! `mlpsweep gradcheck`: the fused step's gradient against centred
//! differences of the same objective evaluated in double precision (the
//! CS231n notes, Part 3, "Gradient checks").
//!
//! For one trial, at its initial weights, on a fixed minibatch: the
//! analytic gradient is the one `Fused` applies (float32: data loss, plus
//! λ·W and λ₁·sign(W) on the weights; dropout off); the numerical one is
//! (f(θ + h·eᵢ) − f(θ − h·eᵢ))/2h with h = 1e-5, f the mean data loss +
//! ½λΣ‖W‖² + λ₁Σ|W| computed here in f64 from the same float32 weights. The
//! relative error of an entry is |a − n|/max(|a|, |n|, 1e-12).
//!
//! Kinks (ReLU, leaky ReLU and maxout switching, |w| crossing 0 under L1)
//! make a centred difference wrong, not the gradient: as the notes advise,
//! the forward pass records which side of every kink each value is on, and
//! an entry whose ±h evaluations switch any of them is reported as kinked
//! and left out of the verdict. The thresholds, and why they differ from
//! the notes' double-precision ones, are in docs/semantics.md.

use std::fmt::Write as _;

use anyhow::Result;

use crate::data::{Dataset, Targets};
use crate::fused::{Fused, Shape};
use crate::plan::Trial;
use crate::study::{Activation, Batch};

/// The step of the centred differences.
pub const H: f64 = 1e-5;

/// The check fails when any compared entry has a relative error above
/// this … (float32 analytic gradients of the tested networks reach at
/// most 2e-5; a 5% error in one entry gives 0.048: docs/semantics.md).
pub const MAX_REL: f64 = 1e-3;

/// … or when the median relative error of a weight matrix or bias vector
/// is above this (observed: at most 5e-7).
pub const MEDIAN_REL: f64 = 1e-5;

/// An entry whose gradient is below this share of the largest of its
/// tensor cannot be checked in float32: its absolute error, ~1e-7 of the
/// larger terms summed into it, would be ~1e-3 of its value. It is counted
/// as `tiny` and left out of the verdict (as are exact zeros on both
/// sides: dead units, losing maxout pieces).
pub const TINY: f64 = 1e-4;

/// At most this many entries per weight matrix or bias vector are checked
/// (evenly spaced), so large networks stay quick.
pub const PER_TENSOR: usize = 300;

/// At most this many training rows (evenly spaced) form the minibatch.
pub const MAX_ROWS: usize = 64;

/// One row of the table: a weight matrix (`W1`, …) or bias vector (`b1`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `W<l>` or `b<l>`, layers counted from 1 (the output layer last).
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
}

impl Outcome {
    /// Whether every tensor is within the thresholds.
    pub fn passed(&self) -> bool {
        self.table
            .iter()
            .all(|r| r.max_rel <= MAX_REL && r.median_rel <= MEDIAN_REL)
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
            "\n{}: max ≤ {MAX_REL:e} and median ≤ {MEDIAN_REL:e} per tensor",
            if self.passed() { "passed" } else { "FAILED" }
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
    // The f64 reference loss has no batch normalisation: refuse rather than
    // report a false failure. (Batch norm's gradients are tested against
    // candle autograd in fused.rs.)
    if cfg.model.batch_norm {
        anyhow::bail!(
            "gradcheck does not cover model.batch_norm yet (its gradients are tested against candle autograd in the test suite)"
        );
    }
    let model = crate::train::initial_model(trial, data)?;
    let mut fused = Fused::new(&model, &cfg.train, &data.train)?;
    let n = data.train.len();
    let batch = match cfg.train.batch {
        Batch::Full => n,
        Batch::Size(b) => b.min(n),
    };
    let m = batch.clamp(1, MAX_ROWS);
    let rows: Vec<u32> = (0..m).map(|i| (i * n / m) as u32).collect();
    let mut dropout_rng = trial.seeds.dropout_rng();
    for _ in 0..steps {
        fused.step(&rows, &mut dropout_rng)?;
    }
    let mut analytic = fused.gradient(&rows)?;
    if let Some(i) = corrupt {
        anyhow::ensure!(
            i < analytic.len(),
            "--corrupt {i}: past the {} parameters",
            analytic.len()
        );
        analytic[i] *= 1.05;
    }
    let params: Vec<f64> = fused.params()?.iter().map(|v| f64::from(*v)).collect();
    let objective = Objective::new(fused.shape(), data, &rows, cfg.train.l2, cfg.train.l1);
    let mut theta = params.clone();
    let mut base_kinks = Vec::new();
    objective.eval(&theta, &mut base_kinks);
    let (mut plus_kinks, mut minus_kinks) = (Vec::new(), Vec::new());
    let mut table = Vec::new();
    for (l, &(w_off, fan_in, cols, b_off)) in fused.shape().layers.iter().enumerate() {
        for (name, range, weights) in [
            (format!("W{}", l + 1), w_off..w_off + fan_in * cols, true),
            (format!("b{}", l + 1), b_off..b_off + cols, false),
        ] {
            let len = range.len();
            let take = len.min(PER_TENSOR);
            let scale = range
                .clone()
                .map(|i| f64::from(analytic[i]).abs())
                .fold(0.0, f64::max);
            let (mut errors, mut kinked, mut tiny) = (Vec::new(), 0, 0);
            for j in 0..take {
                let i = range.start + j * len / take;
                theta[i] = params[i] + H;
                let plus = objective.eval(&theta, &mut plus_kinks);
                theta[i] = params[i] - H;
                let minus = objective.eval(&theta, &mut minus_kinks);
                theta[i] = params[i];
                let crosses_l1 = weights
                    && cfg.train.l1 > 0.0
                    && (params[i] + H).signum() != (params[i] - H).signum();
                if plus_kinks != base_kinks || minus_kinks != base_kinks || crosses_l1 {
                    kinked += 1;
                    continue;
                }
                let (a, num) = (f64::from(analytic[i]), (plus - minus) / (2.0 * H));
                if a.abs().max(num.abs()) < TINY * scale {
                    tiny += 1;
                    continue;
                }
                errors.push((a - num).abs() / a.abs().max(num.abs()).max(1e-12));
            }
            errors.sort_by(f64::total_cmp);
            let median = match errors.len() {
                0 => 0.0,
                k if k % 2 == 1 => errors[k / 2],
                k => 0.5 * (errors[k / 2 - 1] + errors[k / 2]),
            };
            table.push(Row {
                name,
                checked: errors.len(),
                kinked,
                tiny,
                max_rel: errors.last().copied().unwrap_or(0.0),
                median_rel: median,
            });
        }
    }
    Ok(Outcome {
        rows: m,
        steps,
        table,
    })
}

/// The objective in f64 on a fixed minibatch: mean data loss + ½λΣ‖W‖² +
/// λ₁Σ|W| over the weight matrices.
struct Objective<'a> {
    shape: &'a Shape,
    /// The minibatch, examples × features.
    x: Vec<f64>,
    classes: Option<Vec<usize>>,
    values: Option<Vec<f64>>,
    l2: f64,
    l1: f64,
}

impl<'a> Objective<'a> {
    fn new(shape: &'a Shape, data: &Dataset, rows: &[u32], l2: f64, l1: f64) -> Objective<'a> {
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
        Objective {
            shape,
            x,
            classes,
            values,
            l2,
            l1,
        }
    }

    /// The objective at `p`; `kinks` receives which side of each kink every
    /// hidden value is on (ReLU and leaky ReLU: z > 0; maxout: the winning
    /// piece, the first on ties, as the step picks it).
    fn eval(&self, p: &[f64], kinks: &mut Vec<u32>) -> f64 {
        kinks.clear();
        let shape = self.shape;
        let d = shape.sizes[0];
        let rows = self.x.len() / d;
        let n_layers = shape.layers.len();
        let mut loss = 0.0;
        for e in 0..rows {
            let mut a: Vec<f64> = self.x[e * d..(e + 1) * d].to_vec();
            for (l, &(w_off, fan_in, cols, b_off)) in shape.layers.iter().enumerate() {
                let mut z: Vec<f64> = p[b_off..b_off + cols].to_vec();
                for (i, ai) in a.iter().enumerate().take(fan_in) {
                    let row = &p[w_off + i * cols..w_off + (i + 1) * cols];
                    for (zc, w) in z.iter_mut().zip(row) {
                        *zc += ai * w;
                    }
                }
                a = if l + 1 < n_layers {
                    self.activate(&z, kinks)
                } else {
                    z
                };
            }
            loss += match (&self.classes, &self.values) {
                (Some(c), _) => {
                    let max = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let sum: f64 = a.iter().map(|v| (v - max).exp()).sum();
                    sum.ln() + max - a[c[e]]
                }
                (_, Some(v)) => (a[0] - v[e]).powi(2),
                _ => unreachable!("targets are classes or values"),
            };
        }
        let mut total = loss / rows as f64;
        for &(w_off, fan_in, cols, _) in &shape.layers {
            let w = &p[w_off..w_off + fan_in * cols];
            total += 0.5 * self.l2 * w.iter().map(|v| v * v).sum::<f64>();
            total += self.l1 * w.iter().map(|v| v.abs()).sum::<f64>();
        }
        total
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
