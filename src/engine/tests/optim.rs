use super::*;

#[test]
fn sgd_momentum_nesterov_and_adam_updates_follow_their_formulas() {
    // One weight w = 1 with gradient g = 0.5, λ = 0.1: the gradient seen is 0.6.
    let shape = Shape {
        sizes: vec![1, 1],
        pieces: 1,
        activation: Activation::Relu,
        alpha: 0.0,
        dropout: 0.0,
        layers: vec![Layer::new(0, 1, 1, 1)],
        len: 2,
        batch_norm: false,
        stats_len: 0,
    };
    let e = from_str(
        "name = \"u\"\n[train]\nlr = 0.1\nmomentum = 0.9\nl2 = 0.1\n",
        Path::new("s.toml"),
        &[],
    )
    .unwrap();
    let mut spec = e.config_at(&[]).unwrap().train;
    let run = |spec: &TrainSpec, steps: i32, moments: usize| {
        let (mut p, mut m) = (vec![1.0f32, 0.0], vec![0.0f32; 2 * moments]);
        for t in 1..=steps {
            update(&shape, spec, t, &mut p, &mut m, &[0.5, 0.0]);
        }
        p[0]
    };
    // SGD momentum, two steps with the same raw gradient 0.5 (+ λw):
    // g1 = 0.6, v1 = 0.6, w1 = 0.94; g2 = 0.5 + 0.094 = 0.594, v2 = 0.9·0.6 + 0.594 = 1.134, w2 = 0.8266.
    assert!((run(&spec, 2, 1) - 0.8266).abs() < 1e-6);
    spec.optimizer = Optimizer::Sgd {
        momentum: 0.9,
        nesterov: true,
    };
    // Nesterov: step1 = 0.6 + 0.9·0.6 = 1.14 → w1 = 0.886; g2 = 0.5886, v2 = 1.1286, step2 = 0.5886 + 1.01574 → w2 = 0.725574.
    assert!((run(&spec, 2, 1) - 0.725574).abs() < 1e-5);
    let e = from_str(
        "name = \"u\"\n[train]\noptimizer = \"adam\"\nlr = 0.01\n",
        Path::new("s.toml"),
        &[],
    )
    .unwrap();
    let spec = e.config_at(&[]).unwrap().train;
    // Adam's first step moves by lr·g/(|g| + ε·...) ≈ lr whatever g is.
    assert!((run(&spec, 1, 2) - 0.99).abs() < 1e-6);
}

