//! The training step as one candle in-place op, compiled for AVX-512,
//! AVX2 and baseline x86-64 (the copy is picked at run time), and the
//! denormal switch every trial thread sets.

use std::cell::{Cell, RefCell};

use candle_core::{CpuStorage, InplaceOp1, Layout, Result, bail};
use rand_chacha::ChaCha8Rng;

use super::batch_norm::update_running;
use super::layout::Shape;
use super::optim::update;
use super::pass::forward_backward;
use super::workspace::Workspace;
use crate::data::Targets;
use crate::dispatch::compiled_for_cpu;
use crate::study::TrainSpec;

/// What one step reads besides the state.
#[derive(Clone, Copy)]
pub(super) struct StepInputs<'a> {
    pub(super) shape: &'a Shape,
    pub(super) spec: &'a TrainSpec,
    pub(super) x: &'a [f32],
    pub(super) y: &'a Targets,
    pub(super) rows: &'a [u32],
    /// The step number, 1-based (Adam's bias correction).
    pub(super) t: i32,
}

/// The flat `[params | m | s]` state inside the tensor's storage.
pub(super) fn state_of<'s>(dst: &'s mut CpuStorage, layout: &Layout) -> Result<&'s mut [f32]> {
    let CpuStorage::F32(state) = dst else {
        bail!("the training state must be f32")
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        bail!("the training state must be contiguous")
    };
    Ok(&mut state[start..end])
}

/// The fused step: the op `Fused::step` hands to candle.
pub(super) struct StepOp<'a> {
    pub(super) inputs: StepInputs<'a>,
    pub(super) rng: RefCell<&'a mut ChaCha8Rng>,
    pub(super) ws: RefCell<&'a mut Workspace>,
    pub(super) loss: Cell<f32>,
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

compiled_for_cpu! {
    /// Forward, backward and update, in the copy compiled for the widest
    /// vector unit this CPU has (`crate::dispatch`): every copy computes the
    /// same bits, the wide ones just do more elements per instruction in the
    /// elementwise passes.
    pub(super) fn whole_step(
        op: StepInputs,
        params: &mut [f32],
        moments: &mut [f32],
        stats: &mut [f32],
        rng: &mut ChaCha8Rng,
        ws: &mut Workspace,
    ) -> f32 => step_portable, step_avx512, step_avx2
}

/// The step itself: what every compiled copy runs.
#[inline(always)]
pub(super) fn step_portable(
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
