use super::*;

/// The fused loss and gradient equal candle's autograd ones on the same
/// network and minibatch, for every activation and both losses, with
/// dropout off and on. With dropout, the reference is `Mlp::forward` in
/// training mode, which draws its masks from an identically seeded
/// ChaCha8 generator in the same order (see
/// `dropout_forward_matches_candle_train_mode`). Catches any slip in the
/// backward pass, e.g. ignoring the masks (deleting
/// `mul(&mut da, &ws.mask[l - 1])` in `forward_backward`).
///
/// The biases are made nonzero first: with zero biases the spiral's
/// points at the origin have every pre-activation exactly 0, on the
/// kink, where candle's subgradients (relu'(0) = 1, ties shared) differ
/// from ours (`kinks_follow_pytorchs_subgradients`).
#[test]
fn gradients_match_candle_autograd() {
    use rand::RngCore;
    for dropout in [0.0, 0.4] {
        for kind in ["spiral", "sine"] {
            for act in ["relu", "tanh", "sigmoid", "leaky_relu", "maxout"] {
                let label = format!("{act}/{kind}, dropout {dropout}");
                let src = format!(
                    "name = \"g\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"{act}\"\ndropout = {dropout}\n"
                );
                let FusedGrad {
                    data,
                    model,
                    fused,
                    rows,
                    loss,
                    ws,
                    mut ours,
                } = fused_grad(&src, &label, |_| {});
                let mut theirs = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
                let mode = if dropout > 0.0 {
                    // Both hidden layers' masks drop some units and keep others.
                    for mask in &ws.mask[..2] {
                        assert!(
                            mask.contains(&0.0) && mask.iter().any(|v| *v > 1.0),
                            "{label}: a mask drops nothing or everything"
                        );
                    }
                    Mode::Train(&mut theirs)
                } else {
                    Mode::Eval
                };
                let (want_loss, want) = autograd(&model, data, &rows, mode);
                assert_eq!(
                    ours.next_u64(),
                    theirs.next_u64(),
                    "{label}: the same number of draws"
                );
                assert!(
                    (loss - want_loss).abs() < 1e-5 * want_loss.abs().max(1.0),
                    "{label}: loss {loss} vs {want_loss}"
                );
                assert_grads_match(&label, &fused.shape, &ws.grad, &want, 1e-5);
            }
        }
    }
}

/// `train.clip`: one plain SGD step moves the parameters by lr times
/// candle's autograd gradient of the full objective (data loss +
/// 0.5·λ·Σ‖W‖²), rescaled to norm `clip` when it is longer and left
/// alone when it is shorter. Catches a clip that leaves out the L2
/// term, scales by the wrong factor, or always (or never) applies.
#[test]
fn clipping_rescales_the_autograd_gradient_of_the_full_objective() {
    let (lr, l2) = (0.5, 0.1);
    for (clip, active) in [(0.05, true), (1e3, false)] {
        let src = format!(
            "name = \"c\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"tanh\"\n[train]\nlr = {lr}\nmomentum = 0.0\nl2 = {l2}\nclip = {clip}\n"
        );
        let (data, model, mut fused, mut rng) = first_trial(&src, 3);
        let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
        let before = params_of(&fused);
        let (_, layers) = autograd(&model, data, &rows, Mode::Eval);
        let raw = layers.iter().flat_map(|(w, b)| w.iter().chain(b.iter()));
        let g: Vec<f64> = raw
            .zip(&before)
            .zip(weight_mask(&model))
            .map(|((&g, &p), is_w)| f64::from(g) + if is_w { l2 * f64::from(p) } else { 0.0 })
            .collect();
        assert_eq!(g.len(), before.len());
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert_eq!(norm > clip, active, "clip {clip}: gradient norm {norm}");
        let scale = if active { clip / norm } else { 1.0 };
        fused.step(&rows, &mut rng).unwrap();
        let after = params_of(&fused);
        for (i, gi) in g.iter().enumerate() {
            let want = f64::from(before[i]) - lr * scale * gi;
            assert!(
                (f64::from(after[i]) - want).abs() < 1e-5,
                "clip {clip}, parameter {i}: {} vs {want}",
                after[i]
            );
        }
    }
}