/// `train.max_norm`: after the update, each unit's incoming weight
/// vector (a column of W, fan_in × cols) longer than c is scaled to
/// norm c, the others and every bias are left as the plain update made
/// them. Worked against a copy of the same update without the
/// constraint, whose columns are rescaled here. Catches rows clamped
/// instead of columns, biases clamped, and `<` for `>`.
#[test]
fn max_norm_scales_long_columns_to_c_after_the_update() {
    let shape = shape_3_4_2();
    let c = 1.2;
    let e = from_str(
        &format!("name = \"m\"\n[train]\nmomentum = 0.0\nlr = 0.3\nmax_norm = {c}\n"),
        Path::new("s.toml"),
        &[],
    )
    .unwrap();
    let spec = e.config_at(&[]).unwrap().train;
    let plain = TrainSpec {
        max_norm: 0.0,
        ..spec.clone()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let start: Vec<f32> = (0..26).map(|_| rng.random_range(-1.0f32..1.0)).collect();
    let g: Vec<f32> = (0..26).map(|_| rng.random_range(-2.0f32..2.0)).collect();
    let (mut want, mut got) = (start.clone(), start.clone());
    update(&shape, &plain, 1, &mut want, &mut [0.0; 26], &g);
    update(&shape, &spec, 1, &mut got, &mut [0.0; 26], &g);
    let (mut scaled, mut kept) = (0, 0);
    for &Layer {
        w_off,
        fan_in,
        cols,
        b_off,
    } in &shape.layers
    {
        for j in 0..cols {
            let idx: Vec<usize> = (0..fan_in).map(|i| w_off + i * cols + j).collect();
            let norm = idx
                .iter()
                .map(|&i| f64::from(want[i]).powi(2))
                .sum::<f64>()
                .sqrt();
            let k = if norm > c { c / norm } else { 1.0 };
            if norm > c {
                scaled += 1
            } else {
                kept += 1
            }
            for &i in &idx {
                let w = f64::from(want[i]) * k;
                assert!(
                    (f64::from(got[i]) - w).abs() < 1e-6,
                    "W[{i}]: {} vs {w}",
                    got[i]
                );
            }
        }
        for i in b_off..b_off + cols {
            assert_eq!(got[i], want[i], "bias {i} untouched");
        }
    }
    assert!(
        scaled > 0 && kept > 0,
        "both cases exercised: {scaled} scaled, {kept} kept"
    );
}

/// L1's subgradient against candle autograd of λ₁·Σ|W| + data loss:
/// one plain SGD step moves each weight by lr·(g + λ₁·sign(W)) and each
/// bias by lr·g. Catches L1 on the biases, a wrong sign, and
/// `f32::signum` (which is 1 at 0) — the weights here are off zero, so
/// that last one is caught by `l1_grad_treats_zero_weights_as_flat`.
#[test]
fn l1_adds_lambda_sign_w_to_the_weight_gradients_only() {
    let (lr, l1) = (0.5, 0.02);
    let src = format!(
        "name = \"l\"\n[model]\ndepth = 2\nwidth = 7\nactivation = \"tanh\"\n[train]\nlr = {lr}\nmomentum = 0.0\nl1 = {l1}\n"
    );
    let (data, model, mut fused, mut rng) = first_trial(&src, 3);
    let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
    let before = params_of(&fused);
    let (_, layers) = autograd(&model, data, &rows, Mode::Eval);
    let raw: Vec<f32> = layers
        .iter()
        .flat_map(|(w, b)| w.iter().chain(b.iter()).copied())
        .collect();
    fused.step(&rows, &mut rng).unwrap();
    let after = params_of(&fused);
    for (i, ((&g, &p), is_w)) in raw.iter().zip(&before).zip(weight_mask(&model)).enumerate() {
        let reg = if is_w {
            l1 * f64::from(p.signum())
        } else {
            0.0
        };
        let want = f64::from(p) - lr * (f64::from(g) + reg);
        assert!(
            (f64::from(after[i]) - want).abs() < 1e-5,
            "parameter {i}: {} vs {want}",
            after[i]
        );
    }
}

/// sign(0) = 0: a weight at exactly zero gets no L1 push.
#[test]
fn l1_grad_treats_zero_weights_as_flat() {
    let shape = Shape {
        sizes: vec![2, 1],
        pieces: 1,
        activation: Activation::Relu,
        alpha: 0.0,
        dropout: 0.0,
        layers: vec![Layer::new(0, 2, 1, 2)],
        len: 3,
        batch_norm: false,
        stats_len: 0,
    };
    let g = l1_grad(&shape, 0.5, &[0.0, -2.0, 3.0], &[1.0, 1.0, 1.0]).unwrap();
    assert_eq!(g, vec![1.0, 0.5, 1.0]);
    assert!(l1_grad(&shape, 0.0, &[0.0, -2.0, 3.0], &[1.0, 1.0, 1.0]).is_none());
}

/// A hand-made 3 → 4 → 2 tanh shape: W0 3×4 at 0, b0 at 12, W1 4×2 at
/// 16, b1 at 24.
fn shape_3_4_2() -> Shape {
    Shape {
        sizes: vec![3, 4, 2],
        pieces: 1,
        activation: Activation::Tanh,
        alpha: 0.0,
        dropout: 0.0,
        layers: vec![Layer::new(0, 3, 4, 12), Layer::new(16, 4, 2, 24)],
        len: 26,
        batch_norm: false,
        stats_len: 0,
    }
}

/// An optimiser rule, with its constants, for [`reference_update`].
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// Plain SGD (momentum 0).
    Sgd,
    /// SGD with momentum μ.
    Momentum(f64),
    /// SGD with Nesterov momentum μ.
    Nesterov(f64),
    /// Adam with (β1, β2, ε).
    Adam(f64, f64, f64),
    /// Adagrad with ε.
    Adagrad(f64),
    /// RMSprop with (ρ, ε).
    Rmsprop(f64, f64),
}

