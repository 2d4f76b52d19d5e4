//! The resolved `[data]` section: which rows a study trains on, with
//! exactly the settings each kind has (split from `spec.rs`, which keeps
//! the model and training settings).

use std::path::PathBuf;

use super::spec::name_of;

/// Which data set a study trains on (the `data.kind` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// CS231n's spiral: `classes` arms of `points_per_class` points.
    Spiral,
    /// Two concentric circles (two classes).
    Circles,
    /// Two interleaving half moons (two classes).
    Moons,
    /// Points in the square, labelled by the sign of x·y (two classes).
    Xor,
    /// Gaussian blobs around random centres.
    Blobs,
    /// 1-D regression: y = sin(frequency·x) + noise, x in [-π, π].
    Sine,
    /// Any CSV file with a header row.
    Csv,
    /// The shipped 8×8 handwritten digits (1797 × 64, 10 classes).
    Digits,
    /// The shipped Iris set (150 × 4, 3 classes).
    Iris,
    /// The shipped Wine set (178 × 13, 3 classes).
    Wine,
    /// The shipped Breast Cancer Wisconsin set (569 × 30, 2 classes).
    BreastCancer,
    /// IDX files (the MNIST format, raw or gzip): images and labels.
    Idx,
    /// Fashion-MNIST from the Debian package `dataset-fashion-mnist`.
    FashionMnist,
    /// Two NumPy `.npy` files: features and labels or targets.
    Npy,
    /// Two arrays of a NumPy `.npz` archive.
    Npz,
    /// A Parquet table, read as a CSV table is.
    Parquet,
}

/// Names of the kinds as written in a study file.
pub(crate) const DATA_KINDS: &[(&str, DataKind)] = &[
    ("spiral", DataKind::Spiral),
    ("circles", DataKind::Circles),
    ("moons", DataKind::Moons),
    ("xor", DataKind::Xor),
    ("blobs", DataKind::Blobs),
    ("sine", DataKind::Sine),
    ("csv", DataKind::Csv),
    ("digits", DataKind::Digits),
    ("iris", DataKind::Iris),
    ("wine", DataKind::Wine),
    ("breast_cancer", DataKind::BreastCancer),
    ("idx", DataKind::Idx),
    ("fashion_mnist", DataKind::FashionMnist),
    ("npy", DataKind::Npy),
    ("npz", DataKind::Npz),
    ("parquet", DataKind::Parquet),
];

impl DataKind {
    /// Synthetic sets are drawn from a seeded generator; the others are fixed tables.
    pub fn is_synthetic(self) -> bool {
        matches!(
            self,
            DataKind::Spiral
                | DataKind::Circles
                | DataKind::Moons
                | DataKind::Xor
                | DataKind::Blobs
                | DataKind::Sine
        )
    }

    /// The kind's name in a study file.
    pub fn name(self) -> &'static str {
        name_of(DATA_KINDS, self)
    }

    /// Images whose pixels are read as [0, 1]: not standardised by default.
    pub fn is_image(self) -> bool {
        matches!(self, DataKind::Idx | DataKind::FashionMnist)
    }

    /// Kinds added with issue 26, whose held-out validation fraction is
    /// stratified by class; CSV, Parquet and the shipped tables keep the
    /// plain seeded shuffle their stored results were trained on.
    pub fn stratifies_val(self) -> bool {
        matches!(
            self,
            DataKind::Idx | DataKind::FashionMnist | DataKind::Npy | DataKind::Npz
        )
    }
}

/// Whether the network classifies (softmax cross-entropy) or regresses (MSE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Softmax cross-entropy over integer class labels.
    Classification,
    /// Mean squared error on one real target.
    Regression,
}

/// Names of the tasks as written in a study file.
pub(crate) const TASKS: &[(&str, Task)] = &[
    ("classification", Task::Classification),
    ("regression", Task::Regression),
];

/// How the validation set is obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValSplit {
    /// An independent draw of the same size from the same generator.
    Fresh,
    /// This fraction of the rows, held out by a seeded shuffle.
    Fraction(f64),
    /// The data set's own test split (IDX with `val_images`, Fashion-MNIST).
    Test,
    /// No validation set.
    None,
}

/// Which column of a CSV file holds the label or target.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelColumn {
    /// The last column (the default).
    Last,
    /// A 0-based column index.
    Index(usize),
    /// A header name.
    Name(String),
}

