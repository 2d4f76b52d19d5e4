use super::*;

/// Batch norm: the fused loss and gradient (W, β and γ of every
/// normalised layer) equal candle's autograd of the same network, built
/// from candle ops in `Mlp::forward_all` (z = x·W, batch mean and biased
/// variance, x̂ = (z − μ)/√(σ² + ε), γ·x̂ + β), for relu, tanh and
/// maxout (per piece), classification and regression, dropout off and
/// on. β and γ are set away from 0 and 1 first. Catches any slip in
/// `batch_norm_backward` (a dropped Σdy or x̂·Σdy·x̂ term, γ left out,
/// dβ/dγ swapped, n − 1 for n) and the bias's row sum overwriting dβ.
#[test]
fn batch_norm_gradients_match_candle_autograd() {
    use rand::RngCore;
    for dropout in [0.0, 0.4] {
        for kind in ["spiral", "sine"] {
            for act in ["relu", "tanh", "maxout"] {
                let label = format!("{act}/{kind}, dropout {dropout}");
                let src = format!(
                    "name = \"g\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"{act}\"\ndropout = {dropout}\nbatch_norm = true\n"
                );
                let FusedGrad {
                    data,
                    model,
                    rows,
                    loss,
                    ws,
                    mut ours,
                    ..
                } = fused_grad(&src, &label, |f| assert!(f.shape.batch_norm));
                let mut theirs = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
                let (want_loss, want) =
                    autograd_flat(&model, data, &rows, Mode::Train(&mut theirs));
                assert_eq!(ours.next_u64(), theirs.next_u64(), "{label}: draws");
                assert!(
                    (loss - want_loss).abs() < 1e-5 * want_loss.abs().max(1.0),
                    "{label}: loss {loss} vs {want_loss}"
                );
                assert_eq!(ws.grad.len(), want.len(), "{label}: layout");
                for (i, (a, b)) in ws.grad.iter().zip(&want).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                        "{label}: parameter {i}: {a} vs {b}"
                    );
                }
            }
        }
    }
}

/// The running averages after three steps on batches of 40, 17 and 67
/// equal an f64 replay of the batches seen: per hidden column, mean ←
/// 0.9·mean + 0.1·μ and variance ← 0.9·variance + 0.1·σ²·n/(n − 1),
/// from 0 and 1, with μ and σ² of the pre-normalisation z = x·W at
/// the parameters before each step (the second layer's input normalised
/// with batch statistics). Catches the biased variance, the momentum
/// the wrong way round, statistics taken after γ and β, or the
/// optimiser touching the statistics.
#[test]
fn batch_norm_running_averages_follow_the_batches_seen() {
    let src = "name = \"r\"\n[model]\ndepth = 2\nwidth = 5\nactivation = \"relu\"\nbatch_norm = true\n[train]\nlr = 0.5\nmomentum = 0.0\n";
    let (data, _, mut fused, mut rng) = first_trial(src, 7);
    let shape = fused.shape.clone();
    let d = data.n_features;
    let mut mean = vec![vec![0.0f64; 5]; 2];
    let mut var = vec![vec![1.0f64; 5]; 2];
    let batches: [Vec<u32>; 3] = [
        (0..40).collect(),
        (40..57).collect(),
        (100..300).step_by(3).collect(),
    ];
    for rows in &batches {
        let p: Vec<f64> = params_of(&fused).into_iter().map(f64::from).collect();
        let mut h: Vec<Vec<f64>> = rows
            .iter()
            .map(|&r| {
                let r = r as usize;
                data.train.x[r * d..(r + 1) * d]
                    .iter()
                    .map(|v| f64::from(*v))
                    .collect()
            })
            .collect();
        let n = rows.len() as f64;
        for l in 0..2 {
            let Layer {
                w_off,
                fan_in,
                cols,
                b_off,
            } = shape.layers[l];
            let z: Vec<Vec<f64>> = h
                .iter()
                .map(|x| {
                    (0..cols)
                        .map(|j| (0..fan_in).map(|i| x[i] * p[w_off + i * cols + j]).sum())
                        .collect()
                })
                .collect();
            let mut next = vec![vec![0.0; cols]; rows.len()];
            for j in 0..cols {
                let mu = z.iter().map(|r| r[j]).sum::<f64>() / n;
                let s2 = z.iter().map(|r| (r[j] - mu).powi(2)).sum::<f64>() / n;
                mean[l][j] = 0.9 * mean[l][j] + 0.1 * mu;
                var[l][j] = 0.9 * var[l][j] + 0.1 * s2 * n / (n - 1.0);
                let (beta, gamma) = (p[b_off + j], p[b_off + cols + j]);
                for (k, r) in z.iter().enumerate() {
                    next[k][j] = (gamma * (r[j] - mu) / (s2 + 1e-5).sqrt() + beta).max(0.0);
                }
            }
            h = next;
        }
        fused.step(rows, &mut rng).unwrap();
    }
    let state = fused.state.to_vec1::<f32>().unwrap();
    let stats = &state[shape.len * (1 + fused.spec.optimizer.buffers())..];
    assert_eq!(stats.len(), 2 * 2 * 5);
    for l in 0..2 {
        for j in 0..5 {
            for (got, want, what) in [
                (stats[l * 5 + j], mean[l][j], "mean"),
                (stats[10 + l * 5 + j], var[l][j], "variance"),
            ] {
                assert!(
                    (f64::from(got) - want).abs() < 1e-4 * want.abs().max(1.0),
                    "layer {l} unit {j} running {what}: {got} vs {want}"
                );
            }
        }
    }
}

