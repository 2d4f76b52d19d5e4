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
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Targets};
use crate::fused::Fused;
use crate::model::{Mlp, ParamCount};
use crate::plan::{FORMAT_VERSION, Trial};

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
    /// NaN in the epoch where a trial diverged: JSON has no NaN, so it is
    /// written as `null` and read back as NaN.
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
    /// Per-epoch curve.
    pub curve: Vec<CurvePoint>,
    /// Seconds the trial took (not part of any table: it varies run to run).
    pub wall_time_s: f64,
    /// Predicted classes on a grid over the training data, for 2-D
    /// classification data (the decision-boundary figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Boundary>,
}

/// Predicted classes on a `res × res` grid covering the training points
/// (padded by 10%). `classes[row·res + col]` is the class digit of the
/// cell whose lower-left corner is (x.0 + col·dx, y.0 + row·dy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
            curve: Vec::new(),
            wall_time_s: 0.0,
            boundary: None,
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
    let start = Instant::now();
    let params = crate::model::params_for(&trial.config.model, data.n_features, data.n_outputs);
    let mut record = TrialRecord::new(trial, params);
    match train(trial, data, &mut record, progress, threads) {
        Ok(true) => {}
        Ok(false) => return None,
        Err(e) => {
            record.status = Status::Failed;
            record.message = Some(e.to_string());
            record.metrics = None;
        }
    }
    record.wall_time_s = start.elapsed().as_secs_f64();
    Some(record)
}

/// Returns `Ok(false)` when the progress callback abandoned the trial.
fn train(
    trial: &Trial,
    data: &Dataset,
    record: &mut TrialRecord,
    progress: Progress,
    threads: Threads,
) -> Result<bool> {
    let cfg = &trial.config;
    let spec = &cfg.train;
    let mut rng = ChaCha8Rng::seed_from_u64(trial.seed);
    let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng)?;
    let n = data.train.len();
    let batch = spec.batch_size.unwrap_or(n).min(n);
    // The whole step (forward, backward, update) is one fused candle op.
    let mut fused = Fused::new(&model, spec, &data.train)?;
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut last_eval = None;
    for epoch in 1..=spec.epochs {
        fused.set_threads(threads());
        // Shuffle (Fisher–Yates) from the trial's RNG; full batch needs none.
        if batch < n {
            for i in (1..n).rev() {
                order.swap(i, rng.random_range(0..=i));
            }
        }
        let mut sum = 0.0f64;
        for chunk in order.chunks(batch) {
            let loss = fused.step(chunk, &mut rng)?;
            sum += f64::from(loss) * chunk.len() as f64;
        }
        let batch_loss = sum / n as f64;
        if !batch_loss.is_finite() {
            record.status = Status::Diverged;
            record.diverged_epoch = Some(epoch);
            record.curve.push(CurvePoint {
                epoch,
                batch_loss,
                eval: None,
            });
            progress(epoch, spec.epochs, batch_loss);
            return Ok(true);
        }
        let eval = if epoch % spec.eval_every == 0 || epoch == spec.epochs {
            let m = evaluate(&mut fused, data, spec.l2)?;
            if !m.is_finite() {
                record.status = Status::Diverged;
                record.diverged_epoch = Some(epoch);
                record.curve.push(CurvePoint {
                    epoch,
                    batch_loss,
                    eval: None,
                });
                return Ok(true);
            }
            Some(m)
        } else {
            None
        };
        last_eval = eval.or(last_eval);
        record.curve.push(CurvePoint {
            epoch,
            batch_loss,
            eval,
        });
        if !progress(epoch, spec.epochs, batch_loss) {
            return Ok(false);
        }
    }
    record.metrics = last_eval;
    record.boundary = boundary(&mut fused, data)?;
    Ok(true)
}

