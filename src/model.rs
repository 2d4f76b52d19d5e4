//! The MLP: `depth` hidden layers of `width` units, one activation, inverted
//! dropout, a linear output layer; parameter counting.
//!
//! Weights are stored `(fan_in, fan_out·pieces)` so a layer is `x·W + b`.
//! A maxout layer with k pieces has k times the weights and biases of a plain
//! one; unit j's pieces are columns `j·k .. j·k+k`. Initial values and
//! dropout masks come from the trial's own `ChaCha8Rng` (candle's CPU RNG
//! cannot be seeded), so a trial is reproducible from its seed alone.

use std::fmt;

use candle_core::{D, Device, Result, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::study::{Activation, Init, ModelSpec};

/// Parameter counts of a network, as the CS231n notes count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamCount {
    /// Entries of all weight matrices.
    pub weights: usize,
    /// Entries of all bias vectors (with batch norm, the output layer's
    /// only: the normalised hidden layers have none).
    pub biases: usize,
    /// weights + biases + norm.
    pub total: usize,
    /// Hidden units (the output layer's units are not counted).
    pub hidden_neurons: usize,
    /// Batch norm's γ and β: two per hidden unit (per piece with maxout);
    /// 0 without batch norm, and then not written, so records stay as
    /// they were.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub norm: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Layer sizes from input to output, e.g. `[3, 4, 4, 1]`.
pub fn layer_sizes(n_in: usize, spec: &ModelSpec, n_out: usize) -> Vec<usize> {
    let mut sizes = vec![n_in];
    sizes.extend(std::iter::repeat_n(spec.width, spec.depth));
    sizes.push(n_out);
    sizes
}

/// Parameter counts of the network `spec` describes, for `n_in` features
/// and `n_out` outputs (without building it).
pub fn params_for(spec: &ModelSpec, n_in: usize, n_out: usize) -> ParamCount {
    count_params_normed(
        &layer_sizes(n_in, spec, n_out),
        spec.activation.pieces(),
        spec.batch_norm,
    )
}

/// Count weights and biases for layer sizes `sizes`; hidden layers have
/// `pieces` linear pieces each (1 unless maxout), the output layer one.
pub fn count_params(sizes: &[usize], pieces: usize) -> ParamCount {
    count_params_normed(sizes, pieces, false)
}

/// [`count_params`], with batch norm on the hidden layers when
/// `batch_norm`: their biases are gone, and each of their linear outputs
/// (unit, or maxout piece) has a γ and a β instead.
pub fn count_params_normed(sizes: &[usize], pieces: usize, batch_norm: bool) -> ParamCount {
    let (mut weights, mut biases, mut norm) = (0, 0, 0);
    let last = sizes.len() - 1;
    for l in 1..sizes.len() {
        let k = if l < last { pieces } else { 1 };
        weights += sizes[l - 1] * sizes[l] * k;
        if batch_norm && l < last {
            norm += 2 * sizes[l] * k;
        } else {
            biases += sizes[l] * k;
        }
    }
    let hidden_neurons = sizes[1..last].iter().sum();
    ParamCount {
        weights,
        biases,
        total: weights + biases + norm,
        hidden_neurons,
        norm,
    }
}

/// Batch norm's ε, added to the variance before its square root.
pub const BN_EPS: f32 = 1e-5;

/// Batch norm's momentum: running ← (1 − m)·running + m·batch statistic.
pub const BN_MOMENTUM: f32 = 0.1;

/// One affine layer.
pub struct Layer {
    /// `(fan_in, fan_out·pieces)`.
    pub w: Var,
    /// `(fan_out·pieces,)`: the bias, or batch norm's β.
    pub b: Var,
    /// Batch norm: γ `(fan_out·pieces,)`, and the running mean and
    /// variance (state, not parameters: no gradient flows to them).
    pub norm: Option<Norm>,
}

/// A hidden layer's batch-norm scale and running statistics.
pub struct Norm {
    /// γ, initialised to 1.
    pub gamma: Var,
    /// Running mean, initialised to 0.
    pub mean: Var,
    /// Running (unbiased) variance, initialised to 1.
    pub var: Var,
}

/// How a forward pass treats dropout.
pub enum Mode<'a> {
    /// Training: dropout masks drawn from the trial's RNG.
    Train(&'a mut ChaCha8Rng),
    /// Evaluation: deterministic, no dropout.
    Eval,
}

/// A multilayer perceptron.
pub struct Mlp {
    /// Hidden layers then the output layer.
    pub layers: Vec<Layer>,
    sizes: Vec<usize>,
    activation: Activation,
    alpha: f64,
    pieces: usize,
    dropout: f64,
}

impl Mlp {
    /// Build and initialise a network for `n_in` features and `n_out` outputs.
    pub fn new(spec: &ModelSpec, n_in: usize, n_out: usize, rng: &mut ChaCha8Rng) -> Result<Mlp> {
        let sizes = layer_sizes(n_in, spec, n_out);
        let pieces = spec.activation.pieces();
        let last = sizes.len() - 1;
        let mut layers = Vec::with_capacity(last);
        for l in 1..sizes.len() {
            let (fan_in, fan_out) = (sizes[l - 1], sizes[l]);
            let cols = fan_out * if l < last { pieces } else { 1 };
            let w: Vec<f32> = (0..fan_in * cols)
                .map(|_| {
                    let v = match spec.init {
                        Init::KaimingNormal => {
                            (2.0 / fan_in as f64).sqrt() * rng.sample::<f64, _>(StandardNormal)
                        }
                        Init::Normal { std } => std * rng.sample::<f64, _>(StandardNormal),
                        Init::XavierUniform => {
                            let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                            rng.random_range(-a..a)
                        }
                    };
                    v as f32
                })
                .collect();
            let f32 = candle_core::DType::F32;
            let norm = if spec.batch_norm && l < last {
                Some(Norm {
                    gamma: Var::ones(cols, f32, &Device::Cpu)?,
                    mean: Var::zeros(cols, f32, &Device::Cpu)?,
                    var: Var::ones(cols, f32, &Device::Cpu)?,
                })
            } else {
                None
            };
            layers.push(Layer {
                w: Var::from_vec(w, (fan_in, cols), &Device::Cpu)?,
                b: Var::zeros(cols, f32, &Device::Cpu)?,
                norm,
            });
        }
        Ok(Mlp {
            layers,
            sizes,
            activation: spec.activation,
            alpha: match spec.activation {
                Activation::LeakyRelu { alpha } => alpha,
                _ => 0.01,
            },
            pieces,
            dropout: spec.dropout,
        })
    }

    /// (layer sizes, activation, leaky slope, maxout pieces, dropout), for
    /// the fused training step.
    pub fn architecture(&self) -> (Vec<usize>, Activation, f64, usize, f64) {
        (
            self.sizes.clone(),
            self.activation,
            self.alpha,
            self.pieces,
            self.dropout,
        )
    }

    /// Whether the hidden layers are batch-normalised.
    pub fn batch_norm(&self) -> bool {
        self.layers.iter().any(|l| l.norm.is_some())
    }

    /// Parameter counts of this network.
    pub fn param_count(&self) -> ParamCount {
        let normed = self.layers.iter().any(|l| l.norm.is_some());
        count_params_normed(&self.sizes, self.pieces, normed)
    }

    fn activate(&self, z: &Tensor) -> Result<Tensor> {
        match self.activation {
            Activation::Relu => z.relu(),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => candle_nn::ops::sigmoid(z),
            // max(αx, x) for 0 < α < 1: one op, and its gradient is right.
            Activation::LeakyRelu { .. } => z.maximum(&(z * self.alpha)?),
            Activation::Maxout { .. } => {
                let (n, cols) = z.dims2()?;
                z.reshape((n, cols / self.pieces, self.pieces))?
                    .max(D::Minus1)
            }
        }
    }

    /// Forward pass: the output layer's pre-activations (logits or predictions)
    /// and the hidden activations after the nonlinearity (before dropout).
    pub fn forward_all(&self, x: &Tensor, mut mode: Mode) -> Result<(Tensor, Vec<Tensor>)> {
        let mut h = x.clone();
        let mut hidden = Vec::with_capacity(self.layers.len() - 1);
        let last = self.layers.len() - 1;
        for (l, layer) in self.layers.iter().enumerate() {
            let z = match &layer.norm {
                None => h
                    .matmul(layer.w.as_tensor())?
                    .broadcast_add(layer.b.as_tensor())?,
                Some(norm) => {
                    // Batch norm, per column (unit or piece): training uses
                    // the batch mean and biased variance, evaluation the
                    // running averages; then γ·x̂ + β (b is β).
                    let z = h.matmul(layer.w.as_tensor())?;
                    let (mean, var) = match &mode {
                        Mode::Train(_) => {
                            let mean = z.mean_keepdim(0)?;
                            let var = z.broadcast_sub(&mean)?.sqr()?.mean_keepdim(0)?;
                            (mean, var)
                        }
                        Mode::Eval => (
                            norm.mean.as_tensor().unsqueeze(0)?,
                            norm.var.as_tensor().unsqueeze(0)?,
                        ),
                    };
                    let xhat = z
                        .broadcast_sub(&mean)?
                        .broadcast_div(&(var + f64::from(BN_EPS))?.sqrt()?)?;
                    xhat.broadcast_mul(norm.gamma.as_tensor())?
                        .broadcast_add(layer.b.as_tensor())?
                }
            };
            if l == last {
                return Ok((z, hidden));
            }
            let a = self.activate(&z)?;
            hidden.push(a.clone());
            h = match &mut mode {
                Mode::Train(rng) if self.dropout > 0.0 => {
                    // Inverted dropout: keep with probability 1-p and scale by
                    // 1/(1-p), so evaluation needs no rescaling.
                    let keep = 1.0 - self.dropout;
                    let scale = (1.0 / keep) as f32;
                    let mask: Vec<f32> = (0..a.elem_count())
                        .map(|_| if rng.random_bool(keep) { scale } else { 0.0 })
                        .collect();
                    let mask = Tensor::from_vec(mask, a.shape(), &Device::Cpu)?;
                    (a * mask)?
                }
                _ => a,
            };
        }
        unreachable!("a network has an output layer")
    }

    /// Forward pass returning only the output.
    pub fn forward(&self, x: &Tensor, mode: Mode) -> Result<Tensor> {
        Ok(self.forward_all(x, mode)?.0)
    }
}

impl fmt::Display for Mlp {
    /// The architecture, e.g. `2 → 64 relu → 64 relu → 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let act = self.activation.name();
        write!(f, "{}", self.sizes[0])?;
        for s in &self.sizes[1..self.sizes.len() - 1] {
            write!(f, " → {s} {act}")?;
        }
        write!(f, " → {}", self.sizes[self.sizes.len() - 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spec(depth: usize, width: usize, activation: Activation) -> ModelSpec {
        ModelSpec {
            depth,
            width,
            activation,
            init: Init::KaimingNormal,
            dropout: 0.0,
            batch_norm: false,
        }
    }

    #[test]
    fn parameter_counts_match_the_notes() {
        // CS231n: [3, 4, 2] has 20 weights + 6 biases; [3, 4, 4, 1] has 32 + 9.
        assert_eq!(
            count_params(&[3, 4, 2], 1),
            ParamCount {
                weights: 20,
                biases: 6,
                total: 26,
                hidden_neurons: 4,
                norm: 0
            }
        );
        assert_eq!(
            count_params(&[3, 4, 4, 1], 1),
            ParamCount {
                weights: 32,
                biases: 9,
                total: 41,
                hidden_neurons: 8,
                norm: 0
            }
        );
        assert_eq!(
            layer_sizes(3, &spec(2, 4, Activation::Relu), 1),
            vec![3, 4, 4, 1]
        );
    }

    #[test]
    fn maxout_doubles_a_hidden_layers_weights_and_biases() {
        // [3, 4, 2] with 2 pieces: hidden 3·4·2 = 24 weights, 8 biases; output unchanged 8 + 2.
        assert_eq!(
            count_params(&[3, 4, 2], 2),
            ParamCount {
                weights: 32,
                biases: 10,
                total: 42,
                hidden_neurons: 4,
                norm: 0
            }
        );
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = Mlp::new(
            &spec(1, 4, Activation::Maxout { pieces: 2 }),
            3,
            2,
            &mut rng,
        )
        .unwrap();
        let actual: usize = m
            .layers
            .iter()
            .map(|l| l.w.elem_count() + l.b.elem_count())
            .sum();
        assert_eq!(actual, m.param_count().total);
        let x = Tensor::ones((5, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
        let (out, hidden) = m.forward_all(&x, Mode::Eval).unwrap();
        assert_eq!(out.dims(), &[5, 2]);
        assert_eq!(hidden[0].dims(), &[5, 4]);
    }

    /// Batch norm: the hidden layers lose their biases and gain a γ and a
    /// β per unit (per piece with maxout); the output layer keeps its
    /// biases. Counted by hand for [3, 4, 2]: 20 weights, 2 output biases,
    /// 2·4 = 8 (maxout with 2 pieces: 32 weights, 2·8 = 16). The `Mlp`'s
    /// own tensors (W, b = β, γ) add up to the same total.
    #[test]
    fn batch_norm_counts_gamma_and_beta_instead_of_hidden_biases() {
        let count = |weights, biases, norm| ParamCount {
            weights,
            biases,
            total: weights + biases + norm,
            hidden_neurons: 4,
            norm,
        };
        assert_eq!(count_params_normed(&[3, 4, 2], 1, true), count(20, 2, 8));
        assert_eq!(count_params_normed(&[3, 4, 2], 2, true), count(32, 2, 16));
        assert_eq!(count_params_normed(&[3, 4, 2], 2, false), count(32, 10, 0));
        for act in [Activation::Relu, Activation::Maxout { pieces: 3 }] {
            let mut s = spec(2, 4, act);
            s.batch_norm = true;
            let m = Mlp::new(&s, 3, 2, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
            let actual: usize = m
                .layers
                .iter()
                .map(|l| {
                    l.w.elem_count()
                        + l.b.elem_count()
                        + l.norm.as_ref().map_or(0, |n| n.gamma.elem_count())
                })
                .sum();
            assert_eq!(actual, m.param_count().total);
            assert_eq!(m.param_count(), params_for(&s, 3, 2));
        }
    }

    #[test]
    fn init_is_seeded_and_kaiming_has_the_right_scale() {
        let s = spec(1, 256, Activation::Relu);
        let a = Mlp::new(&s, 200, 3, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let b = Mlp::new(&s, 200, 3, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let w = a.layers[0]
            .w
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(
            w,
            b.layers[0]
                .w
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        );
        let var = w.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / w.len() as f64;
        assert!((var - 2.0 / 200.0).abs() < 0.001, "variance {var}");
        assert_eq!(a.to_string(), "200 → 256 relu → 3");
    }

    #[test]
    fn inverted_dropout_keeps_the_expected_activation_and_is_off_at_eval() {
        let mut s = spec(1, 1000, Activation::Relu);
        s.dropout = 0.5;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let m = Mlp::new(&s, 2, 1, &mut rng).unwrap();
        let x = Tensor::ones((1, 2), candle_core::DType::F32, &Device::Cpu).unwrap();
        let e1 = m.forward(&x, Mode::Eval).unwrap().to_vec2::<f32>().unwrap();
        let e2 = m.forward(&x, Mode::Eval).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(e1, e2, "evaluation is deterministic");
        // Averaged over many masks, the training output matches evaluation.
        let mut sum = 0.0;
        for _ in 0..400 {
            sum += m
                .forward(&x, Mode::Train(&mut rng))
                .unwrap()
                .to_vec2::<f32>()
                .unwrap()[0][0];
        }
        let mean = sum / 400.0;
        assert!(
            (mean - e1[0][0]).abs() < 0.1 * e1[0][0].abs().max(1.0),
            "train mean {mean} vs eval {}",
            e1[0][0]
        );
        let t = m
            .forward(&x, Mode::Train(&mut rng))
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_ne!(t, e1, "training applies a mask");
    }
}
