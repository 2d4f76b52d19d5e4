//! [`Fused`]: one trial's training state and the public face of the
//! engine (step, evaluate, checkpoint).

use std::cell::{Cell, RefCell};

use candle_core::{Device, Result, Tensor, bail};
use rand_chacha::ChaCha8Rng;

use super::eval::{EvalOp, Evaluation, OutputsOp};
use super::layout::Shape;
use super::step::{StepInputs, StepOp, flush_denormals};
use super::workspace::Workspace;
use crate::data::{Split, Targets};
use crate::model::Mlp;
use crate::study::TrainSpec;

/// A trial's training state: the flat `[params | m | s]` tensor, the data,
/// and the scratch space.
pub struct Fused<'a> {
    pub(super) shape: Shape,
    pub(super) spec: TrainSpec,
    pub(super) state: Tensor,
    /// The training split, borrowed: one copy of a data set for the whole
    /// sweep, whatever the number of trials running at once.
    pub(super) x: &'a [f32],
    pub(super) y: &'a Targets,
    pub(super) ws: Workspace,
    pub(super) t: i32,
}

impl<'a> Fused<'a> {
    /// Pack `model`'s parameters (as initialised) with zeroed optimiser state.
    /// Sets [`flush_denormals`] on the calling thread.
    pub fn new(model: &Mlp, spec: &TrainSpec, data: &'a Split) -> Result<Fused<'a>> {
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
            x: &data.x,
            y: &data.y,
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
                x: self.x,
                y: self.y,
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
            .flat_map(|layer| &params[layer.weights()])
            .map(|w| f64::from(*w) * f64::from(*w))
            .sum())
    }

    /// Let the matrix products of the following steps and evaluations use
    /// up to `threads` threads of the current rayon pool (1: this thread
    /// only, the default). Results do not depend on it.
    pub fn set_threads(&mut self, threads: usize) {
        self.ws.threads = threads.max(1);
    }
}
