//! Elementwise helpers shared by every pass: plain loops and sixteen-lane
//! sums whose order is fixed, so every compiled copy gives the same bits.

// Elementwise kernels. Each is a plain index loop over slices of equal
// length, so LLVM vectorises it (and, inside the AVX-512/AVX2 copies of the
// step, with the wide registers) without changing any result: every element
// sees the same operations in the same order as a scalar loop would.

/// `x[i] *= y[i]`.
#[inline(always)]
pub(super) fn mul(x: &mut [f32], y: &[f32]) {
    let y = &y[..x.len()];
    for i in 0..x.len() {
        x[i] *= y[i];
    }
}

/// `x[i] += c`.
#[inline(always)]
pub(super) fn add_scalar(x: &mut [f32], c: f32) {
    for v in x.iter_mut() {
        *v += c;
    }
}

/// `out[r] = Σ_i m[r][i]` for the rows of `m` (`out.len()` rows). Each row
/// is summed in sixteen lanes (lane j takes i ≡ j mod 16, in order), which
/// vectorises; the lanes are then added left to right, then the tail.
#[inline(always)]
pub(super) fn row_sums(m: &[f32], out: &mut [f32]) {
    let n = m.len() / out.len().max(1);
    for (o, row) in out.iter_mut().zip(m.chunks_exact(n.max(1))) {
        let mut lanes = [0.0f32; 16];
        let mut blocks = row.chunks_exact(16);
        for block in &mut blocks {
            for j in 0..16 {
                lanes[j] += block[j];
            }
        }
        let sum = lanes.iter().fold(0.0f32, |s, v| s + v);
        *o = blocks.remainder().iter().fold(sum, |s, v| s + v);
    }
}

/// `Σ_i a[i]·b[i]` in sixteen lanes, as [`row_sums`] sums a row (the
/// same order in every compiled copy).
#[inline(always)]
pub(super) fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let b = &b[..a.len()];
    let mut lanes = [0.0f32; 16];
    let (mut ca, mut cb) = (a.chunks_exact(16), b.chunks_exact(16));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for j in 0..16 {
            lanes[j] += x[j] * y[j];
        }
    }
    let sum = lanes.iter().fold(0.0f32, |s, v| s + v);
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .fold(sum, |s, (x, y)| s + x * y)
}

/// `Σ_i a[i]` in sixteen lanes (as [`row_sums`]).
#[inline(always)]
pub(super) fn lane_sum(a: &[f32]) -> f32 {
    let mut out = [0.0f32];
    row_sums(a, &mut out);
    out[0]
}

/// The largest of `start` and `f(v)` over `row`, in sixteen lanes of plain
/// comparisons (a fold of `f32::max` stayed scalar in the AVX-512 copy).
/// The largest of a set does not depend on the order it is taken in, and
/// a NaN is passed over as `f32::max` passes it over, so the result is
/// the fold's, bit for bit, whenever `f` gives no −0.0 (|·| never does).
#[inline(always)]
pub(super) fn lane_max(row: &[f32], start: f32, f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [start; 16];
    let mut blocks = row.chunks_exact(16);
    for block in &mut blocks {
        for j in 0..16 {
            let v = f(block[j]);
            lanes[j] = if v > lanes[j] { v } else { lanes[j] };
        }
    }
    let most = |m: f32, v: f32| if v > m { v } else { m };
    let m = lanes.iter().fold(start, |m, &v| most(m, v));
    blocks.remainder().iter().fold(m, |m, &v| most(m, f(v)))
}
