//! Data sets read from files or shipped in the binary, before rows are
//! chosen: a [`Table`] keeps image pixels as bytes until the rows a study
//! keeps are known, so a 5,000-row subset of Fashion-MNIST never holds the
//! 60,000 images as floats (188 MB) at once.

use std::path::{Path, PathBuf};

use super::csv_file::parse_csv;
use super::{DataError, Split, Targets, err, idx};
use crate::study::{DataKind, DataSource, DataSpec, LabelColumn, Task};

/// The shipped data sets (UCI, via scikit-learn; see `data/SOURCES.md`),
/// embedded so the binary works from any folder.
pub(super) const DIGITS: &str = include_str!("../../data/digits.csv");
pub(super) const IRIS: &str = include_str!("../../data/iris.csv");
pub(super) const WINE: &str = include_str!("../../data/wine.csv");
pub(super) const BREAST_CANCER: &str = include_str!("../../data/breast_cancer.csv");

/// Where the Debian package `dataset-fashion-mnist` installs its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The package's four files: training images, labels, test images, labels.
const FASHION_MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Features before rows are chosen.
pub(super) enum Features {
    /// Numbers as read.
    Floats(Vec<f32>),
    /// Image pixels, scaled to [0, 1] (divided by 255) when taken.
    Pixels(Vec<u8>),
}

/// Rows of `d` features and their targets.
pub(super) struct Table {
    pub x: Features,
    pub d: usize,
    pub y: Targets,
}

impl Table {
    /// Number of rows.
    pub fn y_len(&self) -> usize {
        match &self.y {
            Targets::Classes(c) => c.len(),
            Targets::Values(v) => v.len(),
        }
    }

    /// The rows `keep` (all when `None`) as a split.
    pub fn rows(self, keep: Option<&[usize]>) -> Split {
        let d = self.d;
        let x = match (self.x, keep) {
            (Features::Floats(x), None) => x,
            (Features::Floats(x), Some(rows)) => rows
                .iter()
                .flat_map(|&r| x[r * d..(r + 1) * d].iter().copied())
                .collect(),
            (Features::Pixels(p), None) => p.iter().map(|&b| f32::from(b) / 255.0).collect(),
            (Features::Pixels(p), Some(rows)) => rows
                .iter()
                .flat_map(|&r| p[r * d..(r + 1) * d].iter().map(|&b| f32::from(b) / 255.0))
                .collect(),
        };
        let y = match (self.y, keep) {
            (y, None) => y,
            (Targets::Classes(c), Some(rows)) => {
                Targets::Classes(rows.iter().map(|&r| c[r]).collect())
            }
            (Targets::Values(v), Some(rows)) => {
                Targets::Values(rows.iter().map(|&r| v[r]).collect())
            }
        };
        Split { x, y }
    }
}

/// A data set as read: the training rows, the test split when the source
/// has one, the feature count, the class count (0 for regression), the task.
pub(super) struct Read {
    pub train: Table,
    pub test: Option<Table>,
    pub k: usize,
    pub task: Task,
}

/// Read the data set a non-generated `spec` names.
pub(super) fn read(spec: &DataSpec) -> Result<Read, DataError> {
    let shipped =
        |text: &str, file: &str| csv_read(text, file, &LabelColumn::Last, Task::Classification);
    match &spec.source {
        DataSource::Table(DataKind::Digits) => shipped(DIGITS, "digits.csv"),
        DataSource::Table(DataKind::Iris) => shipped(IRIS, "iris.csv"),
        DataSource::Table(DataKind::Wine) => shipped(WINE, "wine.csv"),
        DataSource::Table(DataKind::BreastCancer) => shipped(BREAST_CANCER, "breast_cancer.csv"),
        DataSource::Csv {
            path,
            label_column,
            task,
            ..
        } => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| err("data.path", format!("cannot read {}: {e}", path.display())))?;
            csv_read(&text, &path.display().to_string(), label_column, *task)
        }
        DataSource::Idx {
            images,
            labels,
            test,
            ..
        } => idx_read(
            (images, "data.images"),
            (labels, "data.labels"),
            test.as_ref()
                .map(|(i, l)| ((i, "data.val_images"), (l, "data.val_labels"))),
        ),
        DataSource::FashionMnist => fashion_mnist(Path::new(FASHION_MNIST_DIR)),
        DataSource::Npy { x, y, task, .. } => super::npy::read_npy(x, y, *task),
        DataSource::Npz {
            path, x, y, task, ..
        } => super::npy::read_npz(path, x, y, *task),
        DataSource::Parquet {
            path,
            label_column,
            task,
            ..
        } => super::parquet_file::read(path, label_column, *task),
        other => unreachable!("{other:?} is generated, not read"),
    }
}

