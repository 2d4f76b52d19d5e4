//! Dropout masks, drawn in bulk but in exactly the order and with the
//! outcome of one `random_bool` per element.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Fill `mask` (`units × n`, feature-major) with dropout multipliers, drawn
/// example by example and unit by unit (the order of `Mlp::forward_all`'s
/// training mode, which the tests compare with), exactly
/// as `rng.random_bool(keep)` per element would: a `u64` per element, kept
/// when below `keep · 2⁶⁴` (rand's `Bernoulli`). The draws are taken in
/// bulk, sixteen examples at a time, which is several times faster than one
/// call per element; `draw_mask_is_random_bool_per_element` checks both
/// the masks and the generator's state afterwards.
#[inline(always)]
pub(super) fn draw_mask(
    rng: &mut ChaCha8Rng,
    keep: f64,
    scale: f32,
    units: usize,
    n: usize,
    mask: &mut Vec<f32>,
    draws: &mut Vec<u64>,
) {
    const B: usize = 16;
    debug_assert!(keep > 0.0 && keep < 1.0);
    let threshold = (keep * 2f64.powi(64)) as u64;
    mask.resize(units * n, 0.0);
    draws.resize(B * units, 0);
    for i0 in (0..n).step_by(B) {
        let b = B.min(n - i0);
        let draws = &mut draws[..b * units];
        rng.fill(draws);
        for (u, out) in mask.chunks_exact_mut(n).enumerate() {
            for (j, o) in out[i0..i0 + b].iter_mut().enumerate() {
                *o = if draws[j * units + u] < threshold {
                    scale
                } else {
                    0.0
                };
            }
        }
    }
}
