//! The six optimiser rules, applied in one pass over each buffer.

use std::ops::Range;

use super::layout::Shape;
use super::regularise::{clipped_grad, l1_grad, max_norm, with_l2};
use crate::study::{Optimizer, TrainSpec};

/// One optimiser update, touching each buffer once. L2 on weights only:
/// d/dW 0.5·λ·‖W‖² = λ·W is added to the weights' gradients.
#[inline(always)]
pub(super) fn update(
    shape: &Shape,
    spec: &TrainSpec,
    t: i32,
    params: &mut [f32],
    moments: &mut [f32],
    grad: &[f32],
) {
    let p = params.len();
    let lr = spec.lr as f32;
    let mut l2 = spec.l2 as f32;
    // L1 and clipping (off by default) hand the loops a changed copy of the
    // gradient, so the default path is untouched: L1 adds λ₁·sign(W) to the
    // weights' gradients; clipping rescales the full gradient, L1 and L2
    // terms included, and then sets λ = 0.
    let with_l1 = l1_grad(shape, spec.l1 as f32, params, grad);
    let grad = with_l1.as_deref().unwrap_or(grad);
    let clipped;
    let grad = match clipped_grad(shape, spec.clip, l2, params, grad) {
        Some(g) => {
            clipped = g;
            l2 = 0.0;
            &clipped[..]
        }
        None => grad,
    };
    let (m, s) = moments.split_at_mut(p);
    for (l, layer) in shape.layers.iter().enumerate() {
        // Biases (and batch norm's β and γ) take no L2.
        for (range, decay) in [
            (layer.weights(), l2),
            (layer.b_off..shape.unpenalised_end(l), 0.0),
        ] {
            let w = &mut params[range.clone()];
            let g = &grad[range.clone()];
            let v = &mut m[range.clone()];
            apply_rule(spec.optimizer, t, lr, decay, w, g, v, s, range);
        }
    }
    if spec.max_norm > 0.0 {
        max_norm(shape, spec.max_norm, params);
    }
}

/// One rule on one range of the parameters: `w`, `g` and `v` (first
/// moment, or Adagrad's cache) are that range's slices; Adam's second
/// moment is `s[range]`. One loop per rule, free of branches, so each
/// vectorises.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn apply_rule(
    rule: Optimizer,
    t: i32,
    lr: f32,
    decay: f32,
    w: &mut [f32],
    g: &[f32],
    v: &mut [f32],
    s: &mut [f32],
    range: Range<usize>,
) {
    let len = range.len();
    match rule {
        Optimizer::Sgd { momentum, nesterov } => {
            let mu = momentum as f32;
            if mu == 0.0 {
                for i in 0..len {
                    w[i] -= lr * with_l2(g[i], decay, w[i]);
                }
            } else if nesterov {
                // PyTorch's convention: v ← μv + g; step g + μv.
                for i in 0..len {
                    let gi = with_l2(g[i], decay, w[i]);
                    v[i] = mu * v[i] + gi;
                    w[i] -= lr * (gi + mu * v[i]);
                }
            } else {
                // PyTorch's convention: v ← μv + g; step v.
                for i in 0..len {
                    v[i] = mu * v[i] + with_l2(g[i], decay, w[i]);
                    w[i] -= lr * v[i];
                }
            }
        }
        Optimizer::Adam { beta1, beta2, eps } => {
            let (b1, b2, eps) = (beta1 as f32, beta2 as f32, eps as f32);
            let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
            let s2 = &mut s[range];
            for i in 0..len {
                let gi = with_l2(g[i], decay, w[i]);
                v[i] = b1 * v[i] + (1.0 - b1) * gi;
                s2[i] = b2 * s2[i] + (1.0 - b2) * gi * gi;
                w[i] -= lr * (v[i] / c1) / ((s2[i] / c2).sqrt() + eps);
            }
        }
        Optimizer::Adagrad { eps } => {
            // The cache c lives in the first-moment buffer.
            let eps = eps as f32;
            for i in 0..len {
                let gi = with_l2(g[i], decay, w[i]);
                v[i] += gi * gi;
                w[i] -= lr * gi / (v[i].sqrt() + eps);
            }
        }
        Optimizer::Rmsprop { decay_rate, eps } => {
            let (rho, eps) = (decay_rate as f32, eps as f32);
            for i in 0..len {
                let gi = with_l2(g[i], decay, w[i]);
                v[i] = rho * v[i] + (1.0 - rho) * gi * gi;
                w[i] -= lr * gi / (v[i].sqrt() + eps);
            }
        }
    }
}
