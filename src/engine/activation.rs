//! The hidden activations and their derivatives, on feature-major rows.

use super::layout::Shape;
use crate::study::Activation;

/// Hidden outputs from pre-activations, `n` examples per row. For tanh and
/// sigmoid, `z` is then overwritten with the outputs too: their derivatives
/// need only the output, and the backward pass need not call tanh/exp again
/// (the same values, so the same bits, at half the calls).
#[inline(always)]
pub(super) fn activate(shape: &Shape, z: &mut [f32], a: &mut [f32], n: usize) {
    match shape.activation {
        Activation::Relu => {
            let z = &z[..a.len()];
            for i in 0..a.len() {
                a[i] = z[i].max(0.0);
            }
        }
        Activation::LeakyRelu { .. } => {
            let (z, al) = (&z[..a.len()], shape.alpha);
            for i in 0..a.len() {
                a[i] = z[i].max(z[i] * al);
            }
        }
        Activation::Tanh => a.iter_mut().zip(z).for_each(|(o, v)| {
            *v = v.tanh();
            *o = *v
        }),
        Activation::Sigmoid => a.iter_mut().zip(z).for_each(|(o, v)| {
            *v = 1.0 / (1.0 + (-*v).exp());
            *o = *v
        }),
        Activation::Maxout { .. } => {
            // Unit u's pieces are rows u·pieces .. u·pieces + pieces of z.
            for (ar, group) in a.chunks_exact_mut(n).zip(z.chunks_exact(shape.pieces * n)) {
                ar.fill(f32::NEG_INFINITY);
                for piece in group.chunks_exact(n) {
                    for i in 0..n {
                        ar[i] = ar[i].max(piece[i]);
                    }
                }
            }
        }
    }
}

/// dZ from dA (after dropout) and Z, `n` examples per row.
#[inline(always)]
pub(super) fn activation_grad(shape: &Shape, da: &[f32], z: &[f32], dz: &mut [f32], n: usize) {
    match shape.activation {
        Activation::Relu => {
            let (da, z) = (&da[..dz.len()], &z[..dz.len()]);
            for i in 0..dz.len() {
                dz[i] = if z[i] > 0.0 { da[i] } else { 0.0 };
            }
        }
        Activation::LeakyRelu { .. } => {
            let (da, z, al) = (&da[..dz.len()], &z[..dz.len()], shape.alpha);
            for i in 0..dz.len() {
                dz[i] = if z[i] > 0.0 { da[i] } else { da[i] * al };
            }
        }
        // `z` holds the outputs t = tanh(z) and s = σ(z) here (see `activate`).
        Activation::Tanh => dz
            .iter_mut()
            .zip(da)
            .zip(z)
            .for_each(|((o, g), t)| *o = g * (1.0 - t * t)),
        Activation::Sigmoid => dz
            .iter_mut()
            .zip(da)
            .zip(z)
            .for_each(|((o, g), s)| *o = g * s * (1.0 - s)),
        Activation::Maxout { .. } => {
            // The gradient flows to the winning piece (the first, on ties).
            let pieces = shape.pieces;
            for ((dar, group), dgroup) in da
                .chunks_exact(n)
                .zip(z.chunks_exact(pieces * n))
                .zip(dz.chunks_exact_mut(pieces * n))
            {
                dgroup.fill(0.0);
                for i in 0..n {
                    let (mut best, mut arg) = (f32::NEG_INFINITY, 0);
                    for p in 0..pieces {
                        if group[p * n + i] > best {
                            best = group[p * n + i];
                            arg = p;
                        }
                    }
                    dgroup[arg * n + i] = dar[i];
                }
            }
        }
    }
}
