//! One trial: initialise, train with minibatch SGD (momentum, Nesterov) or
//! Adam, evaluate, and return a [`TrialRecord`].
//!
//! The loss is the mean data loss (softmax cross-entropy, or MSE for
//! regression) plus 0.5·λ·Σ‖W‖² over weight matrices only. Each step runs
//! as one fused op (`fused.rs`), which adds the L2 gradient λ·W inside the
//! optimiser update; evaluation passes the splits forward through the same
//! kernels in chunks (tested against candle ops on the `Mlp`).
//! Tables report the data loss; the L2 term is reported beside it.
//!
//! Everything random (init, shuffles, dropout masks) draws from one
//! `ChaCha8Rng` seeded by the trial seed, in a fixed order, so a trial's
//! numbers depend on its configuration and seed only.

use std::time::Instant;

use candle_core::Result;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Targets};
use crate::fused::Fused;
use crate::model::{Mlp, ParamCount};
use crate::plan::{FORMAT_VERSION, Trial};
use crate::telemetry::{self, LayerActivations, Telemetry};
use epochs::Ended;

/// How a trial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Trained for every epoch.
    Ok,
    /// The loss became NaN or infinite; training stopped.
    Diverged,
    /// An error or a panic; see the message.
    Failed,
}

/// Metrics of a network on the training and validation splits (evaluation
/// mode: no dropout).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Mean data loss on the training split (without the L2 term).
    pub train_loss: f64,
    /// Mean data loss on the validation split.
    pub val_loss: Option<f64>,
    /// Training accuracy (classification).
    pub train_acc: Option<f64>,
    /// Validation accuracy (classification).
    pub val_acc: Option<f64>,
    /// 0.5·λ·Σ‖W‖².
    pub l2_term: f64,
    /// sqrt(Σ‖W‖²) over all weight matrices.
    pub weight_norm: f64,
    /// Share of hidden units that output 0 for every training point.
    pub dead_fraction: Option<f64>,
}

/// One point of a training curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Epoch, 1-based.
    pub epoch: usize,
    /// Mean minibatch data loss over the epoch (training mode, dropout on).
    /// NaN or infinite in the epoch where a trial diverged: the packed curve
    /// keeps its bits; the old format wrote it as `null` (JSON has no NaN),
    /// read back as NaN.
    #[serde(deserialize_with = "null_as_nan")]
    pub batch_loss: f64,
    /// Full evaluation, every `eval_every` epochs and at the last one.
    pub eval: Option<Metrics>,
}

/// Read `null` (how serde_json writes a non-finite float) as NaN, so a
/// diverged trial's record parses back instead of being taken for a torn line.
fn null_as_nan<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Metrics {
    /// Whether every number is finite. A network whose evaluation is not
    /// has diverged (and JSON could not store the number anyway).
    pub fn is_finite(&self) -> bool {
        [self.train_loss, self.l2_term, self.weight_norm]
            .into_iter()
            .chain(self.val_loss)
            .all(f64::is_finite)
    }
}

/// What a finished trial leaves behind: one line of `trials.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Result format version.
    pub format: u32,
    /// The trial's content id.
    pub id: String,
    /// Position in the plan when it ran.
    pub index: usize,
    /// Replicate seed.
    pub seed: u64,
    /// How it ended.
    pub status: Status,
    /// Failure message, for `failed`.
    pub message: Option<String>,
    /// Epoch at which the loss stopped being finite, for `diverged`.
    pub diverged_epoch: Option<usize>,
    /// Parameter counts.
    pub params: ParamCount,
    /// Final metrics, for `ok`.
    pub metrics: Option<Metrics>,
    /// The evaluation before the first update (epoch 0 of the curves);
    /// `None` in records written before it existed, and when the initial
    /// network's loss is not finite (JSON could not hold it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Metrics>,
    /// Per-epoch curve (stored as packed columns, see `record`; in
    /// `trials.bin` for lines that name an entry there, so absent from them).
    #[serde(with = "record::curve", default, skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<CurvePoint>,
    /// Seconds the trial took (not part of any table: it varies run to run).
    pub wall_time_s: f64,
    /// Predicted classes on a grid over the training data, for 2-D
    /// classification data (the decision-boundary figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Boundary>,
    /// Epochs trained when a successive-halving rung stopped the trial
    /// before `train.epochs` (its metrics are at that epoch); absent when
    /// it trained every epoch, so a trial promoted to the last rung has
    /// the record of a plain run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs_trained: Option<usize>,
    /// Activation statistics, update-to-weight ratios and weight sparsity
    /// at the evaluation epochs (`telemetry.rs`); `None` in records written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telemetry: Option<Telemetry>,
    /// The final network's validation predictions (class probabilities, or
    /// outputs), for the ensembles of the report; absent without a
    /// validation split and in records written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_predictions: Option<crate::predictions::Predictions>,
}

