use super::*;
use crate::fused::Fused;
use crate::model::{Mlp, Mode};
use crate::plan::Plan;
use crate::testkit::study;
use crate::train::run_trial;
use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The reference: per hidden layer, mean, std (ddof 0), saturated and dead
/// shares computed with candle ops on the `Mlp`'s hidden outputs, the
/// saturation straight from the derivative (tanh′ = 1 − a², σ′ = a(1 − a),
/// below 5% of 1 and of ¼ on every row), not through `u`.
fn candle_activations(model: &Mlp, x: &Tensor, act: &str) -> Vec<LayerActivations> {
    let (_, hidden) = model.forward_all(x, Mode::Eval).unwrap();
    hidden
        .iter()
        .map(|h| {
            let h = h.to_dtype(DType::F64).unwrap();
            let mean = h.mean_all().unwrap().to_scalar::<f64>().unwrap();
            let var = h
                .broadcast_sub(&Tensor::new(mean, &Device::Cpu).unwrap())
                .unwrap()
                .sqr()
                .unwrap()
                .mean_all()
                .unwrap()
                .to_scalar::<f64>()
                .unwrap();
            let units = h.dim(1).unwrap() as f64;
            let rows = h.to_vec2::<f64>().unwrap();
            let per_unit = |pred: &dyn Fn(f64) -> bool| {
                (0..rows[0].len())
                    .filter(|&u| rows.iter().all(|r| pred(r[u])))
                    .count() as f64
                    / units
            };
            let (saturated, dead) = match act {
                "tanh" => (Some(per_unit(&|a| 1.0 - a * a < 0.05)), None),
                "sigmoid" => (Some(per_unit(&|a| a * (1.0 - a) < 0.05 * 0.25)), None),
                _ => (None, Some(per_unit(&|a| a == 0.0))),
            };
            LayerActivations {
                mean,
                std: var.sqrt(),
                saturated,
                dead,
            }
        })
        .collect()
}

/// The activation statistics of the fused evaluation (chunks of 256) are
/// candle's on the same network, for every activation, on networks where
/// the shares are neither 0 nor 1 somewhere (checked, so the test cannot
/// pass on all-zero shares; large biases saturate or kill some units).
/// Catches a wrong threshold (‖·‖ ≤ for <, sigmoid's centre 0), a share
/// over examples instead of units, a std with the mean not subtracted, and
/// statistics of the wrong layer or of the validation split.
#[test]
fn activation_statistics_match_candle_ops() {
    let spiral = "[data]\npoints_per_class = 150\n[model]\ndepth = 2\nwidth = 12\n";
    let cases = [
        ("tanh", format!("{spiral}activation = \"tanh\"\n")),
        ("sigmoid", format!("{spiral}activation = \"sigmoid\"\n")),
        ("relu", spiral.to_string()),
        (
            "leaky_relu",
            format!("{spiral}activation = \"leaky_relu\"\n"),
        ),
        (
            "maxout",
            format!("{spiral}activation = \"maxout\"\npieces = 3\n"),
        ),
    ];
    let mut strictly_between = 0;
    for (act, src) in cases {
        let e = study(&src);
        let cfg = e.config_at(&e.coords(0)).unwrap();
        let data = crate::data::load(&cfg.data).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
        let big = if act == "tanh" || act == "sigmoid" {
            5.0
        } else {
            3.0
        };
        // Biases of −big, 0 and big in turn push some units into saturation
        // (or death) on every point, and leave others alone.
        for layer in &model.layers {
            let cols = layer.b.as_tensor().dim(0).unwrap();
            let b: Vec<f32> = (0..cols).map(|j| big * ((j % 3) as f32 - 1.0)).collect();
            layer
                .b
                .set(&Tensor::from_vec(b, cols, &Device::Cpu).unwrap())
                .unwrap();
        }
        let mut fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
        let n = data.train.len() as u32;
        let rows: Vec<u32> = (0..n).map(|i| (i * 7919) % n).collect();
        for chunk in rows.chunks(32).cycle().take(30) {
            fused.step(chunk, &mut rng).unwrap();
        }
        fused.write_back(&model).unwrap();
        let ev = fused.evaluate_with_stats(&data.train).unwrap();
        let ours = activations(fused.shape(), &ev);
        let x = Tensor::from_vec(
            data.train.x.clone(),
            (n as usize, data.n_features),
            &Device::Cpu,
        )
        .unwrap();
        let want = candle_activations(&model, &x, act);
        assert_eq!(ours.len(), want.len(), "{act}");
        for (o, w) in ours.iter().zip(&want) {
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
            assert!(
                close(o.mean, w.mean) && close(o.std, w.std),
                "{act}: {o:?} vs {w:?}"
            );
            assert_eq!((o.saturated, o.dead), (w.saturated, w.dead), "{act}");
            let share = o.saturated.or(o.dead).unwrap();
            strictly_between += usize::from(share > 0.0 && share < 1.0);
        }
        // A pass without statistics carries none.
        assert!(fused.evaluate(&data.train).unwrap().sums.is_empty());
    }
    assert!(
        strictly_between >= 3,
        "only {strictly_between} layers with a share in (0, 1)"
    );
}

