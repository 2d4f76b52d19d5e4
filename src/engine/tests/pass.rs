use super::*;

/// With dropout on, the fused forward draws the same masks from the
/// same generator as candle's training-mode forward on the `Mlp`, so
/// the outputs agree and the generators end in the same state.
#[test]
fn dropout_forward_matches_candle_train_mode() {
    use rand::RngCore;
    let src = "name = \"d\"\n[model]\ndepth = 3\nwidth = 21\ndropout = 0.4\n";
    let (data, model, fused, _) = first_trial(src, 2);
    let params = params_of(&fused);
    let rows: Vec<u32> = (0..50).map(|i| i * 5).collect();
    let (mut ours, mut theirs) = (ChaCha8Rng::seed_from_u64(8), ChaCha8Rng::seed_from_u64(8));
    let mut ws = Workspace::default();
    gather(&fused.shape, &data.train.x, &rows, &mut ws);
    forward(
        &fused.shape,
        &params,
        &[],
        rows.len(),
        Some(&mut ours),
        &mut ws,
    );
    let want = model
        .forward(&minibatch(data, &rows), Mode::Train(&mut theirs))
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let out = &ws.z[fused.shape.layers.len() - 1];
    let n = rows.len();
    for (i, row) in want.iter().enumerate() {
        for (c, w) in row.iter().enumerate() {
            let got = out[c * n + i];
            assert!(
                (got - w).abs() < 1e-5 * w.abs().max(1.0),
                "example {i}, output {c}: {got} vs {w}"
            );
        }
    }
    assert_eq!(
        ours.next_u64(),
        theirs.next_u64(),
        "the same number of draws"
    );
}

/// Steps and evaluations give the same bits whatever number of threads
/// the products may use, so a trial can take idle cores mid-run.
#[test]
fn thread_count_does_not_change_a_bit() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .start_handler(|_| flush_denormals())
        .build()
        .unwrap();
    let src = "name = \"t\"\n[data]\npoints_per_class = 200\n[model]\ndepth = 2\nwidth = 300\n[train]\nbatch_size = 200\nl2 = 0.001\n";
    let e = crate::testkit::study(src);
    let cfg = e.config_at(&e.coords(0)).unwrap();
    let data = crate::data::load(&cfg.data).unwrap();
    let run = |threads: usize| {
        pool.install(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(6);
            let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
            let mut fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
            fused.set_threads(threads);
            let rows: Vec<u32> = (0..data.train.len() as u32).rev().collect();
            let losses: Vec<u32> = rows
                .chunks(200)
                .map(|c| fused.step(c, &mut rng).unwrap().to_bits())
                .collect();
            let ev = fused.evaluate(&data.train).unwrap();
            let state: Vec<u32> = fused
                .state
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|v| v.to_bits())
                .collect();
            (losses, ev.loss.to_bits(), ev.predicted, state)
        })
    };
    let one = run(1);
    for threads in [2, 3] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}

/// At a kink (a pre-activation exactly 0, or maxout pieces tied) the
/// gradient follows PyTorch's conventions: relu'(0) = 0, leaky relu's
/// slope there is α, and tied maxout pieces pass the gradient to the
/// first piece only. Kinks are not rare: the spiral has one point per
/// class at the origin, whose pre-activations are exactly 0 while the
/// biases are (at the first step). Written out by hand; candle's
/// autograd uses other conventions there, so it cannot be the oracle.
/// Catches `>` turned into `>=` in `activation_grad`.
#[test]
fn kinks_follow_pytorchs_subgradients() {
    let shape = |activation, pieces| Shape {
        sizes: vec![1, 2, 1],
        pieces,
        activation,
        alpha: 0.25,
        dropout: 0.0,
        layers: Vec::new(),
        len: 0,
        batch_norm: false,
        stats_len: 0,
    };
    // Two units (rows) of two examples: one on the kink, one off it.
    let da = [2.0f32, 2.0, 3.0, 3.0];
    let z = [0.0f32, 1.0, 0.0, -1.0];
    let mut dz = [9.0f32; 4];
    activation_grad(&shape(Activation::Relu, 1), &da, &z, &mut dz, 2);
    assert_eq!(dz, [0.0, 2.0, 0.0, 0.0], "relu");
    activation_grad(
        &shape(Activation::LeakyRelu { alpha: 0.25 }, 1),
        &da,
        &z,
        &mut dz,
        2,
    );
    assert_eq!(dz, [0.5, 2.0, 0.75, 0.75], "leaky relu");
    // One maxout unit of three pieces over two examples: example 0 ties
    // all three pieces (to the first), example 1 ties the last two
    // above the first (to the second).
    let da = [5.0f32, 7.0];
    let z = [0.0f32, -1.0, 0.0, 2.0, 0.0, 2.0];
    let mut dz = [9.0f32; 6];
    activation_grad(
        &shape(Activation::Maxout { pieces: 3 }, 3),
        &da,
        &z,
        &mut dz,
        2,
    );
    assert_eq!(dz, [5.0, 0.0, 0.0, 7.0, 0.0, 0.0], "maxout");
}