/// Where a trial's training stands after `epoch` epochs: everything the
/// next epoch reads, so that continuing from it is bit-identical to never
/// having stopped (`checkpoint.rs` stores it).
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// Epochs trained.
    pub epoch: usize,
    /// Optimiser steps taken (Adam's bias correction).
    pub t: i32,
    /// The flat `[params | m | s]` training state.
    pub state: Vec<f32>,
    /// The minibatch order: each epoch shuffles the previous one in place.
    pub order: Vec<u32>,
    /// Word position of the order stream's generator.
    pub order_pos: u128,
    /// Word position of the dropout stream's generator.
    pub dropout_pos: u128,
    /// The record so far: curve, initial evaluation, metrics at `epoch`.
    pub record: TrialRecord,
}

/// Predicted classes on a `res × res` grid covering the training points
/// (padded by 10%). `classes[row·res + col]` is the class digit of the
/// cell whose lower-left corner is (x.0 + col·dx, y.0 + row·dy). Stored
/// run-length coded (see `record`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "record::BoundaryRepr", try_from = "record::BoundaryRepr")]
pub struct Boundary {
    /// x range.
    pub x: (f64, f64),
    /// y range.
    pub y: (f64, f64),
    /// Cells per side.
    pub res: usize,
    /// One ASCII digit per cell.
    pub classes: String,
}

/// Grid resolution of stored decision regions.
const BOUNDARY_RES: usize = 60;

fn boundary(fused: &mut Fused, data: &Dataset) -> Result<Option<Boundary>> {
    if data.n_features != 2 || data.n_outputs > 10 || !matches!(data.train.y, Targets::Classes(_)) {
        return Ok(None);
    }
    let span = |k: usize| {
        let (lo, hi) = data
            .train
            .x
            .iter()
            .skip(k)
            .step_by(2)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(f64::from(*v)), b.max(f64::from(*v)))
            });
        let pad = 0.1 * (hi - lo).max(1e-6);
        (lo - pad, hi + pad)
    };
    let (x, y) = (span(0), span(1));
    let res = BOUNDARY_RES;
    let mut grid = Vec::with_capacity(res * res * 2);
    for row in 0..res {
        for col in 0..res {
            grid.push((x.0 + (col as f64 + 0.5) * (x.1 - x.0) / res as f64) as f32);
            grid.push((y.0 + (row as f64 + 0.5) * (y.1 - y.0) / res as f64) as f32);
        }
    }
    let classes = fused
        .predict(&grid)?
        .iter()
        .map(|c| char::from(b'0' + *c as u8))
        .collect();
    Ok(Some(Boundary { x, y, res, classes }))
}

impl TrialRecord {
    /// An empty `ok` record for `trial`, before training fills it in.
    pub fn new(trial: &Trial, params: ParamCount) -> TrialRecord {
        TrialRecord {
            format: FORMAT_VERSION,
            id: trial.id.clone(),
            index: trial.index,
            seed: trial.seed,
            status: Status::Ok,
            message: None,
            diverged_epoch: None,
            params,
            metrics: None,
            initial: None,
            curve: Vec::new(),
            wall_time_s: 0.0,
            boundary: None,
            epochs_trained: None,
            telemetry: None,
            val_predictions: None,
        }
    }
}

/// Per-epoch progress: (epoch, epochs, mean minibatch loss). Returning
/// `false` abandons the trial (Ctrl-C, or another trial failed under
/// `--fail-fast`).
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, f64) -> bool;