/// The update-to-weight ratio stored at each evaluation epoch is that of
/// the epoch's last step, ‖W_after − W_before‖/‖W_before‖: with plain SGD
/// (no momentum) on full batches, lr·‖∇W + λW‖/‖W‖ at the weights before
/// the step, the gradient from candle's autograd on the `Mlp` rebuilt from
/// the trial's init stream, and the second epoch's weights W₁ = W₀ − lr·g₀
/// computed here too. Catches the ratio of the first step of the run, the
/// norm of the weights after the step, biases included, and ratios not
/// aligned with the evaluation epochs.
#[test]
fn update_ratio_is_the_last_steps_change_over_the_weights_before_it() {
    let e = study(
        "[data]\npoints_per_class = 30\n[model]\ndepth = 2\nwidth = 6\n[train]\nmomentum = 0\nbatch_size = \"full\"\nepochs = 2\neval_every = 1\nl2 = 0.01\nlr = 0.5\n",
    );
    let t = &Plan::new(&e).unwrap().trials[0];
    let data = crate::data::load(&t.config.data).unwrap();
    let r = run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap();
    let tele = r.telemetry.expect("stored");
    assert_eq!(tele.update_ratio.len(), 2);
    let model = crate::train::initial_model(t, &data).unwrap();
    let n = data.train.len();
    let x = Tensor::from_vec(data.train.x.clone(), (n, 2), &Device::Cpu).unwrap();
    let crate::data::Targets::Classes(y) = &data.train.y else {
        panic!()
    };
    let y = Tensor::from_vec(y.clone(), n, &Device::Cpu).unwrap();
    let (lr, l2) = (0.5, 0.01);
    for epoch in 0..2 {
        let out = model.forward(&x, Mode::Eval).unwrap();
        let loss = candle_nn::loss::cross_entropy(&out, &y).unwrap();
        let grads = loss.backward().unwrap();
        let mut steps = Vec::new();
        for layer in &model.layers {
            let w = layer.w.as_tensor().to_dtype(DType::F64).unwrap();
            let g = grads
                .get(layer.w.as_tensor())
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap();
            let full = (g + (&w * l2).unwrap()).unwrap();
            let norm = |t: &Tensor| {
                t.sqr()
                    .unwrap()
                    .sum_all()
                    .unwrap()
                    .to_scalar::<f64>()
                    .unwrap()
                    .sqrt()
            };
            let want = lr * norm(&full) / norm(&w);
            let got = tele.update_ratio[epoch][steps.len()];
            assert!(
                (got - want).abs() <= 1e-4 * want,
                "epoch {}: {got} vs {want}",
                epoch + 1
            );
            steps.push((full * lr).unwrap());
        }
        for (layer, step) in model.layers.iter().zip(&steps) {
            let b_grad = grads.get(layer.b.as_tensor()).unwrap();
            layer
                .w
                .set(&(layer.w.as_tensor() - step.to_dtype(DType::F32).unwrap()).unwrap())
                .unwrap();
            layer
                .b
                .set(&(layer.b.as_tensor() - (b_grad * lr).unwrap()).unwrap())
                .unwrap();
        }
    }
    // Activations: the initial ones and one set per evaluation.
    assert_eq!((tele.initial.len(), tele.activations.len()), (2, 2));
}

