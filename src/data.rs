//! Data sets: seeded generators, files (CSV, IDX, npy, npz, Parquet),
//! Fashion-MNIST and the shipped tabular sets; subsets, validation splits
//! and standardisation.
//!
//! Input: a [`DataSpec`]. Output: a [`Dataset`] with a training split and
//! an optional validation split, as row-major `f32` features. Everything
//! random draws from a `ChaCha8Rng` seeded by `data.seed` (stream 0 for the
//! training draw, 1 for a fresh validation draw, 2 for split shuffles, 3 for
//! blob centres, 4 for label noise on a read table, 5 for `max_rows`'
//! subset), so a data set depends
//! on its `[data]` keys only: it is loaded once per distinct `[data]`
//! configuration of a plan and is identical in every trial that uses it.

use std::f64::consts::PI;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

// Streams of the data seed: their numbers are listed in streams.rs.
use crate::streams::rng;
use crate::study::{DataSource, DataSpec, Task, ValSplit};

mod csv_file;
mod idx;
mod npy;
mod parquet_file;
mod preprocess;
mod read;
mod sets;
mod subset;
mod usable;
pub use read::FASHION_MNIST_DIR;
pub use sets::Datasets;

/// Targets of one split.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// Class indices in `0..classes`.
    Classes(Vec<u32>),
    /// Real-valued regression targets.
    Values(Vec<f32>),
}

/// One split: `n` rows of `d` features, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Features, `n × d`, row-major.
    pub x: Vec<f32>,
    /// One target per row.
    pub y: Targets,
}

impl Split {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.y {
            Targets::Classes(c) => c.len(),
            Targets::Values(v) => v.len(),
        }
    }

    /// Whether the split has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn select(&self, d: usize, rows: &[usize]) -> Split {
        let x = rows
            .iter()
            .flat_map(|&r| self.x[r * d..(r + 1) * d].iter().copied())
            .collect();
        let y = match &self.y {
            Targets::Classes(c) => Targets::Classes(rows.iter().map(|&r| c[r]).collect()),
            Targets::Values(v) => Targets::Values(rows.iter().map(|&r| v[r]).collect()),
        };
        Split { x, y }
    }
}

/// A loaded data set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Classification or regression.
    pub task: Task,
    /// Input features per row.
    pub n_features: usize,
    /// Network outputs: the number of classes, or 1 for regression.
    pub n_outputs: usize,
    /// Training split.
    pub train: Split,
    /// Validation split, unless `val = "none"`.
    pub val: Option<Split>,
}

/// A data problem, named by the `[data]` key it comes from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct DataError {
    /// Dotted key, e.g. `data.label_column`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn err(key: &str, message: impl Into<String>) -> DataError {
    DataError {
        key: key.into(),
        message: message.into(),
    }
}

fn randn(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// `linspace(a, b, n)` with both ends included, as NumPy's default.
fn linspace(a: f64, b: f64, n: usize, i: usize) -> f64 {
    if n <= 1 {
        a
    } else {
        a + (b - a) * i as f64 / (n - 1) as f64
    }
}

/// CS231n's spiral: for class j, r = linspace(0, 1, N),
/// t = linspace(4j, 4(j+1), N) + noise·randn(N), x = (r sin t, r cos t).
pub fn spiral(n: usize, classes: usize, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut x = Vec::with_capacity(n * classes * 2);
    let mut y = Vec::with_capacity(n * classes);
    for j in 0..classes {
        for i in 0..n {
            let r = linspace(0.0, 1.0, n, i);
            let t = linspace(4.0 * j as f64, 4.0 * (j + 1) as f64, n, i) + noise * randn(rng);
            x.extend([(r * t.sin()) as f32, (r * t.cos()) as f32]);
            y.push(j as u32);
        }
    }
    Split {
        x,
        y: Targets::Classes(y),
    }
}

fn two_class(points: Vec<([f64; 2], u32)>, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut x = Vec::with_capacity(points.len() * 2);
    let mut y = Vec::with_capacity(points.len());
    for ([a, b], label) in points {
        x.push((a + noise * randn(rng)) as f32);
        x.push((b + noise * randn(rng)) as f32);
        y.push(label);
    }
    Split {
        x,
        y: Targets::Classes(y),
    }
}

/// scikit-learn's `make_circles`: an outer unit circle (class 0) and an
/// inner one of radius `factor` (class 1), `n` points each, plus noise.
pub fn circles(n: usize, factor: f64, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut pts = Vec::with_capacity(2 * n);
    for (label, radius) in [(0, 1.0), (1, factor)] {
        for i in 0..n {
            let t = 2.0 * PI * i as f64 / n as f64;
            pts.push(([radius * t.cos(), radius * t.sin()], label));
        }
    }
    two_class(pts, noise, rng)
}

/// scikit-learn's `make_moons`: two interleaving half circles, plus noise.
pub fn moons(n: usize, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut pts = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = linspace(0.0, PI, n, i);
        pts.push(([t.cos(), t.sin()], 0));
    }
    for i in 0..n {
        let t = linspace(0.0, PI, n, i);
        pts.push(([1.0 - t.cos(), 1.0 - t.sin() - 0.5], 1));
    }
    two_class(pts, noise, rng)
}