/// How many threads of the current rayon pool the trial's matrix products
/// may use, asked at the start of every epoch (the scheduler hands idle
/// cores to the trials still running). Results do not depend on it.
pub type Threads<'a> = &'a dyn Fn() -> usize;

/// Train one trial to the end and return its record, or `None` when the
/// progress callback abandoned it. Errors inside training become a
/// `failed` record; only panics escape (the scheduler catches them).
pub fn run_trial(
    trial: &Trial,
    data: &Dataset,
    progress: Progress,
    threads: Threads,
) -> Option<TrialRecord> {
    let epochs = trial.config.train.epochs;
    run(trial, data, None, epochs, false, progress, threads).map(|(r, _)| r)
}

/// Train `trial` from `from` (or from the start) up to epoch `until`, as
/// the first `until` epochs of the full run (the schedule still spans
/// `train.epochs`), and return its record with the metrics at `until`,
/// and the snapshot to continue from (for an `ok` trial). Evaluations at
/// a stop that a plain run would not make give the record's metrics but
/// stay out of the curve, so the curve is always the plain run's.
pub fn run_trial_to(
    trial: &Trial,
    data: &Dataset,
    from: Option<Snapshot>,
    until: usize,
    progress: Progress,
    threads: Threads,
) -> Option<(TrialRecord, Option<Snapshot>)> {
    run(trial, data, from, until, true, progress, threads)
}

/// [`run_trial_to`], taking the snapshot only when `keep`: a plain run
/// never continues, so it skips copying the state and the record.
fn run(
    trial: &Trial,
    data: &Dataset,
    from: Option<Snapshot>,
    until: usize,
    keep: bool,
    progress: Progress,
    threads: Threads,
) -> Option<(TrialRecord, Option<Snapshot>)> {
    let start = Instant::now();
    let params = crate::model::params_for(&trial.config.model, data.n_features, data.n_outputs);
    let mut record = TrialRecord::new(trial, params);
    let mut snapshot = None;
    match epochs::train(
        trial,
        data,
        &mut record,
        from,
        until,
        keep,
        progress,
        threads,
    ) {
        Ok(Ended::Stopped(s)) => snapshot = s,
        Ok(Ended::Abandoned) => return None,
        Err(e) => {
            record.status = Status::Failed;
            record.message = Some(e.to_string());
            record.metrics = None;
            record.epochs_trained = None;
        }
    }
    record.wall_time_s += start.elapsed().as_secs_f64();
    if let Some(s) = snapshot.as_mut() {
        s.record.wall_time_s = record.wall_time_s;
    }
    Some((record, snapshot))
}

/// `trial`'s network as initialised, before any update: drawn from its
/// init stream, sized for `data`. Training, the gradient check and the
/// tests that rebuild a trial all start here.
pub fn initial_model(trial: &Trial, data: &Dataset) -> Result<Mlp> {
    Mlp::new(
        &trial.config.model,
        data.n_features,
        data.n_outputs,
        &mut trial.seeds.init_rng(),
    )
}

/// Evaluate on both splits without dropout, through the fused kernels;
/// also the activation statistics of the training split, per hidden layer.
fn evaluate(
    fused: &mut Fused,
    data: &Dataset,
    l2: f64,
) -> Result<(Metrics, Vec<LayerActivations>)> {
    let train = fused.evaluate_with_stats(&data.train)?;
    let acts = telemetry::activations(fused.shape(), &train);
    let val = data.val.as_ref().map(|v| fused.evaluate(v)).transpose()?;
    let sq = fused.weight_sq()?;
    let dead_fraction = (!train.peaks.is_empty()).then(|| {
        let units: usize = train.peaks.iter().map(Vec::len).sum();
        let dead = train.peaks.iter().flatten().filter(|p| **p == 0.0).count();
        dead as f64 / units as f64
    });
    let metrics = Metrics {
        train_loss: train.loss,
        val_loss: val.as_ref().map(|v| v.loss),
        train_acc: train.accuracy,
        val_acc: val.as_ref().and_then(|v| v.accuracy),
        l2_term: 0.5 * l2 * sq,
        weight_norm: sq.sqrt(),
        dead_fraction,
    };
    Ok((metrics, acts))
}

mod epochs;
pub(crate) mod record;
mod value;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod eval_tests;