/// Sparsity, worked by hand: layer 1 has max |w| = 1, so the cut is
/// 1e-3 and 0.0005 and 0.0009 are near zero (−0.002 is not); layer 2
/// has max 2e-6, cut 2e-9, and −3e-9 is not below it: 2 of 7. A global
/// maximum would count all of layer 2 (5 of 7); ≤ for < would count a
/// weight exactly at the cut; biases (here 0) must not count.
#[test]
fn weight_sparsity_uses_each_layers_own_maximum() {
    // Layer 1: 2 × 2 weights at 0, biases at 4..6; layer 2: 3 × 1 at 6,
    // its bias at 9.
    let layers = [Layer::new(0, 2, 2, 4), Layer::new(6, 3, 1, 9)];
    let params = [
        1.0, 0.0005, -0.002, 0.0009, 0.0, 0.0, 1e-6, 2e-6, -3e-9, 0.0,
    ];
    assert_eq!(weight_sparsity(&layers, &params), Some(2.0 / 7.0));
    // A weight exactly at the cut (1e-3 · 1) is not below it.
    let params = [1.0, 0.001, 0.5, 0.5, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
    assert_eq!(weight_sparsity(&layers, &params), Some(0.0));
}

/// ‖ΔW‖/‖W‖ by hand: W = (3, 4) → (3, 4.05): 0.05/5 = 0.01; the bias
/// (moved by 7) is ignored.
#[test]
fn update_ratios_are_frobenius_norms_of_weights_only() {
    let layers = [Layer::new(0, 1, 2, 2)];
    let r = update_ratios(&layers, &[3.0, 4.0, 0.0], &[3.0, 4.05, 7.0]);
    assert!((r[0] - 0.01).abs() < 1e-6, "{r:?}");
}

/// The summary's `update_ratio` is the median over layers of the last
/// evaluation (odd and even counts), and telemetry survives the record's
/// JSON bit for bit, NaN included, with and without the optional columns.
#[test]
fn final_ratio_is_a_median_and_telemetry_round_trips() {
    let la = |m: f64, s: Option<f64>, d: Option<f64>| LayerActivations {
        mean: m,
        std: m / 3.0,
        saturated: s,
        dead: d,
    };
    let mut t = Telemetry {
        initial: vec![la(0.1, Some(0.0), None), la(0.2, Some(0.5), None)],
        update_ratio: vec![vec![1.0, f64::NAN, 2.0], vec![0.3, 0.1, 0.2]],
        activations: vec![
            vec![la(0.3, Some(0.25), None), la(1e-9, Some(1.0), None)],
            vec![la(-0.7, Some(0.0), None), la(2.5, Some(0.75), None)],
        ],
        weight_sparsity: Some(0.125),
    };
    assert_eq!(t.final_update_ratio(), Some(0.2));
    assert_eq!(t.final_saturated(), Some(0.375));
    let back = |t: &Telemetry| -> Telemetry {
        serde_json::from_str(&serde_json::to_string(t).unwrap()).unwrap()
    };
    let b = back(&t);
    assert_eq!(format!("{b:?}"), format!("{t:?}"));
    t.update_ratio = vec![vec![0.4, 0.1]];
    t.activations = vec![vec![la(0.0, None, Some(0.5))]];
    t.initial = Vec::new();
    t.weight_sparsity = None;
    assert_eq!(t.final_update_ratio(), Some(0.25));
    assert_eq!(t.final_saturated(), None);
    assert_eq!(back(&t), t);
}

/// The notes' sanity check, end to end: a 3-class spiral net with tiny
/// weights (normal, std 1e-4) and λ = 0 starts at ln 3 = 1.0986 (its
/// outputs are all ~0, so softmax is uniform), and the `initial_loss`
/// metric reports that, not the final train loss (which training lowers).
/// Its activations barely move from 0, so the stored initial std is tiny.
#[test]
fn initial_loss_is_ln_k_for_small_weights() {
    let e = study(
        "[data]\npoints_per_class = 50\n[model]\ninit = \"normal\"\ninit_std = 1e-4\nwidth = 10\n[train]\nepochs = 30\nlr = 1.0\n",
    );
    let t = &Plan::new(&e).unwrap().trials[0];
    let data = crate::data::load(&t.config.data).unwrap();
    let r = run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap();
    let init = r.value(crate::metric::Metric::InitialLoss, 0.9).unwrap();
    assert!((init - 3f64.ln()).abs() < 1e-6, "{init}");
    let fin = r.value(crate::metric::Metric::TrainLoss, 0.9).unwrap();
    assert!(fin < init - 0.01, "final {fin} vs initial {init}");
    let tele = r.telemetry.unwrap();
    assert!(tele.initial[0].std < 1e-3, "{:?}", tele.initial);
}