/// Evaluate on both splits without dropout, through the fused kernels.
fn evaluate(fused: &mut Fused, data: &Dataset, l2: f64) -> Result<Metrics> {
    let train = fused.evaluate(&data.train)?;
    let val = data.val.as_ref().map(|v| fused.evaluate(v)).transpose()?;
    let sq = fused.weight_sq()?;
    let dead_fraction = (!train.peaks.is_empty()).then(|| {
        let units: usize = train.peaks.iter().map(Vec::len).sum();
        let dead = train.peaks.iter().flatten().filter(|p| **p == 0.0).count();
        dead as f64 / units as f64
    });
    Ok(Metrics {
        train_loss: train.loss,
        val_loss: val.as_ref().map(|v| v.loss),
        train_acc: train.accuracy,
        val_acc: val.as_ref().and_then(|v| v.accuracy),
        l2_term: 0.5 * l2 * sq,
        weight_norm: sq.sqrt(),
        dead_fraction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::from_str;
    use crate::plan::Plan;
    use std::path::Path;

    use crate::data::Split;
    use crate::model::Mode;
    use candle_core::{D, DType, Device, Tensor};

    struct Tensors {
        x: Tensor,
        y: Tensor,
    }

    fn to_tensors(s: &Split, d: usize) -> Result<Tensors> {
        let n = s.len();
        let x = Tensor::from_vec(s.x.clone(), (n, d), &Device::Cpu)?;
        let y = match &s.y {
            Targets::Classes(c) => Tensor::from_vec(c.clone(), n, &Device::Cpu)?,
            Targets::Values(v) => Tensor::from_vec(v.clone(), (n, 1), &Device::Cpu)?,
        };
        Ok(Tensors { x, y })
    }

    fn data_loss(out: &Tensor, y: &Tensor) -> Result<Tensor> {
        if y.dtype() == DType::U32 {
            candle_nn::loss::cross_entropy(out, y)
        } else {
            candle_nn::loss::mse(out, y)
        }
    }

    fn scalar(t: &Tensor) -> Result<f64> {
        Ok(f64::from(t.to_dtype(DType::F32)?.to_scalar::<f32>()?))
    }

    fn accuracy(out: &Tensor, y: &Tensor) -> Result<Option<f64>> {
        if y.dtype() != DType::U32 {
            return Ok(None);
        }
        let hits = out
            .argmax(D::Minus1)?
            .eq(y)?
            .to_dtype(DType::F32)?
            .mean_all()?;
        Ok(Some(scalar(&hits)?))
    }

    /// The reference: evaluation through candle ops on the `Mlp`.
    fn candle_evaluate(
        model: &Mlp,
        train: &Tensors,
        val: Option<&Tensors>,
        l2: f64,
    ) -> Result<Metrics> {
        let (out, hidden) = model.forward_all(&train.x, Mode::Eval)?;
        let train_loss = scalar(&data_loss(&out, &train.y)?)?;
        let train_acc = accuracy(&out, &train.y)?;
        let (val_loss, val_acc) = match val {
            Some(v) => {
                let out = model.forward(&v.x, Mode::Eval)?;
                (
                    Some(scalar(&data_loss(&out, &v.y)?)?),
                    accuracy(&out, &v.y)?,
                )
            }
            None => (None, None),
        };
        let mut sq = 0.0;
        for layer in &model.layers {
            sq += scalar(&layer.w.as_tensor().sqr()?.sum_all()?)?;
        }
        let dead_fraction = if hidden.is_empty() {
            None
        } else {
            let (mut dead, mut total) = (0usize, 0usize);
            for h in &hidden {
                let peak = h.abs()?.max(0)?.to_vec1::<f32>()?;
                dead += peak.iter().filter(|v| **v == 0.0).count();
                total += peak.len();
            }
            Some(dead as f64 / total as f64)
        };
        Ok(Metrics {
            train_loss,
            val_loss,
            train_acc,
            val_acc,
            l2_term: 0.5 * l2 * sq,
            weight_norm: sq.sqrt(),
            dead_fraction,
        })
    }

    /// The fused evaluation (chunks of 256 through the training kernels)
    /// gives candle's numbers on the same network, and the same predicted
    /// classes on the decision-region grid.
    #[test]
    fn fused_evaluation_matches_candle() {
        for src in [
            "[data]\npoints_per_class = 150\n[model]\ndepth = 2\nwidth = 24\n[train]\nl2 = 0.01\n",
            "[data]\npoints_per_class = 150\n[model]\ndepth = 1\nwidth = 9\nactivation = \"maxout\"\npieces = 3\n",
            "[data]\nkind = \"sine\"\npoints = 700\n[model]\nwidth = 30\nactivation = \"tanh\"\n[train]\nlr = 0.01\n",
            "[data]\nkind = \"digits\"\n[model]\ndepth = 2\nwidth = 16\ndropout = 0.3\n",
        ] {
            let e = from_str(&format!("name = \"f\"\n{src}"), Path::new("s.toml"), &[]).unwrap();
            let cfg = e.config_at(&e.coords(0)).unwrap();
            let data = crate::data::load(&cfg.data).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
            let mut fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
            // Train a little, so units die and the outputs are not all alike.
            let n = data.train.len() as u32;
            let rows: Vec<u32> = (0..n).map(|i| (i * 7919) % n).collect();
            for chunk in rows.chunks(32).cycle().take(400) {
                fused.step(chunk, &mut rng).unwrap();
            }
            fused.write_back(&model).unwrap();
            let d = data.n_features;
            let ours = evaluate(&mut fused, &data, cfg.train.l2).unwrap();
            let train = to_tensors(&data.train, d).unwrap();
            let val = data.val.as_ref().map(|v| to_tensors(v, d).unwrap());
            let want = candle_evaluate(&model, &train, val.as_ref(), cfg.train.l2).unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
            assert!(
                close(ours.train_loss, want.train_loss),
                "{src}: {ours:?} vs {want:?}"
            );
            assert!(
                close(ours.val_loss.unwrap(), want.val_loss.unwrap()),
                "{src}"
            );
            assert!(close(ours.l2_term, want.l2_term) && close(ours.weight_norm, want.weight_norm));
            // candle averages in f32, we count: equal to f32 precision.
            for (a, b) in [
                (ours.train_acc, want.train_acc),
                (ours.val_acc, want.val_acc),
            ] {
                assert_eq!(a.is_some(), b.is_some(), "{src}");
                assert!(
                    close(a.unwrap_or(0.0), b.unwrap_or(0.0)),
                    "{src}: {a:?} vs {b:?}"
                );
            }
            assert_eq!(ours.dead_fraction, want.dead_fraction, "{src}");
            if d == 2 && ours.train_acc.is_some() {
                let ours = boundary(&mut fused, &data).unwrap().unwrap();
                let grid: Vec<f32> = (0..ours.res * ours.res)
                    .flat_map(|c| {
                        let (row, col) = ((c / ours.res) as f64, (c % ours.res) as f64);
                        let dx = (ours.x.1 - ours.x.0) / ours.res as f64;
                        let dy = (ours.y.1 - ours.y.0) / ours.res as f64;
                        [
                            (ours.x.0 + (col + 0.5) * dx) as f32,
                            (ours.y.0 + (row + 0.5) * dy) as f32,
                        ]
                    })
                    .collect();
                let input = Tensor::from_vec(grid, (ours.res * ours.res, 2), &Device::Cpu).unwrap();
                let want: String = model
                    .forward(&input, Mode::Eval)
                    .unwrap()
                    .argmax(D::Minus1)
                    .unwrap()
                    .to_vec1::<u32>()
                    .unwrap()
                    .iter()
                    .map(|c| char::from(b'0' + *c as u8))
                    .collect();
                assert_eq!(ours.classes, want, "{src}");
            }
        }
    }

    fn run(src: &str) -> Vec<TrialRecord> {
        let e = from_str(&format!("name = \"t\"\n{src}"), Path::new("s.toml"), &[]).unwrap();
        let plan = Plan::new(&e).unwrap();
        plan.trials
            .iter()
            .map(|t| {
                let data = crate::data::load(&t.config.data).unwrap();
                run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap()
            })
            .collect()
    }

    /// Decision regions cover the training points' range padded by 10% on
    /// each side (computed here from the data), on a 60 × 60 grid, and are
    /// stored for 2-D classification with at most 10 classes only: not for
    /// 1-D or 3-D inputs, 11 classes, or 2-D regression. The classes at
    /// the cell centres are checked against candle in
    /// `fused_evaluation_matches_candle`. Catches a wrong padding and a
    /// wrong condition (`||` for `&&`, `>=` for `>`).
    #[test]
    fn decision_regions_cover_the_padded_range_of_2d_classification_only() {
        let src = "[data]\npoints_per_class = 40\n[model]\nwidth = 8\n[train]\nepochs = 2\n";
        let r = &run(src)[0];
        let b = r.boundary.as_ref().expect("2-D classification has regions");
        let e = from_str(&format!("name = \"t\"\n{src}"), Path::new("s.toml"), &[]).unwrap();
        let data = crate::data::load(&e.config_at(&e.coords(0)).unwrap().data).unwrap();
        for (k, got) in [(0, b.x), (1, b.y)] {
            let v: Vec<f64> = data
                .train
                .x
                .iter()
                .skip(k)
                .step_by(2)
                .map(|v| f64::from(*v))
                .collect();
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let want = (lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo));
            assert!(
                (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
                "axis {k}: {got:?} vs {want:?}"
            );
        }
        assert_eq!(b.res, 60);
        assert_eq!(b.classes.len(), 60 * 60);
        assert!(b.classes.bytes().all(|c| (b'0'..b'3').contains(&c)));

        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("plane.csv");
        std::fs::write(
            &csv,
            "a,b,y\n0,0,0.5\n1,0,1.5\n0,1,2.5\n1,1,3.5\n0.5,0.5,1\n",
        )
        .unwrap();
        let regions = |data: &str| {
            run(&format!("[data]\n{data}\n[train]\nepochs = 1\n"))[0]
                .boundary
                .is_some()
        };
        assert!(regions(
            "kind = \"blobs\"\nclasses = 10\npoints_per_class = 5"
        ));
        for data in [
            "kind = \"blobs\"\nclasses = 11\npoints_per_class = 5".to_string(),
            "kind = \"blobs\"\ndims = 3\npoints_per_class = 5".to_string(),
            "kind = \"sine\"\npoints = 20".to_string(),
            format!(
                "kind = \"csv\"\npath = {:?}\ntask = \"regression\"\nval = \"none\"",
                csv.to_str().unwrap()
            ),
        ] {
            assert!(!regions(&data), "{data}");
        }
    }

    /// A record is stored as finished only when every number is finite:
    /// an evaluation with an infinite or NaN loss, L2 term or norm means the
    /// network diverged (and JSON could not store it). Catches
    /// `is_finite` always answering true.
    #[test]
    fn metrics_with_a_non_finite_number_are_not_finite() {
        let m = Metrics {
            train_loss: 0.5,
            val_loss: Some(0.6),
            train_acc: Some(0.9),
            val_acc: Some(0.8),
            l2_term: 0.01,
            weight_norm: 3.0,
            dead_fraction: Some(0.0),
        };
        assert!(m.is_finite());
        assert!(
            Metrics {
                val_loss: None,
                ..m
            }
            .is_finite()
        );
        for bad in [
            Metrics {
                train_loss: f64::NAN,
                ..m
            },
            Metrics {
                val_loss: Some(f64::INFINITY),
                ..m
            },
            Metrics {
                l2_term: f64::INFINITY,
                ..m
            },
            Metrics {
                weight_norm: f64::NAN,
                ..m
            },
        ] {
            assert!(!bad.is_finite(), "{bad:?}");
        }
    }

    #[test]
    fn a_diverged_trial_is_recorded_and_its_record_parses_back() {
        // Regression with a learning rate far too large: the loss overflows.
        let r =
            &run("[data]\nkind = \"sine\"\n[model]\nwidth = 40\n[train]\nlr = 0.2\nepochs = 50\n")
                [0];
        assert_eq!(r.status, Status::Diverged);
        let epoch = r.diverged_epoch.expect("the epoch it diverged in");
        assert!(epoch > 1, "diverged at once");
        assert_eq!(r.curve.last().map(|p| p.epoch), Some(epoch));
        assert!(r.metrics.is_none());
        // JSON has no NaN: the diverged epoch's loss is written as null and
        // must read back (as NaN), or resume would retrain the trial forever.
        let line = serde_json::to_string(r).unwrap();
        assert!(line.contains("\"batch_loss\":null"), "{line}");
        let back: TrialRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back.status, Status::Diverged);
        assert!(back.curve.last().unwrap().batch_loss.is_nan());
        let n = r.curve.len();
        assert_eq!(back.curve[..n - 1], r.curve[..n - 1]);
    }

    #[test]
    fn training_lowers_the_loss() {
        let r = &run("[model]\ndepth = 1\nwidth = 32\n[train]\nepochs = 30\neval_every = 1\n")[0];
        assert_eq!(r.status, Status::Ok);
        let first = r.curve[0].eval.unwrap().train_loss;
        let last = r.metrics.unwrap().train_loss;
        assert!(last < 0.8 * first, "loss {first} -> {last}");
        assert_eq!(r.curve.len(), 30);
    }

    #[test]
    fn two_hidden_layers_fit_the_spiral() {
        let r = &run(
            "[model]\ndepth = 2\nwidth = 64\n[train]\nlr = 0.1\nmomentum = 0.9\nbatch_size = 32\nepochs = 300\n",
        )[0];
        let acc = r.metrics.unwrap().train_acc.unwrap();
        assert!(acc >= 0.95, "train accuracy {acc}");
    }

    #[test]
    fn l2_shrinks_the_weights() {
        let recs = run("[model]\nwidth = 32\n[train]\nepochs = 60\n[grid]\nl2 = [0.0, 0.1]\n");
        let (free, reg) = (recs[0].metrics.unwrap(), recs[1].metrics.unwrap());
        assert!(
            reg.weight_norm < 0.7 * free.weight_norm,
            "{} vs {}",
            reg.weight_norm,
            free.weight_norm
        );
        assert_eq!(free.l2_term, 0.0);
        assert!(
            (reg.l2_term - 0.5 * 0.1 * reg.weight_norm.powi(2)).abs() < 1e-6 * reg.l2_term.max(1.0)
        );
    }

    #[test]
    fn same_trial_gives_identical_records() {
        let src = "[model]\nwidth = 16\ndropout = 0.3\n[train]\nepochs = 10\n";
        let (mut a, mut b) = (run(src).remove(0), run(src).remove(0));
        a.wall_time_s = 0.0;
        b.wall_time_s = 0.0;
        assert_eq!(a, b);
    }

    #[test]
    fn a_huge_learning_rate_diverges_and_is_recorded() {
        let r = &run(
            "[data]\nkind = \"sine\"\n[model]\nwidth = 64\n[train]\nlr = 1e6\nmomentum = 0.0\nepochs = 50\n",
        )[0];
        assert_eq!(r.status, Status::Diverged);
        assert!(r.diverged_epoch.is_some() && r.metrics.is_none());
    }

    #[test]
    fn regression_and_adam_and_every_activation_train() {
        for act in ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"] {
            let r = &run(&format!(
                "[data]\nkind = \"sine\"\n[model]\nwidth = 32\nactivation = \"{act}\"\n[train]\noptimizer = \"adam\"\nlr = 0.01\nepochs = 100\n"
            ))[0];
            let m = r.metrics.unwrap();
            assert!(m.train_acc.is_none());
            assert!(m.train_loss < 0.25, "{act}: mse {}", m.train_loss);
        }
    }
}