/// One optimiser step written out in f64 from docs/semantics.md, not
/// from `update`: the gradient is g + λθ for weights and g for biases;
/// SGD in PyTorch's convention (v ← μv + g; θ ← θ − lr·v, Nesterov
/// θ ← θ − lr·(g + μv)); Adam as Kingma and Ba's algorithm 1 with
/// c1 = 1 − β1^t, c2 = 1 − β2^t and θ ← θ − lr·(m/c1)/(√(s/c2) + ε);
/// Adagrad c ← c + g², RMSprop c ← ρc + (1 − ρ)g², both θ ← θ −
/// lr·g/(√c + ε) (DESIGN.md). L1 adds λ₁·sign(θ) to the weights' g.
#[allow(clippy::too_many_arguments)]
fn reference_update(
    rule: Rule,
    lr: f64,
    (l2, l1): (f64, f64),
    t: i32,
    is_weight: &[bool],
    p: &mut [f64],
    v: &mut [f64],
    s: &mut [f64],
    g: &[f64],
) {
    for i in 0..p.len() {
        let sign = if p[i] > 0.0 {
            1.0
        } else if p[i] < 0.0 {
            -1.0
        } else {
            0.0
        };
        let gi = g[i]
            + if is_weight[i] {
                l2 * p[i] + l1 * sign
            } else {
                0.0
            };
        match rule {
            Rule::Sgd => p[i] -= lr * gi,
            Rule::Momentum(mu) => {
                v[i] = mu * v[i] + gi;
                p[i] -= lr * v[i];
            }
            Rule::Nesterov(mu) => {
                v[i] = mu * v[i] + gi;
                p[i] -= lr * (gi + mu * v[i]);
            }
            Rule::Adam(b1, b2, eps) => {
                v[i] = b1 * v[i] + (1.0 - b1) * gi;
                s[i] = b2 * s[i] + (1.0 - b2) * gi * gi;
                let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                p[i] -= lr * (v[i] / c1) / ((s[i] / c2).sqrt() + eps);
            }
            Rule::Adagrad(eps) => {
                v[i] += gi * gi;
                p[i] -= lr * gi / (v[i].sqrt() + eps);
            }
            Rule::Rmsprop(rho, eps) => {
                v[i] = rho * v[i] + (1.0 - rho) * gi * gi;
                p[i] -= lr * gi / (v[i].sqrt() + eps);
            }
        }
    }
}

/// The optimiser cases of the update tests: the `[train]` lines, the
/// rule with the constants those lines mean (Adam's defaults 0.9,
/// 0.999, 1e-8 as documented), lr and λ (> 0 in every case).
fn optimiser_cases() -> Vec<(&'static str, Rule, f64, f64, f64)> {
    vec![
        (
            "optimizer = \"sgd\"\nmomentum = 0.0\nlr = 0.05\nl2 = 0.1",
            Rule::Sgd,
            0.05,
            0.1,
            0.0,
        ),
        (
            "optimizer = \"sgd\"\nmomentum = 0.9\nlr = 0.02\nl2 = 0.1",
            Rule::Momentum(0.9),
            0.02,
            0.1,
            0.0,
        ),
        (
            "optimizer = \"sgd\"\nmomentum = 0.8\nnesterov = true\nlr = 0.02\nl2 = 0.1",
            Rule::Nesterov(0.8),
            0.02,
            0.1,
            0.0,
        ),
        (
            "optimizer = \"adam\"\nlr = 0.01\nl2 = 0.1",
            Rule::Adam(0.9, 0.999, 1e-8),
            0.01,
            0.1,
            0.0,
        ),
        (
            "optimizer = \"adam\"\nbeta1 = 0.7\nbeta2 = 0.95\neps = 1e-3\nlr = 0.02\nl2 = 0.05",
            Rule::Adam(0.7, 0.95, 1e-3),
            0.02,
            0.05,
            0.0,
        ),
        (
            "optimizer = \"adagrad\"\nlr = 0.05\nl2 = 0.1\nl1 = 0.01",
            Rule::Adagrad(1e-8),
            0.05,
            0.1,
            0.01,
        ),
        (
            "optimizer = \"rmsprop\"\nlr = 0.01\nl2 = 0.05",
            Rule::Rmsprop(0.99, 1e-8),
            0.01,
            0.05,
            0.0,
        ),
        (
            "optimizer = \"rmsprop\"\ndecay_rate = 0.9\neps = 1e-4\nlr = 0.02\nl2 = 0.0",
            Rule::Rmsprop(0.9, 1e-4),
            0.02,
            0.0,
            0.0,
        ),
        (
            "optimizer = \"sgd\"\nmomentum = 0.9\nlr = 0.02\nl2 = 0.1\nl1 = 0.003",
            Rule::Momentum(0.9),
            0.02,
            0.1,
            0.003,
        ),
    ]
}

/// Assert every parameter is within 1e-4 · max(|reference|, 1) of the
/// f64 reference (parameters here are of order 1).
fn assert_near_reference(label: &str, got: &[f32], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= 1e-4 * w.abs().max(1.0),
            "{label}: parameter {i} is {g}, the f64 reference {w}"
        );
    }
}

