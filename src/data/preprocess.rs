//! `data.preprocess`: PCA and whitening (CS231n, Neural Networks Part 2,
//! "Data Preprocessing"), fitted on the training split only and applied
//! unchanged to the validation split, so nothing about the validation data
//! leaks into training. Both centre the features on the training mean and
//! rotate them onto the eigenvectors of the training covariance (the
//! features divided by n, as `np.dot(X.T, X) / X.shape[0]` in the notes),
//! ordered by decreasing variance; whitening then divides each component
//! by √(λ + 1e-5). All in f64; the eigenvectors by cyclic Jacobi rotations.

use super::Dataset;
use crate::study::Preprocess;

/// Added to each eigenvalue before whitening (the notes' 1e-5), so
/// near-zero directions are not blown up into noise.
pub const WHITEN_EPS: f64 = 1e-5;

/// Apply `how` to `ds`, fitted on its training split.
pub fn apply(ds: &mut Dataset, how: Preprocess) {
    if how == Preprocess::None {
        return;
    }
    let d = ds.n_features;
    let fit = Fit::of(&ds.train.x, d, how == Preprocess::Whiten);
    fit.transform(&mut ds.train.x);
    if let Some(v) = &mut ds.val {
        fit.transform(&mut v.x);
    }
}

/// What the training split determines: its mean, the eigenvectors (rows of
/// `basis`, largest variance first) and the scale of each component.
struct Fit {
    d: usize,
    mean: Vec<f64>,
    basis: Vec<Vec<f64>>,
    scale: Vec<f64>,
}

impl Fit {
    fn of(x: &[f32], d: usize, whiten: bool) -> Fit {
        let n = (x.len() / d).max(1) as f64;
        let mut mean = vec![0.0; d];
        for row in x.chunks(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += f64::from(*v) / n;
            }
        }
        let mut cov = vec![vec![0.0; d]; d];
        for row in x.chunks(d) {
            let c: Vec<f64> = row
                .iter()
                .zip(&mean)
                .map(|(v, m)| f64::from(*v) - m)
                .collect();
            for i in 0..d {
                for j in 0..d {
                    cov[i][j] += c[i] * c[j] / n;
                }
            }
        }
        let (values, vectors) = symmetric_eigen(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
        let basis = order
            .iter()
            .map(|&k| vectors.iter().map(|r| r[k]).collect())
            .collect();
        let scale = order
            .iter()
            .map(|&k| {
                if whiten {
                    1.0 / (values[k].max(0.0) + WHITEN_EPS).sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Fit {
            d,
            mean,
            basis,
            scale,
        }
    }

    fn transform(&self, x: &mut [f32]) {
        let mut c = vec![0.0; self.d];
        for row in x.chunks_mut(self.d) {
            for ((ck, v), m) in c.iter_mut().zip(row.iter()).zip(&self.mean) {
                *ck = f64::from(*v) - m;
            }
            for (k, (u, s)) in self.basis.iter().zip(&self.scale).enumerate() {
                row[k] = (u.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>() * s) as f32;
            }
        }
    }
}

/// Eigenvalues and eigenvectors (columns of the returned matrix) of a
/// symmetric matrix, by cyclic Jacobi rotations until the off-diagonal
/// mass is below 1e-22 of the total (at most 100 sweeps).
pub fn symmetric_eigen(mut a: Vec<Vec<f64>>) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut v: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let total: f64 = a.iter().flatten().map(|x| x * x).sum();
    for _ in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |j| *j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i][j] * a[i][j])
            .sum();
        if off <= 1e-22 * total.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if a[p][q] == 0.0 {
                    continue;
                }
                // The rotation that zeroes a[p][q] (Golub & Van Loan, 8.5.2).
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for row in a.iter_mut() {
                    let (akp, akq) = (row[p], row[q]);
                    row[p] = c * akp - s * akq;
                    row[q] = s * akp + c * akq;
                }
                let (rp, rq) = (a[p].clone(), a[q].clone());
                for (k, (apk, aqk)) in rp.into_iter().zip(rq).enumerate() {
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for row in v.iter_mut() {
                    let (vkp, vkq) = (row[p], row[q]);
                    row[p] = c * vkp - s * vkq;
                    row[q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i][i]).collect(), v)
}

#[cfg(test)]
#[allow(clippy::needless_range_loop)] // matrix indices read as the maths does
mod tests {
    use super::*;
    use crate::data::{Split, Targets};
    use crate::study::Task;

    /// A 3-feature training split with correlated features, and a
    /// validation split of other rows.
    fn dataset() -> Dataset {
        let rows = |seed: u64, n: usize| -> Vec<f32> {
            use rand::Rng;
            let mut r = crate::streams::rng(seed, 0);
            let mut x = Vec::new();
            for _ in 0..n {
                let (a, b, c): (f64, f64, f64) = (r.random(), r.random(), r.random());
                x.extend([
                    (3.0 * a + 1.0) as f32,
                    (a + 0.5 * b) as f32,
                    (0.1 * c - 2.0) as f32,
                ]);
            }
            x
        };
        let split = |x: Vec<f32>| Split {
            y: Targets::Classes(vec![0; x.len() / 3]),
            x,
        };
        Dataset {
            task: Task::Classification,
            n_features: 3,
            n_outputs: 2,
            train: split(rows(1, 200)),
            val: Some(split(rows(2, 50))),
        }
    }

