use super::*;
use crate::model::Mode;
use crate::testkit::first_trial;
use candle_core::{DType, Device, Tensor};

/// Every activation × both losses × every term of the objective: L2, L1,
/// none, batch norm, dropout (its masks held fixed), batch norm with
/// dropout and L1, and max-norm (a projection after each update, so it
/// only moves the weights the check starts from), after five steps (so
/// ReLU biases are off their kinks): the fused gradient passes the check,
/// with most entries actually compared (not all kinked or tiny, which
/// would make the pass empty), β and γ rows for batch-normalised layers,
/// and batch norm's thresholds exactly when it is on. Catches a checker
/// that skips everything, an f64 objective without batch norm or dropout
/// (the analytic gradient has them: the check would fail), and any fused
/// gradient off by more than float32 noise (the step is also tested
/// against candle's autograd in `fused`).
#[test]
fn the_fused_gradient_passes_for_every_activation_loss_and_term() {
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
            for (model, train) in [
                ("", "l2 = 0.01"),
                ("", "l2 = 0.001\nl1 = 0.001"),
                ("", "l2 = 0"),
                ("batch_norm = true", "l2 = 0.01"),
                ("dropout = 0.3", "l2 = 0.01"),
                ("batch_norm = true\ndropout = 0.3", "l2 = 0.001\nl1 = 0.001"),
                ("", "l2 = 0.01\nmax_norm = 0.5"),
            ] {
                let src = format!(
                    "{data}[model]\ndepth = 2\nwidth = 8\n{act}\n{model}\n[train]\nlr = 0.01\n{train}\n"
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
                let names: Vec<&str> = out.table.iter().map(|r| r.name.as_str()).collect();
                let bn = t.config.model.batch_norm;
                if bn {
                    assert_eq!(
                        names,
                        ["W1", "beta1", "gamma1", "W2", "beta2", "gamma2", "W3", "b3"]
                    );
                    assert_eq!(out.limits, (MAX_REL_BATCH_NORM, MEDIAN_REL_BATCH_NORM));
                } else {
                    assert_eq!(names, ["W1", "b1", "W2", "b2", "W3", "b3"]);
                    assert_eq!(out.limits, (MAX_REL, MEDIAN_REL));
                }
            }
        }
    }
}

/// A gradient wrong by 5% in one entry (the largest of the tensor, so it
/// is neither tiny nor likely kinked) fails the check, in that tensor's
/// row and no other: W1 of plain tanh and ReLU nets, γ1 and W2 of a
/// batch-normalised one (under its looser thresholds), W2 of one with
/// dropout. Catches a checker that compares the numerical gradient with
/// itself, and thresholds that let a real bug by.
#[test]
fn a_gradient_wrong_in_one_entry_fails() {
    for (act, extra, row) in [
        ("tanh", "", 0),
        ("relu", "", 0),
        ("tanh", "batch_norm = true", 2),
        ("sigmoid", "batch_norm = true", 3),
        ("tanh", "dropout = 0.3", 2),
    ] {
        let src = format!(
            "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 8\nactivation = \"{act}\"\n{extra}\n[train]\nl2 = 0.01\n"
        );
        let (t, d) = first_trial(&src);
        let clean = check(&t, &d, 0, None).unwrap();
        assert!(clean.passed(), "{}", clean.render());
        // The largest entry of the row's tensor, in the gradient the check
        // computes (same rows, same masks).
        let model = crate::train::initial_model(&t, &d).unwrap();
        let mut fused = Fused::new(&model, &t.config.train, &d.train).unwrap();
        let n = d.train.len();
        let m = MAX_ROWS.min(n);
        let rows: Vec<u32> = (0..m).map(|i| (i * n / m) as u32).collect();
        let (g, _) = fused
            .gradient_with_masks(&rows, Some(&mut t.seeds.dropout_rng()))
            .unwrap();
        let shape = fused.shape();
        // Rows per hidden layer: W and b, or W, β and γ.
        let per_layer = if t.config.model.batch_norm { 3 } else { 2 };
        let layer = shape.layers[row / per_layer];
        let Layer { cols, b_off, .. } = layer;
        let range = match clean.table[row].name.chars().next() {
            Some('W') => layer.weights(),
            Some('g') => b_off + cols..b_off + 2 * cols,
            _ => unreachable!("the test corrupts weights or gamma"),
        };
        let i = range
            .max_by(|a, b| g[*a].abs().total_cmp(&g[*b].abs()))
            .unwrap();
        let bad = check(&t, &d, 0, Some(i)).unwrap();
        let name = &bad.table[row].name;
        assert!(!bad.passed(), "{act} {extra} {name}: {}", bad.render());
        assert!(bad.table[row].max_rel > bad.limits.0, "{}", bad.render());
        for (k, r) in bad.table.iter().enumerate() {
            assert!(k == row || r.max_rel <= bad.limits.0, "{}", bad.render());
        }
    }
}

