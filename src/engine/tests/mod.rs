//! The engine's tests: gradients against candle's autograd, updates
//! against f64 formulas, the compiled copies against each other. The
//! fixtures shared by the test files are here.

use super::activation::*;
use super::dropout::*;
use super::layout::*;
use super::optim::*;
use super::pass::*;
use super::regularise::*;
use super::step::*;
use super::workspace::*;
use super::*;
use crate::data::{Split, Targets};
use crate::model::Mlp;
use crate::model::Mode;
use crate::study::from_str;
use crate::study::{Activation, Optimizer, TrainSpec};
use candle_core::{Device, Tensor};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The first trial of study `src`: its data, network initialised from
/// `seed`, packed state, and the generator after initialisation.
fn first_trial(
    src: &str,
    seed: u64,
) -> (
    &'static crate::data::Dataset,
    Mlp,
    Fused<'static>,
    ChaCha8Rng,
) {
    let e = crate::testkit::study(src);
    let cfg = e.config_at(&e.coords(0)).unwrap();
    // Leaked: the trainer borrows its training split (a few KB a test).
    let data: &'static _ = Box::leak(Box::new(crate::data::load(&cfg.data).unwrap()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let model = Mlp::new(&cfg.model, data.n_features, data.n_outputs, &mut rng).unwrap();
    let fused = Fused::new(&model, &cfg.train, &data.train).unwrap();
    (data, model, fused, rng)
}

/// The training rows `rows` as a `rows × features` tensor, for candle.
fn minibatch(data: &crate::data::Dataset, rows: &[u32]) -> Tensor {
    let d = data.n_features;
    let xb: Vec<f32> = rows
        .iter()
        .flat_map(|&r| data.train.x[r as usize * d..(r as usize + 1) * d].to_vec())
        .collect();
    Tensor::from_vec(xb, (rows.len(), d), &Device::Cpu).unwrap()
}

/// The parameter part of the state.
fn params_of(fused: &Fused) -> Vec<f32> {
    fused
        .state
        .narrow(0, 0, fused.shape.len)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap()
}

/// Per layer: (dW flattened row-major, db).
type LayerGrads = Vec<(Vec<f32>, Vec<f32>)>;

/// Candle's loss on the minibatch `rows` through the `Mlp` (dropout as
/// `mode` says) and its gradient by candle's autograd: the loss and, per
/// layer, (dW flattened row-major, db).
fn autograd(
    model: &Mlp,
    data: &crate::data::Dataset,
    rows: &[u32],
    mode: Mode,
) -> (f32, LayerGrads) {
    let loss = candle_loss(model, data, rows, mode);
    let grads = loss.backward().unwrap();
    let per_layer = model
        .layers
        .iter()
        .map(|layer| {
            let gw = grads.get(layer.w.as_tensor()).unwrap();
            let gb = grads.get(layer.b.as_tensor()).unwrap();
            (
                gw.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
                gb.to_vec1::<f32>().unwrap(),
            )
        })
        .collect();
    (loss.to_scalar::<f32>().unwrap(), per_layer)
}

/// Candle's autograd gradient in the fused layout (per layer W, b or β,
/// then γ with batch norm), and the loss.
fn autograd_flat(
    model: &Mlp,
    data: &crate::data::Dataset,
    rows: &[u32],
    mode: Mode,
) -> (f32, Vec<f32>) {
    let loss = candle_loss(model, data, rows, mode);
    let grads = loss.backward().unwrap();
    let flat = |t: &Tensor| {
        let g = grads.get(t).expect("a gradient for every parameter");
        g.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    };
    let mut out = Vec::new();
    for layer in &model.layers {
        out.extend(flat(layer.w.as_tensor()));
        out.extend(flat(layer.b.as_tensor()));
        if let Some(norm) = &layer.norm {
            out.extend(flat(norm.gamma.as_tensor()));
        }
    }
    (loss.to_scalar::<f32>().unwrap(), out)
}

/// Candle's mean data loss on the minibatch `rows` through the `Mlp`.
fn candle_loss(model: &Mlp, data: &crate::data::Dataset, rows: &[u32], mode: Mode) -> Tensor {
    let out = model.forward(&minibatch(data, rows), mode).unwrap();
    match &data.train.y {
        Targets::Classes(c) => {
            let yb = Tensor::from_vec(
                rows.iter().map(|&r| c[r as usize]).collect::<Vec<_>>(),
                rows.len(),
                &Device::Cpu,
            )
            .unwrap();
            candle_nn::loss::cross_entropy(&out, &yb).unwrap()
        }
        Targets::Values(v) => {
            let yb = Tensor::from_vec(
                rows.iter().map(|&r| v[r as usize]).collect::<Vec<_>>(),
                (rows.len(), 1),
                &Device::Cpu,
            )
            .unwrap();
            candle_nn::loss::mse(&out, &yb).unwrap()
        }
    }
}

