//! The terms around the optimiser: L2, L1, max-norm and gradient clipping.
//! All are off by default and leave the default path untouched.

use super::layout::{Layer, Shape};

/// The L2 term, stated once: the gradient `g` of weight `w` plus
/// d/dw ½·λ·w² = λ·w. The update's loops, clipping and `gradcheck`'s
/// gradient all take it from here.
#[inline(always)]
pub(super) fn with_l2(g: f32, l2: f32, w: f32) -> f32 {
    g + l2 * w
}

/// `grad` with the L2 term added to every weight (biases, β and γ take
/// none).
pub(super) fn add_l2(shape: &Shape, l2: f32, params: &[f32], grad: &mut [f32]) {
    for layer in &shape.layers {
        for i in layer.weights() {
            grad[i] = with_l2(grad[i], l2, params[i]);
        }
    }
}

/// `train.l1`: the gradient with λ₁·sign(W) added to the weights'
/// entries (sign(0) = 0, the subgradient PyTorch's `abs` uses); `None`
/// when L1 is off.
pub(super) fn l1_grad(shape: &Shape, l1: f32, params: &[f32], grad: &[f32]) -> Option<Vec<f32>> {
    if l1 == 0.0 {
        return None;
    }
    let mut g = grad.to_vec();
    for layer in &shape.layers {
        for i in layer.weights() {
            let w = params[i];
            let sign = if w > 0.0 {
                1.0
            } else if w < 0.0 {
                -1.0
            } else {
                0.0
            };
            g[i] += l1 * sign;
        }
    }
    Some(g)
}

/// `train.max_norm`: scale each unit's incoming weight vector (a column of
/// its layer's `fan_in × cols` matrix; every layer, each maxout piece
/// alone) by c/‖w‖ when ‖w‖ > c. Norms are summed in f64.
pub(super) fn max_norm(shape: &Shape, c: f64, params: &mut [f32]) {
    for &Layer {
        w_off,
        fan_in,
        cols,
        ..
    } in &shape.layers
    {
        for j in 0..cols {
            let norm = (0..fan_in)
                .map(|i| f64::from(params[w_off + i * cols + j]).powi(2))
                .sum::<f64>()
                .sqrt();
            if norm > c {
                let scale = (c / norm) as f32;
                for i in 0..fan_in {
                    params[w_off + i * cols + j] *= scale;
                }
            }
        }
    }
}

/// Gradient-norm clipping (`train.clip`): the full gradient g + λW (L2 on
/// weights only) rescaled to norm `clip` when it is longer; `None` when
/// clipping is off or the gradient is short enough. The norm is summed in
/// f64. Costs one extra pass and buffer per step, only when on.
pub(super) fn clipped_grad(
    shape: &Shape,
    clip: f64,
    l2: f32,
    params: &[f32],
    grad: &[f32],
) -> Option<Vec<f32>> {
    if clip <= 0.0 {
        return None;
    }
    let mut full = grad.to_vec();
    add_l2(shape, l2, params, &mut full);
    let norm = full
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum::<f64>()
        .sqrt();
    if norm <= clip {
        return None;
    }
    let scale = (clip / norm) as f32;
    full.iter_mut().for_each(|g| *g *= scale);
    Some(full)
}