    fn covariance(x: &[f32], d: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
        let n = (x.len() / d) as f64;
        let mut mean = vec![0.0; d];
        for row in x.chunks(d) {
            for k in 0..d {
                mean[k] += f64::from(row[k]) / n;
            }
        }
        let mut cov = vec![vec![0.0; d]; d];
        for row in x.chunks(d) {
            for i in 0..d {
                for j in 0..d {
                    cov[i][j] += (f64::from(row[i]) - mean[i]) * (f64::from(row[j]) - mean[j]) / n;
                }
            }
        }
        (mean, cov)
    }

    /// Jacobi on a matrix with known eigenvalues: [[2, 1], [1, 2]] has 3
    /// and 1 (by hand), and A·v = λ·v for each returned pair. Catches a
    /// rotation with the wrong sign (which does not converge).
    #[test]
    fn jacobi_finds_the_eigenpairs() {
        let (vals, vecs) = symmetric_eigen(vec![vec![2.0, 1.0], vec![1.0, 2.0]]);
        let mut sorted = vals.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-12 && (sorted[1] - 3.0).abs() < 1e-12);
        for k in 0..2 {
            let v = [vecs[0][k], vecs[1][k]];
            let av = [2.0 * v[0] + v[1], v[0] + 2.0 * v[1]];
            assert!(
                (av[0] - vals[k] * v[0]).abs() < 1e-12 && (av[1] - vals[k] * v[1]).abs() < 1e-12
            );
        }
    }

    /// After PCA the training features are centred and uncorrelated, with
    /// variances in decreasing order summing to the original total
    /// variance (a rotation keeps the trace); after whitening their
    /// covariance is the identity, up to the 1e-5 regulariser. Computed
    /// here from the transformed rows. Catches fitting on the validation
    /// split, a missing centring, scaling by λ instead of √λ, and the
    /// components out of order.
    #[test]
    fn pca_decorrelates_and_whitening_gives_unit_covariance() {
        let original = dataset();
        let (_, cov0) = covariance(&original.train.x, 3);
        let trace0: f64 = (0..3).map(|i| cov0[i][i]).sum();
        for how in [Preprocess::Pca, Preprocess::Whiten] {
            let mut ds = dataset();
            apply(&mut ds, how);
            let (mean, cov) = covariance(&ds.train.x, 3);
            assert!(
                mean.iter().all(|m| m.abs() < 1e-5),
                "{how:?}: centred, {mean:?}"
            );
            for i in 0..3 {
                for j in 0..3 {
                    if i != j {
                        assert!(
                            cov[i][j].abs() < 1e-5,
                            "{how:?}: cov[{i}][{j}] = {}",
                            cov[i][j]
                        );
                    }
                }
            }
            match how {
                Preprocess::Pca => {
                    assert!(cov[0][0] >= cov[1][1] && cov[1][1] >= cov[2][2]);
                    let trace: f64 = (0..3).map(|i| cov[i][i]).sum();
                    assert!((trace - trace0).abs() < 1e-5 * trace0);
                }
                _ => {
                    for i in 0..3 {
                        // λ/(λ + 1e-5) for the smallest λ (≈ 0.1²/12 ≈ 8e-4) is 0.988.
                        assert!(
                            (cov[i][i] - 1.0).abs() < 0.02,
                            "{how:?}: var {i} = {}",
                            cov[i][i]
                        );
                    }
                }
            }
            // Validation rows go through the training fit: a validation
            // row equal to a training row maps to the same place.
            let mut probe = dataset();
            let first: Vec<f32> = probe.train.x[..3].to_vec();
            probe.val.as_mut().unwrap().x[..3].copy_from_slice(&first);
            apply(&mut probe, how);
            assert_eq!(probe.val.as_ref().unwrap().x[..3], probe.train.x[..3]);
        }
        // Whitening divides PCA's component k by √(λ_k + 1e-5), so its
        // variance is λ_k/(λ_k + 1e-5) exactly (λ_k PCA's variance): the
        // smallest component (λ ≈ 8e-4) shows the regulariser's sign.
        let (mut pca, mut white) = (dataset(), dataset());
        apply(&mut pca, Preprocess::Pca);
        apply(&mut white, Preprocess::Whiten);
        let (_, cp) = covariance(&pca.train.x, 3);
        let (_, cw) = covariance(&white.train.x, 3);
        for k in 0..3 {
            let want = cp[k][k] / (cp[k][k] + WHITEN_EPS);
            assert!(
                (cw[k][k] - want).abs() < 1e-4 * want,
                "component {k}: {} vs {want}",
                cw[k][k]
            );
        }
        let mut untouched = dataset();
        apply(&mut untouched, Preprocess::None);
        assert_eq!(untouched.train.x, original.train.x);
    }
}
