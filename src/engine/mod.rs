//! The engine: the training step as one fused candle in-place op.
//!
//! On networks this small, candle's per-op overhead (an allocation, a lock
//! and a dispatch per tensor op, a few dozen ops per step through the
//! autograd graph) costs far more than the arithmetic. So a whole SGD or
//! Adam step — gather the minibatch, forward, softmax cross-entropy or MSE,
//! explicit backward, L2 on weights, optimiser update — runs inside a single
//! [`InplaceOp1`](candle_core::InplaceOp1) over one flat state tensor `[params | first moment |
//! second moment]`, with the matrix products done by the `gemm` crate
//! (the kernels candle's own matmul uses) in a fixed order: on the calling
//! thread, or split over idle threads of the trial pool when the scheduler
//! lends them, which changes no bit (see `gemm::matmul`). Buffers are allocated
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
//!
//! One concern a file, in the order a step runs through them: `layout`
//! (where each layer's parameters sit), `workspace` (scratch buffers),
//! `gemm` (the products), `lanes` (elementwise helpers), `activation`,
//! `batch_norm`, `dropout`, `pass` (gather, forward, backward), `loss`
//! (cross-entropy and squared error, once for training and evaluation),
//! `regularise` (L2, L1, max-norm, clipping), `optim` (the update), `step`
//! (the candle op and the per-CPU copies), `eval` (whole splits), `fused`
//! (the [`Fused`] state and its public methods) and `probes` (what the
//! benchmark, `gradcheck` and the tests read).

mod activation;
mod batch_norm;
mod dropout;
mod eval;
mod fused;
mod gemm;
mod lanes;
mod layout;
mod loss;
mod optim;
mod pass;
mod probes;
mod regularise;
mod step;
mod workspace;

pub use eval::{Evaluation, LayerSums};
pub use fused::Fused;
pub use layout::{Layer, Shape};
pub use step::flush_denormals;

#[cfg(test)]
mod tests;
