use super::*;
use crate::model::Mode;
use crate::plan::Plan;
use crate::study::from_str;
use candle_core::{DType, Device, Tensor};
use std::path::Path;

fn first_trial(src: &str) -> (Trial, Dataset) {
    let e = from_str(&format!("name = \"g\"\n{src}"), Path::new("s.toml"), &[]).unwrap();
    let t = Plan::new(&e).unwrap().trials.remove(0);
    let data = crate::data::load(&t.config.data).unwrap();
    (t, data)
}

/// Every activation, both losses, L2 and L1, after five steps (so ReLU
/// biases are off their kinks): the fused gradient passes the check, with
/// most entries actually compared (not all kinked or
/// tiny, which would make the pass empty). Catches a checker that skips
/// everything, and any fused gradient off by more than float32 noise
/// (the step is also tested against candle's autograd in `fused`).
#[test]
fn the_fused_gradient_passes_for_every_activation_and_loss() {
    let spiral = "[data]\npoints_per_class = 40\n";
    let sine = "[data]\nkind = \"sine\"\npoints = 80\n";
    for data in [spiral, sine] {
        for act in [
            "activation = \"relu\"",
            "activation = \"leaky_relu\"\nalpha = 0.1",
            "activation = \"tanh\"",
            "activation = \"sigmoid\"",
            "activation = \"maxout\"\npieces = 3",
        ] {
            for train in ["l2 = 0.01", "l2 = 0.001\nl1 = 0.001", "l2 = 0"] {
                let src = format!(
                    "{data}[model]\ndepth = 2\nwidth = 8\n{act}\n[train]\nlr = 0.01\n{train}\n"
                );
                let (t, d) = first_trial(&src);
                let out = check(&t, &d, 5, None).unwrap();
                let text = out.render();
                assert!(out.passed(), "{src}\n{text}");
                let checked: usize = out.table.iter().map(|r| r.checked).sum();
                let all: usize = out
                    .table
                    .iter()
                    .map(|r| r.checked + r.kinked + r.tiny)
                    .sum();
                // Dead units and losing maxout pieces have exactly zero
                // gradients, counted as tiny; the rest must be compared.
                assert!(checked * 3 >= all, "{src}: {checked} of {all}\n{text}");
                assert!(out.table.iter().all(|r| r.checked > 0), "{src}\n{text}");
                assert_eq!(out.table.len(), 6, "W and b of three layers");
            }
        }
    }
}

/// A gradient wrong by 5% in one entry (the largest of the first weight
/// matrix, so it is neither tiny nor likely kinked) fails the check, in
/// that tensor's row and no other. Catches a checker that compares the
/// numerical gradient with itself, or thresholds that let a real bug by.
#[test]
fn a_gradient_wrong_in_one_entry_fails() {
    for act in ["tanh", "relu"] {
        let src = format!(
            "[data]\npoints_per_class = 40\n[model]\nwidth = 8\nactivation = \"{act}\"\n[train]\nl2 = 0.01\n"
        );
        let (t, d) = first_trial(&src);
        let clean = check(&t, &d, 0, None).unwrap();
        assert!(clean.passed(), "{}", clean.render());
        // The largest entry of W1.
        let model = crate::model::Mlp::new(&t.config.model, 2, 3, &mut t.seeds.init_rng()).unwrap();
        let mut fused = Fused::new(&model, &t.config.train, &d.train).unwrap();
        let (w_off, fan_in, cols, _) = fused.shape().layers[0];
        let n = d.train.len();
        let m = MAX_ROWS.min(64).min(n);
        let rows: Vec<u32> = (0..m).map(|i| (i * n / m) as u32).collect();
        let g = fused.gradient(&rows).unwrap();
        let i = (w_off..w_off + fan_in * cols)
            .max_by(|a, b| g[*a].abs().total_cmp(&g[*b].abs()))
            .unwrap();
        let bad = check(&t, &d, 0, Some(i)).unwrap();
        assert!(!bad.passed(), "{act}: {}", bad.render());
        assert!(bad.table[0].max_rel > MAX_REL, "{}", bad.render());
        assert!(bad.table[1..].iter().all(|r| r.max_rel <= MAX_REL));
    }
}

/// The f64 objective is the trial's loss: at the initial weights it
/// equals candle's cross-entropy or MSE on the `Mlp` over the same rows,
/// plus ½λΣ‖W‖² and λ₁Σ|W| computed with candle ops, to float32
/// precision. Catches MSE with a ½, L2 without the ½, the L1 term missed,
/// biases regularised, and a forward pass with the wrong weight layout.
#[test]
fn the_double_precision_objective_is_the_trials_loss() {
    for src in [
        "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 8\nactivation = \"maxout\"\n[train]\nl2 = 0.1\nl1 = 0.01\n",
        "[data]\nkind = \"sine\"\npoints = 80\n[model]\nwidth = 8\nactivation = \"tanh\"\n[train]\nl2 = 0.1\n",
    ] {
        let (t, d) = first_trial(src);
        let model = crate::train::initial_model(&t, &d).unwrap();
        let fused = Fused::new(&model, &t.config.train, &d.train).unwrap();
        let rows: Vec<u32> = (0..16).map(|i| i * 5).collect();
        let obj = Objective::new(
            fused.shape(),
            &d,
            &rows,
            t.config.train.l2,
            t.config.train.l1,
        );
        let p: Vec<f64> = fused
            .params()
            .unwrap()
            .iter()
            .map(|v| f64::from(*v))
            .collect();
        let got = obj.eval(&p, &mut Vec::new());
        let f = d.n_features;
        let x: Vec<f32> = rows
            .iter()
            .flat_map(|&r| d.train.x[r as usize * f..(r as usize + 1) * f].to_vec())
            .collect();
        let x = Tensor::from_vec(x, (rows.len(), f), &Device::Cpu).unwrap();
        let out = model.forward(&x, Mode::Eval).unwrap();
        let data_loss = match &d.train.y {
            Targets::Classes(c) => {
                let y: Vec<u32> = rows.iter().map(|&r| c[r as usize]).collect();
                let y = Tensor::from_vec(y, rows.len(), &Device::Cpu).unwrap();
                candle_nn::loss::cross_entropy(&out, &y).unwrap()
            }
            Targets::Values(v) => {
                let y: Vec<f32> = rows.iter().map(|&r| v[r as usize]).collect();
                let y = Tensor::from_vec(y, (rows.len(), 1), &Device::Cpu).unwrap();
                candle_nn::loss::mse(&out, &y).unwrap()
            }
        };
        let mut want = f64::from(data_loss.to_scalar::<f32>().unwrap());
        let sum = |t: Tensor| t.sum_all().unwrap().to_scalar::<f64>().unwrap();
        for layer in &model.layers {
            let w = layer.w.as_tensor().to_dtype(DType::F64).unwrap();
            want += 0.5 * t.config.train.l2 * sum(w.sqr().unwrap());
            want += t.config.train.l1 * sum(w.abs().unwrap());
        }
        assert!(
            (got - want).abs() <= 1e-5 * want.abs(),
            "{src}: {got} vs {want}"
        );
    }
}
