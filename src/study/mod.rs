//! The study file: parse, apply `--set` overrides, validate, and resolve
//! grid points into typed configurations.
//!
//! Input: a TOML file (see `docs/study-file.md`). Output: a [`Study`],
//! which knows the fixed settings, the swept [`Axis`]es and the seeds, and
//! resolves any grid point into a checked [`Config`] with
//! [`Study::config_at`]. Nothing past this module sees TOML.
//!
//! One concern a file: `keys` (the table of every `[data]`, `[model]`,
//! `[train]` key), `sections` (the rows of every other section) and
//! `fields` (reading a section by its rows), `values` (readers
//! of single values), `resolve` (a grid point → [`Config`]), `spec` (the
//! typed configuration), `grid` (axes and their order), `search`
//! (`[search]` and `[space]`: drawn points as one more axis), `overrides`
//! (`--set`), `spans` (lines of keys), `error`, `claims` (`[report]` and
//! `[[claims]]`) and `reference` (the key reference in the docs). Each
//! error names the file, the line, the key path and what is allowed, e.g.
//! `study.toml:12: model.width: expected an integer in 1..=65536, got 0`.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

mod arms;
mod claims;
mod confirm;
mod data_spec;
mod error;
mod fields;
mod fits;
mod grid;
mod halving;
pub mod keys;
mod overrides;
mod produced;
pub mod reference;
mod repeats;
mod replicates;
mod resolve;
mod search;
mod sections;
mod settle;
mod sources;
mod spans;
mod spec;
mod toml_error;
mod values;

pub use self::halving::{Halving, Reference};
pub use arms::{Arm, Arms};
pub use claims::{
    Allowed, ClaimSpec, Expect, Filter, ReportSpec, Selection, Statistic, StuckRelative, matches,
};
pub use error::StudyError;
pub use grid::{Axis, MAX_TRIALS, Setting, describe, flatten, short_float};
pub use replicates::{Replicate, Replication, Source};
pub use search::{Dist, Search, Strategy};
pub use settle::Settle;
pub use spec::{
    Activation, Batch, Config, DataKind, DataSource, DataSpec, Init, LabelColumn, ModelSpec,
    Optimizer, Preprocess, Schedule, Task, TrainSpec, ValSplit,
};

use produced::Produced;

use error::{KeyError, key_err};
use values::show;

/// A loaded, validated study.
#[derive(Debug, Clone)]
pub struct Study {
    /// The study file as given (for messages).
    pub path: PathBuf,
    /// Study name: the results folder is `results/<name>/`.
    pub name: String,
    /// What the study asks, in a sentence.
    pub description: String,
    /// The replicates of each configuration: `seeds` or `[replicates]`.
    pub replication: Replication,
    /// Swept axes in file order (`[grid]` keys first, then `[[zip]]`
    /// groups, then the points drawn from `[space]`).
    pub axes: Vec<Axis>,
    /// A random or Sobol search (`[search]`, `[space]`); `None` for a grid.
    pub search: Option<Search>,
    /// Successive halving over the configurations (`[search.halving]`).
    pub halving: Option<Halving>,
    /// Sequential seeds for the claims (`[settle]`).
    pub settle: Option<Settle>,
    /// Fixed settings as (canonical key, value), after overrides.
    base: Vec<(String, Value)>,
    /// Report settings and the study's claims.
    pub report: ReportSpec,
    /// The study after overrides, as TOML: what `study.toml` in the results holds.
    pub resolved_toml: String,
    /// Folder of the study file: relative data paths start here.
    dir: PathBuf,
    /// Lines of the keys in the file, for errors found after loading.
    spans: spans::Spans,
    /// Keys given with `--set`: an error about one blames `--set`, not the file.
    set_keys: Vec<String>,
}

/// Parse and validate a study file with `--set` overrides (`key=value`).
pub fn load(path: &Path, overrides: &[String]) -> Result<Study, StudyError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| StudyError {
        file: file.clone(),
        line: None,
        key: String::new(),
        message: format!("cannot read the study file: {e}"),
    })?;
    from_str(&src, path, overrides)
}

/// Like [`load`], from text already read; `path` names the file in messages
/// and anchors relative data paths.
pub fn from_str(src: &str, path: &Path, overrides: &[String]) -> Result<Study, StudyError> {
    let file = path.display().to_string();
    let mut doc: Table = src
        .parse()
        .map_err(|e: toml::de::Error| toml_error::study_error(&file, src, &e))?;
    let mut set_keys = Vec::new();
    for o in overrides {
        let key = overrides::apply(&mut doc, o).map_err(|e| StudyError {
            file: "--set".into(),
            line: None,
            key: e.key,
            message: e.message,
        })?;
        set_keys.push(key);
    }
    // The stored study must still find a CSV from inside the results folder.
    if let Some(Value::Table(data)) = doc.get_mut("data")
        && let Some(Value::String(p)) = data.get_mut("path")
    {
        let abs = path.parent().unwrap_or(Path::new("")).join(&*p);
        if let Ok(abs) = abs.canonicalize() {
            *p = abs.display().to_string();
        }
    }
    let resolved_toml = toml::to_string(&doc).expect("a parsed TOML table serialises");
    let spans = spans::Spans::parse(src);
    build(doc, path, resolved_toml, spans.clone(), set_keys.clone())
        .map_err(|e| place(&file, &spans, &set_keys, e))
}