/// γ and β take the optimiser's update but no L2, like biases: one
/// plain SGD step with λ = 0.5 moves them by exactly −lr·g, and the
/// weights by −lr·(g + λW). Catches γ left out of the update (the
/// bias range one `cols` long) or decayed like a weight.
#[test]
fn batch_norm_scales_and_shifts_are_updated_without_l2() {
    let (lr, l2) = (0.1f32, 0.5f32);
    let src = format!(
        "name = \"b\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\nbatch_norm = true\n[train]\nlr = {lr}\nmomentum = 0.0\nl2 = {l2}\n"
    );
    let (data, model, mut fused, mut rng) = first_trial(&src, 5);
    set_nonzero_biases(&mut fused, &weight_mask(&model), &mut rng);
    let rows: Vec<u32> = (0..64).collect();
    let before = params_of(&fused);
    let mut ws = Workspace::default();
    forward_backward(
        &fused.shape,
        &before,
        &data.train.x,
        &data.train.y,
        &rows,
        &mut rng.clone(),
        &mut ws,
    );
    fused.step(&rows, &mut rng).unwrap();
    let after = params_of(&fused);
    let mask = weight_mask(&model);
    let mut normed = 0;
    for l in 0..2 {
        let Layer { cols, b_off, .. } = fused.shape.layers[l];
        for i in b_off..b_off + 2 * cols {
            assert!(!mask[i]);
            assert_eq!(after[i], before[i] - lr * ws.grad[i], "β/γ entry {i}");
            assert!(ws.grad[i] != 0.0);
            normed += 1;
        }
    }
    assert_eq!(normed, 24);
    for (i, is_w) in mask.iter().enumerate() {
        if *is_w {
            let want = before[i] - lr * (ws.grad[i] + l2 * before[i]);
            assert_eq!(after[i], want, "weight {i}");
        }
    }
}

/// Evaluation normalises with the running averages, not the batch's
/// statistics: after a few steps, the fused loss over the whole split
/// equals candle's `Mlp` in evaluation mode with the same running
/// statistics, and one example evaluated alone has the loss it has
/// inside that whole-split batch. With batch statistics, a lone
/// example's x̂ would be 0 and its output β's alone.
#[test]
fn batch_norm_evaluation_uses_the_running_averages() {
    let src = "name = \"e\"\n[data]\nkind = \"sine\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\nbatch_norm = true\n[train]\nlr = 0.05\n";
    let (data, model, mut fused, mut rng) = first_trial(src, 2);
    let n = data.train.len();
    for k in 0..6u32 {
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 6 == k).collect();
        fused.step(&rows, &mut rng).unwrap();
    }
    fused.write_back(&model).unwrap();
    let means = model.layers[0]
        .norm
        .as_ref()
        .unwrap()
        .mean
        .to_vec1::<f32>()
        .unwrap();
    assert!(means.iter().all(|m| *m != 0.0), "the running means moved");
    let all: Vec<u32> = (0..n as u32).collect();
    let out = model
        .forward(&minibatch(data, &all), Mode::Eval)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    let Targets::Values(t) = &data.train.y else {
        panic!("sine is regression")
    };
    let per: Vec<f64> = out
        .iter()
        .zip(t)
        .map(|(o, t)| f64::from(o - t).powi(2))
        .collect();
    let want = per.iter().sum::<f64>() / n as f64;
    let got = fused.evaluate(&data.train).unwrap().loss;
    assert!(
        (got - want).abs() < 1e-5 * want.max(1e-3),
        "{got} vs {want}"
    );
    for i in [0usize, 17, 123] {
        let one = Split {
            x: data.train.x[i..i + 1].to_vec(),
            y: Targets::Values(vec![t[i]]),
        };
        let alone = fused.evaluate(&one).unwrap().loss;
        assert!(
            (alone - per[i]).abs() < 1e-5 * per[i].max(1e-3),
            "example {i}: alone {alone} vs in the batch {}",
            per[i]
        );
    }
}

/// A minibatch of one example is refused with batch norm (its unbiased
/// variance divides by n − 1 = 0), with a message saying what to change.
#[test]
fn batch_norm_refuses_a_minibatch_of_one() {
    let src = "name = \"o\"\n[model]\nbatch_norm = true\n";
    let (_, _, mut fused, mut rng) = first_trial(src, 1);
    let err = fused.step(&[3], &mut rng).unwrap_err().to_string();
    assert!(err.contains("at least 2 examples per minibatch"), "{err}");
    assert!(fused.step(&[3, 4], &mut rng).is_ok());
}