/// `update` over 40 steps follows SGD, momentum, Nesterov and Adam
/// (default and non-default β1, β2, ε) as written out in f64 by
/// [`reference_update`], on a hand-made 3 → 4 → 2 shape with nonzero
/// biases, λ > 0, and pseudo-random gradients of differing scales that
/// change every step. Catches Adam's bias correction frozen after the
/// first step (`powi(1)` for `powi(t)`), β1 and β2 swapped, L2 decay
/// applied to the biases, and a wrong sign or coefficient in the
/// momentum or Nesterov rule.
#[test]
fn updates_over_many_steps_follow_the_f64_formulas() {
    // Layers (w_off, fan_in, cols, b_off): W0 3×4 at 0, b0 at 12, W1 4×2 at 16, b1 at 24.
    let shape = shape_3_4_2();
    let is_weight: Vec<bool> = (0..26).map(|i| !(12..16).contains(&i) && i < 24).collect();
    for (train, rule, lr, l2, l1) in optimiser_cases() {
        let src = format!("name = \"u\"\n[train]\n{train}\n");
        let e = crate::testkit::study(&src);
        let spec = e.config_at(&e.coords(0)).unwrap().train;
        assert_eq!((spec.lr, spec.l2, spec.l1), (lr, l2, l1), "{train}");
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        // Starting values ±(0.5 .. 1.5), biases included.
        let start: Vec<f32> = (0..shape.len)
            .map(|_| {
                let v: f32 = rng.random_range(0.5..1.5);
                if rng.random_bool(0.5) { v } else { -v }
            })
            .collect();
        let scales: Vec<f32> = (0..shape.len).map(|_| rng.random_range(0.1..2.0)).collect();
        let (mut p, mut moments) = (start.clone(), vec![0.0f32; 2 * shape.len]);
        let mut want: Vec<f64> = start.iter().map(|v| f64::from(*v)).collect();
        let (mut v, mut s) = (vec![0.0; shape.len], vec![0.0; shape.len]);
        for t in 1..=40 {
            let g: Vec<f32> = scales
                .iter()
                .map(|k| k * rng.random_range(-1.0f32..1.0))
                .collect();
            update(&shape, &spec, t, &mut p, &mut moments, &g);
            let g: Vec<f64> = g.iter().map(|v| f64::from(*v)).collect();
            reference_update(
                rule,
                lr,
                (l2, l1),
                t,
                &is_weight,
                &mut want,
                &mut v,
                &mut s,
                &g,
            );
            assert_near_reference(&format!("{rule:?}, step {t}"), &p, &want);
        }
    }
}

/// Whole `Fused::step`s over 40 minibatches follow the f64 rules of
/// [`reference_update`], each step's gradient taken from
/// `forward_backward` at the parameters before it (with a copy of the
/// generator). Besides the formula bugs `update`'s own test catches,
/// this catches the step counter handed to Adam not advancing (Adam's
/// bias correction at t = 0 or stuck at t = 1).
#[test]
fn fused_steps_follow_the_f64_formulas() {
    for (train, rule, lr, l2, l1) in optimiser_cases() {
        let src = format!(
            "name = \"o\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\n[train]\n{train}\n"
        );
        let (data, model, mut fused, mut rng) = first_trial(&src, 9);
        assert_eq!(
            (fused.spec.lr, fused.spec.l2, fused.spec.l1),
            (lr, l2, l1),
            "{train}"
        );
        let is_weight = weight_mask(&model);
        set_nonzero_biases(&mut fused, &is_weight, &mut rng);
        let mut want: Vec<f64> = params_of(&fused).iter().map(|v| f64::from(*v)).collect();
        let (mut v, mut s) = (vec![0.0; want.len()], vec![0.0; want.len()]);
        let total = data.train.len() as u32;
        for t in 1..=40 {
            let rows: Vec<u32> = (0..32).map(|i| (t as u32 * 37 + i * 11) % total).collect();
            let mut ws = Workspace::default();
            forward_backward(
                &fused.shape,
                &params_of(&fused),
                &data.train.x,
                &data.train.y,
                &rows,
                &mut rng.clone(),
                &mut ws,
            );
            fused.step(&rows, &mut rng).unwrap();
            let g: Vec<f64> = ws.grad.iter().map(|v| f64::from(*v)).collect();
            reference_update(
                rule,
                lr,
                (l2, l1),
                t,
                &is_weight,
                &mut want,
                &mut v,
                &mut s,
                &g,
            );
            assert_near_reference(&format!("{rule:?}, step {t}"), &params_of(&fused), &want);
        }
    }
}