fn csv_read(text: &str, file: &str, label: &LabelColumn, task: Task) -> Result<Read, DataError> {
    let (all, d, k) = parse_csv(text, file, label, task)?;
    Ok(Read {
        train: Table {
            x: Features::Floats(all.x),
            d,
            y: all.y,
        },
        test: None,
        k,
        task,
    })
}

/// Fashion-MNIST from `dir`; the error names the Debian package and its
/// install command when a file is missing.
pub(super) fn fashion_mnist(dir: &Path) -> Result<Read, DataError> {
    let [a, b, c, d] = FASHION_MNIST_FILES.map(|f| dir.join(f));
    if let Some(missing) = [&a, &b, &c, &d].into_iter().find(|p| !p.is_file()) {
        return Err(err(
            "data.kind",
            format!(
                "kind = \"fashion_mnist\" reads {}, which is missing: install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
                missing.display()
            ),
        ));
    }
    let key = "data.kind";
    idx_read((&a, key), (&b, key), Some(((&c, key), (&d, key))))
}

type File<'a> = (&'a PathBuf, &'a str);

/// IDX images and labels, and a test split's: the labels are class
/// indices, the classes 0..=the largest label of either split.
fn idx_read(images: File, labels: File, test: Option<(File, File)>) -> Result<Read, DataError> {
    let train = idx_pair(images, labels)?;
    let test = test.map(|(i, l)| idx_pair(i, l)).transpose()?;
    if let Some(t) = &test
        && t.d != train.d
    {
        return Err(err(
            images.1,
            format!(
                "the training images have {} pixels each, the test images {}",
                train.d, t.d
            ),
        ));
    }
    let top = |t: &Table| match &t.y {
        Targets::Classes(c) => c.iter().copied().max().unwrap_or(0),
        Targets::Values(_) => 0,
    };
    let k = 1 + top(&train).max(test.as_ref().map_or(0, top)) as usize;
    if k < 2 {
        return Err(err(
            labels.1,
            "the labels hold a single class; classification needs at least two",
        ));
    }
    Ok(Read {
        train,
        test,
        k,
        task: Task::Classification,
    })
}

fn idx_pair((images, ikey): File, (labels, lkey): File) -> Result<Table, DataError> {
    let im = idx::read(images).map_err(|m| err(ikey, m))?;
    let lb = idx::read(labels).map_err(|m| err(lkey, m))?;
    if im.dims.len() < 2 {
        return Err(err(
            ikey,
            format!(
                "{}: images need at least 2 dimensions (count × pixels), got {}",
                images.display(),
                im.dims.len()
            ),
        ));
    }
    if lb.dims.len() != 1 {
        return Err(err(
            lkey,
            format!(
                "{}: labels are 1-dimensional (one per image), got {} dimensions",
                labels.display(),
                lb.dims.len()
            ),
        ));
    }
    let (n, d) = (im.dims[0], im.dims[1..].iter().product::<usize>());
    if lb.dims[0] != n {
        return Err(err(
            lkey,
            format!(
                "{} holds {} labels, but {} holds {n} images",
                labels.display(),
                lb.dims[0],
                images.display()
            ),
        ));
    }
    Ok(Table {
        x: Features::Pixels(im.values),
        d,
        y: Targets::Classes(lb.values.into_iter().map(u32::from).collect()),
    })
}
