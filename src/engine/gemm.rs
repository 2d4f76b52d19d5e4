//! The three matrix products of a layer, through the `gemm` crate (the
//! kernels candle's own matmul uses), in a fixed order.

use super::layout::Layer;

/// `dst (m×n, row-major) = A (m×k) · B (k×n)`, where A and B are views
/// `(slice, row stride, column stride)`, so either may be a transpose.
///
/// With `threads` > 1, gemm splits the product over that many rayon tasks
/// of the current pool. It splits rows and columns of `dst`, never the sum
/// over k, so every element is computed the same way whatever the count:
/// results are bit-identical (tested), and the count may follow how many
/// cores are idle.
pub(super) fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    a: (&[f32], isize, isize),
    b: (&[f32], isize, isize),
    threads: usize,
) {
    debug_assert!(dst.len() >= m * n);
    // SAFETY: the strides describe matrices that lie inside the slices
    // (checked by the callers' shapes); gemm reads lhs/rhs and writes dst.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.0.as_ptr(),
            a.2,
            a.1,
            b.0.as_ptr(),
            b.2,
            b.1,
            0.0,
            1.0,
            false,
            false,
            false,
            if threads > 1 {
                gemm::Parallelism::Rayon(threads)
            } else {
                gemm::Parallelism::None
            },
        );
    }
}

// The three products of a layer `(w_off, fan_in, cols, b_off)` on `n`
// feature-major examples. W is stored fan_in × cols, row-major.

/// Zᵀ (cols × n) = Wᵀ · Aᵀ.
#[inline(always)]
pub(super) fn product_forward(
    p: &[f32],
    layer: Layer,
    input: &[f32],
    n: usize,
    z: &mut [f32],
    threads: usize,
) {
    let Layer {
        w_off,
        fan_in,
        cols,
        ..
    } = layer;
    let w = (&p[w_off..], 1, cols as isize);
    matmul(cols, n, fan_in, z, w, (input, n as isize, 1), threads);
}

/// dW (fan_in × cols) = A · dZ, from the stored Aᵀ and dZᵀ.
#[inline(always)]
pub(super) fn product_weight_grad(
    layer: Layer,
    input: &[f32],
    dz: &[f32],
    n: usize,
    gw: &mut [f32],
    threads: usize,
) {
    let Layer { fan_in, cols, .. } = layer;
    let n = n as isize;
    matmul(
        fan_in,
        cols,
        n as usize,
        gw,
        (input, n, 1),
        (dz, 1, n),
        threads,
    );
}

/// dAᵀ (fan_in × n) = W · dZᵀ.
#[inline(always)]
pub(super) fn product_input_grad(
    p: &[f32],
    layer: Layer,
    dz: &[f32],
    n: usize,
    da: &mut [f32],
    threads: usize,
) {
    let Layer {
        w_off,
        fan_in,
        cols,
        ..
    } = layer;
    let w = (&p[w_off..], cols as isize, 1);
    matmul(fan_in, n, cols, da, w, (dz, n as isize, 1), threads);
}
