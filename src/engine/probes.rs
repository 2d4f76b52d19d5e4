//! What the benchmark, `gradcheck` and the tests read from a [`Fused`]
//! that training never needs.

use candle_core::Result;
use rand_chacha::ChaCha8Rng;

use super::fused::Fused;
use super::gemm::{product_forward, product_input_grad, product_weight_grad};
use super::layout::{Layer, Shape};
use super::pass::forward_backward;
use super::regularise::{add_l2, l1_grad};
use crate::model::Mlp;

impl Fused<'_> {
    /// For the benchmark's profile: the shortest of `reps` timings of one
    /// step's matrix products alone (forward, dW and dA per layer, as the
    /// step calls them) on a batch of `n`, on scratch data.
    pub fn time_products(&self, n: usize, reps: usize) -> Result<std::time::Duration> {
        let params = self.state.narrow(0, 0, self.shape.len)?.to_vec1::<f32>()?;
        let layers = &self.shape.layers;
        let buf = |len: usize| -> Vec<f32> { (0..len).map(|i| (i % 7) as f32 - 3.0).collect() };
        let inputs: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.fan_in * n)).collect();
        let mut outs: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.cols * n)).collect();
        let mut grad = vec![0.0f32; self.shape.len];
        let mut da: Vec<Vec<f32>> = layers.iter().map(|l| buf(l.fan_in * n)).collect();
        let mut best = std::time::Duration::MAX;
        for _ in 0..reps {
            let t0 = std::time::Instant::now();
            for (l, &layer) in layers.iter().enumerate() {
                product_forward(&params, layer, &inputs[l], n, &mut outs[l], 1);
            }
            for (l, &layer) in layers.iter().enumerate().rev() {
                let Layer { w_off, b_off, .. } = layer;
                product_weight_grad(layer, &inputs[l], &outs[l], n, &mut grad[w_off..b_off], 1);
                if l > 0 {
                    product_input_grad(&params, layer, &outs[l], n, &mut da[l], 1);
                }
            }
            best = best.min(t0.elapsed());
        }
        Ok(best)
    }

    /// The gradient the step applies on the minibatch `rows`, without
    /// updating anything, for `gradcheck`: the data-loss gradient from the
    /// step's own forward and backward, plus λ·W and λ₁·sign(W) on the
    /// weights as the update adds them. Clipping, a rescaling of this
    /// vector, is not applied. With `dropout` given (and dropout in the
    /// network), the masks are drawn from it as a step draws them and
    /// returned, one per hidden layer (`units × rows`, unit-major: entry
    /// u·rows + e is 0 or 1/(1 − p)), so a check can hold them fixed;
    /// without, dropout is off and no masks are returned.
    pub fn gradient_with_masks(
        &mut self,
        rows: &[u32],
        dropout: Option<&mut ChaCha8Rng>,
    ) -> Result<(Vec<f32>, Vec<Vec<f32>>)> {
        let params = self.params()?;
        let on = dropout.is_some() && self.shape.dropout > 0.0;
        let shape = Shape {
            dropout: if on { self.shape.dropout } else { 0.0 },
            ..self.shape.clone()
        };
        // Without dropout the generator is never drawn from.
        let mut unused = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
        let rng = match dropout {
            Some(rng) if on => rng,
            _ => &mut unused,
        };
        forward_backward(&shape, &params, self.x, self.y, rows, rng, &mut self.ws);
        let masks = if on {
            self.ws.mask[..shape.layers.len() - 1].to_vec()
        } else {
            Vec::new()
        };
        let l2 = self.spec.l2 as f32;
        let grad = l1_grad(&shape, self.spec.l1 as f32, &params, &self.ws.grad)
            .unwrap_or_else(|| self.ws.grad.clone());
        let mut grad = grad;
        add_l2(&shape, l2, &params, &mut grad);
        Ok((grad, masks))
    }

    /// Copy the current parameters into `model`'s tensors, so tests can
    /// compare with candle ops on the `Mlp` (training never needs it).
    pub fn write_back(&self, model: &Mlp) -> Result<()> {
        for (
            layer,
            &Layer {
                w_off,
                fan_in,
                cols,
                b_off,
            },
        ) in model.layers.iter().zip(&self.shape.layers)
        {
            layer.w.set(
                &self
                    .state
                    .narrow(0, w_off, fan_in * cols)?
                    .reshape((fan_in, cols))?,
            )?;
            layer.b.set(&self.state.narrow(0, b_off, cols)?)?;
        }
        let stats_at = self.shape.len * (1 + self.spec.optimizer.buffers());
        for (l, layer) in model.layers.iter().enumerate() {
            if let Some(norm) = &layer.norm {
                let Layer { cols, b_off, .. } = self.shape.layers[l];
                let at = stats_at + self.shape.stats_at(l);
                norm.gamma.set(&self.state.narrow(0, b_off + cols, cols)?)?;
                norm.mean.set(&self.state.narrow(0, at, cols)?)?;
                let var_at = at + self.shape.stats_len;
                norm.var.set(&self.state.narrow(0, var_at, cols)?)?;
            }
        }
        Ok(())
    }
}