/// When outputs tie, the prediction is the first largest (the class
/// with the lowest index), as documented on `evaluate`. Ties are real:
/// a network whose hidden units all died outputs its output biases for
/// every input. Here every parameter is 0, so every output is 0: every
/// example is predicted class 0, and accuracy is the share of class 0
/// (counted in the test). Catches `>` turned into `>=` in the argmax.
#[test]
fn tied_outputs_predict_the_first_class() {
    let (data, _, mut fused, _) =
        first_trial("name = \"t\"\n[data]\nclasses = 3\nlabel_noise = 0.3\n", 1);
    let len = fused.state.dims1().unwrap();
    fused.state = Tensor::zeros(len, candle_core::DType::F32, &Device::Cpu).unwrap();
    let ev = fused.evaluate(&data.train).unwrap();
    assert!(
        ev.predicted.iter().all(|c| *c == 0),
        "{:?}",
        &ev.predicted[..10]
    );
    let Targets::Classes(y) = &data.train.y else {
        panic!("classification")
    };
    let share = y.iter().filter(|c| **c == 0).count() as f64 / y.len() as f64;
    assert_eq!(ev.accuracy, Some(share));
    // Cross-entropy of uniform outputs over 3 classes is ln 3.
    assert!((ev.loss - 3f64.ln()).abs() < 1e-6, "{}", ev.loss);
}

#[test]
fn draw_mask_is_random_bool_per_element() {
    use rand::RngCore;
    for (keep, units, n) in [(0.5, 7, 37), (0.75, 64, 16), (0.3, 3, 1), (0.9, 33, 100)] {
        let mut bulk = ChaCha8Rng::seed_from_u64(11);
        let mut each = ChaCha8Rng::seed_from_u64(11);
        // An odd number of u32 words first, so the draws straddle blocks unevenly.
        let _ = (bulk.next_u32(), each.next_u32());
        let mut mask = Vec::new();
        draw_mask(&mut bulk, keep, 2.0, units, n, &mut mask, &mut Vec::new());
        for i in 0..n {
            for u in 0..units {
                let want = if each.random_bool(keep) { 2.0 } else { 0.0 };
                assert_eq!(mask[u * n + i], want, "keep {keep}, unit {u}, example {i}");
            }
        }
        assert_eq!(
            bulk.next_u64(),
            each.next_u64(),
            "the generators end in the same state"
        );
    }
}

#[test]
fn dropout_masks_are_inverted_and_seeded() {
    let src = "name = \"d\"\n[model]\ndepth = 1\nwidth = 200\ndropout = 0.3\n";
    let (data, _, fused, _) = first_trial(src, 1);
    let params = params_of(&fused);
    let rows: Vec<u32> = (0..64).collect();
    let mut masks = Vec::new();
    for seed in [5, 5, 6] {
        let mut ws = Workspace::default();
        forward_backward(
            &fused.shape,
            &params,
            &data.train.x,
            &data.train.y,
            &rows,
            &mut ChaCha8Rng::seed_from_u64(seed),
            &mut ws,
        );
        masks.push(ws.mask[0].clone());
    }
    let m = &masks[0];
    assert_eq!(m.len(), 64 * 200);
    // Kept units are scaled by 1/(1-p); about p of them are dropped.
    assert!(m.iter().all(|v| *v == 0.0 || (*v - 1.0 / 0.7).abs() < 1e-6));
    let dropped = m.iter().filter(|v| **v == 0.0).count() as f64 / m.len() as f64;
    assert!((dropped - 0.3).abs() < 0.02, "dropped {dropped}");
    assert_eq!(masks[0], masks[1], "the same seed draws the same masks");
    assert_ne!(masks[0], masks[2]);
}