/// The f64 objective is the trial's loss: at the initial weights it
/// equals candle's cross-entropy or MSE on the `Mlp` in training mode over
/// the same rows (batch statistics; dropout masks drawn from the same
/// stream the check's masks came from), plus ½λΣ‖W‖² and λ₁Σ|W| computed
/// with candle ops, to float32 precision. Catches MSE with a ½, L2 without
/// the ½, the L1 term missed, biases regularised, a forward pass with the
/// wrong weight layout, batch norm with the unbiased variance, ε left out
/// or β and γ swapped, and masks applied transposed or not at all.
#[test]
fn the_double_precision_objective_is_the_trials_loss() {
    for src in [
        "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 8\nactivation = \"maxout\"\n[train]\nl2 = 0.1\nl1 = 0.01\n",
        "[data]\nkind = \"sine\"\npoints = 80\n[model]\nwidth = 8\nactivation = \"tanh\"\n[train]\nl2 = 0.1\n",
        "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 8\nactivation = \"relu\"\nbatch_norm = true\ndropout = 0.4\n[train]\nl2 = 0.1\n",
        "[data]\nkind = \"sine\"\npoints = 80\n[model]\ndepth = 2\nwidth = 8\nactivation = \"sigmoid\"\nbatch_norm = true\n[train]\nl1 = 0.01\n",
        "[data]\npoints_per_class = 40\n[model]\ndepth = 2\nwidth = 8\nactivation = \"tanh\"\ndropout = 0.4\n",
    ] {
        let (t, d) = first_trial(src);
        let mut model = crate::train::initial_model(&t, &d).unwrap();
        // Move γ and β off 1 and 0, so that swapping them shows.
        if t.config.model.batch_norm {
            for layer in &mut model.layers {
                if let Some(norm) = &layer.norm {
                    let g = norm.gamma.as_tensor().affine(0.5, 0.3).unwrap();
                    norm.gamma.set(&g).unwrap();
                    let b = (layer.b.as_tensor().ones_like().unwrap() * 0.2).unwrap();
                    layer.b.set(&b).unwrap();
                }
            }
        }
        let mut fused = Fused::new(&model, &t.config.train, &d.train).unwrap();
        let rows: Vec<u32> = (0..16).map(|i| i * 5).collect();
        let (_, masks) = fused
            .gradient_with_masks(&rows, Some(&mut t.seeds.dropout_rng()))
            .unwrap();
        assert_eq!(masks.is_empty(), t.config.model.dropout == 0.0, "{src}");
        let obj = Objective::new(
            fused.shape(),
            &d,
            &rows,
            &masks,
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
        let out = model
            .forward(&x, Mode::Train(&mut t.seeds.dropout_rng()))
            .unwrap();
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

/// A check whose every entry was skipped (kinked or tiny) is neither a
/// pass nor a failure: `inconclusive`, printed as such (the binary exits
/// 6). One checked entry within the limits passes; one outside fails.
/// Catches `passed` true for an empty check, which it was.
#[test]
fn a_check_with_nothing_checked_is_inconclusive() {
    let row = |checked: usize, max_rel: f64| Row {
        name: "W1".into(),
        checked,
        kinked: 3,
        tiny: 5,
        max_rel,
        median_rel: 0.0,
    };
    let outcome = |table: Vec<Row>| Outcome {
        rows: 8,
        steps: 0,
        table,
        limits: (MAX_REL, MEDIAN_REL),
    };
    let empty = outcome(vec![row(0, 0.0), row(0, 0.0)]);
    assert!(empty.inconclusive());
    assert!(!empty.passed());
    assert!(
        empty.render().contains("INCONCLUSIVE"),
        "{}",
        empty.render()
    );
    let one = outcome(vec![row(0, 0.0), row(1, 0.0)]);
    assert!(!one.inconclusive() && one.passed());
    let bad = outcome(vec![row(0, 0.0), row(1, 1.0)]);
    assert!(!bad.inconclusive() && !bad.passed());
}