/// Where the rows come from, with exactly the settings that kind has.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSource {
    /// CS231n's spiral; `noise` is the angle noise.
    Spiral {
        /// Number of arms (classes).
        classes: usize,
        /// Points drawn per class.
        points_per_class: usize,
        /// Angle noise std.
        noise: f64,
    },
    /// Two concentric circles; `noise` is the coordinate noise.
    Circles {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
        /// Inner/outer radius ratio.
        factor: f64,
    },
    /// Two interleaving half moons.
    Moons {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
    },
    /// The sign of x·y in the square.
    Xor {
        /// Points drawn per class.
        points_per_class: usize,
        /// Coordinate noise std.
        noise: f64,
    },
    /// Gaussian blobs around random centres.
    Blobs {
        /// Number of blobs (classes).
        classes: usize,
        /// Points drawn per class.
        points_per_class: usize,
        /// Blob std.
        noise: f64,
        /// Dimension.
        dims: usize,
    },
    /// 1-D regression on a noisy sine.
    Sine {
        /// Points drawn in all.
        points: usize,
        /// Target noise std.
        noise: f64,
        /// Frequency of the sine target.
        frequency: f64,
    },
    /// Any CSV file with a header row.
    Csv {
        /// The file, resolved relative to the study file. Not part of the
        /// trial id: `file_hash` is, so ids do not depend on where it lies.
        path: PathBuf,
        /// FNV-1a hash of the file's bytes (16 hex digits).
        file_hash: String,
        /// The label or target column.
        label_column: LabelColumn,
        /// Classification or regression.
        task: Task,
    },
    /// A shipped table: digits, iris, wine or breast_cancer.
    Table(DataKind),
    /// IDX files: training images and labels, and optionally a test split.
    Idx {
        /// The training images, resolved relative to the study file.
        images: PathBuf,
        /// The training labels.
        labels: PathBuf,
        /// The test split's images and labels, when given.
        test: Option<(PathBuf, PathBuf)>,
        /// FNV-1a hash of the files' hashes (16 hex digits): in the id,
        /// the paths are not.
        file_hash: String,
    },
    /// Fashion-MNIST as the Debian package installs it.
    FashionMnist,
    /// Two `.npy` files.
    Npy {
        /// The features, `n × d` (or `n × …`, flattened).
        x: PathBuf,
        /// The labels or targets, `n` or `n × 1`.
        y: PathBuf,
        /// FNV-1a hash of the two files' hashes.
        file_hash: String,
        /// Classification or regression.
        task: Task,
    },
    /// Two arrays of an `.npz` archive.
    Npz {
        /// The archive.
        path: PathBuf,
        /// The features' array name.
        x: String,
        /// The labels' or targets' array name.
        y: String,
        /// FNV-1a hash of the archive's bytes.
        file_hash: String,
        /// Classification or regression.
        task: Task,
    },
    /// A Parquet table.
    Parquet {
        /// The file, resolved relative to the study file.
        path: PathBuf,
        /// FNV-1a hash of the file's bytes.
        file_hash: String,
        /// The label or target column.
        label_column: LabelColumn,
        /// Classification or regression.
        task: Task,
    },
}

impl DataSource {
    /// Which data set.
    pub fn kind(&self) -> DataKind {
        match self {
            DataSource::Spiral { .. } => DataKind::Spiral,
            DataSource::Circles { .. } => DataKind::Circles,
            DataSource::Moons { .. } => DataKind::Moons,
            DataSource::Xor { .. } => DataKind::Xor,
            DataSource::Blobs { .. } => DataKind::Blobs,
            DataSource::Sine { .. } => DataKind::Sine,
            DataSource::Csv { .. } => DataKind::Csv,
            DataSource::Table(kind) => *kind,
            DataSource::Idx { .. } => DataKind::Idx,
            DataSource::FashionMnist => DataKind::FashionMnist,
            DataSource::Npy { .. } => DataKind::Npy,
            DataSource::Npz { .. } => DataKind::Npz,
            DataSource::Parquet { .. } => DataKind::Parquet,
        }
    }

    /// Classes of a generated classification set (2 for circles, moons, xor).
    pub fn generated_classes(&self) -> Option<usize> {
        match self {
            DataSource::Spiral { classes, .. } | DataSource::Blobs { classes, .. } => {
                Some(*classes)
            }
            DataSource::Circles { .. } | DataSource::Moons { .. } | DataSource::Xor { .. } => {
                Some(2)
            }
            _ => None,
        }
    }
}

/// `data.preprocess`: a transform fitted on the training split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preprocess {
    /// Features as drawn (after `standardize`, if on).
    None,
    /// Centred and rotated onto the training covariance's eigenvectors.
    Pca,
    /// PCA, each component divided by √(λ + 1e-5).
    Whiten,
}

/// Names of the preprocessing transforms as written in a study file.
pub(crate) const PREPROCESS: &[&str] = &["none", "pca", "whiten"];

impl Preprocess {
    /// The transform's name in a study file.
    pub fn name(self) -> &'static str {
        match self {
            Preprocess::None => "none",
            Preprocess::Pca => "pca",
            Preprocess::Whiten => "whiten",
        }
    }
}

/// The resolved `[data]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    /// The rows and the kind-specific settings.
    pub source: DataSource,
    /// Share of training labels replaced by another class (0 for sine).
    pub label_noise: f64,
    /// Validation split.
    pub val: ValSplit,
    /// Standardise features with the training split's mean and std.
    pub standardize: bool,
    /// PCA or whitening after standardising, fitted on the training split.
    pub preprocess: Preprocess,
    /// Seed of the data draw, its split and label noise (per replicate when
    /// `[replicates]` varies data).
    pub seed: u64,
    /// Rows kept of a read training split (a stratified seeded subset); 0
    /// keeps them all.
    pub max_rows: usize,
}

impl DataSpec {
    /// Which data set.
    pub fn kind(&self) -> DataKind {
        self.source.kind()
    }

    /// Whether `seed` changes the data: a generated set is drawn from it, a
    /// table's validation split and label noise are.
    pub fn depends_on_seed(&self) -> bool {
        self.kind().is_synthetic()
            || matches!(self.val, ValSplit::Fraction(_))
            || self.label_noise > 0.0
            || self.max_rows > 0
    }

    /// Classification or regression.
    pub fn task(&self) -> Task {
        match &self.source {
            DataSource::Sine { .. } => Task::Regression,
            DataSource::Csv { task, .. }
            | DataSource::Npy { task, .. }
            | DataSource::Npz { task, .. }
            | DataSource::Parquet { task, .. } => *task,
            _ => Task::Classification,
        }
    }
}