/// Attach where a key error comes from: `--set` when the value was given
/// on the command line (the file's line would blame the wrong place), else
/// the file and the key's line.
fn place(file: &str, spans: &spans::Spans, set_keys: &[String], e: KeyError) -> StudyError {
    let from_set = set_keys.iter().any(|k| overrides::same_key(k, &e.key));
    StudyError {
        line: if from_set { None } else { spans.line(&e.key) },
        file: if from_set {
            "--set".into()
        } else {
            file.into()
        },
        key: e.key,
        message: e.message,
    }
}

fn build(
    doc: Table,
    path: &Path,
    resolved_toml: String,
    spans: spans::Spans,
    set_keys: Vec<String>,
) -> Result<Study, KeyError> {
    let top = sections::TOP.fields(&doc, "")?;
    let replication = replicates::parse(doc.get("seeds"), doc.get("replicates"))?;
    let search = search::parse(doc.get("search"), doc.get("space"))?;
    let space = search.as_ref().map(|s| (s.axis(), s.paths.as_slice()));
    let axes = grid::axes(doc.get("grid"), doc.get("zip"), space, replication.len())?;
    let mut study = Study {
        path: path.to_path_buf(),
        name: top.text("name")?.expect("name is required"),
        description: top.text("description")?.unwrap_or_default(),
        base: fixed(&doc)?,
        axes,
        search,
        halving: None,
        settle: None,
        replication,
        report: ReportSpec::default(),
        resolved_toml,
        dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        spans,
        set_keys,
    };
    fits::fixed_or_swept(&study.base, &study.axes)?;
    // Validate every grid point now, so a bad value fails before any training.
    let mut configs = Vec::new();
    let mut unused = Vec::new();
    for i in 0..study.n_configs() {
        let (config, keys) = study.resolve_all(&study.coords(i))?;
        configs.push(config);
        unused.push(keys);
    }
    fits::applies_somewhere(&unused, &study.axes)?;
    fits::report_applies(doc.get("report"), &configs, &study.axes)?;
    fits::schedule_acts(&configs, &study.axes)?;
    let produced = Produced::of(&configs);
    replicates::check_sources(&study.replication, &configs, &study.base, &study.axes)?;
    let epochs = configs[0].train.epochs;
    let same_epochs = configs.iter().all(|c| c.train.epochs == epochs);
    study.halving = halving::parse(doc.get("search"), same_epochs.then_some(epochs), produced)?;
    study.report = claims::parse(
        doc.get("report"),
        doc.get("claims"),
        &study.axes,
        keys::canonical,
        produced.regression,
        &study
            .replication
            .varying()
            .iter()
            .map(|(s, _)| *s)
            .collect::<Vec<_>>(),
        claims::Facts {
            grid_arm: study.search.as_ref().is_some_and(Search::has_grid_arm),
            produced,
            replicates: study.replication.len(),
        },
    )?;
    study.settle = settle::parse(
        doc.get("settle"),
        &study.replication,
        study.report.claims.len(),
        study.halving.is_some(),
    )?;
    confirm::check(&study)?;
    Ok(study)
}

/// The longest study name: it names the results folder, which must stay a
/// valid file name (255 bytes on common file systems) with room for
/// `.previous-N` and `_refined` suffixes.
pub const MAX_NAME: usize = 100;

/// The fixed settings of `[data]`, `[model]` and `[train]`: known keys,
/// single values.
fn fixed(doc: &Table) -> Result<Vec<(String, Value)>, KeyError> {
    let mut base = Vec::new();
    for section in keys::SECTIONS {
        let t = match doc.get(*section) {
            None => continue,
            Some(Value::Table(t)) => t,
            Some(other) => {
                return Err(key_err(
                    *section,
                    format!("expected a table, got {}", values::type_name(other)),
                ));
            }
        };
        let known = keys::names(section);
        for (k, v) in t {
            if !known.contains(&k.as_str()) {
                return Err(key_err(
                    format!("{section}.{k}"),
                    format!("unknown key; [{section}] has: {}", known.join(", ")),
                ));
            }
            if matches!(v, Value::Array(_) | Value::Table(_)) {
                return Err(key_err(
                    format!("{section}.{k}"),
                    format!(
                        "expected a single value, got {}; to sweep it, put the list under [grid]",
                        values::type_name(v)
                    ),
                ));
            }
            base.push((format!("{section}.{k}"), v.clone()));
        }
    }
    Ok(base)
}

