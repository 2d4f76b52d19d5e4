//! The per-trial scratch buffers, allocated once and reused by every step
//! and evaluation chunk, so a step allocates nothing.

/// Per-trial scratch space, sized for the largest batch.
///
/// Every batch-sized buffer is stored *feature-major*: one row per feature
/// or unit, holding that feature for every example of the minibatch (the
/// transpose of the usual `batch × features`). With W kept `fan_in × cols`,
/// the three products of a layer then run fastest through gemm on this
/// machine (see docs/performance.md), and every elementwise pass walks
/// contiguous rows.
#[derive(Default)]
pub(super) struct Workspace {
    /// Gathered minibatch inputs, `features × batch`.
    pub(super) x: Vec<f32>,
    /// Minibatch targets: class indices, or values.
    pub(super) y_class: Vec<u32>,
    pub(super) y_value: Vec<f32>,
    /// Pre-activations per layer, `cols × batch` (for tanh and sigmoid
    /// hidden layers, their outputs: see [`activate`]).
    pub(super) z: Vec<Vec<f32>>,
    /// Hidden outputs after activation and dropout, `units × batch`.
    pub(super) a: Vec<Vec<f32>>,
    /// Dropout multipliers per hidden layer (0 or 1/(1-p)), `units × batch`.
    pub(super) mask: Vec<Vec<f32>>,
    /// Scratch for the random draws behind a mask (see [`draw_mask`]).
    pub(super) draws: Vec<u64>,
    /// Gradient w.r.t. pre-activations, per layer, `cols × batch`.
    pub(super) dz: Vec<Vec<f32>>,
    /// Gradient w.r.t. hidden outputs, `units × batch`.
    pub(super) da: Vec<f32>,
    /// Gradient of the whole parameter vector.
    pub(super) grad: Vec<f32>,
    /// Batch norm, per hidden layer: x̂ (`cols × batch`), and per column
    /// 1/√(σ² + ε), the batch mean and the biased batch variance.
    pub(super) xhat: Vec<Vec<f32>>,
    pub(super) inv_std: Vec<Vec<f32>>,
    pub(super) batch_mean: Vec<Vec<f32>>,
    pub(super) batch_var: Vec<Vec<f32>>,
    /// Threads the matrix products may use (1: this thread only).
    pub(super) threads: usize,
}
