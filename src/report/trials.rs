//! trials.csv's frame: one row per stored trial of the plan, in plan
//! order. Identity and swept settings first, then the outcome (status,
//! the budget reached under halving), parameter counts, every metric, the
//! stuck / collapsed / unstable flags, the epoch a trial diverged at and
//! its message, then every other resolved setting, so a row stands alone.

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::*;

use super::stuck::Stuck;
use super::{Row, broken, finished};
use crate::data::Datasets;
use crate::metric::Metric;
use crate::plan::{Plan, Trial};
use crate::study::{Setting, Study};
use crate::train::{Status, TrialRecord};

/// Name of a setting's column, swept or fixed, in trials.csv and
/// summary.csv: the bare key as a study file's `[grid]` names it (`lr`,
/// `width`, `noise`), since key names are unique across sections; dotted
/// with `_` where two keys share a bare name, and `data_seed` for the data
/// set's seed (`seed` is the trial's). One scheme for every study, so two
/// studies' tables line up.
pub(super) fn column_names(keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| {
            let short = k.rsplit('.').next().unwrap_or(k);
            let clash = keys
                .iter()
                .filter(|o| o.rsplit('.').next() == Some(short))
                .count()
                > 1;
            if clash || short == "seed" {
                k.replace('.', "_")
            } else {
                short.to_string()
            }
        })
        .collect()
}

/// A setting as its column holds it: a full batch (`"full"`) is
/// `batch_size` 0, as a study file may write it, so the column stays
/// numeric.
fn cell_value(key: &str, v: &Setting) -> Setting {
    match v {
        Setting::Str(s) if s == "full" && key.ends_with("batch_size") => Setting::Int(0),
        other => other.clone(),
    }
}

/// A column of settings, typed: integers, floats, booleans, or text (only
/// when the values mix kinds); empty cells where a setting does not apply.
fn setting_column(name: &str, values: &[Option<Setting>]) -> Column {
    let all = |f: fn(&Setting) -> bool| values.iter().flatten().all(f);
    let cells = |f: fn(&Setting) -> Option<f64>| -> Vec<Option<f64>> {
        values.iter().map(|v| v.as_ref().and_then(f)).collect()
    };
    let number = |s: &Setting| match s {
        Setting::Int(i) => Some(*i as f64),
        Setting::Float(f) => Some(*f),
        _ => None,
    };
    if all(|v| matches!(v, Setting::Int(_))) {
        let int = |s: &Setting| {
            if let Setting::Int(i) = s {
                Some(*i)
            } else {
                None
            }
        };
        let ints: Vec<Option<i64>> = values.iter().map(|v| v.as_ref().and_then(int)).collect();
        Column::new(name.into(), ints)
    } else if all(|v| matches!(v, Setting::Int(_) | Setting::Float(_))) {
        Column::new(name.into(), cells(number))
    } else if all(|v| matches!(v, Setting::Bool(_))) {
        let v: Vec<Option<bool>> = values
            .iter()
            .map(|v| v.as_ref().map(|s| matches!(s, Setting::Bool(true))))
            .collect();
        Column::new(name.into(), v)
    } else {
        let v: Vec<Option<String>> = values
            .iter()
            .map(|v| v.as_ref().map(|s| s.to_string()))
            .collect();
        Column::new(name.into(), v)
    }
}

