//! The training step as one fused candle in-place op.
//!
//! On networks this small, candle's per-op overhead (an allocation, a lock
//! and a dispatch per tensor op, a few dozen ops per step through the
//! autograd graph) costs far more than the arithmetic. So a whole SGD or
//! Adam step — gather the minibatch, forward, softmax cross-entropy or MSE,
//! explicit backward, L2 on weights, optimiser update — runs inside a single
//! [`InplaceOp1`] over one flat state tensor `[params | first moment |
//! second moment]`, with the matrix products done by the `gemm` crate
//! (the kernels candle's own matmul uses) in a fixed order: on the calling
//! thread, or split over idle threads of the trial pool when the scheduler
//! lends them, which changes no bit (see `matmul`). Buffers are allocated
//! once per trial.
//!
//! Minibatch buffers are feature-major (units × batch), the layout in which
//! gemm runs a layer's three products fastest here; the elementwise passes
//! are plain loops, and the whole step is compiled for AVX-512, AVX2 and
//! baseline x86-64 with the same operations in the same order, so the copy
//! the CPU picks does not change a bit (gemm's own AVX2 and AVX-512 kernels
//! do differ in the last bits; docs/semantics.md).
//!
//! This is the only training path: `train.rs` drives it epoch by epoch,
//! and the mathematics is stated in docs/semantics.md. The gradients are
//! tested against candle's autograd on the same network (the `Mlp` of
//! `model.rs`). Evaluation ([`Fused::evaluate`]) passes whole splits
//! forward through the same kernels in fixed chunks, tested against candle
//! ops on the `Mlp`, whose tensors [`Fused::write_back`] refreshes from the
//! trained state for those tests.

use std::cell::{Cell, RefCell};

use candle_core::InplaceOp1;
use candle_core::{CpuStorage, Device, Layout, Result, Tensor, bail};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::data::{Split, Targets};
use crate::model::{BN_EPS, BN_MOMENTUM, Mlp};
use crate::study::{Activation, Optimizer, TrainSpec};

/// One layer in the flat parameter vector: (offset of W, fan_in, columns,
/// offset of b). With batch norm, a hidden layer's b is β, followed by γ
/// (`cols` each).
pub type Layer = (usize, usize, usize, usize);

/// Shapes and offsets of the flat parameter vector.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Layer sizes from input to output.
    pub sizes: Vec<usize>,
    /// Pieces per hidden unit (1 unless maxout).
    pub pieces: usize,
    /// Hidden activation.
    pub activation: Activation,
    /// Leaky ReLU slope.
    pub alpha: f32,
    /// Dropout drop probability.
    pub dropout: f64,
    /// Per layer: (offset of W, fan_in, columns, offset of b).
    pub layers: Vec<Layer>,
    /// Total parameters.
    pub len: usize,
    /// Batch norm on every hidden layer.
    pub batch_norm: bool,
    /// Running means of all hidden columns (the running variances follow,
    /// as many again): 0 without batch norm.
    pub stats_len: usize,
}

impl Shape {
    fn new(model: &Mlp) -> Shape {
        let (sizes, activation, alpha, pieces, dropout) = model.architecture();
        let batch_norm = model.batch_norm();
        let last = sizes.len() - 1;
        let mut layers = Vec::new();
        let (mut off, mut stats_len) = (0, 0);
        for l in 1..sizes.len() {
            let cols = sizes[l] * if l < last { pieces } else { 1 };
            let (w, b) = (off, off + sizes[l - 1] * cols);
            layers.push((w, sizes[l - 1], cols, b));
            // β, then γ with batch norm.
            let normed = batch_norm && l < last;
            off = b + if normed { 2 * cols } else { cols };
            stats_len += if normed { cols } else { 0 };
        }
        Shape {
            sizes,
            pieces,
            activation,
            alpha: alpha as f32,
            dropout,
            layers,
            len: off,
            batch_norm,
            stats_len,
        }
    }

    /// Whether layer `l` is batch-normalised (a hidden layer, with batch norm on).
    fn normed(&self, l: usize) -> bool {
        self.batch_norm && l + 1 < self.layers.len()
    }

    /// Where hidden layer `l`'s running means start in the statistics
    /// buffer `[means | variances]`.
    fn stats_at(&self, l: usize) -> usize {
        self.layers[..l].iter().map(|&(_, _, cols, _)| cols).sum()
    }

    /// The parameters' share of the flat parameter vector that takes no L2
    /// (biases; with batch norm, β and γ): `b_off .. end`.
    fn unpenalised_end(&self, l: usize) -> usize {
        let (_, _, cols, b_off) = self.layers[l];
        b_off + if self.normed(l) { 2 * cols } else { cols }
    }
}

/// Per-trial scratch space, sized for the largest batch.
///
/// Every batch-sized buffer is stored *feature-major*: one row per feature
/// or unit, holding that feature for every example of the minibatch (the
/// transpose of the usual `batch × features`). With W kept `fan_in × cols`,
/// the three products of a layer then run fastest through gemm on this
/// machine (see docs/performance.md), and every elementwise pass walks
/// contiguous rows.
#[derive(Default)]
struct Workspace {
    /// Gathered minibatch inputs, `features × batch`.
    x: Vec<f32>,
    /// Minibatch targets: class indices, or values.
    y_class: Vec<u32>,
    y_value: Vec<f32>,
    /// Pre-activations per layer, `cols × batch` (for tanh and sigmoid
    /// hidden layers, their outputs: see [`activate`]).
    z: Vec<Vec<f32>>,
    /// Hidden outputs after activation and dropout, `units × batch`.
    a: Vec<Vec<f32>>,
    /// Dropout multipliers per hidden layer (0 or 1/(1-p)), `units × batch`.
    mask: Vec<Vec<f32>>,
    /// Scratch for the random draws behind a mask (see [`draw_mask`]).
    draws: Vec<u64>,
    /// Gradient w.r.t. pre-activations, per layer, `cols × batch`.
    dz: Vec<Vec<f32>>,
    /// Gradient w.r.t. hidden outputs, `units × batch`.
    da: Vec<f32>,
    /// Gradient of the whole parameter vector.
    grad: Vec<f32>,
    /// Batch norm, per hidden layer: x̂ (`cols × batch`), and per column
    /// 1/√(σ² + ε), the batch mean and the biased batch variance.
    xhat: Vec<Vec<f32>>,
    inv_std: Vec<Vec<f32>>,
    batch_mean: Vec<Vec<f32>>,
    batch_var: Vec<Vec<f32>>,
    /// Threads the matrix products may use (1: this thread only).
    threads: usize,
}

/// `dst (m×n, row-major) = A (m×k) · B (k×n)`, where A and B are views
/// `(slice, row stride, column stride)`, so either may be a transpose.
///
/// With `threads` > 1, gemm splits the product over that many rayon tasks
/// of the current pool. It splits rows and columns of `dst`, never the sum
/// over k, so every element is computed the same way whatever the count:
/// results are bit-identical (tested), and the count may follow how many
/// cores are idle.
fn matmul(
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
fn product_forward(
    p: &[f32],
    layer: Layer,
    input: &[f32],
    n: usize,
    z: &mut [f32],
    threads: usize,
) {
    let (w_off, fan_in, cols, _) = layer;
    let w = (&p[w_off..], 1, cols as isize);
    matmul(cols, n, fan_in, z, w, (input, n as isize, 1), threads);
}

/// dW (fan_in × cols) = A · dZ, from the stored Aᵀ and dZᵀ.
#[inline(always)]
fn product_weight_grad(
    layer: Layer,
    input: &[f32],
    dz: &[f32],
    n: usize,
    gw: &mut [f32],
    threads: usize,
) {
    let (_, fan_in, cols, _) = layer;
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
fn product_input_grad(
    p: &[f32],
    layer: Layer,
    dz: &[f32],
    n: usize,
    da: &mut [f32],
    threads: usize,
) {
    let (w_off, fan_in, cols, _) = layer;
    let w = (&p[w_off..], cols as isize, 1);
    matmul(fan_in, n, cols, da, w, (dz, n as isize, 1), threads);
}

// Elementwise kernels. Each is a plain index loop over slices of equal
// length, so LLVM vectorises it (and, inside the AVX-512/AVX2 copies of the
// step, with the wide registers) without changing any result: every element
// sees the same operations in the same order as a scalar loop would.

/// `x[i] *= y[i]`.
#[inline(always)]
fn mul(x: &mut [f32], y: &[f32]) {
    let y = &y[..x.len()];
    for i in 0..x.len() {
        x[i] *= y[i];
    }
}

/// `x[i] += c`.
#[inline(always)]
fn add_scalar(x: &mut [f32], c: f32) {
    for v in x.iter_mut() {
        *v += c;
    }
}

/// `out[r] = Σ_i m[r][i]` for the rows of `m` (`out.len()` rows). Each row
/// is summed in sixteen lanes (lane j takes i ≡ j mod 16, in order), which
/// vectorises; the lanes are then added left to right, then the tail.
#[inline(always)]
fn row_sums(m: &[f32], out: &mut [f32]) {
    let n = m.len() / out.len().max(1);
    for (o, row) in out.iter_mut().zip(m.chunks_exact(n.max(1))) {
        let mut lanes = [0.0f32; 16];
        let mut blocks = row.chunks_exact(16);
        for block in &mut blocks {
            for j in 0..16 {
                lanes[j] += block[j];
            }
        }
        let sum = lanes.iter().fold(0.0f32, |s, v| s + v);
        *o = blocks.remainder().iter().fold(sum, |s, v| s + v);
    }
}

/// `Σ_i a[i]·b[i]` in sixteen lanes, as [`row_sums`] sums a row (the
/// same order in every compiled copy).
#[inline(always)]
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let b = &b[..a.len()];
    let mut lanes = [0.0f32; 16];
    let (mut ca, mut cb) = (a.chunks_exact(16), b.chunks_exact(16));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..16 {
            lanes[j] += x[j] * y[j];
        }
    }
    let sum = lanes.iter().fold(0.0f32, |s, v| s + v);
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .fold(sum, |s, (x, y)| s + x * y)
}

/// `Σ_i a[i]` in sixteen lanes (as [`row_sums`]).
#[inline(always)]
fn lane_sum(a: &[f32]) -> f32 {
    let mut out = [0.0f32];
    row_sums(a, &mut out);
    out[0]
}