/// XOR: `n` points per class, uniform in [-1, 1]², class 1 where x·y < 0;
/// then Gaussian noise on the coordinates.
pub fn xor(n: usize, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut pts = Vec::with_capacity(2 * n);
    let mut count = [0usize; 2];
    while count[0] < n || count[1] < n {
        let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let label = usize::from(a * b < 0.0);
        if count[label] < n {
            count[label] += 1;
            pts.push(([a, b], label as u32));
        }
    }
    two_class(pts, noise, rng)
}

/// Gaussian blobs: `classes` centres uniform in [-10, 10]^dims (as
/// scikit-learn's `make_blobs`), `n` points each with std `noise`.
/// The centres come from `centres_rng` so a fresh draw shares them.
pub fn blobs(
    n: usize,
    classes: usize,
    dims: usize,
    noise: f64,
    centres_rng: &mut ChaCha8Rng,
    rng: &mut ChaCha8Rng,
) -> Split {
    let centres: Vec<f64> = (0..classes * dims)
        .map(|_| centres_rng.random_range(-10.0..10.0))
        .collect();
    let mut x = Vec::with_capacity(n * classes * dims);
    let mut y = Vec::with_capacity(n * classes);
    for j in 0..classes {
        for _ in 0..n {
            for k in 0..dims {
                x.push((centres[j * dims + k] + noise * randn(rng)) as f32);
            }
            y.push(j as u32);
        }
    }
    Split {
        x,
        y: Targets::Classes(y),
    }
}

/// 1-D regression: x uniform in [-π, π], y = sin(frequency·x) + noise·randn.
pub fn sine(points: usize, frequency: f64, noise: f64, rng: &mut ChaCha8Rng) -> Split {
    let mut x = Vec::with_capacity(points);
    let mut y = Vec::with_capacity(points);
    for _ in 0..points {
        let v: f64 = rng.random_range(-PI..PI);
        x.push(v as f32);
        y.push(((frequency * v).sin() + noise * randn(rng)) as f32);
    }
    Split {
        x,
        y: Targets::Values(y),
    }
}

/// Replace the labels of a `share` of the rows by another class, chosen at random.
fn flip_labels(split: &mut Split, classes: usize, share: f64, rng: &mut ChaCha8Rng) {
    if share <= 0.0 {
        return;
    }
    if let Targets::Classes(y) = &mut split.y {
        for label in y.iter_mut() {
            if rng.random_bool(share) {
                let shift = rng.random_range(1..classes as u32);
                *label = (*label + shift) % classes as u32;
            }
        }
    }
}

/// Draw or load the data set described by `spec`.
pub fn load(spec: &DataSpec) -> Result<Dataset, DataError> {
    let mut ds = if spec.kind().is_synthetic() {
        generated(spec)
    } else {
        table(spec)?
    };
    if spec.standardize {
        standardize(&mut ds);
    }
    preprocess::apply(&mut ds, spec.preprocess);
    Ok(ds)
}

/// One draw of a generated set: stream 0 is the training split, stream 1
/// the fresh validation split; labels are then flipped from the same stream.
fn draw(spec: &DataSpec, stream: u64) -> Split {
    let mut r = rng(spec.seed, stream);
    let mut s = match spec.source {
        DataSource::Spiral {
            classes,
            points_per_class,
            noise,
        } => spiral(points_per_class, classes, noise, &mut r),
        DataSource::Circles {
            points_per_class,
            noise,
            factor,
        } => circles(points_per_class, factor, noise, &mut r),
        DataSource::Moons {
            points_per_class,
            noise,
        } => moons(points_per_class, noise, &mut r),
        DataSource::Xor {
            points_per_class,
            noise,
        } => xor(points_per_class, noise, &mut r),
        DataSource::Blobs {
            classes,
            points_per_class,
            noise,
            dims,
        } => {
            // The centres come from their own stream, shared by both splits.
            blobs(
                points_per_class,
                classes,
                dims,
                noise,
                &mut rng(spec.seed, 3),
                &mut r,
            )
        }
        DataSource::Sine {
            points,
            noise,
            frequency,
        } => sine(points, frequency, noise, &mut r),
        _ => unreachable!("only generated kinds are drawn"),
    };
    let classes = spec.source.generated_classes().unwrap_or(0);
    flip_labels(&mut s, classes, spec.label_noise, &mut r);
    s
}