/// Every resolved setting of a configuration as (canonical key, value),
/// sorted by key: the identity's fields (`identity::config_fields`), a
/// one-field object (`val = { fraction = 0.2 }`, `label_column = { index
/// = 3 }`) under its parent key, settings that do not apply left out.
fn resolved_settings(config: &crate::study::Config) -> Vec<(String, Setting)> {
    use crate::identity::Field;
    fn value(f: &Field) -> Option<Setting> {
        match f {
            Field::Bool(b) => Some(Setting::Bool(*b)),
            // A count past i64 (a huge data seed) stays exact, as text.
            Field::Int(i) => {
                Some(i64::try_from(*i).map_or_else(|_| Setting::Str(i.to_string()), Setting::Int))
            }
            Field::Float(x) => Some(Setting::Float(*x)),
            Field::Str(s) => Some(Setting::Str(s.clone())),
            Field::Obj(inner) if inner.len() == 1 => value(&inner[0].1),
            Field::Null | Field::Obj(_) => None,
        }
    }
    let Field::Obj(sections) = crate::identity::config_fields(config) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (section, fields) in &sections {
        let Field::Obj(fields) = fields else { continue };
        for (k, f) in fields {
            if let Some(v) = value(f) {
                out.push((format!("{section}.{k}"), v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Diverged => "diverged",
        Status::Failed => "failed",
    }
}

/// Each row's collapsed and unstable flags (`broken.rs`), `None` unless it
/// finished; in row order.
pub(super) fn flags_of(
    exp: &Study,
    rows: &[Row],
    datasets: Option<&Datasets>,
) -> Vec<Option<broken::Flags>> {
    rows.iter()
        .map(|(t, r)| {
            let m = finished(r)?;
            Some(broken::flags(
                r,
                &m,
                classes(t, datasets),
                exp.report.stuck_delta,
            ))
        })
        .collect()
}

/// K of a classification trial: its data set's outputs when loaded, else
/// the generated kind's class count; `None` for regression.
fn classes(t: &Trial, datasets: Option<&Datasets>) -> Option<usize> {
    if t.config.data.task() != crate::study::Task::Classification {
        return None;
    }
    match datasets.and_then(|d| d.get(t)) {
        Some(d) => Some(d.n_outputs),
        None => t.config.data.source.generated_classes(),
    }
}

/// trials.csv's frame (see the module doc); `flags` in row order.
pub(super) fn frame(
    exp: &Study,
    plan: &Plan,
    rows: &[Row],
    swept: &[String],
    stuck: &Stuck,
    flags: &[Option<broken::Flags>],
) -> Result<DataFrame> {
    let mut cols = vec![
        Column::new(
            "trial".into(),
            rows.iter().map(|(t, _)| t.index as u64).collect::<Vec<_>>(),
        ),
        Column::new(
            "id".into(),
            rows.iter().map(|(t, _)| t.id.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "config".into(),
            rows.iter()
                .map(|(t, _)| t.config_index as u64)
                .collect::<Vec<_>>(),
        ),
    ];
    for (k, name) in swept.iter().enumerate() {
        let values: Vec<Option<Setting>> = rows
            .iter()
            .map(|(t, _)| Some(cell_value(&t.swept[k].0, &t.swept[k].1)))
            .collect();
        cols.push(setting_column(name, &values));
    }
    cols.extend(seed_columns(exp, rows));
    cols.push(Column::new(
        "status".into(),
        rows.iter()
            .map(|(_, r)| status_name(r.status))
            .collect::<Vec<_>>(),
    ));
    if exp.halving.is_some() {
        // How far successive halving took each trial: the last rung's
        // budget it reached (metrics are at that epoch), or where it diverged.
        cols.push(Column::new(
            "epochs_trained".into(),
            rows.iter()
                .map(|(t, r)| match r.status {
                    Status::Ok => Some(r.epochs_trained.unwrap_or(t.config.train.epochs) as u64),
                    Status::Diverged => r.diverged_epoch.map(|e| e as u64),
                    Status::Failed => None,
                })
                .collect::<Vec<_>>(),
        ));
    }
    cols.extend(size_columns(rows));
    cols.extend(metric_columns(rows, exp.report.target_acc, stuck));
    let flag = |f: fn(&broken::Flags) -> bool| -> Vec<Option<bool>> {
        flags.iter().map(|x| x.as_ref().map(f)).collect()
    };
    let at = cols
        .iter()
        .position(|c| c.name() == "stuck")
        .map_or(cols.len(), |i| i + 1);
    cols.insert(at, Column::new("unstable".into(), flag(|f| f.unstable)));
    cols.insert(at, Column::new("collapsed".into(), flag(|f| f.collapsed)));
    cols.extend(resolved_columns(plan, rows));
    Ok(DataFrame::new(rows.len(), cols)?)
}

/// The identity and settings columns of trials.csv's `frame`, in order:
/// `id`, `config`, the swept settings and seeds (every column between
/// `trial` and `status`), then every other resolved setting (those after
/// `message`); the columns curves.parquet repeats on each curve row.
pub(super) fn setting_names(frame: &DataFrame) -> Vec<String> {
    let names: Vec<&str> = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    let at = |c: &str| names.iter().position(|n| *n == c);
    let (status, message) = (at("status").unwrap_or(0), at("message"));
    let after = message.map_or(names.len(), |m| m + 1);
    names[..status]
        .iter()
        .chain(&names[after..])
        .filter(|n| **n != "trial")
        .map(|n| n.to_string())
        .collect()
}

/// `seed`, or under `[replicates]` one `seed_<source>` column per varying
/// source: what a reader needs to tell replicates apart.
fn seed_columns(exp: &Study, rows: &[Row]) -> Vec<Column> {
    let varying = exp.replication.varying();
    if varying.is_empty() {
        return vec![Column::new(
            "seed".into(),
            rows.iter().map(|(t, _)| t.seed).collect::<Vec<_>>(),
        )];
    }
    let replicates = exp.replication.replicates();
    varying
        .iter()
        .map(|(source, _)| {
            Column::new(
                format!("seed_{}", source.name()).into(),
                rows.iter()
                    .map(|(t, _)| replicates[t.replicate].source_seed(*source))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// The parameter counts of each trial's network.
fn size_columns(rows: &[Row]) -> Vec<Column> {
    type Count = fn(&TrialRecord) -> usize;
    let counts: [(&str, Count); 4] = [
        ("weights", |r| r.params.weights),
        ("biases", |r| r.params.biases),
        ("params", |r| r.params.total),
        ("hidden_neurons", |r| r.params.hidden_neurons),
    ];
    counts
        .into_iter()
        .map(|(name, get)| {
            Column::new(
                name.into(),
                rows.iter().map(|(_, r)| get(r) as u64).collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// Every metric (empty unless the trial finished), then whether it is
/// stuck, the epoch it diverged at and its error message.
fn metric_columns(rows: &[Row], target: f64, stuck: &Stuck) -> Vec<Column> {
    let mut cols = Vec::new();
    for m in Metric::ALL {
        let v: Vec<Option<f64>> = rows
            .iter()
            .map(|(_, r)| finished(r).and_then(|_| r.value(m, target)))
            .collect();
        cols.push(Column::new(m.name().into(), v));
    }
    cols.push(Column::new(
        "stuck".into(),
        rows.iter()
            .map(|(t, r)| finished(r).map(|m| stuck.of(t, &m)))
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "diverged_epoch".into(),
        rows.iter()
            .map(|(_, r)| r.diverged_epoch.map(|e| e as u64))
            .collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "message".into(),
        rows.iter()
            .map(|(_, r)| r.message.clone())
            .collect::<Vec<_>>(),
    ));
    cols
}

/// Every resolved setting that is not swept, named by [`column_names`]'
/// scheme and typed, so a row of trials.csv stands alone; a key present in
/// any configuration gets a column (empty where it does not apply).
fn resolved_columns(plan: &Plan, rows: &[Row]) -> Vec<Column> {
    // Seeds of a configuration share its settings: work them out once per
    // configuration, not once per trial.
    let mut by_config: HashMap<usize, Vec<(String, Setting)>> = HashMap::new();
    let mut keys: Vec<String> = Vec::new();
    for (t, _) in rows {
        by_config.entry(t.config_index).or_insert_with(|| {
            let settings = resolved_settings(&t.config);
            keys.extend(settings.iter().map(|(k, _)| k.clone()));
            settings
        });
    }
    keys.sort();
    keys.dedup();
    keys.retain(|k| !plan.swept_keys.contains(k));
    let names = column_names(&keys);
    keys.iter()
        .zip(names)
        .map(|(key, name)| {
            let v: Vec<Option<Setting>> = rows
                .iter()
                .map(|(t, _)| {
                    let found = by_config[&t.config_index].iter().find(|(k, _)| k == key);
                    found.map(|(k, v)| cell_value(k, v))
                })
                .collect();
            setting_column(&name, &v)
        })
        .collect()
}
