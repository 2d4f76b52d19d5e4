//! Batch norm on hidden pre-activations: training (batch statistics),
//! evaluation (running ones), its backward pass and the running averages.

use super::lanes::{lane_dot, lane_sum};
use super::layout::Shape;
use super::workspace::Workspace;
use crate::model::{BN_EPS, BN_MOMENTUM};

/// Batch norm in training, in place on the pre-activations `z`
/// (`cols × n`): per row, the batch mean μ and biased variance σ², x̂ =
/// (z − μ)/√(σ² + ε), then z ← γ·x̂ + β. Keeps x̂, 1/√(σ² + ε), μ and σ²
/// for the backward pass and the running averages.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn batch_norm_train(
    z: &mut [f32],
    n: usize,
    gamma: &[f32],
    beta: &[f32],
    xhat: &mut Vec<f32>,
    inv_std: &mut Vec<f32>,
    mean: &mut Vec<f32>,
    var: &mut Vec<f32>,
) {
    let cols = gamma.len();
    xhat.resize(cols * n, 0.0);
    inv_std.resize(cols, 0.0);
    mean.resize(cols, 0.0);
    var.resize(cols, 0.0);
    let inv_n = 1.0 / n as f32;
    for (r, (zr, xr)) in z
        .chunks_exact_mut(n)
        .zip(xhat.chunks_exact_mut(n))
        .enumerate()
    {
        let mu = lane_sum(zr) * inv_n;
        for i in 0..n {
            xr[i] = zr[i] - mu;
        }
        let sigma2 = lane_dot(xr, xr) * inv_n;
        let inv = 1.0 / (sigma2 + BN_EPS).sqrt();
        let (g, b) = (gamma[r], beta[r]);
        for i in 0..n {
            xr[i] *= inv;
            zr[i] = g * xr[i] + b;
        }
        (mean[r], var[r], inv_std[r]) = (mu, sigma2, inv);
    }
}

/// Batch norm in evaluation, in place on `z` (`cols × n`), with the
/// running mean and variance: z ← γ·(z − μ̄)/√(σ̄² + ε) + β.
#[inline(always)]
pub(super) fn batch_norm_eval(
    z: &mut [f32],
    n: usize,
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
) {
    for (r, zr) in z.chunks_exact_mut(n).enumerate() {
        let inv = 1.0 / (var[r] + BN_EPS).sqrt();
        let (g, b, mu) = (gamma[r], beta[r], mean[r]);
        for v in zr.iter_mut() {
            *v = g * ((*v - mu) * inv) + b;
        }
    }
}

/// Batch norm's backward pass, in place: `dz` holds dL/dy (y = γ·x̂ + β)
/// and becomes dL/dz; writes dL/dβ = Σ dy and dL/dγ = Σ dy·x̂ per row:
/// dz = γ/(n·√(σ² + ε)) · (n·dy − Σ dy − x̂·Σ dy·x̂).
#[inline(always)]
pub(super) fn batch_norm_backward(
    dz: &mut [f32],
    n: usize,
    xhat: &[f32],
    inv_std: &[f32],
    gamma: &[f32],
    grad_beta_gamma: &mut [f32],
) {
    let cols = gamma.len();
    let (g_beta, g_gamma) = grad_beta_gamma.split_at_mut(cols);
    let nf = n as f32;
    for (r, (dr, xr)) in dz.chunks_exact_mut(n).zip(xhat.chunks_exact(n)).enumerate() {
        let sum_dy = lane_sum(dr);
        let sum_dyx = lane_dot(dr, xr);
        (g_beta[r], g_gamma[r]) = (sum_dy, sum_dyx);
        let c = gamma[r] * inv_std[r] / nf;
        for i in 0..n {
            dr[i] = c * (nf * dr[i] - sum_dy - xr[i] * sum_dyx);
        }
    }
}

/// The running averages after a training batch of `n`, m = 0.1:
/// mean ← (1 − m)·mean + m·μ and variance ← (1 − m)·variance +
/// m·σ²·n/(n − 1) (the unbiased batch variance, PyTorch's convention).
pub(super) fn update_running(shape: &Shape, stats: &mut [f32], ws: &Workspace, n: usize) {
    let (means, vars) = stats.split_at_mut(shape.stats_len);
    let unbias = n as f32 / (n - 1) as f32;
    for l in 0..shape.layers.len() - 1 {
        let at = shape.stats_at(l);
        for (r, (mu, s2)) in ws.batch_mean[l].iter().zip(&ws.batch_var[l]).enumerate() {
            means[at + r] = (1.0 - BN_MOMENTUM) * means[at + r] + BN_MOMENTUM * mu;
            vars[at + r] = (1.0 - BN_MOMENTUM) * vars[at + r] + BN_MOMENTUM * (s2 * unbias);
        }
    }
}
