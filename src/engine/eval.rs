//! Whole splits forward in evaluation mode, in fixed chunks through the
//! training kernels: loss, accuracy, predictions, unit peaks, the
//! activation sums telemetry reads, and the raw outputs.

use std::cell::RefCell;

use candle_core::{CpuStorage, InplaceOp1, Layout, Result};

use super::lanes::lane_max;
use super::layout::{Layer, Shape};
use super::loss::cross_entropy;
use super::pass::{forward, gather};
use super::step::state_of;
use super::workspace::Workspace;
use crate::data::Targets;
use crate::dispatch::compiled_for_cpu;
use crate::study::Activation;

/// Examples per chunk when a whole split (or the decision-region grid) is
/// passed forward: the chunks reuse the training buffers, and the fixed size
/// fixes the summation order, so results do not depend on the batch size.
pub(super) const EVAL_CHUNK: usize = 256;

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
pub(super) struct EvalOp<'a> {
    pub(super) shape: &'a Shape,
    /// Where the running statistics start in the state.
    pub(super) stats_at: usize,
    pub(super) x: &'a [f32],
    pub(super) y: Option<&'a Targets>,
    pub(super) stats: bool,
    pub(super) ws: RefCell<&'a mut Workspace>,
    pub(super) out: RefCell<Option<Evaluation>>,
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

compiled_for_cpu! {
    /// [`evaluate_portable`] in the copy compiled for the widest vector
    /// unit this CPU has (`crate::dispatch`), as the step is: the same
    /// operations in the same order, so the same bits. The baseline copy
    /// ran the elementwise passes four floats at a time, and a cheap trial
    /// (benches/p3.toml) spent more time evaluating than training.
    pub(super) fn evaluate(
        shape: &Shape,
        params: &[f32],
        running: &[f32],
        x: &[f32],
        y: Option<&Targets>,
        stats: bool,
        ws: &mut Workspace,
    ) -> Evaluation => evaluate_portable, evaluate_avx512, evaluate_avx2
}

/// Forward every example of `x` (examples × features) in chunks of
/// [`EVAL_CHUNK`]; with targets `y`, also the loss and accuracy; with
/// `stats`, the activation sums of every hidden layer.
#[inline(always)]
pub(super) fn evaluate_portable(
    shape: &Shape,
    params: &[f32],
    running: &[f32],
    x: &[f32],
    y: Option<&Targets>,
    stats: bool,
    ws: &mut Workspace,
) -> Evaluation {
    let total = x.len() / shape.sizes[0];
    let n_layers = shape.layers.len();
    let mut peaks: Vec<Vec<f32>> = shape.layers[..n_layers - 1]
        .iter()
        .map(|&Layer { cols, .. }| vec![0.0; cols / shape.pieces])
        .collect();
    // The centre saturation is measured from: tanh 0, sigmoid ½.
    let centre = match shape.activation {
        Activation::Tanh => Some(0.0f32),
        Activation::Sigmoid => Some(0.5f32),
        _ => None,
    };
    let mut sums: Vec<LayerSums> = if stats {
        peaks
            .iter()
            .map(|p| LayerSums::new(p.len(), centre))
            .collect()
    } else {
        Vec::new()
    };
    let mut score = Score::new(shape, y, total);
    let mut rows: Vec<u32> = Vec::with_capacity(EVAL_CHUNK);
    for start in (0..total).step_by(EVAL_CHUNK) {
        let n = EVAL_CHUNK.min(total - start);
        rows.clear();
        rows.extend(start as u32..(start + n) as u32);
        gather(shape, x, &rows, ws);
        forward(shape, params, running, n, None, ws);
        for (peak, a) in peaks.iter_mut().zip(&ws.a) {
            for (p, row) in peak.iter_mut().zip(a.chunks_exact(n)) {
                *p = lane_max(row, *p, f32::abs);
            }
        }
        for (s, a) in sums.iter_mut().zip(&ws.a) {
            s.add(a, n, centre);
        }
        score.add(&ws.z[n_layers - 1], n, start);
    }
    Evaluation {
        loss: score.loss / total.max(1) as f64,
        accuracy: matches!(y, Some(Targets::Classes(_)))
            .then(|| score.hits as f64 / total.max(1) as f64),
        peaks,
        predicted: score.predicted,
        sums,
    }
}

impl LayerSums {
    /// Empty sums for a layer of `units`; with a `centre`, every unit's
    /// floor starts at +∞.
    fn new(units: usize, centre: Option<f32>) -> LayerSums {
        LayerSums {
            floor: if centre.is_some() {
                vec![f32::INFINITY; units]
            } else {
                Vec::new()
            },
            ..LayerSums::default()
        }
    }

    /// Add one chunk's hidden outputs `a` (`units × n`).
    #[inline(always)]
    fn add(&mut self, a: &[f32], n: usize, centre: Option<f32>) {
        self.count += a.len();
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
        self.sum += acc.iter().sum::<f64>();
        self.sum_sq += acc_sq.iter().sum::<f64>();
        if let Some(c) = centre {
            for (f, row) in self.floor.iter_mut().zip(a.chunks_exact(n)) {
                // The smallest distance is minus the largest negated one.
                *f = -lane_max(row, -*f, |v| -(v - c).abs());
            }
        }
    }
}

/// The running loss, hits and predictions of an evaluation, chunk by chunk.
struct Score<'a> {
    y: Option<&'a Targets>,
    k_out: usize,
    classify: bool,
    loss: f64,
    hits: usize,
    predicted: Vec<u32>,
}

impl<'a> Score<'a> {
    fn new(shape: &Shape, y: Option<&'a Targets>, total: usize) -> Score<'a> {
        let k_out = shape.layers[shape.layers.len() - 1].cols;
        let classify = k_out > 1 || matches!(y, Some(Targets::Classes(_)));
        Score {
            y,
            k_out,
            classify,
            loss: 0.0,
            hits: 0,
            predicted: Vec::with_capacity(if classify { total } else { 0 }),
        }
    }

    /// Score the chunk of `n` examples from `start` whose outputs are `out`
    /// (`k_out × n`).
    #[inline(always)]
    fn add(&mut self, out: &[f32], n: usize, start: usize) {
        let k_out = self.k_out;
        for i in 0..n {
            if self.classify {
                // The first largest output is the prediction.
                let (mut max, mut arg) = (f32::NEG_INFINITY, 0);
                for c in 0..k_out {
                    if out[c * n + i] > max {
                        (max, arg) = (out[c * n + i], c);
                    }
                }
                self.predicted.push(arg as u32);
                if let Some(Targets::Classes(t)) = self.y {
                    let t = t[start + i] as usize;
                    let (ce, _) = cross_entropy(out, n, i, k_out, t, max, |_, _| {});
                    self.loss += f64::from(ce);
                    self.hits += usize::from(arg == t);
                }
            } else if let Some(Targets::Values(t)) = self.y {
                let e = out[i] - t[start + i];
                self.loss += f64::from(e * e);
            }
        }
    }
}

/// The op `Fused::outputs` hands to candle: reads the parameters only and
/// copies the output layer of every example (ensembles, `predictions.rs`).
pub(super) struct OutputsOp<'a> {
    pub(super) shape: &'a Shape,
    /// Where the running statistics start in the state (batch norm).
    pub(super) stats_at: usize,
    pub(super) x: &'a [f32],
    pub(super) ws: RefCell<&'a mut Workspace>,
    pub(super) out: RefCell<Vec<f32>>,
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
        let k = self.shape.layers[last].cols;
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