/// `lane_max` is the fold of `f32::max` it replaced, bit for bit: on
/// random rows of every length up to 50 (both tails), with zeros of both
/// signs, NaNs and ties, for the peak (|v|) and for the floor (the least
/// |v − c|, as `-lane_max(row, -start, |v| -(v - c).abs())`). Catches a
/// lane skipped, the tail dropped, the start ignored, and a NaN taken.
#[test]
fn lane_max_is_the_fold_it_replaced() {
    use super::lanes::lane_max;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for len in 0..=50 {
        for trial in 0..20 {
            let row: Vec<f32> = (0..len)
                .map(|_| match rng.random_range(0..10) {
                    0 => 0.0,
                    1 => -0.0,
                    2 if trial % 2 == 0 => f32::NAN,
                    3 => 0.5,
                    _ => rng.random_range(-3.0f32..3.0),
                })
                .collect();
            let start: f32 = [0.0, 0.25, 2.5][trial % 3];
            let want = row.iter().fold(start, |m, v| m.max(v.abs()));
            assert_eq!(lane_max(&row, start, f32::abs).to_bits(), want.to_bits());
            let (floor, c): (f32, f32) = ([f32::INFINITY, 0.0, 0.1][trial % 3], 0.5);
            let want = row.iter().fold(floor, |m, v| m.min((v - c).abs()));
            let got = -lane_max(&row, -floor, |v| -(v - c).abs());
            assert_eq!(got.to_bits(), want.to_bits(), "len {len}, trial {trial}");
        }
    }
}

/// The AVX-512, AVX2 and portable copies of the evaluation give the same
/// bits: loss, accuracy, predictions, peaks and the activation sums with
/// their floors, for every activation, with and without batch norm, after
/// a few steps. (Which copies ran is the step test's report; on a CPU
/// with no wide copy there is nothing to compare.) Catches a wide copy
/// that reorders a sum or fuses a multiply and an add.
#[test]
fn every_compiled_copy_of_the_evaluation_computes_the_same_bits() {
    use super::eval::*;
    type Copy =
        fn(&Shape, &[f32], &[f32], &[f32], Option<&Targets>, bool, &mut Workspace) -> Evaluation;
    let mut copies: Vec<Copy> = vec![evaluate_portable];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            copies.push(|s, p, r, x, y, st, w| unsafe { evaluate_avx2(s, p, r, x, y, st, w) });
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            copies.push(|s, p, r, x, y, st, w| unsafe { evaluate_avx512(s, p, r, x, y, st, w) });
        }
    }
    for (act, bn) in ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"]
        .into_iter()
        .flat_map(|a| [(a, false), (a, true)])
    {
        let src = format!(
            "name = \"e\"\n[model]\ndepth = 2\nwidth = 37\nactivation = \"{act}\"\nbatch_norm = {bn}\n"
        );
        let (data, _, mut fused, mut rng) = first_trial(&src, 4);
        let rows: Vec<u32> = (0..data.train.len() as u32).step_by(3).collect();
        for _ in 0..3 {
            fused.step(&rows, &mut rng).unwrap();
        }
        let state = fused.state.to_vec1::<f32>().unwrap();
        let at = fused.shape.len * (1 + fused.spec.optimizer.buffers());
        let (params, running) = (&state[..fused.shape.len], &state[at..]);
        let y = Some(&data.train.y);
        let runs: Vec<String> = copies
            .iter()
            .map(|copy| {
                let mut ws = Workspace::default();
                let ev = copy(
                    &fused.shape,
                    params,
                    running,
                    &data.train.x,
                    y,
                    true,
                    &mut ws,
                );
                assert!(!ev.sums.is_empty() && ev.peaks.iter().flatten().any(|p| *p > 0.0));
                format!("{ev:?}")
            })
            .collect();
        for (k, run) in runs.iter().enumerate().skip(1) {
            assert!(*run == runs[0], "{act}, batch norm {bn}: copy {k} differs");
        }
    }
}
