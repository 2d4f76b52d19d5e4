//! One minibatch through the network: gather, forward, loss and backward.

use rand_chacha::ChaCha8Rng;

use super::activation::{activate, activation_grad};
use super::batch_norm::{batch_norm_backward, batch_norm_eval, batch_norm_train};
use super::dropout::draw_mask;
use super::gemm::{product_forward, product_input_grad, product_weight_grad};
use super::lanes::{add_scalar, mul, row_sums};
use super::layout::{Layer, Shape};
use super::loss::output_loss;
use super::workspace::Workspace;
use crate::data::Targets;

/// Copy the minibatch `rows` of `x_all` (examples × features) into `ws.x`,
/// feature-major.
#[inline(always)]
pub(super) fn gather(shape: &Shape, x_all: &[f32], rows: &[u32], ws: &mut Workspace) {
    let (n, d) = (rows.len(), shape.sizes[0]);
    ws.x.resize(d * n, 0.0);
    for (i, &r) in rows.iter().enumerate() {
        let src = &x_all[r as usize * d..(r as usize + 1) * d];
        for (j, v) in src.iter().enumerate() {
            ws.x[j * n + i] = *v;
        }
    }
}

/// Forward pass of the `n` examples in `ws.x`: fills `ws.z` (every layer)
/// and `ws.a` (hidden layers). Zᵀ = Wᵀ · Aᵀ, then bias and activation;
/// with `rng`, inverted dropout (masks drawn example by example, unit by
/// unit, per hidden layer, as `Mlp::forward_all` draws them); without,
/// evaluation mode.
///
/// With batch norm, hidden layers are normalised between the product and
/// the activation: with batch statistics in training (`rng` given), with
/// the running ones in `stats` (`[means | variances]`) in evaluation.
#[inline(always)]
pub(super) fn forward(
    shape: &Shape,
    params: &[f32],
    stats: &[f32],
    n: usize,
    mut rng: Option<&mut ChaCha8Rng>,
    ws: &mut Workspace,
) {
    let n_layers = shape.layers.len();
    let pieces = shape.pieces;
    ws.z.resize_with(n_layers, Vec::new);
    ws.a.resize_with(n_layers, Vec::new);
    ws.mask.resize_with(n_layers, Vec::new);
    if shape.batch_norm {
        for v in [
            &mut ws.xhat,
            &mut ws.inv_std,
            &mut ws.batch_mean,
            &mut ws.batch_var,
        ] {
            v.resize_with(n_layers, Vec::new);
        }
    }
    for (l, &layer) in shape.layers.iter().enumerate() {
        let Layer { cols, b_off, .. } = layer;
        let input: &[f32] = if l == 0 { &ws.x } else { &ws.a[l - 1] };
        let mut z = std::mem::take(&mut ws.z[l]);
        z.resize(cols * n, 0.0);
        product_forward(params, layer, input, n, &mut z, ws.threads);
        if shape.normed(l) {
            let beta = &params[b_off..b_off + cols];
            let gamma = &params[b_off + cols..b_off + 2 * cols];
            if rng.is_some() {
                batch_norm_train(
                    &mut z,
                    n,
                    gamma,
                    beta,
                    &mut ws.xhat[l],
                    &mut ws.inv_std[l],
                    &mut ws.batch_mean[l],
                    &mut ws.batch_var[l],
                );
            } else {
                let (at, len) = (shape.stats_at(l), shape.stats_len);
                let (mean, var) = (&stats[at..at + cols], &stats[len + at..len + at + cols]);
                batch_norm_eval(&mut z, n, gamma, beta, mean, var);
            }
        } else {
            let bias = &params[b_off..b_off + cols];
            for (zr, b) in z.chunks_exact_mut(n).zip(bias) {
                add_scalar(zr, *b);
            }
        }
        if l + 1 < n_layers {
            let units = cols / pieces;
            let mut a = std::mem::take(&mut ws.a[l]);
            a.resize(units * n, 0.0);
            activate(shape, &mut z, &mut a, n);
            if let Some(rng) = rng.as_deref_mut()
                && shape.dropout > 0.0
            {
                let keep = 1.0 - shape.dropout;
                let scale = (1.0 / keep) as f32;
                draw_mask(rng, keep, scale, units, n, &mut ws.mask[l], &mut ws.draws);
                mul(&mut a, &ws.mask[l]);
            }
            ws.a[l] = a;
        }
        ws.z[l] = z;
    }
}