/// Batch norm in training, in place on the pre-activations `z`
/// (`cols × n`): per row, the batch mean μ and biased variance σ², x̂ =
/// (z − μ)/√(σ² + ε), then z ← γ·x̂ + β. Keeps x̂, 1/√(σ² + ε), μ and σ²
/// for the backward pass and the running averages.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_norm_train(
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
fn batch_norm_eval(
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
fn batch_norm_backward(
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
fn update_running(shape: &Shape, stats: &mut [f32], ws: &Workspace, n: usize) {
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

/// Hidden outputs from pre-activations, `n` examples per row. For tanh and
/// sigmoid, `z` is then overwritten with the outputs too: their derivatives
/// need only the output, and the backward pass need not call tanh/exp again
/// (the same values, so the same bits, at half the calls).
#[inline(always)]
fn activate(shape: &Shape, z: &mut [f32], a: &mut [f32], n: usize) {
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
fn activation_grad(shape: &Shape, da: &[f32], z: &[f32], dz: &mut [f32], n: usize) {
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

/// Copy the minibatch `rows` of `x_all` (examples × features) into `ws.x`,
/// feature-major.
#[inline(always)]
fn gather(shape: &Shape, x_all: &[f32], rows: &[u32], ws: &mut Workspace) {
    let (n, d) = (rows.len(), shape.sizes[0]);
    ws.x.resize(d * n, 0.0);
    for (i, &r) in rows.iter().enumerate() {
        let src = &x_all[r as usize * d..(r as usize + 1) * d];
        for (j, v) in src.iter().enumerate() {
            ws.x[j * n + i] = *v;
        }
    }
}

/// Fill `mask` (`units × n`, feature-major) with dropout multipliers, drawn
/// example by example and unit by unit (the order of `Mlp::forward_all`'s
/// training mode, which the tests compare with), exactly
/// as `rng.random_bool(keep)` per element would: a `u64` per element, kept
/// when below `keep · 2⁶⁴` (rand's `Bernoulli`). The draws are taken in
/// bulk, sixteen examples at a time, which is several times faster than one
/// call per element; `draw_mask_is_random_bool_per_element` checks both
/// the masks and the generator's state afterwards.
#[inline(always)]
fn draw_mask(
    rng: &mut ChaCha8Rng,
    keep: f64,
    scale: f32,
    units: usize,
    n: usize,
    mask: &mut Vec<f32>,
    draws: &mut Vec<u64>,
) {
    const B: usize = 16;
    debug_assert!(keep > 0.0 && keep < 1.0);
    let threshold = (keep * 2f64.powi(64)) as u64;
    mask.resize(units * n, 0.0);
    draws.resize(B * units, 0);
    for i0 in (0..n).step_by(B) {
        let b = B.min(n - i0);
        let draws = &mut draws[..b * units];
        rng.fill(draws);
        for (u, out) in mask.chunks_exact_mut(n).enumerate() {
            for (j, o) in out[i0..i0 + b].iter_mut().enumerate() {
                *o = if draws[j * units + u] < threshold {
                    scale
                } else {
                    0.0
                };
            }
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
fn forward(
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
        let (_, _, cols, b_off) = layer;
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
fn forward_backward(
    shape: &Shape,
    params: &[f32],
    x_all: &[f32],
    y: &Targets,
    rows: &[u32],
    rng: &mut ChaCha8Rng,
    ws: &mut Workspace,
) -> f32 {
    let n = rows.len();
    let n_layers = shape.layers.len();
    gather(shape, x_all, rows, ws);
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
    ws.dz.resize_with(n_layers, Vec::new);
    ws.grad.resize(shape.len, 0.0);
    forward(shape, params, &[], n, Some(rng), ws);

    // Loss and its gradient w.r.t. the output pre-activations.
    let (_, _, k_out, _) = shape.layers[n_layers - 1];
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
                let mut sum = 0.0f32;
                for c in 0..k_out {
                    let e = (out[c * n + i] - max).exp();
                    dz[c * n + i] = e;
                    sum += e;
                }
                loss += f64::from(sum.ln() + max - out[t * n + i]);
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

    // Backward: dW = A · dZ (Aᵀ and dZᵀ are what is stored), db = row sums
    // of dZᵀ (with batch norm, dβ and dγ come from its backward pass
    // instead), dAᵀ = W · dZᵀ.
    for l in (0..n_layers).rev() {
        let (w_off, fan_in, cols, b_off) = shape.layers[l];
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
        let (_, _, prev_cols, _) = shape.layers[l - 1];
        let mut dzp = std::mem::take(&mut ws.dz[l - 1]);
        dzp.resize(prev_cols * n, 0.0);
        activation_grad(shape, &da, &ws.z[l - 1], &mut dzp, n);
        if shape.normed(l - 1) {
            let (_, _, cols, b_off) = shape.layers[l - 1];
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
    (loss / n as f64) as f32
}

/// What one step reads besides the state.
#[derive(Clone, Copy)]
struct StepInputs<'a> {
    shape: &'a Shape,
    spec: &'a TrainSpec,
    x: &'a [f32],
    y: &'a Targets,
    rows: &'a [u32],
    /// The step number, 1-based (Adam's bias correction).
    t: i32,
}

/// The flat `[params | m | s]` state inside the tensor's storage.
fn state_of<'s>(dst: &'s mut CpuStorage, layout: &Layout) -> Result<&'s mut [f32]> {
    let CpuStorage::F32(state) = dst else {
        bail!("the training state must be f32")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("the training state must be contiguous")
    };
    Ok(&mut state[start..end])
}

/// The fused step: the op `Fused::step` hands to candle.
struct StepOp<'a> {
    inputs: StepInputs<'a>,
    rng: RefCell<&'a mut ChaCha8Rng>,
    ws: RefCell<&'a mut Workspace>,
    loss: Cell<f32>,
}

impl InplaceOp1 for StepOp<'_> {
    fn name(&self) -> &'static str {
        "mlpsweep-train-step"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let state = state_of(dst, layout)?;
        let p = self.inputs.shape.len;
        let (params, rest) = state.split_at_mut(p);
        let (moments, stats) = rest.split_at_mut(p * self.inputs.spec.optimizer.buffers());
        let mut ws = self.ws.borrow_mut();
        let loss = whole_step(
            self.inputs,
            params,
            moments,
            stats,
            &mut self.rng.borrow_mut(),
            &mut ws,
        );
        self.loss.set(loss);
        Ok(())
    }
}

/// Forward, backward and update, in the copy compiled for the widest
/// vector unit this CPU has. The copies run the same operations in the same
/// order (no FMA contraction: Rust never fuses a multiply and an add on its
/// own), so every copy computes the same bits; the wide ones just do more
/// elements per instruction in the elementwise passes.
fn whole_step(
    op: StepInputs,
    params: &mut [f32],
    moments: &mut [f32],
    stats: &mut [f32],
    rng: &mut ChaCha8Rng,
    ws: &mut Workspace,
) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the features this copy was compiled for.
            return unsafe { step_avx512(op, params, moments, stats, rng, ws) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            return unsafe { step_avx2(op, params, moments, stats, rng, ws) };
        }
    }
    step_portable(op, params, moments, stats, rng, ws)
}

/// A copy of the step compiled with `#[target_feature(enable = $feature)]`.
macro_rules! step_compiled_for {
    ($name:ident, $feature:literal) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $name(
            op: StepInputs,
            params: &mut [f32],
            moments: &mut [f32],
            stats: &mut [f32],
            rng: &mut ChaCha8Rng,
            ws: &mut Workspace,
        ) -> f32 {
            step_portable(op, params, moments, stats, rng, ws)
        }
    };
}

step_compiled_for!(step_avx512, "avx512f");
step_compiled_for!(step_avx2, "avx2");

#[inline(always)]
fn step_portable(
    op: StepInputs,
    params: &mut [f32],
    moments: &mut [f32],
    stats: &mut [f32],
    rng: &mut ChaCha8Rng,
    ws: &mut Workspace,
) -> f32 {
    let loss = forward_backward(op.shape, params, op.x, op.y, op.rows, rng, ws);
    if op.shape.batch_norm {
        update_running(op.shape, stats, ws, op.rows.len());
    }
    update(op.shape, op.spec, op.t, params, moments, &ws.grad);
    loss
}

/// One optimiser update, touching each buffer once. L2 on weights only:
/// d/dW 0.5·λ·‖W‖² = λ·W is added to the weights' gradients.
#[inline(always)]
fn update(
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
    for (l, &(w_off, fan_in, cols, b_off)) in shape.layers.iter().enumerate() {
        // Biases (and batch norm's β and γ) take no L2.
        for (range, decay) in [
            (w_off..w_off + fan_in * cols, l2),
            (b_off..shape.unpenalised_end(l), 0.0),
        ] {
            let len = range.len();
            let w = &mut params[range.clone()];
            let g = &grad[range.clone()];
            let v = &mut m[range.clone()];
            // One loop per rule, free of branches, so each vectorises.
            match spec.optimizer {
                Optimizer::Sgd { momentum, nesterov } => {
                    let mu = momentum as f32;
                    if mu == 0.0 {
                        for i in 0..len {
                            w[i] -= lr * (g[i] + decay * w[i]);
                        }
                    } else if nesterov {
                        // PyTorch's convention: v ← μv + g; step g + μv.
                        for i in 0..len {
                            let gi = g[i] + decay * w[i];
                            v[i] = mu * v[i] + gi;
                            w[i] -= lr * (gi + mu * v[i]);
                        }
                    } else {
                        // PyTorch's convention: v ← μv + g; step v.
                        for i in 0..len {
                            v[i] = mu * v[i] + (g[i] + decay * w[i]);
                            w[i] -= lr * v[i];
                        }
                    }
                }
                Optimizer::Adam { beta1, beta2, eps } => {
                    let (b1, b2, eps) = (beta1 as f32, beta2 as f32, eps as f32);
                    let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                    let s2 = &mut s[range];
                    for i in 0..len {
                        let gi = g[i] + decay * w[i];
                        v[i] = b1 * v[i] + (1.0 - b1) * gi;
                        s2[i] = b2 * s2[i] + (1.0 - b2) * gi * gi;
                        w[i] -= lr * (v[i] / c1) / ((s2[i] / c2).sqrt() + eps);
                    }
                }
                Optimizer::Adagrad { eps } => {
                    // The cache c lives in the first-moment buffer.
                    let eps = eps as f32;
                    for i in 0..len {
                        let gi = g[i] + decay * w[i];
                        v[i] += gi * gi;
                        w[i] -= lr * gi / (v[i].sqrt() + eps);
                    }
                }
                Optimizer::Rmsprop { decay_rate, eps } => {
                    let (rho, eps) = (decay_rate as f32, eps as f32);
                    for i in 0..len {
                        let gi = g[i] + decay * w[i];
                        v[i] = rho * v[i] + (1.0 - rho) * gi * gi;
                        w[i] -= lr * gi / (v[i].sqrt() + eps);
                    }
                }
            }
        }
    }
    if spec.max_norm > 0.0 {
        max_norm(shape, spec.max_norm, params);
    }
}

/// `train.l1`: the gradient with λ₁·sign(W) added to the weights'
/// entries (sign(0) = 0, the subgradient PyTorch's `abs` uses); `None`
/// when L1 is off.
fn l1_grad(shape: &Shape, l1: f32, params: &[f32], grad: &[f32]) -> Option<Vec<f32>> {
    if l1 == 0.0 {
        return None;
    }
    let mut g = grad.to_vec();
    for &(w_off, fan_in, cols, _) in &shape.layers {
        for i in w_off..w_off + fan_in * cols {
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
fn max_norm(shape: &Shape, c: f64, params: &mut [f32]) {
    for &(w_off, fan_in, cols, _) in &shape.layers {
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
fn clipped_grad(
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
    for &(w_off, fan_in, cols, _) in &shape.layers {
        for i in w_off..w_off + fan_in * cols {
            full[i] += l2 * params[i];
        }
    }
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

/// Flush denormal floats to zero on this thread (x86: the FTZ and DAZ bits).
///
/// Deep ReLU nets drive many gradients into the subnormal range late in
/// training, where every multiply costs ~100 cycles: a 3 × 128 step went
/// from 88 µs to 3 ms. Each trial sets this on its own thread before it
/// computes anything, so results stay identical whatever `--jobs` is.
pub fn flush_denormals() {
    #[cfg(target_arch = "x86_64")]
    #[allow(deprecated)]
    // SAFETY: only sets two MXCSR mode bits of the calling thread.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}

/// Examples per chunk when a whole split (or the decision-region grid) is
/// passed forward: the chunks reuse the training buffers, and the fixed size
/// fixes the summation order, so results do not depend on the batch size.
const EVAL_CHUNK: usize = 256;

/// A forward pass over a whole split in evaluation mode (no dropout).
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Mean data loss (cross-entropy, or squared error for regression).
    pub loss: f64,
    /// Share of examples whose largest output is their class
    /// (classification only).
    pub accuracy: Option<f64>,
    /// Per hidden layer, per unit: the largest |output| over the split
    /// (0 means the unit is dead on this split).
    pub peaks: Vec<Vec<f32>>,
    /// Predicted class per example (classification only).
    pub predicted: Vec<u32>,
    /// Per hidden layer, sums for the activation statistics of
    /// `telemetry.rs`; empty unless the pass was asked for them.
    pub sums: Vec<LayerSums>,
}

/// Raw per-layer sums over a split's hidden outputs (evaluation mode), from
/// which `telemetry::activations` derives mean, std and the saturated share.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LayerSums {
    /// Σ a over every unit and example, in f64.
    pub sum: f64,
    /// Σ a² over every unit and example, in f64.
    pub sum_sq: f64,
    /// Number of values summed (units × examples).
    pub count: usize,
    /// Per unit, for tanh and sigmoid: the smallest distance of its output
    /// from the activation's centre (0 for tanh, ½ for sigmoid) over the
    /// split; empty for other activations.
    pub floor: Vec<f32>,
}

/// The op `Fused::evaluate` hands to candle: reads the parameters only.
struct EvalOp<'a> {
    shape: &'a Shape,
    /// Where the running statistics start in the state.
    stats_at: usize,
    x: &'a [f32],
    y: Option<&'a Targets>,
    stats: bool,
    ws: RefCell<&'a mut Workspace>,
    out: RefCell<Option<Evaluation>>,
}

impl InplaceOp1 for EvalOp<'_> {
    fn name(&self) -> &'static str {
        "mlpsweep-evaluate"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let state = state_of(dst, layout)?;
        let (params, running) = (&state[..self.shape.len], &state[self.stats_at..]);
        let ev = evaluate(
            self.shape,
            params,
            running,
            self.x,
            self.y,
            self.stats,
            &mut self.ws.borrow_mut(),
        );
        *self.out.borrow_mut() = Some(ev);
        Ok(())
    }
}

/// Forward every example of `x` (examples × features) in chunks of
/// [`EVAL_CHUNK`]; with targets `y`, also the loss and accuracy; with
/// `stats`, the activation sums of every hidden layer.
fn evaluate(
    shape: &Shape,
    params: &[f32],
    running: &[f32],
    x: &[f32],
    y: Option<&Targets>,
    stats: bool,
    ws: &mut Workspace,
) -> Evaluation {
    let d = shape.sizes[0];
    let total = x.len() / d;
    let n_layers = shape.layers.len();
    let (_, _, k_out, _) = shape.layers[n_layers - 1];
    let classify = k_out > 1 || matches!(y, Some(Targets::Classes(_)));
    let mut peaks: Vec<Vec<f32>> = shape.layers[..n_layers - 1]
        .iter()
        .map(|&(_, _, cols, _)| vec![0.0; cols / shape.pieces])
        .collect();
    let (mut loss, mut hits) = (0.0f64, 0usize);
    let mut predicted = Vec::with_capacity(if classify { total } else { 0 });
    // The centre saturation is measured from: tanh 0, sigmoid ½.
    let centre = match shape.activation {
        Activation::Tanh => Some(0.0f32),
        Activation::Sigmoid => Some(0.5f32),
        _ => None,
    };
    let mut sums: Vec<LayerSums> = if stats {
        peaks
            .iter()
            .map(|p| LayerSums {
                floor: if centre.is_some() {
                    vec![f32::INFINITY; p.len()]
                } else {
                    Vec::new()
                },
                ..LayerSums::default()
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut rows: Vec<u32> = Vec::with_capacity(EVAL_CHUNK);
    for start in (0..total).step_by(EVAL_CHUNK) {
        let n = EVAL_CHUNK.min(total - start);
        rows.clear();
        rows.extend(start as u32..(start + n) as u32);
        gather(shape, x, &rows, ws);
        forward(shape, params, running, n, None, ws);
        for (peak, a) in peaks.iter_mut().zip(&ws.a) {
            for (p, row) in peak.iter_mut().zip(a.chunks_exact(n)) {
                *p = row.iter().fold(*p, |m, v| m.max(v.abs()));
            }
        }
        for (s, a) in sums.iter_mut().zip(&ws.a) {
            s.count += a.len();
            // Eight independent f64 accumulators: one chain of dependent
            // adds was latency-bound (+45% on a 3 × 128 evaluation).
            let (mut acc, mut acc_sq) = ([0f64; 8], [0f64; 8]);
            let chunks = a.chunks_exact(8);
            for v in chunks.remainder() {
                let v = f64::from(*v);
                acc[0] += v;
                acc_sq[0] += v * v;
            }
            for c in chunks {
                for k in 0..8 {
                    let v = f64::from(c[k]);
                    acc[k] += v;
                    acc_sq[k] += v * v;
                }
            }
            s.sum += acc.iter().sum::<f64>();
            s.sum_sq += acc_sq.iter().sum::<f64>();
            if let Some(c) = centre {
                for (f, row) in s.floor.iter_mut().zip(a.chunks_exact(n)) {
                    *f = row.iter().fold(*f, |m, v| m.min((v - c).abs()));
                }
            }
        }
        let out = &ws.z[n_layers - 1];
        for i in 0..n {
            if classify {
                // Softmax cross-entropy as in training; the first largest
                // output is the prediction.
                let (mut max, mut arg) = (f32::NEG_INFINITY, 0);
                for c in 0..k_out {
                    if out[c * n + i] > max {
                        (max, arg) = (out[c * n + i], c);
                    }
                }
                predicted.push(arg as u32);
                if let Some(Targets::Classes(t)) = y {
                    let t = t[start + i] as usize;
                    let sum = (0..k_out).fold(0.0f32, |s, c| s + (out[c * n + i] - max).exp());
                    loss += f64::from(sum.ln() + max - out[t * n + i]);
                    hits += usize::from(arg == t);
                }
            } else if let Some(Targets::Values(t)) = y {
                let e = out[i] - t[start + i];
                loss += f64::from(e * e);
            }
        }
    }
    Evaluation {
        loss: loss / total.max(1) as f64,
        accuracy: matches!(y, Some(Targets::Classes(_))).then(|| hits as f64 / total.max(1) as f64),
        peaks,
        predicted,
        sums,
    }
}

/// The op `Fused::outputs` hands to candle: reads the parameters only and
/// copies the output layer of every example (ensembles, `predictions.rs`).
struct OutputsOp<'a> {
    shape: &'a Shape,
    /// Where the running statistics start in the state (batch norm).
    stats_at: usize,
    x: &'a [f32],
    ws: RefCell<&'a mut Workspace>,
    out: RefCell<Vec<f32>>,
}

impl InplaceOp1 for OutputsOp<'_> {
    fn name(&self) -> &'static str {
        "mlpsweep-outputs"
    }

    fn cpu_fwd(&self, dst: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let state = state_of(dst, layout)?;
        let (params, running) = (&state[..self.shape.len], &state[self.stats_at..]);
        let ws = &mut *self.ws.borrow_mut();
        let d = self.shape.sizes[0];
        let total = self.x.len() / d;
        let last = self.shape.layers.len() - 1;
        let k = self.shape.layers[last].2;
        let mut out = self.out.borrow_mut();
        out.reserve(total * k);
        let mut rows: Vec<u32> = Vec::with_capacity(EVAL_CHUNK);
        // The chunks of `evaluate`, so the outputs are the ones its loss uses.
        for start in (0..total).step_by(EVAL_CHUNK) {
            let n = EVAL_CHUNK.min(total - start);
            rows.clear();
            rows.extend(start as u32..(start + n) as u32);
            gather(self.shape, self.x, &rows, ws);
            forward(self.shape, params, running, n, None, ws);
            let z = &ws.z[last];
            for i in 0..n {
                out.extend((0..k).map(|c| z[c * n + i]));
            }
        }
        Ok(())
    }
}

/// A trial's training state: the flat `[params | m | s]` tensor, the data,
/// and the scratch space.
pub struct Fused {
    shape: Shape,
    spec: TrainSpec,
    state: Tensor,
    x: Vec<f32>,
    y: Targets,
    ws: Workspace,
    t: i32,
}

impl Fused {
    /// Pack `model`'s parameters (as initialised) with zeroed optimiser state.
    /// Sets [`flush_denormals`] on the calling thread.
    pub fn new(model: &Mlp, spec: &TrainSpec, data: &Split) -> Result<Fused> {
        flush_denormals();
        let shape = Shape::new(model);
        let mut flat = Vec::with_capacity(3 * shape.len);
        for layer in &model.layers {
            flat.extend(layer.w.as_tensor().flatten_all()?.to_vec1::<f32>()?);
            flat.extend(layer.b.as_tensor().to_vec1::<f32>()?);
            if let Some(norm) = &layer.norm {
                flat.extend(norm.gamma.as_tensor().to_vec1::<f32>()?);
            }
        }
        let moments = spec.optimizer.buffers();
        flat.resize(shape.len * (1 + moments), 0.0);
        // Batch norm's running statistics, after the optimiser's buffers:
        // state, not parameters (no gradient, update, L2 or clipping).
        for layer in &model.layers {
            if let Some(norm) = &layer.norm {
                flat.extend(norm.mean.as_tensor().to_vec1::<f32>()?);
            }
        }
        for layer in &model.layers {
            if let Some(norm) = &layer.norm {
                flat.extend(norm.var.as_tensor().to_vec1::<f32>()?);
            }
        }
        let len = flat.len();
        let state = Tensor::from_vec(flat, len, &Device::Cpu)?;
        Ok(Fused {
            shape,
            spec: spec.clone(),
            state,
            x: data.x.clone(),
            y: data.y.clone(),
            ws: Workspace::default(),
            t: 0,
        })
    }

    /// The whole training state, for a checkpoint: the flat `[params | m |
    /// s]` values and the step counter (Adam's bias correction reads it).
    /// The workspace is scratch that every step overwrites, so these two
    /// are all that carries from one step to the next.
    pub fn snapshot(&self) -> Result<(Vec<f32>, i32)> {
        Ok((self.state.to_vec1::<f32>()?, self.t))
    }

    /// Continue from a [`Fused::snapshot`] of the same network and
    /// optimiser: the steps that follow are bit-identical to those the
    /// snapshotted trainer would have taken.
    pub fn restore(&mut self, state: Vec<f32>, t: i32) -> Result<()> {
        let len = self.state.dims1()?;
        if state.len() != len {
            bail!(
                "checkpoint state has {} values, this network and optimiser need {len}",
                state.len()
            );
        }
        self.state = Tensor::from_vec(state, len, &Device::Cpu)?;
        self.t = t;
        Ok(())
    }

    /// The learning rate of the steps that follow (a schedule's rate for
    /// the coming epoch).
    pub fn set_lr(&mut self, lr: f64) {
        self.spec.lr = lr;
    }

    /// One optimiser step on the minibatch `rows`; returns its mean data loss.
    pub fn step(&mut self, rows: &[u32], rng: &mut ChaCha8Rng) -> Result<f32> {
        if self.shape.batch_norm && rows.len() < 2 {
            bail!(
                "batch norm needs at least 2 examples per minibatch (its unbiased variance \
                 divides by n - 1), but a minibatch has {}; change train.batch_size so that \
                 no minibatch of an epoch has a single example",
                rows.len()
            )
        }
        self.t += 1;
        let op = StepOp {
            inputs: StepInputs {
                shape: &self.shape,
                spec: &self.spec,
                x: &self.x,
                y: &self.y,
                rows,
                t: self.t,
            },
            rng: RefCell::new(rng),
            ws: RefCell::new(&mut self.ws),
            loss: Cell::new(0.0),
        };
        self.state.inplace_op1(&op)?;
        Ok(op.loss.get())
    }

    /// Loss, accuracy, per-unit peaks and predictions over `split`, in
    /// evaluation mode (no dropout), through the training step's kernels.
    pub fn evaluate(&mut self, split: &Split) -> Result<Evaluation> {
        self.pass(&split.x, Some(&split.y), false)
    }

    /// [`Fused::evaluate`], plus the activation sums of every hidden layer
    /// ([`Evaluation::sums`]; one more pass over each chunk's outputs).
    pub fn evaluate_with_stats(&mut self, split: &Split) -> Result<Evaluation> {
        self.pass(&split.x, Some(&split.y), true)
    }

    /// The predicted class of each example of `x` (examples × features).
    pub fn predict(&mut self, x: &[f32]) -> Result<Vec<u32>> {
        Ok(self.pass(x, None, false)?.predicted)
    }

    /// The output layer (logits, or the regression output) of each example
    /// of `x` (examples × features), in evaluation mode: examples × outputs,
    /// row-major. The same kernels and chunks as [`Fused::evaluate`].
    pub fn outputs(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        let op = OutputsOp {
            shape: &self.shape,
            stats_at: self.stats_at(),
            x,
            ws: RefCell::new(&mut self.ws),
            out: RefCell::new(Vec::new()),
        };
        self.state.inplace_op1(&op)?;
        Ok(op.out.into_inner())
    }

    /// Where the running statistics (batch norm) start in the state:
    /// after the parameters and the optimiser buffers.
    fn stats_at(&self) -> usize {
        self.shape.len * (1 + self.spec.optimizer.buffers())
    }

    fn pass(&mut self, x: &[f32], y: Option<&Targets>, stats: bool) -> Result<Evaluation> {
        let op = EvalOp {
            shape: &self.shape,
            stats_at: self.stats_at(),
            x,
            y,
            stats,
            ws: RefCell::new(&mut self.ws),
            out: RefCell::new(None),
        };
        self.state.inplace_op1(&op)?;
        let out = op.out.into_inner();
        out.ok_or_else(|| candle_core::Error::Msg("the evaluation did not run".into()))
    }

    /// For the benchmark's profile: the shortest of `reps` timings of one
    /// step's matrix products alone (forward, dW and dA per layer, as the
    /// step calls them) on a batch of `n`, on scratch data.
    pub fn time_products(&self, n: usize, reps: usize) -> Result<std::time::Duration> {
        let params = self.state.narrow(0, 0, self.shape.len)?.to_vec1::<f32>()?;
        let layers = &self.shape.layers;
        let buf = |len: usize| -> Vec<f32> { (0..len).map(|i| (i % 7) as f32 - 3.0).collect() };
        let inputs: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.1 * n)).collect();
        let mut outs: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.2 * n)).collect();
        let mut grad = vec![0.0f32; self.shape.len];
        let mut da: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.1 * n)).collect();
        let mut best = std::time::Duration::MAX;
        for _ in 0..reps {
            let t0 = std::time::Instant::now();
            for (l, &layer) in layers.iter().enumerate() {
                product_forward(&params, layer, &inputs[l], n, &mut outs[l], 1);
            }
            for (l, &layer) in layers.iter().enumerate().rev() {
                let (w_off, _, _, b_off) = layer;
                product_weight_grad(layer, &inputs[l], &outs[l], n, &mut grad[w_off..b_off], 1);
                if l > 0 {
                    product_input_grad(&params, layer, &outs[l], n, &mut da[l], 1);
                }
            }
            best = best.min(t0.elapsed());
        }
        Ok(best)
    }

    /// The gradient the step applies on the minibatch `rows`, without
    /// updating anything, for `gradcheck`: the data-loss gradient from the
    /// step's own forward and backward, plus λ·W and λ₁·sign(W) on the
    /// weights as the update adds them. Clipping, a rescaling of this
    /// vector, is not applied. With `dropout` given (and dropout in the
    /// network), the masks are drawn from it as a step draws them and
    /// returned, one per hidden layer (`units × rows`, unit-major: entry
    /// u·rows + e is 0 or 1/(1 − p)), so a check can hold them fixed;
    /// without, dropout is off and no masks are returned.
    pub fn gradient_with_masks(
        &mut self,
        rows: &[u32],
        dropout: Option<&mut ChaCha8Rng>,
    ) -> Result<(Vec<f32>, Vec<Vec<f32>>)> {
        let params = self.params()?;
        let on = dropout.is_some() && self.shape.dropout > 0.0;
        let shape = Shape {
            dropout: if on { self.shape.dropout } else { 0.0 },
            ..self.shape.clone()
        };
        // Without dropout the generator is never drawn from.
        let mut unused = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let rng = match dropout {
            Some(rng) if on => rng,
            _ => &mut unused,
        };
        forward_backward(&shape, &params, &self.x, &self.y, rows, rng, &mut self.ws);
        let masks = if on {
            self.ws.mask[..shape.layers.len() - 1].to_vec()
        } else {
            Vec::new()
        };
        let l2 = self.spec.l2 as f32;
        let grad = l1_grad(&shape, self.spec.l1 as f32, &params, &self.ws.grad)
            .unwrap_or_else(|| self.ws.grad.clone());
        let mut grad = grad;
        for &(w_off, fan_in, cols, _) in &shape.layers {
            for i in w_off..w_off + fan_in * cols {
                grad[i] += l2 * params[i];
            }
        }
        Ok((grad, masks))
    }

    /// The layout of the flat parameter vector.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// A copy of the current parameters (the flat vector [`Fused::shape`]
    /// describes).
    pub fn params(&self) -> Result<Vec<f32>> {
        self.state.narrow(0, 0, self.shape.len)?.to_vec1::<f32>()
    }

    /// Σ‖W‖² over the weight matrices (not the biases), summed in f64.
    pub fn weight_sq(&self) -> Result<f64> {
        let params = self.state.narrow(0, 0, self.shape.len)?.to_vec1::<f32>()?;
        Ok(self
            .shape
            .layers
            .iter()
            .flat_map(|&(w_off, fan_in, cols, _)| &params[w_off..w_off + fan_in * cols])
            .map(|w| f64::from(*w) * f64::from(*w))
            .sum())
    }

    /// Let the matrix products of the following steps and evaluations use
    /// up to `threads` threads of the current rayon pool (1: this thread
    /// only, the default). Results do not depend on it.
    pub fn set_threads(&mut self, threads: usize) {
        self.ws.threads = threads.max(1);
    }

    /// Copy the current parameters into `model`'s tensors, so tests can
    /// compare with candle ops on the `Mlp` (training never needs it).
    pub fn write_back(&self, model: &Mlp) -> Result<()> {
        for (layer, &(w_off, fan_in, cols, b_off)) in model.layers.iter().zip(&self.shape.layers) {
            layer.w.set(
                &self
                    .state
                    .narrow(0, w_off, fan_in * cols)?
                    .reshape((fan_in, cols))?,
            )?;
            layer.b.set(&self.state.narrow(0, b_off, cols)?)?;
        }
        let stats_at = self.shape.len * (1 + self.spec.optimizer.buffers());
        for (l, layer) in model.layers.iter().enumerate() {
            if let Some(norm) = &layer.norm {
                let (_, _, cols, b_off) = self.shape.layers[l];
                let at = stats_at + self.shape.stats_at(l);
                norm.gamma.set(&self.state.narrow(0, b_off + cols, cols)?)?;
                norm.mean.set(&self.state.narrow(0, at, cols)?)?;
                let var_at = at + self.shape.stats_len;
                norm.var.set(&self.state.narrow(0, var_at, cols)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mode;
    use crate::study::from_str;
    use rand::SeedableRng;
    use std::path::Path;

    /// The first trial of study `src`: its data, network initialised from
    /// `seed`, packed state, and the generator after initialisation.
    fn first_trial(src: &str, seed: u64) -> (crate::data::Dataset, Mlp, Fused, ChaCha8Rng) {
        let e = from_str(src, Path::new("s.toml"), &[]).unwrap();
        let cfg = e.config_at(&e.coords(0)).unwrap();
        let data = crate::data::load(&cfg.data).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
        let fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
        (data, model, fused, rng)
    }

    /// The training rows `rows` as a `rows × features` tensor, for candle.
    fn minibatch(data: &crate::data::Dataset, rows: &[u32]) -> Tensor {
        let d = data.n_features;
        let xb: Vec<f32> = rows
            .iter()
            .flat_map(|&r| data.train.x[r as usize * d..(r as usize + 1) * d].to_vec())
            .collect();
        Tensor::from_vec(xb, (rows.len(), d), &Device::Cpu).unwrap()
    }

    /// The parameter part of the state.
    fn params_of(fused: &Fused) -> Vec<f32> {
        fused
            .state
            .narrow(0, 0, fused.shape.len)
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    }

    /// Per layer: (dW flattened row-major, db).
    type LayerGrads = Vec<(Vec<f32>, Vec<f32>)>;

    /// Candle's loss on the minibatch `rows` through the `Mlp` (dropout as
    /// `mode` says) and its gradient by candle's autograd: the loss and, per
    /// layer, (dW flattened row-major, db).
    fn autograd(
        model: &Mlp,
        data: &crate::data::Dataset,
        rows: &[u32],
        mode: Mode,
    ) -> (f32, LayerGrads) {
        let loss = candle_loss(model, data, rows, mode);
        let grads = loss.backward().unwrap();
        let per_layer = model
            .layers
            .iter()
            .map(|layer| {
                let gw = grads.get(layer.w.as_tensor()).unwrap();
                let gb = grads.get(layer.b.as_tensor()).unwrap();
                (
                    gw.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                    gb.to_vec1::<f32>().unwrap(),
                )
            })
            .collect();
        (loss.to_scalar::<f32>().unwrap(), per_layer)
    }

    /// Candle's autograd gradient in the fused layout (per layer W, b or β,
    /// then γ with batch norm), and the loss.
    fn autograd_flat(
        model: &Mlp,
        data: &crate::data::Dataset,
        rows: &[u32],
        mode: Mode,
    ) -> (f32, Vec<f32>) {
        let loss = candle_loss(model, data, rows, mode);
        let grads = loss.backward().unwrap();
        let flat = |t: &Tensor| {
            let g = grads.get(t).expect("a gradient for every parameter");
            g.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        };
        let mut out = Vec::new();
        for layer in &model.layers {
            out.extend(flat(layer.w.as_tensor()));
            out.extend(flat(layer.b.as_tensor()));
            if let Some(norm) = &layer.norm {
                out.extend(flat(norm.gamma.as_tensor()));
            }
        }
        (loss.to_scalar::<f32>().unwrap(), out)
    }

    /// Candle's mean data loss on the minibatch `rows` through the `Mlp`.
    fn candle_loss(model: &Mlp, data: &crate::data::Dataset, rows: &[u32], mode: Mode) -> Tensor {
        let out = model.forward(&minibatch(data, rows), mode).unwrap();
        match &data.train.y {
            Targets::Classes(c) => {
                let yb = Tensor::from_vec(
                    rows.iter().map(|&r| c[r as usize]).collect::<Vec<_>>(),
                    rows.len(),
                    &Device::Cpu,
                )
                .unwrap();
                candle_nn::loss::cross_entropy(&out, &yb).unwrap()
            }
            Targets::Values(v) => {
                let yb = Tensor::from_vec(
                    rows.iter().map(|&r| v[r as usize]).collect::<Vec<_>>(),
                    (rows.len(), 1),
                    &Device::Cpu,
                )
                .unwrap();
                candle_nn::loss::mse(&out, &yb).unwrap()
            }
        }
    }

    /// Assert that the flat gradient `grad` equals `want` (per layer, as
    /// [`autograd`] returns it) within `tol`·max(1, |want|).
    fn assert_grads_match(
        label: &str,
        shape: &Shape,
        grad: &[f32],
        want: &[(Vec<f32>, Vec<f32>)],
        tol: f32,
    ) {
        assert_eq!(shape.layers.len(), want.len());
        for (l, (&(w_off, fan_in, cols, b_off), (gw, gb))) in
            shape.layers.iter().zip(want).enumerate()
        {
            assert_eq!((gw.len(), gb.len()), (fan_in * cols, cols));
            for (i, (a, b)) in grad[w_off..w_off + fan_in * cols]
                .iter()
                .zip(gw)
                .enumerate()
            {
                assert!(
                    (a - b).abs() <= tol * b.abs().max(1.0),
                    "{label}: layer {l} dW[{i}] {a} vs {b}"
                );
            }
            for (i, (a, b)) in grad[b_off..b_off + cols].iter().zip(gb).enumerate() {
                assert!(
                    (a - b).abs() <= tol * b.abs().max(1.0),
                    "{label}: layer {l} db[{i}] {a} vs {b}"
                );
            }
        }
    }

    /// The seed of the generator a [`fused_grad`] step draws its masks from;
    /// the reference draws from another seeded the same.
    const FUSED_GRAD_SEED: u64 = 21;

    /// One fused forward and backward pass, for the autograd tests.
    struct FusedGrad {
        data: crate::data::Dataset,
        model: Mlp,
        fused: Fused,
        rows: Vec<u32>,
        loss: f32,
        ws: Workspace,
        /// The step's generator, after its draws.
        ours: ChaCha8Rng,
    }

    /// The first trial of `src` (after `check` on its fresh state) with
    /// nonzero biases written back to its `Mlp`, one fused forward and
    /// backward over every fifth training row, masks drawn from
    /// [`FUSED_GRAD_SEED`]; asserts no hidden pre-activation sits exactly on
    /// a kink, where candle's subgradients differ from ours.
    fn fused_grad(src: &str, label: &str, check: impl Fn(&Fused)) -> FusedGrad {
        let (data, model, mut fused, mut rng) = first_trial(src, 3);
        check(&fused);
        set_nonzero_biases(&mut fused, &weight_mask(&model), &mut rng);
        fused.write_back(&model).unwrap();
        let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
        let params = params_of(&fused);
        let mut ours = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
        let mut ws = Workspace::default();
        let loss = forward_backward(
            &fused.shape,
            &params,
            &data.train.x,
            &data.train.y,
            &rows,
            &mut ours,
            &mut ws,
        );
        for z in &ws.z[..2] {
            assert!(!z.contains(&0.0), "{label}: a pre-activation is exactly 0");
        }
        FusedGrad {
            data,
            model,
            fused,
            rows,
            loss,
            ws,
            ours,
        }
    }

    /// The fused loss and gradient equal candle's autograd ones on the same
    /// network and minibatch, for every activation and both losses, with
    /// dropout off and on. With dropout, the reference is `Mlp::forward` in
    /// training mode, which draws its masks from an identically seeded
    /// ChaCha8 generator in the same order (see
    /// `dropout_forward_matches_candle_train_mode`). Catches any slip in the
    /// backward pass, e.g. ignoring the masks (deleting
    /// `mul(&mut da, &ws.mask[l - 1])` in `forward_backward`).
    ///
    /// The biases are made nonzero first: with zero biases the spiral's
    /// points at the origin have every pre-activation exactly 0, on the
    /// kink, where candle's subgradients (relu'(0) = 1, ties shared) differ
    /// from ours (`kinks_follow_pytorchs_subgradients`).
    #[test]
    fn gradients_match_candle_autograd() {
        use rand::RngCore;
        for dropout in [0.0, 0.4] {
            for kind in ["spiral", "sine"] {
                for act in ["relu", "tanh", "sigmoid", "leaky_relu", "maxout"] {
                    let label = format!("{act}/{kind}, dropout {dropout}");
                    let src = format!(
                        "name = \"g\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"{act}\"\ndropout = {dropout}\n"
                    );
                    let FusedGrad {
                        data,
                        model,
                        fused,
                        rows,
                        loss,
                        ws,
                        mut ours,
                    } = fused_grad(&src, &label, |_| {});
                    let mut theirs = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
                    let mode = if dropout > 0.0 {
                        // Both hidden layers' masks drop some units and keep others.
                        for mask in &ws.mask[..2] {
                            assert!(
                                mask.contains(&0.0) && mask.iter().any(|v| *v > 1.0),
                                "{label}: a mask drops nothing or everything"
                            );
                        }
                        Mode::Train(&mut theirs)
                    } else {
                        Mode::Eval
                    };
                    let (want_loss, want) = autograd(&model, &data, &rows, mode);
                    assert_eq!(
                        ours.next_u64(),
                        theirs.next_u64(),
                        "{label}: the same number of draws"
                    );
                    assert!(
                        (loss - want_loss).abs() < 1e-5 * want_loss.abs().max(1.0),
                        "{label}: loss {loss} vs {want_loss}"
                    );
                    assert_grads_match(&label, &fused.shape, &ws.grad, &want, 1e-5);
                }
            }
        }
    }

    /// `train.clip`: one plain SGD step moves the parameters by lr times
    /// candle's autograd gradient of the full objective (data loss +
    /// 0.5·λ·Σ‖W‖²), rescaled to norm `clip` when it is longer and left
    /// alone when it is shorter. Catches a clip that leaves out the L2
    /// term, scales by the wrong factor, or always (or never) applies.
    #[test]
    fn clipping_rescales_the_autograd_gradient_of_the_full_objective() {
        let (lr, l2) = (0.5, 0.1);
        for (clip, active) in [(0.05, true), (1e3, false)] {
            let src = format!(
                "name = \"c\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"tanh\"\n[train]\nlr = {lr}\nmomentum = 0.0\nl2 = {l2}\nclip = {clip}\n"
            );
            let (data, model, mut fused, mut rng) = first_trial(&src, 3);
            let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
            let before = params_of(&fused);
            let (_, layers) = autograd(&model, &data, &rows, Mode::Eval);
            let raw = layers.iter().flat_map(|(w, b)| w.iter().chain(b.iter()));
            let g: Vec<f64> = raw
                .zip(&before)
                .zip(weight_mask(&model))
                .map(|((&g, &p), is_w)| f64::from(g) + if is_w { l2 * f64::from(p) } else { 0.0 })
                .collect();
            assert_eq!(g.len(), before.len());
            let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert_eq!(norm > clip, active, "clip {clip}: gradient norm {norm}");
            let scale = if active { clip / norm } else { 1.0 };
            fused.step(&rows, &mut rng).unwrap();
            let after = params_of(&fused);
            for (i, gi) in g.iter().enumerate() {
                let want = f64::from(before[i]) - lr * scale * gi;
                assert!(
                    (f64::from(after[i]) - want).abs() < 1e-5,
                    "clip {clip}, parameter {i}: {} vs {want}",
                    after[i]
                );
            }
        }
    }

    /// The AVX-512, AVX2 and portable copies of the step compute the same
    /// bits (the CPU picks one; results must not depend on which). Only
    /// the copies this CPU can run are compared, and it says which on
    /// stderr. On an x86-64 CPU with neither AVX2 nor AVX-512 there is
    /// nothing to compare the portable copy with, and the test fails
    /// rather than pass vacuously, unless `MLPSWEEP_ALLOW_NO_SIMD=1`.
    /// Catches a wide copy that reorders or fuses arithmetic (e.g. an FMA).
    #[test]
    fn every_compiled_copy_of_the_step_computes_the_same_bits() {
        type Copy = fn(
            StepInputs,
            &mut [f32],
            &mut [f32],
            &mut [f32],
            &mut ChaCha8Rng,
            &mut Workspace,
        ) -> f32;
        let mut copies: Vec<(&str, Copy)> = vec![("portable", step_portable)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                copies.push(("avx2", |i, p, m, st, r, w| unsafe {
                    step_avx2(i, p, m, st, r, w)
                }));
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                copies.push(("avx512", |i, p, m, st, r, w| unsafe {
                    step_avx512(i, p, m, st, r, w)
                }));
            }
        }
        let names: Vec<&str> = copies.iter().map(|(name, _)| *name).collect();
        if copies.len() > 1 {
            eprintln!("compiled copies compared: {}", names.join(", "));
        } else if !cfg!(target_arch = "x86_64") {
            eprintln!("not x86-64: only the portable copy of the step exists, nothing compared");
        } else if std::env::var("MLPSWEEP_ALLOW_NO_SIMD").as_deref() == Ok("1") {
            eprintln!(
                "this CPU has neither AVX2 nor AVX-512: only the portable copy ran, \
                 nothing was compared (allowed by MLPSWEEP_ALLOW_NO_SIMD=1)"
            );
        } else {
            panic!(
                "this CPU has neither AVX2 nor AVX-512, so only the portable copy of the \
                 step can run and nothing would be compared; set MLPSWEEP_ALLOW_NO_SIMD=1 \
                 to accept that"
            );
        }
        // Batch norm too: its statistics and backward pass are elementwise
        // loops and lane sums that the wide copies vectorise.
        for (act, bn) in ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"]
            .into_iter()
            .flat_map(|a| [(a, false), (a, true)])
        {
            for (opt, extra) in [("sgd", "nesterov = true"), ("adam", "")] {
                let src = format!(
                    "name = \"c\"\n[model]\ndepth = 2\nwidth = 37\nactivation = \"{act}\"\ndropout = 0.2\nbatch_norm = {bn}\n[train]\nl2 = 0.01\noptimizer = \"{opt}\"\n{extra}\n"
                );
                let (data, _, fused, _) = first_trial(&src, 4);
                let start = fused.state.to_vec1::<f32>().unwrap();
                let rows: Vec<u32> = (0..data.train.len() as u32).step_by(3).collect();
                let results: Vec<(&str, Vec<u32>)> = copies
                    .iter()
                    .map(|(name, step)| {
                        let mut state = start.clone();
                        let (params, rest) = state.split_at_mut(fused.shape.len);
                        let buffers = fused.spec.optimizer.buffers();
                        let (moments, stats) = rest.split_at_mut(fused.shape.len * buffers);
                        let mut rng = ChaCha8Rng::seed_from_u64(5);
                        let mut ws = Workspace::default();
                        let mut bits = Vec::new();
                        for t in 1..=5 {
                            let inputs = StepInputs {
                                shape: &fused.shape,
                                spec: &fused.spec,
                                x: &fused.x,
                                y: &fused.y,
                                rows: &rows,
                                t,
                            };
                            bits.push(
                                step(inputs, params, moments, stats, &mut rng, &mut ws).to_bits(),
                            );
                        }
                        bits.extend(state.iter().map(|v| v.to_bits()));
                        (*name, bits)
                    })
                    .collect();
                assert_ne!(
                    start,
                    results[0]
                        .1
                        .iter()
                        .skip(5)
                        .map(|b| f32::from_bits(*b))
                        .collect::<Vec<_>>()
                );
                for (name, bits) in &results[1..] {
                    assert!(
                        *bits == results[0].1,
                        "{act}/{opt}, batch norm {bn}: {name} differs from portable"
                    );
                }
            }
        }
    }

    #[test]
    fn sgd_momentum_nesterov_and_adam_updates_follow_their_formulas() {
        // One weight w = 1 with gradient g = 0.5, λ = 0.1: the gradient seen is 0.6.
        let shape = Shape {
            sizes: vec![1, 1],
            pieces: 1,
            activation: Activation::Relu,
            alpha: 0.0,
            dropout: 0.0,
            layers: vec![(0, 1, 1, 1)],
            len: 2,
            batch_norm: false,
            stats_len: 0,
        };
        let e = from_str(
            "name = \"u\"\n[train]\nlr = 0.1\nmomentum = 0.9\nl2 = 0.1\n",
            Path::new("s.toml"),
            &[],
        )
        .unwrap();
        let mut spec = e.config_at(&[]).unwrap().train;
        let run = |spec: &TrainSpec, steps: i32, moments: usize| {
            let (mut p, mut m) = (vec![1.0f32, 0.0], vec![0.0f32; 2 * moments]);
            for t in 1..=steps {
                update(&shape, spec, t, &mut p, &mut m, &[0.5, 0.0]);
            }
            p[0]
        };
        // SGD momentum, two steps with the same raw gradient 0.5 (+ λw):
        // g1 = 0.6, v1 = 0.6, w1 = 0.94; g2 = 0.5 + 0.094 = 0.594, v2 = 0.9·0.6 + 0.594 = 1.134, w2 = 0.8266.
        assert!((run(&spec, 2, 1) - 0.8266).abs() < 1e-6);
        spec.optimizer = Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        };
        // Nesterov: step1 = 0.6 + 0.9·0.6 = 1.14 → w1 = 0.886; g2 = 0.5886, v2 = 1.1286, step2 = 0.5886 + 1.01574 → w2 = 0.725574.
        assert!((run(&spec, 2, 1) - 0.725574).abs() < 1e-5);
        let e = from_str(
            "name = \"u\"\n[train]\noptimizer = \"adam\"\nlr = 0.01\n",
            Path::new("s.toml"),
            &[],
        )
        .unwrap();
        let spec = e.config_at(&[]).unwrap().train;
        // Adam's first step moves by lr·g/(|g| + ε·...) ≈ lr whatever g is.
        assert!((run(&spec, 1, 2) - 0.99).abs() < 1e-6);
    }

    /// `train.max_norm`: after the update, each unit's incoming weight
    /// vector (a column of W, fan_in × cols) longer than c is scaled to
    /// norm c, the others and every bias are left as the plain update made
    /// them. Worked against a copy of the same update without the
    /// constraint, whose columns are rescaled here. Catches rows clamped
    /// instead of columns, biases clamped, and `<` for `>`.
    #[test]
    fn max_norm_scales_long_columns_to_c_after_the_update() {
        let shape = shape_3_4_2();
        let c = 1.2;
        let e = from_str(
            &format!("name = \"m\"\n[train]\nmomentum = 0.0\nlr = 0.3\nmax_norm = {c}\n"),
            Path::new("s.toml"),
            &[],
        )
        .unwrap();
        let spec = e.config_at(&[]).unwrap().train;
        let plain = TrainSpec {
            max_norm: 0.0,
            ..spec.clone()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let start: Vec<f32> = (0..26).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let g: Vec<f32> = (0..26).map(|_| rng.random_range(-2.0f32..2.0)).collect();
        let (mut want, mut got) = (start.clone(), start.clone());
        update(&shape, &plain, 1, &mut want, &mut [0.0; 26], &g);
        update(&shape, &spec, 1, &mut got, &mut [0.0; 26], &g);
        let (mut scaled, mut kept) = (0, 0);
        for &(w_off, fan_in, cols, b_off) in &shape.layers {
            for j in 0..cols {
                let idx: Vec<usize> = (0..fan_in).map(|i| w_off + i * cols + j).collect();
                let norm = idx
                    .iter()
                    .map(|&i| f64::from(want[i]).powi(2))
                    .sum::<f64>()
                    .sqrt();
                let k = if norm > c { c / norm } else { 1.0 };
                if norm > c {
                    scaled += 1
                } else {
                    kept += 1
                }
                for &i in &idx {
                    let w = f64::from(want[i]) * k;
                    assert!(
                        (f64::from(got[i]) - w).abs() < 1e-6,
                        "W[{i}]: {} vs {w}",
                        got[i]
                    );
                }
            }
            for i in b_off..b_off + cols {
                assert_eq!(got[i], want[i], "bias {i} untouched");
            }
        }
        assert!(
            scaled > 0 && kept > 0,
            "both cases exercised: {scaled} scaled, {kept} kept"
        );
    }

    /// L1's subgradient against candle autograd of λ₁·Σ|W| + data loss:
    /// one plain SGD step moves each weight by lr·(g + λ₁·sign(W)) and each
    /// bias by lr·g. Catches L1 on the biases, a wrong sign, and
    /// `f32::signum` (which is 1 at 0) — the weights here are off zero, so
    /// that last one is caught by `l1_grad_treats_zero_weights_as_flat`.
    #[test]
    fn l1_adds_lambda_sign_w_to_the_weight_gradients_only() {
        let (lr, l1) = (0.5, 0.02);
        let src = format!(
            "name = \"l\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"tanh\"\n[train]\nlr = {lr}\nmomentum = 0.0\nl1 = {l1}\n"
        );
        let (data, model, mut fused, mut rng) = first_trial(&src, 3);
        let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
        let before = params_of(&fused);
        let (_, layers) = autograd(&model, &data, &rows, Mode::Eval);
        let raw: Vec<f32> = layers
            .iter()
            .flat_map(|(w, b)| w.iter().chain(b.iter()).copied())
            .collect();
        fused.step(&rows, &mut rng).unwrap();
        let after = params_of(&fused);
        for (i, ((&g, &p), is_w)) in raw.iter().zip(&before).zip(weight_mask(&model)).enumerate() {
            let reg = if is_w {
                l1 * f64::from(p.signum())
            } else {
                0.0
            };
            let want = f64::from(p) - lr * (f64::from(g) + reg);
            assert!(
                (f64::from(after[i]) - want).abs() < 1e-5,
                "parameter {i}: {} vs {want}",
                after[i]
            );
        }
    }

    /// sign(0) = 0: a weight at exactly zero gets no L1 push.
    #[test]
    fn l1_grad_treats_zero_weights_as_flat() {
        let shape = Shape {
            sizes: vec![2, 1],
            pieces: 1,
            activation: Activation::Relu,
            alpha: 0.0,
            dropout: 0.0,
            layers: vec![(0, 2, 1, 2)],
            len: 3,
            batch_norm: false,
            stats_len: 0,
        };
        let g = l1_grad(&shape, 0.5, &[0.0, -2.0, 3.0], &[1.0, 1.0, 1.0]).unwrap();
        assert_eq!(g, vec![1.0, 0.5, 1.0]);
        assert!(l1_grad(&shape, 0.0, &[0.0, -2.0, 3.0], &[1.0, 1.0, 1.0]).is_none());
    }

    /// With dropout on, the fused forward draws the same masks from the
    /// same generator as candle's training-mode forward on the `Mlp`, so
    /// the outputs agree and the generators end in the same state.
    #[test]
    fn dropout_forward_matches_candle_train_mode() {
        use rand::RngCore;
        let src = "name = \"d\"\n[model]\ndepth = 3\nwidth = 21\ndropout = 0.4\n";
        let (data, model, fused, _) = first_trial(src, 2);
        let params = params_of(&fused);
        let rows: Vec<u32> = (0..50).map(|i| i * 5).collect();
        let (mut ours, mut theirs) = (ChaCha8Rng::seed_from_u64(8), ChaCha8Rng::seed_from_u64(8));
        let mut ws = Workspace::default();
        gather(&fused.shape, &data.train.x, &rows, &mut ws);
        forward(
            &fused.shape,
            &params,
            &[],
            rows.len(),
            Some(&mut ours),
            &mut ws,
        );
        let want = model
            .forward(&minibatch(&data, &rows), Mode::Train(&mut theirs))
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        let out = &ws.z[fused.shape.layers.len() - 1];
        let n = rows.len();
        for (i, row) in want.iter().enumerate() {
            for (c, w) in row.iter().enumerate() {
                let got = out[c * n + i];
                assert!(
                    (got - w).abs() < 1e-5 * w.abs().max(1.0),
                    "example {i}, output {c}: {got} vs {w}"
                );
            }
        }
        assert_eq!(
            ours.next_u64(),
            theirs.next_u64(),
            "the same number of draws"
        );
    }

    /// Steps and evaluations give the same bits whatever number of threads
    /// the products may use, so a trial can take idle cores mid-run.
    #[test]
    fn thread_count_does_not_change_a_bit() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .start_handler(|_| flush_denormals())
            .build()
            .unwrap();
        let src = "name = \"t\"\n[data]\npoints_per_class = 200\n[model]\ndepth = 2\nwidth = 300\n[train]\nbatch_size = 200\nl2 = 0.001\n";
        let e = from_str(src, Path::new("s.toml"), &[]).unwrap();
        let cfg = e.config_at(&e.coords(0)).unwrap();
        let data = crate::data::load(&cfg.data).unwrap();
        let run = |threads: usize| {
            pool.install(|| {
                let mut rng = ChaCha8Rng::seed_from_u64(6);
                let model =
                    Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
                let mut fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
                fused.set_threads(threads);
                let rows: Vec<u32> = (0..data.train.len() as u32).rev().collect();
                let losses: Vec<u32> = rows
                    .chunks(200)
                    .map(|c| fused.step(c, &mut rng).unwrap().to_bits())
                    .collect();
                let ev = fused.evaluate(&data.train).unwrap();
                let state: Vec<u32> = fused
                    .state
                    .to_vec1::<f32>()
                    .unwrap()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect();
                (losses, ev.loss.to_bits(), ev.predicted, state)
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            assert!(run(threads) == one, "{threads} threads differ from one");
        }
    }

    /// At a kink (a pre-activation exactly 0, or maxout pieces tied) the
    /// gradient follows PyTorch's conventions: relu'(0) = 0, leaky relu's
    /// slope there is α, and tied maxout pieces pass the gradient to the
    /// first piece only. Kinks are not rare: the spiral has one point per
    /// class at the origin, whose pre-activations are exactly 0 while the
    /// biases are (at the first step). Written out by hand; candle's
    /// autograd uses other conventions there, so it cannot be the oracle.
    /// Catches `>` turned into `>=` in `activation_grad`.
    #[test]
    fn kinks_follow_pytorchs_subgradients() {
        let shape = |activation, pieces| Shape {
            sizes: vec![1, 2, 1],
            pieces,
            activation,
            alpha: 0.25,
            dropout: 0.0,
            layers: Vec::new(),
            len: 0,
            batch_norm: false,
            stats_len: 0,
        };
        // Two units (rows) of two examples: one on the kink, one off it.
        let da = [2.0f32, 2.0, 3.0, 3.0];
        let z = [0.0f32, 1.0, 0.0, -1.0];
        let mut dz = [9.0f32; 4];
        activation_grad(&shape(Activation::Relu, 1), &da, &z, &mut dz, 2);
        assert_eq!(dz, [0.0, 2.0, 0.0, 0.0], "relu");
        activation_grad(
            &shape(Activation::LeakyRelu { alpha: 0.25 }, 1),
            &da,
            &z,
            &mut dz,
            2,
        );
        assert_eq!(dz, [0.5, 2.0, 0.75, 0.75], "leaky relu");
        // One maxout unit of three pieces over two examples: example 0 ties
        // all three pieces (to the first), example 1 ties the last two
        // above the first (to the second).
        let da = [5.0f32, 7.0];
        let z = [0.0f32, -1.0, 0.0, 2.0, 0.0, 2.0];
        let mut dz = [9.0f32; 6];
        activation_grad(
            &shape(Activation::Maxout { pieces: 3 }, 3),
            &da,
            &z,
            &mut dz,
            2,
        );
        assert_eq!(dz, [5.0, 0.0, 0.0, 7.0, 0.0, 0.0], "maxout");
    }

    /// When outputs tie, the prediction is the first largest (the class
    /// with the lowest index), as documented on `evaluate`. Ties are real:
    /// a network whose hidden units all died outputs its output biases for
    /// every input. Here every parameter is 0, so every output is 0: every
    /// example is predicted class 0, and accuracy is the share of class 0
    /// (counted in the test). Catches `>` turned into `>=` in the argmax.
    #[test]
    fn tied_outputs_predict_the_first_class() {
        let (data, _, mut fused, _) =
            first_trial("name = \"t\"\n[data]\nclasses = 3\nlabel_noise = 0.3\n", 1);
        let len = fused.state.dims1().unwrap();
        fused.state = Tensor::zeros(len, candle_core::DType::F32, &Device::Cpu).unwrap();
        let ev = fused.evaluate(&data.train).unwrap();
        assert!(
            ev.predicted.iter().all(|c| *c == 0),
            "{:?}",
            &ev.predicted[..10]
        );
        let Targets::Classes(y) = &data.train.y else {
            panic!("classification")
        };
        let share = y.iter().filter(|c| **c == 0).count() as f64 / y.len() as f64;
        assert_eq!(ev.accuracy, Some(share));
        // Cross-entropy of uniform outputs over 3 classes is ln 3.
        assert!((ev.loss - 3f64.ln()).abs() < 1e-6, "{}", ev.loss);
    }

    #[test]
    fn draw_mask_is_random_bool_per_element() {
        use rand::RngCore;
        for (keep, units, n) in [(0.5, 7, 37), (0.75, 64, 16), (0.3, 3, 1), (0.9, 33, 100)] {
            let mut bulk = ChaCha8Rng::seed_from_u64(11);
            let mut each = ChaCha8Rng::seed_from_u64(11);
            // An odd number of u32 words first, so the draws straddle blocks unevenly.
            let _ = (bulk.next_u32(), each.next_u32());
            let mut mask = Vec::new();
            draw_mask(&mut bulk, keep, 2.0, units, n, &mut mask, &mut Vec::new());
            for i in 0..n {
                for u in 0..units {
                    let want = if each.random_bool(keep) { 2.0 } else { 0.0 };
                    assert_eq!(mask[u * n + i], want, "keep {keep}, unit {u}, example {i}");
                }
            }
            assert_eq!(
                bulk.next_u64(),
                each.next_u64(),
                "the generators end in the same state"
            );
        }
    }

    #[test]
    fn dropout_masks_are_inverted_and_seeded() {
        let src = "name = \"d\"\n[model]\ndepth = 1\nwidth = 200\ndropout = 0.3\n";
        let (data, _, fused, _) = first_trial(src, 1);
        let params = params_of(&fused);
        let rows: Vec<u32> = (0..64).collect();
        let mut masks = Vec::new();
        for seed in [5, 5, 6] {
            let mut ws = Workspace::default();
            forward_backward(
                &fused.shape,
                &params,
                &data.train.x,
                &data.train.y,
                &rows,
                &mut ChaCha8Rng::seed_from_u64(seed),
                &mut ws,
            );
            masks.push(ws.mask[0].clone());
        }
        let m = &masks[0];
        assert_eq!(m.len(), 64 * 200);
        // Kept units are scaled by 1/(1-p); about p of them are dropped.
        assert!(m.iter().all(|v| *v == 0.0 || (*v - 1.0 / 0.7).abs() < 1e-6));
        let dropped = m.iter().filter(|v| **v == 0.0).count() as f64 / m.len() as f64;
        assert!((dropped - 0.3).abs() < 0.02, "dropped {dropped}");
        assert_eq!(masks[0], masks[1], "the same seed draws the same masks");
        assert_ne!(masks[0], masks[2]);
    }

    /// A hand-made 3 → 4 → 2 tanh shape: W0 3×4 at 0, b0 at 12, W1 4×2 at
    /// 16, b1 at 24.
    fn shape_3_4_2() -> Shape {
        Shape {
            sizes: vec![3, 4, 2],
            pieces: 1,
            activation: Activation::Tanh,
            alpha: 0.0,
            dropout: 0.0,
            layers: vec![(0, 3, 4, 12), (16, 4, 2, 24)],
            len: 26,
            batch_norm: false,
            stats_len: 0,
        }
    }

    /// An optimiser rule, with its constants, for [`reference_update`].
    #[derive(Clone, Copy, Debug)]
    enum Rule {
        /// Plain SGD (momentum 0).
        Sgd,
        /// SGD with momentum μ.
        Momentum(f64),
        /// SGD with Nesterov momentum μ.
        Nesterov(f64),
        /// Adam with (β1, β2, ε).
        Adam(f64, f64, f64),
        /// Adagrad with ε.
        Adagrad(f64),
        /// RMSprop with (ρ, ε).
        Rmsprop(f64, f64),
    }

    /// One optimiser step written out in f64 from docs/semantics.md, not
    /// from `update`: the gradient is g + λθ for weights and g for biases;
    /// SGD in PyTorch's convention (v ← μv + g; θ ← θ − lr·v, Nesterov
    /// θ ← θ − lr·(g + μv)); Adam as Kingma and Ba's algorithm 1 with
    /// c1 = 1 − β1^t, c2 = 1 − β2^t and θ ← θ − lr·(m/c1)/(√(s/c2) + ε);
    /// Adagrad c ← c + g², RMSprop c ← ρc + (1 − ρ)g², both θ ← θ −
    /// lr·g/(√c + ε) (DESIGN.md). L1 adds λ₁·sign(θ) to the weights' g.
    #[allow(clippy::too_many_arguments)]
    fn reference_update(
        rule: Rule,
        lr: f64,
        (l2, l1): (f64, f64),
        t: i32,
        is_weight: &[bool],
        p: &mut [f64],
        v: &mut [f64],
        s: &mut [f64],
        g: &[f64],
    ) {
        for i in 0..p.len() {
            let sign = if p[i] > 0.0 {
                1.0
            } else if p[i] < 0.0 {
                -1.0
            } else {
                0.0
            };
            let gi = g[i]
                + if is_weight[i] {
                    l2 * p[i] + l1 * sign
                } else {
                    0.0
                };
            match rule {
                Rule::Sgd => p[i] -= lr * gi,
                Rule::Momentum(mu) => {
                    v[i] = mu * v[i] + gi;
                    p[i] -= lr * v[i];
                }
                Rule::Nesterov(mu) => {
                    v[i] = mu * v[i] + gi;
                    p[i] -= lr * (gi + mu * v[i]);
                }
                Rule::Adam(b1, b2, eps) => {
                    v[i] = b1 * v[i] + (1.0 - b1) * gi;
                    s[i] = b2 * s[i] + (1.0 - b2) * gi * gi;
                    let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                    p[i] -= lr * (v[i] / c1) / ((s[i] / c2).sqrt() + eps);
                }
                Rule::Adagrad(eps) => {
                    v[i] += gi * gi;
                    p[i] -= lr * gi / (v[i].sqrt() + eps);
                }
                Rule::Rmsprop(rho, eps) => {
                    v[i] = rho * v[i] + (1.0 - rho) * gi * gi;
                    p[i] -= lr * gi / (v[i].sqrt() + eps);
                }
            }
        }
    }

    /// The optimiser cases of the update tests: the `[train]` lines, the
    /// rule with the constants those lines mean (Adam's defaults 0.9,
    /// 0.999, 1e-8 as documented), lr and λ (> 0 in every case).
    fn optimiser_cases() -> Vec<(&'static str, Rule, f64, f64, f64)> {
        vec![
            (
                "optimizer = \"sgd\"\nmomentum = 0.0\nlr = 0.05\nl2 = 0.1",
                Rule::Sgd,
                0.05,
                0.1,
                0.0,
            ),
            (
                "optimizer = \"sgd\"\nmomentum = 0.9\nlr = 0.02\nl2 = 0.1",
                Rule::Momentum(0.9),
                0.02,
                0.1,
                0.0,
            ),
            (
                "optimizer = \"sgd\"\nmomentum = 0.8\nnesterov = true\nlr = 0.02\nl2 = 0.1",
                Rule::Nesterov(0.8),
                0.02,
                0.1,
                0.0,
            ),
            (
                "optimizer = \"adam\"\nlr = 0.01\nl2 = 0.1",
                Rule::Adam(0.9, 0.999, 1e-8),
                0.01,
                0.1,
                0.0,
            ),
            (
                "optimizer = \"adam\"\nbeta1 = 0.7\nbeta2 = 0.95\neps = 1e-3\nlr = 0.02\nl2 = 0.05",
                Rule::Adam(0.7, 0.95, 1e-3),
                0.02,
                0.05,
                0.0,
            ),
            (
                "optimizer = \"adagrad\"\nlr = 0.05\nl2 = 0.1\nl1 = 0.01",
                Rule::Adagrad(1e-8),
                0.05,
                0.1,
                0.01,
            ),
            (
                "optimizer = \"rmsprop\"\nlr = 0.01\nl2 = 0.05",
                Rule::Rmsprop(0.99, 1e-8),
                0.01,
                0.05,
                0.0,
            ),
            (
                "optimizer = \"rmsprop\"\ndecay_rate = 0.9\neps = 1e-4\nlr = 0.02\nl2 = 0.0",
                Rule::Rmsprop(0.9, 1e-4),
                0.02,
                0.0,
                0.0,
            ),
            (
                "optimizer = \"sgd\"\nmomentum = 0.9\nlr = 0.02\nl2 = 0.1\nl1 = 0.003",
                Rule::Momentum(0.9),
                0.02,
                0.1,
                0.003,
            ),
        ]
    }

    /// Assert every parameter is within 1e-4 · max(|reference|, 1) of the
    /// f64 reference (parameters here are of order 1).
    fn assert_near_reference(label: &str, got: &[f32], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(*g) - w).abs() <= 1e-4 * w.abs().max(1.0),
                "{label}: parameter {i} is {g}, the f64 reference {w}"
            );
        }
    }

    /// `update` over 40 steps follows SGD, momentum, Nesterov and Adam
    /// (default and non-default β1, β2, ε) as written out in f64 by
    /// [`reference_update`], on a hand-made 3 → 4 → 2 shape with nonzero
    /// biases, λ > 0, and pseudo-random gradients of differing scales that
    /// change every step. Catches Adam's bias correction frozen after the
    /// first step (`powi(1)` for `powi(t)`), β1 and β2 swapped, L2 decay
    /// applied to the biases, and a wrong sign or coefficient in the
    /// momentum or Nesterov rule.
    #[test]
    fn updates_over_many_steps_follow_the_f64_formulas() {
        // Layers (w_off, fan_in, cols, b_off): W0 3×4 at 0, b0 at 12, W1 4×2 at 16, b1 at 24.
        let shape = shape_3_4_2();
        let is_weight: Vec<bool> = (0..26).map(|i| !(12..16).contains(&i) && i < 24).collect();
        for (train, rule, lr, l2, l1) in optimiser_cases() {
            let src = format!("name = \"u\"\n[train]\n{train}\n");
            let e = from_str(&src, Path::new("s.toml"), &[]).unwrap();
            let spec = e.config_at(&e.coords(0)).unwrap().train;
            assert_eq!((spec.lr, spec.l2, spec.l1), (lr, l2, l1), "{train}");
            let mut rng = ChaCha8Rng::seed_from_u64(17);
            // Starting values ±(0.5 .. 1.5), biases included.
            let start: Vec<f32> = (0..shape.len)
                .map(|_| {
                    let v: f32 = rng.random_range(0.5..1.5);
                    if rng.random_bool(0.5) { v } else { -v }
                })
                .collect();
            let scales: Vec<f32> = (0..shape.len).map(|_| rng.random_range(0.1..2.0)).collect();
            let (mut p, mut moments) = (start.clone(), vec![0.0f32; 2 * shape.len]);
            let mut want: Vec<f64> = start.iter().map(|v| f64::from(*v)).collect();
            let (mut v, mut s) = (vec![0.0; shape.len], vec![0.0; shape.len]);
            for t in 1..=40 {
                let g: Vec<f32> = scales
                    .iter()
                    .map(|k| k * rng.random_range(-1.0f32..1.0))
                    .collect();
                update(&shape, &spec, t, &mut p, &mut moments, &g);
                let g: Vec<f64> = g.iter().map(|v| f64::from(*v)).collect();
                reference_update(
                    rule,
                    lr,
                    (l2, l1),
                    t,
                    &is_weight,
                    &mut want,
                    &mut v,
                    &mut s,
                    &g,
                );
                assert_near_reference(&format!("{rule:?}, step {t}"), &p, &want);
            }
        }
    }

    /// Per flat parameter: true for a weight, false for a bias, read off
    /// the `Mlp`'s own tensors (each layer's W, then its b).
    fn weight_mask(model: &Mlp) -> Vec<bool> {
        model
            .layers
            .iter()
            .flat_map(|l| {
                let (w, b) = (l.w.as_tensor().elem_count(), l.b.as_tensor().elem_count());
                // Batch norm's γ follows β (= b) in the flat vector.
                let g = l
                    .norm
                    .as_ref()
                    .map_or(0, |n| n.gamma.as_tensor().elem_count());
                std::iter::repeat_n(true, w).chain(std::iter::repeat_n(false, b + g))
            })
            .collect()
    }

    /// Replace the biases in `fused`'s state by ±(0.2 .. 0.5), so that an
    /// L2 term on them would show (biases start at zero).
    fn set_nonzero_biases(fused: &mut Fused, is_weight: &[bool], rng: &mut ChaCha8Rng) {
        let mut state = fused.state.to_vec1::<f32>().unwrap();
        for (v, _) in state.iter_mut().zip(is_weight).filter(|(_, w)| !**w) {
            let b: f32 = rng.random_range(0.2..0.5);
            *v = if rng.random_bool(0.5) { b } else { -b };
        }
        let n = state.len();
        fused.state = Tensor::from_vec(state, n, &Device::Cpu).unwrap();
    }

    /// Whole `Fused::step`s over 40 minibatches follow the f64 rules of
    /// [`reference_update`], each step's gradient taken from
    /// `forward_backward` at the parameters before it (with a copy of the
    /// generator). Besides the formula bugs `update`'s own test catches,
    /// this catches the step counter handed to Adam not advancing (Adam's
    /// bias correction at t = 0 or stuck at t = 1).
    #[test]
    fn fused_steps_follow_the_f64_formulas() {
        for (train, rule, lr, l2, l1) in optimiser_cases() {
            let src = format!(
                "name = \"o\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\n[train]\n{train}\n"
            );
            let (data, model, mut fused, mut rng) = first_trial(&src, 9);
            assert_eq!(
                (fused.spec.lr, fused.spec.l2, fused.spec.l1),
                (lr, l2, l1),
                "{train}"
            );
            let is_weight = weight_mask(&model);
            set_nonzero_biases(&mut fused, &is_weight, &mut rng);
            let mut want: Vec<f64> = params_of(&fused).iter().map(|v| f64::from(*v)).collect();
            let (mut v, mut s) = (vec![0.0; want.len()], vec![0.0; want.len()]);
            let total = data.train.len() as u32;
            for t in 1..=40 {
                let rows: Vec<u32> = (0..32).map(|i| (t as u32 * 37 + i * 11) % total).collect();
                let mut ws = Workspace::default();
                forward_backward(
                    &fused.shape,
                    &params_of(&fused),
                    &data.train.x,
                    &data.train.y,
                    &rows,
                    &mut rng.clone(),
                    &mut ws,
                );
                fused.step(&rows, &mut rng).unwrap();
                let g: Vec<f64> = ws.grad.iter().map(|v| f64::from(*v)).collect();
                reference_update(
                    rule,
                    lr,
                    (l2, l1),
                    t,
                    &is_weight,
                    &mut want,
                    &mut v,
                    &mut s,
                    &g,
                );
                assert_near_reference(&format!("{rule:?}, step {t}"), &params_of(&fused), &want);
            }
        }
    }

    /// Mean data loss of a tanh network (no dropout) on the training rows
    /// `rows`, computed independently in f64 from the flat parameters `p`
    /// (per layer W as fan_in × cols row-major, then b; `dims` holds each
    /// layer's (fan_in, cols)): softmax cross-entropy, or the squared error
    /// without a factor ½ (docs/semantics.md).
    fn data_loss_f64(
        dims: &[(usize, usize)],
        p: &[f64],
        data: &crate::data::Dataset,
        rows: &[u32],
    ) -> f64 {
        let d = data.n_features;
        let mut total = 0.0;
        for &r in rows {
            let r = r as usize;
            let mut h: Vec<f64> = data.train.x[r * d..(r + 1) * d]
                .iter()
                .map(|v| f64::from(*v))
                .collect();
            let mut off = 0;
            for (l, &(fan_in, cols)) in dims.iter().enumerate() {
                let (w, b) = (&p[off..off + fan_in * cols], &p[off + fan_in * cols..]);
                let z: Vec<f64> = (0..cols)
                    .map(|j| b[j] + (0..fan_in).map(|i| h[i] * w[i * cols + j]).sum::<f64>())
                    .collect();
                off += fan_in * cols + cols;
                h = if l + 1 < dims.len() {
                    z.iter().map(|v| v.tanh()).collect()
                } else {
                    z
                };
            }
            total += match &data.train.y {
                Targets::Classes(c) => {
                    let max = h.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                    let lse = max + h.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                    lse - h[c[r] as usize]
                }
                Targets::Values(y) => (h[0] - f64::from(y[r])).powi(2),
            };
        }
        total / rows.len() as f64
    }

    /// One plain-SGD step (momentum 0, λ = 0.3) moves each parameter by lr
    /// times the derivative of J(θ) = mean data loss + 0.5·λ·Σ‖W‖² (weights
    /// only). Reference: central finite differences of J in f64, with the
    /// data loss from this test's own f64 forward pass ([`data_loss_f64`]);
    /// biases are set nonzero first. Every parameter is checked, so this
    /// catches L2 decay applied to the biases (whose derivative has no L2
    /// part), L2 missing or doubled on the weights, and a wrong data-loss
    /// gradient (e.g. a factor ½ in the squared error).
    #[test]
    fn one_sgd_step_follows_finite_differences_of_the_objective() {
        let (lr, l2) = (0.1, 0.3);
        for kind in ["spiral", "sine"] {
            let src = format!(
                "name = \"f\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\n[train]\noptimizer = \"sgd\"\nmomentum = 0.0\nlr = {lr}\nl2 = {l2}\n"
            );
            let (data, model, mut fused, mut rng) = first_trial(&src, 12);
            let is_weight = weight_mask(&model);
            set_nonzero_biases(&mut fused, &is_weight, &mut rng);
            let dims: Vec<(usize, usize)> = model
                .layers
                .iter()
                .map(|l| l.w.as_tensor().dims2().unwrap())
                .collect();
            let rows: Vec<u32> = (0..data.train.len() as u32).step_by(4).collect();
            let before: Vec<f64> = params_of(&fused).iter().map(|v| f64::from(*v)).collect();
            let loss = fused.step(&rows, &mut rng).unwrap();
            let after = params_of(&fused);
            let objective = |p: &[f64]| {
                let w2: f64 = p
                    .iter()
                    .zip(&is_weight)
                    .filter(|(_, w)| **w)
                    .map(|(v, _)| v * v)
                    .sum();
                data_loss_f64(&dims, p, &data, &rows) + 0.5 * l2 * w2
            };
            // The independent forward pass agrees with the step's own loss.
            let want_loss = data_loss_f64(&dims, &before, &data, &rows);
            assert!(
                (f64::from(loss) - want_loss).abs() < 1e-5 * want_loss.max(1.0),
                "{kind}: step loss {loss} vs f64 {want_loss}"
            );
            let h = 1e-5;
            for i in 0..before.len() {
                let applied = (before[i] - f64::from(after[i])) / lr;
                let (mut up, mut down) = (before.clone(), before.clone());
                up[i] += h;
                down[i] -= h;
                let fd = (objective(&up) - objective(&down)) / (2.0 * h);
                let what = if is_weight[i] { "weight" } else { "bias" };
                assert!(
                    (applied - fd).abs() <= 2e-4 + 1e-3 * fd.abs(),
                    "{kind}: {what} {i} (value {}): applied gradient {applied}, dJ/dθ by finite differences {fd}",
                    before[i]
                );
            }
        }
    }

    /// Batch norm: the fused loss and gradient (W, β and γ of every
    /// normalised layer) equal candle's autograd of the same network, built
    /// from candle ops in `Mlp::forward_all` (z = x·W, batch mean and biased
    /// variance, x̂ = (z − μ)/√(σ² + ε), γ·x̂ + β), for relu, tanh and
    /// maxout (per piece), classification and regression, dropout off and
    /// on. β and γ are set away from 0 and 1 first. Catches any slip in
    /// `batch_norm_backward` (a dropped Σdy or x̂·Σdy·x̂ term, γ left out,
    /// dβ/dγ swapped, n − 1 for n) and the bias's row sum overwriting dβ.
    #[test]
    fn batch_norm_gradients_match_candle_autograd() {
        use rand::RngCore;
        for dropout in [0.0, 0.4] {
            for kind in ["spiral", "sine"] {
                for act in ["relu", "tanh", "maxout"] {
                    let label = format!("{act}/{kind}, dropout {dropout}");
                    let src = format!(
                        "name = \"g\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"{act}\"\ndropout = {dropout}\nbatch_norm = true\n"
                    );
                    let FusedGrad {
                        data,
                        model,
                        rows,
                        loss,
                        ws,
                        mut ours,
                        ..
                    } = fused_grad(&src, &label, |f| assert!(f.shape.batch_norm));
                    let mut theirs = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
                    let (want_loss, want) =
                        autograd_flat(&model, &data, &rows, Mode::Train(&mut theirs));
                    assert_eq!(ours.next_u64(), theirs.next_u64(), "{label}: draws");
                    assert!(
                        (loss - want_loss).abs() < 1e-5 * want_loss.abs().max(1.0),
                        "{label}: loss {loss} vs {want_loss}"
                    );
                    assert_eq!(ws.grad.len(), want.len(), "{label}: layout");
                    for (i, (a, b)) in ws.grad.iter().zip(&want).enumerate() {
                        assert!(
                            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                            "{label}: parameter {i}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    /// The running averages after three steps on batches of 40, 17 and 67
    /// equal an f64 replay of the batches seen: per hidden column, mean ←
    /// 0.9·mean + 0.1·μ and variance ← 0.9·variance + 0.1·σ²·n/(n − 1),
    /// from 0 and 1, with μ and σ² of the pre-normalisation z = x·W at
    /// the parameters before each step (the second layer's input normalised
    /// with batch statistics). Catches the biased variance, the momentum
    /// the wrong way round, statistics taken after γ and β, or the
    /// optimiser touching the statistics.
    #[test]
    fn batch_norm_running_averages_follow_the_batches_seen() {
        let src = "name = \"r\"\n[model]\ndepth = 2\nwidth = 5\nactivation = \"relu\"\nbatch_norm = true\n[train]\nlr = 0.5\nmomentum = 0.0\n";
        let (data, _, mut fused, mut rng) = first_trial(src, 7);
        let shape = fused.shape.clone();
        let d = data.n_features;
        let mut mean = vec![vec![0.0f64; 5]; 2];
        let mut var = vec![vec![1.0f64; 5]; 2];
        let batches: [Vec<u32>; 3] = [
            (0..40).collect(),
            (40..57).collect(),
            (100..300).step_by(3).collect(),
        ];
        for rows in &batches {
            let p: Vec<f64> = params_of(&fused).into_iter().map(f64::from).collect();
            let mut h: Vec<Vec<f64>> = rows
                .iter()
                .map(|&r| {
                    let r = r as usize;
                    data.train.x[r * d..(r + 1) * d]
                        .iter()
                        .map(|v| f64::from(*v))
                        .collect()
                })
                .collect();
            let n = rows.len() as f64;
            for l in 0..2 {
                let (w_off, fan_in, cols, b_off) = shape.layers[l];
                let z: Vec<Vec<f64>> = h
                    .iter()
                    .map(|x| {
                        (0..cols)
                            .map(|j| (0..fan_in).map(|i| x[i] * p[w_off + i * cols + j]).sum())
                            .collect()
                    })
                    .collect();
                let mut next = vec![vec![0.0; cols]; rows.len()];
                for j in 0..cols {
                    let mu = z.iter().map(|r| r[j]).sum::<f64>() / n;
                    let s2 = z.iter().map(|r| (r[j] - mu).powi(2)).sum::<f64>() / n;
                    mean[l][j] = 0.9 * mean[l][j] + 0.1 * mu;
                    var[l][j] = 0.9 * var[l][j] + 0.1 * s2 * n / (n - 1.0);
                    let (beta, gamma) = (p[b_off + j], p[b_off + cols + j]);
                    for (k, r) in z.iter().enumerate() {
                        next[k][j] = (gamma * (r[j] - mu) / (s2 + 1e-5).sqrt() + beta).max(0.0);
                    }
                }
                h = next;
            }
            fused.step(rows, &mut rng).unwrap();
        }
        let state = fused.state.to_vec1::<f32>().unwrap();
        let stats = &state[shape.len * (1 + fused.spec.optimizer.buffers())..];
        assert_eq!(stats.len(), 2 * 2 * 5);
        for l in 0..2 {
            for j in 0..5 {
                for (got, want, what) in [
                    (stats[l * 5 + j], mean[l][j], "mean"),
                    (stats[10 + l * 5 + j], var[l][j], "variance"),
                ] {
                    assert!(
                        (f64::from(got) - want).abs() < 1e-4 * want.abs().max(1.0),
                        "layer {l} unit {j} running {what}: {got} vs {want}"
                    );
                }
            }
        }
    }

    /// γ and β take the optimiser's update but no L2, like biases: one
    /// plain SGD step with λ = 0.5 moves them by exactly −lr·g, and the
    /// weights by −lr·(g + λW). Catches γ left out of the update (the
    /// bias range one `cols` long) or decayed like a weight.
    #[test]
    fn batch_norm_scales_and_shifts_are_updated_without_l2() {
        let (lr, l2) = (0.1f32, 0.5f32);
        let src = format!(
            "name = \"b\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\nbatch_norm = true\n[train]\nlr = {lr}\nmomentum = 0.0\nl2 = {l2}\n"
        );
        let (data, model, mut fused, mut rng) = first_trial(&src, 5);
        set_nonzero_biases(&mut fused, &weight_mask(&model), &mut rng);
        let rows: Vec<u32> = (0..64).collect();
        let before = params_of(&fused);
        let mut ws = Workspace::default();
        forward_backward(
            &fused.shape,
            &before,
            &data.train.x,
            &data.train.y,
            &rows,
            &mut rng.clone(),
            &mut ws,
        );
        fused.step(&rows, &mut rng).unwrap();
        let after = params_of(&fused);
        let mask = weight_mask(&model);
        let mut normed = 0;
        for l in 0..2 {
            let (_, _, cols, b_off) = fused.shape.layers[l];
            for i in b_off..b_off + 2 * cols {
                assert!(!mask[i]);
                assert_eq!(after[i], before[i] - lr * ws.grad[i], "β/γ entry {i}");
                assert!(ws.grad[i] != 0.0);
                normed += 1;
            }
        }
        assert_eq!(normed, 24);
        for (i, is_w) in mask.iter().enumerate() {
            if *is_w {
                let want = before[i] - lr * (ws.grad[i] + l2 * before[i]);
                assert_eq!(after[i], want, "weight {i}");
            }
        }
    }

    /// Evaluation normalises with the running averages, not the batch's
    /// statistics: after a few steps, the fused loss over the whole split
    /// equals candle's `Mlp` in evaluation mode with the same running
    /// statistics, and one example evaluated alone has the loss it has
    /// inside that whole-split batch. With batch statistics, a lone
    /// example's x̂ would be 0 and its output β's alone.
    #[test]
    fn batch_norm_evaluation_uses_the_running_averages() {
        let src = "name = \"e\"\n[data]\nkind = \"sine\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\nbatch_norm = true\n[train]\nlr = 0.05\n";
        let (data, model, mut fused, mut rng) = first_trial(src, 2);
        let n = data.train.len();
        for k in 0..6u32 {
            let rows: Vec<u32> = (0..n as u32).filter(|r| r % 6 == k).collect();
            fused.step(&rows, &mut rng).unwrap();
        }
        fused.write_back(&model).unwrap();
        let means = model.layers[0]
            .norm
            .as_ref()
            .unwrap()
            .mean
            .to_vec1::<f32>()
            .unwrap();
        assert!(means.iter().all(|m| *m != 0.0), "the running means moved");
        let all: Vec<u32> = (0..n as u32).collect();
        let out = model
            .forward(&minibatch(&data, &all), Mode::Eval)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        let Targets::Values(t) = &data.train.y else {
            panic!("sine is regression")
        };
        let per: Vec<f64> = out
            .iter()
            .zip(t)
            .map(|(o, t)| f64::from(o - t).powi(2))
            .collect();
        let want = per.iter().sum::<f64>() / n as f64;
        let got = fused.evaluate(&data.train).unwrap().loss;
        assert!(
            (got - want).abs() < 1e-5 * want.max(1e-3),
            "{got} vs {want}"
        );
        for i in [0usize, 17, 123] {
            let one = Split {
                x: data.train.x[i..i + 1].to_vec(),
                y: Targets::Values(vec![t[i]]),
            };
            let alone = fused.evaluate(&one).unwrap().loss;
            assert!(
                (alone - per[i]).abs() < 1e-5 * per[i].max(1e-3),
                "example {i}: alone {alone} vs in the batch {}",
                per[i]
            );
        }
    }

    /// A minibatch of one example is refused with batch norm (its unbiased
    /// variance divides by n − 1 = 0), with a message saying what to change.
    #[test]
    fn batch_norm_refuses_a_minibatch_of_one() {
        let src = "name = \"o\"\n[model]\nbatch_norm = true\n";
        let (_, _, mut fused, mut rng) = first_trial(src, 1);
        let err = fused.step(&[3], &mut rng).unwrap_err().to_string();
        assert!(err.contains("at least 2 examples per minibatch"), "{err}");
        assert!(fused.step(&[3, 4], &mut rng).is_ok());
    }
}