/// 64-bit FNV-1a: a small, stable content hash (trial ids, data files).
/// Stable across platforms and releases, unlike `std`'s `DefaultHasher`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Study {
    /// Number of configurations: the product of the axis lengths.
    pub fn n_configs(&self) -> usize {
        self.axes.iter().map(Axis::len).product()
    }

    /// Every replicate a configuration may get: the study's own, then under
    /// `[settle]` the seeds its rounds may add (the plan holds them all, so
    /// a folder with added seeds is this study's; only a round trains them).
    pub fn replicates(&self) -> Vec<Replicate> {
        match (&self.settle, &self.replication) {
            (Some(s), Replication::Seeds(seeds)) => {
                let all = seeds.iter().chain(&s.extra).copied().collect();
                Replication::Seeds(all).replicates()
            }
            (None, Replication::Seeds(seeds)) if self.confirm() > 0 => {
                let all = seeds.iter().copied().chain(self.confirm_seeds()).collect();
                Replication::Seeds(all).replicates()
            }
            _ => self.replication.replicates(),
        }
    }

    /// Mixed-radix digits of configuration `i`, first axis outermost.
    pub fn coords(&self, i: usize) -> Vec<usize> {
        grid::coords(&self.axes, i)
    }

    /// An error found after loading, about `key` of this study file: it
    /// names the file and the key's line, like a parse error.
    pub fn key_error(&self, key: &str, message: impl Into<String>) -> StudyError {
        let file = self.path.display().to_string();
        place(&file, &self.spans, &self.set_keys, key_err(key, message))
    }

    /// The first of `keys` the study gives (in the file or with `--set`),
    /// else the last: the key an error about a setting should name.
    pub fn given_key<'a>(&self, keys: &[&'a str]) -> &'a str {
        let given = |k: &&&str| {
            self.spans.line(k).is_some() || self.set_keys.iter().any(|s| overrides::same_key(s, k))
        };
        keys.iter()
            .find(given)
            .or(keys.last())
            .copied()
            .unwrap_or("")
    }

    /// The checked configuration at grid position `coords`.
    pub fn config_at(&self, coords: &[usize]) -> Result<Config, StudyError> {
        let file = self.path.display().to_string();
        self.resolve_all(coords)
            .map(|(config, _)| config)
            .map_err(|e| place(&file, &self.spans, &self.set_keys, e))
    }

    /// The configuration at `coords`, and the keys given that do not apply
    /// to it (the study refuses one that applies to no configuration).
    fn resolve_all(&self, coords: &[usize]) -> Result<(Config, Vec<String>), KeyError> {
        let mut pairs = self.base.clone();
        for (axis, &i) in self.axes.iter().zip(coords) {
            for (k, key) in axis.keys.iter().enumerate() {
                pairs.push((key.clone(), axis.points[i][k].clone()));
            }
        }
        let (config, unused) =
            resolve::resolve(&pairs, &self.dir).map_err(|e| self.blame(e, coords))?;
        // A key that does not apply is an error when it was fixed in the file
        // and its deciding key is not swept; across a sweep it is just unused.
        let swept = |k: &str| self.axes.iter().any(|a| a.keys.iter().any(|x| x == k));
        for key in &unused {
            let decider = keys::index(key)
                .and_then(|i| keys::KEYS[i].applies.as_ref())
                .map(|a| a.decider);
            if !swept(key) && !decider.is_some_and(swept) {
                return Err(key_err(key.as_str(), self.not_applying(decider)));
            }
        }
        Ok((config, unused))
    }

    /// Why a fixed key does not apply, naming a `--set` that changed the
    /// deciding key (the error names the file's key, but the cause was typed
    /// on the command line).
    fn not_applying(&self, decider: Option<&str>) -> String {
        let d = decider.unwrap_or("model.depth");
        let by_set = self.set_keys.iter().any(|k| overrides::same_key(k, d));
        let note = |open: &str, close: &str| {
            if by_set {
                format!("{open}set with --set{close}")
            } else {
                String::new()
            }
        };
        match decider {
            Some(d) => format!(
                "does not apply with this {d}{}; remove it or change {d}",
                note(" (", ")")
            ),
            None => format!(
                "has no effect without hidden layers (model.depth = 0{})",
                note(", ", "")
            ),
        }
    }

    /// Point an error on a swept key at the grid entry that set it, or
    /// the `[space]` key that drew it.
    fn blame(&self, e: KeyError, coords: &[usize]) -> KeyError {
        for (axis, &i) in self.axes.iter().zip(coords) {
            if let Some(k) = axis.keys.iter().position(|k| *k == e.key) {
                if let Some(search) = self.search.as_ref().filter(|_| axis.sampled) {
                    return key_err(
                        search.paths[k].clone(),
                        format!(
                            "drawn value {} (point {i}): {}",
                            show(&axis.points[i][k]),
                            e.message
                        ),
                    );
                }
                return key_err(
                    format!(
                        "grid.{}",
                        e.key.split_once('.').map(|(_, n)| n).unwrap_or(&e.key)
                    ),
                    format!("value {}: {}", show(&axis.points[i][k]), e.message),
                );
            }
        }
        e
    }

    /// The fixed settings that were given explicitly, as (key, value) for display.
    pub fn fixed_settings(&self) -> Vec<(String, Setting)> {
        self.base
            .iter()
            .map(|(k, v)| (k.clone(), Setting::from_value(v)))
            .collect()
    }
}

#[cfg(test)]
mod tests;
