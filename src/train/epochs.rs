//! One trial's epoch loop, in named steps: start (or resume from a
//! snapshot), one epoch, finish. Every draw and update happens in the order
//! the regression pins (`pinned.rs`) hold; the steps only name the parts.

use candle_core::Result;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{
    CurvePoint, Metrics, Progress, Snapshot, Status, Threads, TrialRecord, boundary, evaluate,
    initial_model,
};
use crate::data::Dataset;
use crate::fused::Fused;
use crate::plan::Trial;
use crate::study::TrainSpec;
use crate::telemetry::{self, LayerActivations, Telemetry};

/// How the epoch loop ended (one value a trial, moved once: its size
/// does not matter).
#[allow(clippy::large_enum_variant)]
pub(super) enum Ended {
    /// The progress callback abandoned the trial.
    Abandoned,
    /// Trained to the stop, or diverged: the snapshot to continue from,
    /// when one was asked for and the trial is `ok`.
    Stopped(Option<Snapshot>),
}

/// What one epoch did.
enum Epoch {
    /// Trained; the epoch's mean minibatch loss.
    Trained(f64),
    /// Diverged (already recorded); the minibatch loss when it is the
    /// step's loss that stopped being finite, which progress still hears.
    Diverged(Option<f64>),
}

/// Train `trial` into `record` from `from` (or the start) up to epoch
/// `until`, and keep the snapshot there when `keep`.
#[allow(clippy::too_many_arguments)]
pub(super) fn train(
    trial: &Trial,
    data: &Dataset,
    record: &mut TrialRecord,
    from: Option<Snapshot>,
    until: usize,
    keep: bool,
    progress: Progress,
    threads: Threads,
) -> Result<Ended> {
    let spec = &trial.config.train;
    let mut run = Run::start(trial, data, record, from, threads)?;
    let until = until.min(spec.epochs);
    for epoch in run.first..=until {
        match run.epoch(spec, data, record, epoch, until, threads)? {
            Epoch::Trained(loss) => {
                if !progress(epoch, spec.epochs, loss) {
                    return Ok(Ended::Abandoned);
                }
            }
            Epoch::Diverged(loss) => {
                if let Some(loss) = loss {
                    progress(epoch, spec.epochs, loss);
                }
                return Ok(Ended::Stopped(None));
            }
        }
    }
    run.finish(trial, data, record, until, keep)
        .map(Ended::Stopped)
}

/// What the loop carries from one epoch to the next.
struct Run<'a> {
    /// The whole step (forward, backward, update) as one fused candle op;
    /// it borrows the training split.
    fused: Fused<'a>,
    /// The minibatch order: each epoch shuffles the previous one in place.
    order: Vec<u32>,
    /// One generator per source (streams.rs): varying one seed leaves the
    /// other sources' draws unchanged.
    order_rng: ChaCha8Rng,
    dropout_rng: ChaCha8Rng,
    /// Rows per minibatch.
    batch: usize,
    /// The first epoch still to train (1-based).
    first: usize,
    tele: Telemetry,
    /// The latest evaluation, the record's metrics at the stop.
    last_eval: Option<Metrics>,
}

