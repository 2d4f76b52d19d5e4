//! Where each layer's parameters sit in the flat parameter vector.
//!
//! Every other engine file reads offsets from here, so the packing order
//! (per layer W, then b or β, then γ with batch norm) is stated once.

use std::ops::Range;

use crate::model::Mlp;
use crate::study::Activation;

/// One layer in the flat parameter vector. With batch norm, a hidden
/// layer's b is β, followed by γ (`cols` each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer {
    /// Offset of W (`fan_in × cols`, row-major).
    pub w_off: usize,
    /// Rows of W: the previous layer's width.
    pub fan_in: usize,
    /// Columns of W: units (times pieces, for a maxout hidden layer).
    pub cols: usize,
    /// Offset of b (β with batch norm); W ends here.
    pub b_off: usize,
}

impl Layer {
    /// A layer from its four offsets and sizes.
    pub fn new(w_off: usize, fan_in: usize, cols: usize, b_off: usize) -> Layer {
        Layer {
            w_off,
            fan_in,
            cols,
            b_off,
        }
    }

    /// The weights' share of the flat vector (the part that takes L2, L1
    /// and max-norm).
    pub fn weights(&self) -> Range<usize> {
        self.w_off..self.w_off + self.fan_in * self.cols
    }
}

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
    /// Per layer: where its W and b sit.
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
    pub(super) fn new(model: &Mlp) -> Shape {
        let (sizes, activation, alpha, pieces, dropout) = model.architecture();
        let batch_norm = model.batch_norm();
        let last = sizes.len() - 1;
        let mut layers = Vec::new();
        let (mut off, mut stats_len) = (0, 0);
        for l in 1..sizes.len() {
            let cols = sizes[l] * if l < last { pieces } else { 1 };
            let (w, b) = (off, off + sizes[l - 1] * cols);
            layers.push(Layer::new(w, sizes[l - 1], cols, b));
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
    pub(super) fn normed(&self, l: usize) -> bool {
        self.batch_norm && l + 1 < self.layers.len()
    }

    /// Where hidden layer `l`'s running means start in the statistics
    /// buffer `[means | variances]`.
    pub(super) fn stats_at(&self, l: usize) -> usize {
        self.layers[..l]
            .iter()
            .map(|&Layer { cols, .. }| cols)
            .sum()
    }

    /// The parameters' share of the flat parameter vector that takes no L2
    /// (biases; with batch norm, β and γ): `b_off .. end`.
    pub(super) fn unpenalised_end(&self, l: usize) -> usize {
        let Layer { cols, b_off, .. } = self.layers[l];
        b_off + if self.normed(l) { 2 * cols } else { cols }
    }
}