/// Forward and backward over one minibatch (`rows` of the full data):
/// fills `ws.grad` with the gradient of the mean data loss (no L2) and
/// returns that loss. Dropout masks are drawn from `rng` in the same order
/// as `Mlp::forward_all` in training mode (per hidden layer; example by
/// example, unit by unit).
#[inline(always)]
pub(super) fn forward_backward(
    shape: &Shape,
    params: &[f32],
    x_all: &[f32],
    y: &Targets,
    rows: &[u32],
    rng: &mut ChaCha8Rng,
    ws: &mut Workspace,
) -> f32 {
    let n = rows.len();
    gather(shape, x_all, rows, ws);
    gather_targets(y, rows, ws);
    ws.dz.resize_with(shape.layers.len(), Vec::new);
    ws.grad.resize(shape.len, 0.0);
    forward(shape, params, &[], n, Some(rng), ws);
    let loss = output_loss(shape, y, n, ws);
    backward(shape, params, n, ws);
    (loss / n as f64) as f32
}

/// Copy the minibatch's targets into the workspace, in `rows` order.
#[inline(always)]
fn gather_targets(y: &Targets, rows: &[u32], ws: &mut Workspace) {
    match y {
        Targets::Classes(c) => {
            ws.y_class.clear();
            ws.y_class.extend(rows.iter().map(|&r| c[r as usize]));
        }
        Targets::Values(v) => {
            ws.y_value.clear();
            ws.y_value.extend(rows.iter().map(|&r| v[r as usize]));
        }
    }
}

/// Backward from the output layer's dZ (already in `ws.dz`): dW = A · dZ
/// (Aᵀ and dZᵀ are what is stored), db = row sums of dZᵀ (with batch norm,
/// dβ and dγ come from its backward pass instead), dAᵀ = W · dZᵀ, layer by
/// layer down to the first.
#[inline(always)]
fn backward(shape: &Shape, params: &[f32], n: usize, ws: &mut Workspace) {
    let n_layers = shape.layers.len();
    for l in (0..n_layers).rev() {
        let Layer {
            w_off,
            fan_in,
            cols,
            b_off,
        } = shape.layers[l];
        let input: &[f32] = if l == 0 { &ws.x } else { &ws.a[l - 1] };
        let dz = &ws.dz[l];
        let threads = ws.threads;
        product_weight_grad(
            shape.layers[l],
            input,
            dz,
            n,
            &mut ws.grad[w_off..b_off],
            threads,
        );
        if !shape.normed(l) {
            row_sums(dz, &mut ws.grad[b_off..b_off + cols]);
        }
        if l == 0 {
            break;
        }
        let mut da = std::mem::take(&mut ws.da);
        da.resize(fan_in * n, 0.0);
        product_input_grad(params, shape.layers[l], dz, n, &mut da, ws.threads);
        if shape.dropout > 0.0 {
            mul(&mut da, &ws.mask[l - 1]);
        }
        let Layer {
            cols: prev_cols, ..
        } = shape.layers[l - 1];
        let mut dzp = std::mem::take(&mut ws.dz[l - 1]);
        dzp.resize(prev_cols * n, 0.0);
        activation_grad(shape, &da, &ws.z[l - 1], &mut dzp, n);
        if shape.normed(l - 1) {
            let Layer { cols, b_off, .. } = shape.layers[l - 1];
            let (params_bg, grad_bg) = (
                &params[b_off + cols..b_off + 2 * cols],
                &mut ws.grad[b_off..b_off + 2 * cols],
            );
            batch_norm_backward(
                &mut dzp,
                n,
                &ws.xhat[l - 1],
                &ws.inv_std[l - 1],
                params_bg,
                grad_bg,
            );
        }
        ws.dz[l - 1] = dzp;
        ws.da = da;
    }
}