/// The AVX-512, AVX2 and portable copies of the step compute the same
/// bits (the CPU picks one; results must not depend on which). Only
/// the copies this CPU can run are compared, and it says which on
/// stderr. On an x86-64 CPU with neither AVX2 nor AVX-512 there is
/// nothing to compare the portable copy with, and the test fails
/// rather than pass vacuously, unless `MLPSWEEP_ALLOW_NO_SIMD=1`.
/// Catches a wide copy that reorders or fuses arithmetic (e.g. an FMA).
#[test]
fn every_compiled_copy_of_the_step_computes_the_same_bits() {
    type Copy =
        fn(StepInputs, &mut [f32], &mut [f32], &mut [f32], &mut ChaCha8Rng, &mut Workspace) -> f32;
    let mut copies: Vec<(&str, Copy)> = vec![("portable", step_portable)];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            copies.push(("avx2", |i, p, m, st, r, w| unsafe {
                step_avx2(i, p, m, st, r, w)
            }));
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            copies.push(("avx512", |i, p, m, st, r, w| unsafe {
                step_avx512(i, p, m, st, r, w)
            }));
        }
    }
    let names: Vec<&str> = copies.iter().map(|(name, _)| *name).collect();
    if copies.len() > 1 {
        eprintln!("compiled copies compared: {}", names.join(", "));
    } else if !cfg!(target_arch = "x86_64") {
        eprintln!("not x86-64: only the portable copy of the step exists, nothing compared");
    } else if std::env::var("MLPSWEEP_ALLOW_NO_SIMD").as_deref() == Ok("1") {
        eprintln!(
            "this CPU has neither AVX2 nor AVX-512: only the portable copy ran, \
             nothing was compared (allowed by MLPSWEEP_ALLOW_NO_SIMD=1)"
        );
    } else {
        panic!(
            "this CPU has neither AVX2 nor AVX-512, so only the portable copy of the \
             step can run and nothing would be compared; set MLPSWEEP_ALLOW_NO_SIMD=1 \
             to accept that"
        );
    }
    // Batch norm too: its statistics and backward pass are elementwise
    // loops and lane sums that the wide copies vectorise.
    for (act, bn) in ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"]
        .into_iter()
        .flat_map(|a| [(a, false), (a, true)])
    {
        for (opt, extra) in [("sgd", "nesterov = true"), ("adam", "")] {
            let src = format!(
                "name = \"c\"\n[model]\ndepth = 2\nwidth = 37\nactivation = \"{act}\"\ndropout = 0.2\nbatch_norm = {bn}\n[train]\nl2 = 0.01\noptimizer = \"{opt}\"\n{extra}\n"
            );
            let (data, _, fused, _) = first_trial(&src, 4);
            let start = fused.state.to_vec1::<f32>().unwrap();
            let rows: Vec<u32> = (0..data.train.len() as u32).step_by(3).collect();
            let results: Vec<(&str, Vec<u32>)> = copies
                .iter()
                .map(|(name, step)| {
                    let mut state = start.clone();
                    let (params, rest) = state.split_at_mut(fused.shape.len);
                    let buffers = fused.spec.optimizer.buffers();
                    let (moments, stats) = rest.split_at_mut(fused.shape.len * buffers);
                    let mut rng = ChaCha8Rng::seed_from_u64(5);
                    let mut ws = Workspace::default();
                    let mut bits = Vec::new();
                    for t in 1..=5 {
                        let inputs = StepInputs {
                            shape: &fused.shape,
                            spec: &fused.spec,
                            x: fused.x,
                            y: fused.y,
                            rows: &rows,
                            t,
                        };
                        bits.push(
                            step(inputs, params, moments, stats, &mut rng, &mut ws).to_bits(),
                        );
                    }
                    bits.extend(state.iter().map(|v| v.to_bits()));
                    (*name, bits)
                })
                .collect();
            assert_ne!(
                start,
                results[0]
                    .1
                    .iter()
                    .skip(5)
                    .map(|b| f32::from_bits(*b))
                    .collect::<Vec<_>>()
            );
            for (name, bits) in &results[1..] {
                assert!(
                    *bits == results[0].1,
                    "{act}/{opt}, batch norm {bn}: {name} differs from portable"
                );
            }
        }
    }
}