fn generated(spec: &DataSpec) -> Dataset {
    let train = draw(spec, 0);
    let n_features = match spec.source {
        DataSource::Sine { .. } => 1,
        DataSource::Blobs { dims, .. } => dims,
        _ => 2,
    };
    let n_outputs = spec.source.generated_classes().unwrap_or(1);
    let (train, val) = match spec.val {
        ValSplit::Fresh => (train, Some(draw(spec, 1))),
        ValSplit::None | ValSplit::Test => (train, None),
        ValSplit::Fraction(f) => {
            let (t, v) = split_off(&train, n_features, f, &mut rng(spec.seed, 2));
            (t, Some(v))
        }
    };
    Dataset {
        task: spec.task(),
        n_features,
        n_outputs,
        train,
        val,
    }
}

/// A read data set: `data.max_rows`' subset (stream 5), label noise
/// (stream 4), then the validation split: the test split, or a held-out
/// fraction (stream 2; stratified for the kinds that say so).
fn table(spec: &DataSpec) -> Result<Dataset, DataError> {
    let read::Read {
        train,
        test,
        k,
        task,
    } = read::read(spec)?;
    let d = train.d;
    let n = train.y_len();
    let keep = (spec.max_rows > 0 && spec.max_rows < n)
        .then(|| subset::pick(&train.y, k, spec.max_rows, &mut rng(spec.seed, 5)));
    let mut all = train.rows(keep.as_deref());
    flip_labels(&mut all, k.max(2), spec.label_noise, &mut rng(spec.seed, 4));
    let (train, val) = match spec.val {
        ValSplit::Fraction(f) if spec.kind().stratifies_val() => {
            let n = all.len();
            let n_val = ((f * n as f64).round() as usize).clamp(1, n.saturating_sub(1).max(1));
            let val_rows = subset::pick(&all.y, k, n_val, &mut rng(spec.seed, 2));
            let train_rows: Vec<usize> = (0..n)
                .filter(|r| val_rows.binary_search(r).is_err())
                .collect();
            (all.select(d, &train_rows), Some(all.select(d, &val_rows)))
        }
        ValSplit::Fraction(f) => {
            let (t, v) = split_off(&all, d, f, &mut rng(spec.seed, 2));
            (t, Some(v))
        }
        ValSplit::Test => (all, test.map(|t| t.rows(None))),
        ValSplit::Fresh | ValSplit::None => (all, None),
    };
    Ok(Dataset {
        task,
        n_features: d,
        n_outputs: k.max(1),
        train,
        val,
    })
}

/// Hold out `round(f·n)` rows (at least one, leaving at least one) chosen by a seeded shuffle.
fn split_off(all: &Split, d: usize, f: f64, rng: &mut ChaCha8Rng) -> (Split, Split) {
    let n = all.len();
    let mut idx: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        idx.swap(i, rng.random_range(0..=i));
    }
    let n_val = ((f * n as f64).round() as usize).clamp(1, n.saturating_sub(1).max(1));
    let (val, train) = idx.split_at(n_val);
    let (mut train, mut val) = (train.to_vec(), val.to_vec());
    train.sort_unstable();
    val.sort_unstable();
    (all.select(d, &train), all.select(d, &val))
}

/// Scale each feature to zero mean and unit std, with statistics of the
/// training split only (the validation split must not leak into training).
/// The std is the population std (ddof 0, as scikit-learn's
/// `StandardScaler`); a constant feature is only centred.
fn standardize(ds: &mut Dataset) {
    let d = ds.n_features;
    let n = ds.train.len().max(1) as f64;
    let mut mean = vec![0f64; d];
    let mut var = vec![0f64; d];
    for row in ds.train.x.chunks(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v) / n;
        }
    }
    for row in ds.train.x.chunks(d) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (f64::from(*v) - m).powi(2) / n;
        }
    }
    let std: Vec<f64> = var
        .iter()
        .map(|v| if *v > 0.0 { v.sqrt() } else { 1.0 })
        .collect();
    let apply = |x: &mut Vec<f32>| {
        for row in x.chunks_mut(d) {
            for k in 0..d {
                row[k] = ((f64::from(row[k]) - mean[k]) / std[k]) as f32;
            }
        }
    };
    apply(&mut ds.train.x);
    if let Some(v) = &mut ds.val {
        apply(&mut v.x);
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod read_tests;
