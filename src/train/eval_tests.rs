//! The evaluation against candle: the fused evaluation of a trained
//! network and the initial (untrained) one, recomputed with candle ops.

use super::*;
use crate::data::Split;
use crate::model::Mode;
use crate::plan::Plan;
use candle_core::{D, DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

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
        let e = crate::testkit::study(src);
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
        let (ours, _) = evaluate(&mut fused, &data, cfg.train.l2).unwrap();
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

/// The initial evaluation is that of the network before any update:
/// rebuilt here from the trial's init stream and evaluated through candle
/// ops (`candle_evaluate`), for classification with dropout (evaluation
/// has it off), maxout, and regression. Catches it taken after the first
/// epoch, with dropout on, on the wrong split, or not stored.
#[test]
fn the_initial_evaluation_is_the_untrained_network() {
    for src in [
        "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 12\ndropout = 0.3\n[train]\nepochs = 2\neval_every = 1\nl2 = 0.01\n",
        "[data]\npoints_per_class = 40\n[model]\nwidth = 5\nactivation = \"maxout\"\n[train]\nepochs = 1\n",
        "[data]\nkind = \"sine\"\npoints = 90\n[model]\nwidth = 7\nactivation = \"tanh\"\n[train]\nepochs = 1\n",
    ] {
        let e = crate::testkit::study(src);
        let t = &Plan::new(&e).unwrap().trials[0];
        let data = crate::data::load(&t.config.data).unwrap();
        let r = run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap();
        let got = r.initial.expect("stored");
        let model = crate::train::initial_model(t, &data).unwrap();
        let d = data.n_features;
        let train = to_tensors(&data.train, d).unwrap();
        let val = data.val.as_ref().map(|v| to_tensors(v, d).unwrap());
        let want = candle_evaluate(&model, &train, val.as_ref(), t.config.train.l2).unwrap();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        assert!(
            close(got.train_loss, want.train_loss),
            "{src}: {got:?} vs {want:?}"
        );
        assert!(
            close(got.val_loss.unwrap(), want.val_loss.unwrap()),
            "{src}"
        );
        assert!(close(got.weight_norm, want.weight_norm) && close(got.l2_term, want.l2_term));
        assert_eq!(got.train_acc.is_some(), want.train_acc.is_some());
        assert!(close(
            got.train_acc.unwrap_or(0.0),
            want.train_acc.unwrap_or(0.0)
        ));
        assert_eq!(got.dead_fraction, want.dead_fraction, "{src}");
        // And it is not the first epoch's evaluation.
        assert_ne!(Some(got), r.curve[0].eval);
    }
}