/// Mean data loss of a tanh network (no dropout) on the training rows
/// `rows`, computed independently in f64 from the flat parameters `p`
/// (per layer W as fan_in × cols row-major, then b; `dims` holds each
/// layer's (fan_in, cols)): softmax cross-entropy, or the squared error
/// without a factor ½ (docs/semantics.md).
fn data_loss_f64(
    dims: &[(usize, usize)],
    p: &[f64],
    data: &crate::data::Dataset,
    rows: &[u32],
) -> f64 {
    let d = data.n_features;
    let mut total = 0.0;
    for &r in rows {
        let r = r as usize;
        let mut h: Vec<f64> = data.train.x[r * d..(r + 1) * d]
            .iter()
            .map(|v| f64::from(*v))
            .collect();
        let mut off = 0;
        for (l, &(fan_in, cols)) in dims.iter().enumerate() {
            let (w, b) = (&p[off..off + fan_in * cols], &p[off + fan_in * cols..]);
            let z: Vec<f64> = (0..cols)
                .map(|j| b[j] + (0..fan_in).map(|i| h[i] * w[i * cols + j]).sum::<f64>())
                .collect();
            off += fan_in * cols + cols;
            h = if l + 1 < dims.len() {
                z.iter().map(|v| v.tanh()).collect()
            } else {
                z
            };
        }
        total += match &data.train.y {
            Targets::Classes(c) => {
                let max = h.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
                let lse = max + h.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                lse - h[c[r] as usize]
            }
            Targets::Values(y) => (h[0] - f64::from(y[r])).powi(2),
        };
    }
    total / rows.len() as f64
}

/// One plain-SGD step (momentum 0, λ = 0.3) moves each parameter by lr
/// times the derivative of J(θ) = mean data loss + 0.5·λ·Σ‖W‖² (weights
/// only). Reference: central finite differences of J in f64, with the
/// data loss from this test's own f64 forward pass ([`data_loss_f64`]);
/// biases are set nonzero first. Every parameter is checked, so this
/// catches L2 decay applied to the biases (whose derivative has no L2
/// part), L2 missing or doubled on the weights, and a wrong data-loss
/// gradient (e.g. a factor ½ in the squared error).
#[test]
fn one_sgd_step_follows_finite_differences_of_the_objective() {
    let (lr, l2) = (0.1, 0.3);
    for kind in ["spiral", "sine"] {
        let src = format!(
            "name = \"f\"\n[data]\nkind = \"{kind}\"\n[model]\ndepth = 2\nwidth = 6\nactivation = \"tanh\"\n[train]\noptimizer = \"sgd\"\nmomentum = 0.0\nlr = {lr}\nl2 = {l2}\n"
        );
        let (data, model, mut fused, mut rng) = first_trial(&src, 12);
        let is_weight = weight_mask(&model);
        set_nonzero_biases(&mut fused, &is_weight, &mut rng);
        let dims: Vec<(usize, usize)> = model
            .layers
            .iter()
            .map(|l| l.w.as_tensor().dims2().unwrap())
            .collect();
        let rows: Vec<u32> = (0..data.train.len() as u32).step_by(4).collect();
        let before: Vec<f64> = params_of(&fused).iter().map(|v| f64::from(*v)).collect();
        let loss = fused.step(&rows, &mut rng).unwrap();
        let after = params_of(&fused);
        let objective = |p: &[f64]| {
            let w2: f64 = p
                .iter()
                .zip(&is_weight)
                .filter(|(_, w)| **w)
                .map(|(v, _)| v * v)
                .sum();
            data_loss_f64(&dims, p, data, &rows) + 0.5 * l2 * w2
        };
        // The independent forward pass agrees with the step's own loss.
        let want_loss = data_loss_f64(&dims, &before, data, &rows);
        assert!(
            (f64::from(loss) - want_loss).abs() < 1e-5 * want_loss.max(1.0),
            "{kind}: step loss {loss} vs f64 {want_loss}"
        );
        let h = 1e-5;
        for i in 0..before.len() {
            let applied = (before[i] - f64::from(after[i])) / lr;
            let (mut up, mut down) = (before.clone(), before.clone());
            up[i] += h;
            down[i] -= h;
            let fd = (objective(&up) - objective(&down)) / (2.0 * h);
            let what = if is_weight[i] { "weight" } else { "bias" };
            assert!(
                (applied - fd).abs() <= 2e-4 + 1e-3 * fd.abs(),
                "{kind}: {what} {i} (value {}): applied gradient {applied}, dJ/dθ by finite differences {fd}",
                before[i]
            );
        }
    }
}