/// Assert that the flat gradient `grad` equals `want` (per layer, as
/// [`autograd`] returns it) within `tol`·max(1, |want|).
fn assert_grads_match(
    label: &str,
    shape: &Shape,
    grad: &[f32],
    want: &[(Vec<f32>, Vec<f32>)],
    tol: f32,
) {
    assert_eq!(shape.layers.len(), want.len());
    for (
        l,
        (
            &Layer {
                w_off,
                fan_in,
                cols,
                b_off,
            },
            (gw, gb),
        ),
    ) in shape.layers.iter().zip(want).enumerate()
    {
        assert_eq!((gw.len(), gb.len()), (fan_in * cols, cols));
        for (i, (a, b)) in grad[w_off..w_off + fan_in * cols]
            .iter()
            .zip(gw)
            .enumerate()
        {
            assert!(
                (a - b).abs() <= tol * b.abs().max(1.0),
                "{label}: layer {l} dW[{i}] {a} vs {b}"
            );
        }
        for (i, (a, b)) in grad[b_off..b_off + cols].iter().zip(gb).enumerate() {
            assert!(
                (a - b).abs() <= tol * b.abs().max(1.0),
                "{label}: layer {l} db[{i}] {a} vs {b}"
            );
        }
    }
}

/// The seed of the generator a [`fused_grad`] step draws its masks from;
/// the reference draws from another seeded the same.
const FUSED_GRAD_SEED: u64 = 21;

/// One fused forward and backward pass, for the autograd tests.
struct FusedGrad {
    data: &'static crate::data::Dataset,
    model: Mlp,
    fused: Fused<'static>,
    rows: Vec<u32>,
    loss: f32,
    ws: Workspace,
    /// The step's generator, after its draws.
    ours: ChaCha8Rng,
}

/// The first trial of `src` (after `check` on its fresh state) with
/// nonzero biases written back to its `Mlp`, one fused forward and
/// backward over every fifth training row, masks drawn from
/// [`FUSED_GRAD_SEED`]; asserts no hidden pre-activation sits exactly on
/// a kink, where candle's subgradients differ from ours.
fn fused_grad(src: &str, label: &str, check: impl Fn(&Fused)) -> FusedGrad {
    let (data, model, mut fused, mut rng) = first_trial(src, 3);
    check(&fused);
    set_nonzero_biases(&mut fused, &weight_mask(&model), &mut rng);
    fused.write_back(&model).unwrap();
    let rows: Vec<u32> = (0..data.train.len() as u32).step_by(5).collect();
    let params = params_of(&fused);
    let mut ours = ChaCha8Rng::seed_from_u64(FUSED_GRAD_SEED);
    let mut ws = Workspace::default();
    let loss = forward_backward(
        &fused.shape,
        &params,
        &data.train.x,
        &data.train.y,
        &rows,
        &mut ours,
        &mut ws,
    );
    for z in &ws.z[..2] {
        assert!(!z.contains(&0.0), "{label}: a pre-activation is exactly 0");
    }
    FusedGrad {
        data,
        model,
        fused,
        rows,
        loss,
        ws,
        ours,
    }
}

/// Per flat parameter: true for a weight, false for a bias, read off
/// the `Mlp`'s own tensors (each layer's W, then its b).
fn weight_mask(model: &Mlp) -> Vec<bool> {
    model
        .layers
        .iter()
        .flat_map(|l| {
            let (w, b) = (l.w.as_tensor().elem_count(), l.b.as_tensor().elem_count());
            // Batch norm's γ follows β (= b) in the flat vector.
            let g = l
                .norm
                .as_ref()
                .map_or(0, |n| n.gamma.as_tensor().elem_count());
            std::iter::repeat_n(true, w).chain(std::iter::repeat_n(false, b + g))
        })
        .collect()
}

/// Replace the biases in `fused`'s state by ±(0.2 .. 0.5), so that an
/// L2 term on them would show (biases start at zero).
fn set_nonzero_biases(fused: &mut Fused, is_weight: &[bool], rng: &mut ChaCha8Rng) {
    let mut state = fused.state.to_vec1::<f32>().unwrap();
    for (v, _) in state.iter_mut().zip(is_weight).filter(|(_, w)| !**w) {
        let b: f32 = rng.random_range(0.2..0.5);
        *v = if rng.random_bool(0.5) { b } else { -b };
    }
    let n = state.len();
    fused.state = Tensor::from_vec(state, n, &Device::Cpu).unwrap();
}

mod autograd;
mod batch_norm;
mod optim;
mod pass;