impl<'a> Run<'a> {
    /// The initial network and its streams, then either the epoch-0
    /// evaluation or the state of the snapshot `from`.
    fn start(
        trial: &Trial,
        data: &'a Dataset,
        record: &mut TrialRecord,
        from: Option<Snapshot>,
        threads: Threads,
    ) -> Result<Run<'a>> {
        let spec = &trial.config.train;
        let order_rng = trial.seeds.order_rng();
        let dropout_rng = trial.seeds.dropout_rng();
        let model = initial_model(trial, data)?;
        let n = data.train.len();
        let batch = spec.batch.rows(n);
        let mut fused = Fused::new(&model, spec, &data.train)?;
        fused.set_threads(threads());
        let mut run = Run {
            fused,
            order: (0..n as u32).collect(),
            order_rng,
            dropout_rng,
            batch,
            first: 1,
            tele: Telemetry::default(),
            last_eval: None,
        };
        match from {
            None => run.initial(data, spec.l2, record)?,
            Some(s) => run.resume(s, trial, record)?,
        }
        Ok(run)
    }

    /// Epoch 0: one forward pass over each split, before any update. It
    /// draws nothing from a generator and writes only evaluation scratch,
    /// so every trained number is as without it (the pins hold).
    fn initial(&mut self, data: &Dataset, l2: f64, record: &mut TrialRecord) -> Result<()> {
        let (initial, acts) = evaluate(&mut self.fused, data, l2)?;
        record.initial = Some(initial).filter(Metrics::is_finite);
        if record.initial.is_some() {
            self.tele.initial = acts;
        }
        Ok(())
    }

    /// Continue: the state, the step counter, the order as the last epoch
    /// left it and both generators where they stopped.
    fn resume(&mut self, s: Snapshot, trial: &Trial, record: &mut TrialRecord) -> Result<()> {
        if s.order.len() != self.order.len() || s.record.id != trial.id {
            candle_core::bail!("the checkpoint is of another trial");
        }
        self.fused.restore(s.state, s.t)?;
        self.order = s.order;
        self.order_rng.set_word_pos(s.order_pos);
        self.dropout_rng.set_word_pos(s.dropout_pos);
        self.first = s.epoch + 1;
        record.wall_time_s = s.record.wall_time_s;
        record.curve = s.record.curve;
        record.initial = s.record.initial;
        self.tele = s.record.telemetry.unwrap_or_default();
        self.last_eval = record.curve.iter().rev().find_map(|p| p.eval);
        Ok(())
    }

    /// Train epoch `epoch` and evaluate when the plan says so or the run
    /// stops here; a loss that stops being finite ends the trial.
    fn epoch(
        &mut self,
        spec: &TrainSpec,
        data: &Dataset,
        record: &mut TrialRecord,
        epoch: usize,
        until: usize,
        threads: Threads,
    ) -> Result<Epoch> {
        self.fused.set_threads(threads());
        // The schedule's rate for this epoch (from 0); lr itself without one.
        self.fused
            .set_lr(spec.schedule.rate(spec.lr, epoch - 1, spec.epochs));
        self.shuffle();
        let planned = epoch.is_multiple_of(spec.eval_every) || epoch == spec.epochs;
        let (batch_loss, before) = one_epoch(
            &mut self.fused,
            &self.order,
            self.batch,
            &mut self.dropout_rng,
            planned,
        )?;
        if !batch_loss.is_finite() {
            self.diverged(record, epoch, batch_loss);
            return Ok(Epoch::Diverged(Some(batch_loss)));
        }
        let eval = if planned || epoch == until {
            let (m, acts) = evaluate(&mut self.fused, data, spec.l2)?;
            if !m.is_finite() {
                self.diverged(record, epoch, batch_loss);
                return Ok(Epoch::Diverged(None));
            }
            // Telemetry follows the plain run's evaluations only, so a
            // continued trial's record is the plain run's.
            if planned {
                self.telemetry(before, acts)?;
            }
            Some(m)
        } else {
            None
        };
        self.last_eval = eval.or(self.last_eval);
        // A stop's own evaluation gives the metrics, not a curve point.
        let eval = eval.filter(|_| planned);
        record.curve.push(CurvePoint {
            epoch,
            batch_loss,
            eval,
        });
        Ok(Epoch::Trained(batch_loss))
    }

    /// Shuffle (Fisher–Yates) from the order stream; full batch needs none.
    fn shuffle(&mut self) {
        let n = self.order.len();
        if self.batch < n {
            for i in (1..n).rev() {
                self.order.swap(i, self.order_rng.random_range(0..=i));
            }
        }
    }

    /// A planned evaluation's telemetry: the update-to-weight ratio of the
    /// epoch's last step (from the parameters `before` it) and the
    /// activation statistics.
    fn telemetry(&mut self, before: Option<Vec<f32>>, acts: Vec<LayerActivations>) -> Result<()> {
        if let Some(before) = before {
            let layers = &self.fused.shape().layers;
            let after = self.fused.params()?;
            self.tele
                .update_ratio
                .push(telemetry::update_ratios(layers, &before, &after));
        }
        self.tele.activations.push(acts);
        Ok(())
    }

    /// Record that the loss stopped being finite at `epoch`: the trial
    /// stops there, its last curve point without an evaluation.
    fn diverged(&mut self, record: &mut TrialRecord, epoch: usize, batch_loss: f64) {
        record.status = Status::Diverged;
        record.diverged_epoch = Some(epoch);
        record.curve.push(CurvePoint {
            epoch,
            batch_loss,
            eval: None,
        });
        record.telemetry = Some(std::mem::take(&mut self.tele));
    }

    /// The record at the stop: metrics, telemetry, validation predictions,
    /// the decision grid at the end of a first seed; and the snapshot to
    /// continue from when `keep`.
    fn finish(
        mut self,
        trial: &Trial,
        data: &Dataset,
        record: &mut TrialRecord,
        until: usize,
        keep: bool,
    ) -> Result<Option<Snapshot>> {
        record.metrics = self.last_eval;
        self.tele.weight_sparsity =
            telemetry::weight_sparsity(&self.fused.shape().layers, &self.fused.params()?);
        record.telemetry = Some(std::mem::take(&mut self.tele));
        // One forward pass of the validation split; it trains nothing.
        record.val_predictions = crate::predictions::of(&mut self.fused, data)?;
        if until < trial.config.train.epochs {
            record.epochs_trained = Some(until);
        } else if trial.first_seed {
            // A 60 × 60 grid costs far more than a cheap trial's training,
            // and the figures draw only first seeds.
            record.boundary = boundary(&mut self.fused, data)?;
        }
        if !keep {
            return Ok(None);
        }
        let (state, t) = self.fused.snapshot()?;
        Ok(Some(Snapshot {
            epoch: until,
            t,
            state,
            order: self.order,
            order_pos: self.order_rng.get_word_pos(),
            dropout_pos: self.dropout_rng.get_word_pos(),
            record: record.clone(),
        }))
    }
}

/// One pass over the training rows in `order`, minibatches of `batch`;
/// returns the mean minibatch data loss, weighted by batch size, and with
/// `snapshot` the parameters just before the epoch's last step (for the
/// update-to-weight ratio; reading them changes nothing).
pub(super) fn one_epoch(
    fused: &mut Fused,
    order: &[u32],
    batch: usize,
    dropout_rng: &mut ChaCha8Rng,
    snapshot: bool,
) -> Result<(f64, Option<Vec<f32>>)> {
    let mut sum = 0.0f64;
    let steps = order.len().div_ceil(batch);
    let mut before = None;
    for (i, chunk) in order.chunks(batch).enumerate() {
        if snapshot && i + 1 == steps {
            before = Some(fused.params()?);
        }
        let loss = fused.step(chunk, dropout_rng)?;
        sum += f64::from(loss) * chunk.len() as f64;
    }
    Ok((sum / order.len() as f64, before))
}
