//! The data losses: softmax cross-entropy (stated once, for training and
//! evaluation alike) and the squared error, with their gradient w.r.t. the
//! output pre-activations.

use super::layout::Layer;
use super::layout::Shape;
use super::workspace::Workspace;
use crate::data::Targets;

/// Softmax cross-entropy of example `i` of the feature-major outputs `out`
/// (`k` rows of `n`) with target class `t`, given the example's largest
/// output `max`: log Σ_c exp(o_c − max) + max − o_t. Each exp(o_c − max)
/// is handed to `keep` as it is summed (training keeps them for the
/// gradient). Returns the loss and the sum of the exps.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn cross_entropy(
    out: &[f32],
    n: usize,
    i: usize,
    k: usize,
    t: usize,
    max: f32,
    mut keep: impl FnMut(usize, f32),
) -> (f32, f32) {
    let mut sum = 0.0f32;
    for c in 0..k {
        let e = (out[c * n + i] - max).exp();
        keep(c, e);
        sum += e;
    }
    (sum.ln() + max - out[t * n + i], sum)
}

/// The summed data loss of the `n` examples whose outputs are in `ws.z`
/// and targets in `ws.y_class`/`ws.y_value`; writes the gradient of the
/// mean loss w.r.t. the output pre-activations into the last `ws.dz`.
#[inline(always)]
pub(super) fn output_loss(shape: &Shape, y: &Targets, n: usize, ws: &mut Workspace) -> f64 {
    let n_layers = shape.layers.len();
    let Layer { cols: k_out, .. } = shape.layers[n_layers - 1];
    let out = &ws.z[n_layers - 1];
    let mut dz = std::mem::take(&mut ws.dz[n_layers - 1]);
    dz.resize(k_out * n, 0.0);
    let inv_n = 1.0 / n as f32;
    let mut loss = 0.0f64;
    match y {
        Targets::Classes(_) => {
            for (i, &t) in ws.y_class.iter().enumerate() {
                let t = t as usize;
                let max = (0..k_out).fold(f32::NEG_INFINITY, |m, c| m.max(out[c * n + i]));
                let (ce, sum) = cross_entropy(out, n, i, k_out, t, max, |c, e| dz[c * n + i] = e);
                loss += f64::from(ce);
                for c in 0..k_out {
                    dz[c * n + i] *= inv_n / sum;
                }
                dz[t * n + i] -= inv_n;
            }
        }
        Targets::Values(_) => {
            // One output: `out` is a single row.
            for ((v, g), t) in out.iter().zip(dz.iter_mut()).zip(&ws.y_value) {
                let e = v - t;
                loss += f64::from(e * e);
                *g = 2.0 * e * inv_n;
            }
        }
    }
    ws.dz[n_layers - 1] = dz;
    loss
}
