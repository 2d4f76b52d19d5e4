//! How a [`TrialRecord`](super::TrialRecord) is stored in `trials.jsonl`:
//! the curve as packed columns and the decision grid as runs, so a line
//! stays a few KB (docs/reports.md, "The record format").
//!
//! Both are read in either shape: the packed one written now and the one
//! written before (a JSON array of `{"epoch", "batch_loss", "eval"}`
//! objects; a `classes` string of one digit per cell), so stored results
//! keep loading. The writer falls back to the old shape for the rare value
//! the packed one cannot hold (see [`Columns::of`], [`BoundaryRepr`]).

use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Boundary, CurvePoint, Metrics};

use crate::codec::{pack, unpack};

/// The curve as columns: `batch_loss` for epochs 1 to `epochs`, and each
/// metric at the `eval_epochs`. An optional metric that no evaluation has
/// is left out.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    epochs: usize,
    batch_loss: String,
    eval_epochs: Vec<usize>,
    train_loss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    val_loss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    train_acc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    val_acc: Option<String>,
    l2_term: String,
    weight_norm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dead_fraction: Option<String>,
}

impl Columns {
    /// The columns of `curve`, or `None` when they cannot hold it: epochs
    /// other than 1, 2, …, or an optional metric that some evaluations have
    /// and others not. Training writes neither.
    fn of(curve: &[CurvePoint]) -> Option<Columns> {
        if !curve.iter().enumerate().all(|(i, p)| p.epoch == i + 1) {
            return None;
        }
        let evals: Vec<(usize, Metrics)> = curve
            .iter()
            .filter_map(|p| p.eval.map(|m| (p.epoch, m)))
            .collect();
        let column = |f: fn(&Metrics) -> f64| pack(evals.iter().map(|(_, m)| f(m)));
        // Some(None): absent everywhere; None: mixed.
        let optional = |f: fn(&Metrics) -> Option<f64>| {
            let values: Option<Vec<f64>> = evals.iter().map(|(_, m)| f(m)).collect();
            match values {
                Some(v) if !v.is_empty() => Some(Some(pack(v))),
                _ if evals.iter().all(|(_, m)| f(m).is_none()) => Some(None),
                _ => None,
            }
        };
        Some(Columns {
            epochs: curve.len(),
            batch_loss: pack(curve.iter().map(|p| p.batch_loss)),
            eval_epochs: evals.iter().map(|(e, _)| *e).collect(),
            train_loss: column(|m| m.train_loss),
            val_loss: optional(|m| m.val_loss)?,
            train_acc: optional(|m| m.train_acc)?,
            val_acc: optional(|m| m.val_acc)?,
            l2_term: column(|m| m.l2_term),
            weight_norm: column(|m| m.weight_norm),
            dead_fraction: optional(|m| m.dead_fraction)?,
        })
    }

    /// The curve back.
    fn points(&self) -> Result<Vec<CurvePoint>, String> {
        let n = self.eval_epochs.len();
        let column = |c: &str| unpack(c, n);
        let optional = |c: &Option<String>| c.as_deref().map(column).transpose();
        let train_loss = column(&self.train_loss)?;
        let val_loss = optional(&self.val_loss)?;
        let train_acc = optional(&self.train_acc)?;
        let val_acc = optional(&self.val_acc)?;
        let l2_term = column(&self.l2_term)?;
        let weight_norm = column(&self.weight_norm)?;
        let dead_fraction = optional(&self.dead_fraction)?;
        let mut points: Vec<CurvePoint> = unpack(&self.batch_loss, self.epochs)?
            .into_iter()
            .enumerate()
            .map(|(i, batch_loss)| CurvePoint {
                epoch: i + 1,
                batch_loss,
                eval: None,
            })
            .collect();
        let at = |c: &Option<Vec<f64>>, j: usize| c.as_ref().map(|c| c[j]);
        let mut last = 0;
        for (j, &epoch) in self.eval_epochs.iter().enumerate() {
            if epoch <= last || epoch > self.epochs {
                return Err(format!(
                    "eval_epochs: {epoch} out of order or past the last epoch"
                ));
            }
            last = epoch;
            points[epoch - 1].eval = Some(Metrics {
                train_loss: train_loss[j],
                val_loss: at(&val_loss, j),
                train_acc: at(&train_acc, j),
                val_acc: at(&val_acc, j),
                l2_term: l2_term[j],
                weight_norm: weight_norm[j],
                dead_fraction: at(&dead_fraction, j),
            });
        }
        Ok(points)
    }
}

/// `#[serde(with)]` for `TrialRecord::curve`: written as [`Columns`] (or as
/// the old array of points when they cannot hold it), read in either shape.
pub(crate) mod curve {
    use super::*;

    pub fn serialize<S: Serializer>(curve: &[CurvePoint], s: S) -> Result<S::Ok, S::Error> {
        match Columns::of(curve) {
            Some(c) => c.serialize(s),
            None => curve.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CurvePoint>, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = Vec<CurvePoint>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a curve: packed columns, or an array of points")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Columns::deserialize(MapAccessDeserializer::new(map))?
                    .points()
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(Either)
    }
}

/// How a [`Boundary`] is stored: `runs` when its classes are digits filling
/// the `res × res` grid (always, from training), else `classes` as is.
/// Reads either; the old format always had `classes`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BoundaryRepr {
    x: (f64, f64),
    y: (f64, f64),
    res: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runs: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    classes: Option<String>,
}

/// Run-length code of a digit string: per run of one digit, its letter
/// (`a` for 0 … `j` for 9), then its length in decimal when over 1. Row
/// after row, runs crossing row ends: "a58b2a57b3…".
fn runs(classes: &str) -> String {
    let mut out = String::new();
    let cells = classes.as_bytes();
    let mut i = 0;
    while i < cells.len() {
        let n = cells[i..].iter().take_while(|c| **c == cells[i]).count();
        out.push(char::from(cells[i] - b'0' + b'a'));
        if n > 1 {
            out.push_str(&n.to_string());
        }
        i += n;
    }
    out
}

/// The digit string back from [`runs`], checked to hold `cells` digits.
fn unrun(runs: &str, cells: usize) -> Result<String, String> {
    let mut out = String::with_capacity(cells.min(1 << 16));
    let mut rest = runs.as_bytes();
    while let Some((&letter, tail)) = rest.split_first() {
        if !(b'a'..=b'j').contains(&letter) {
            return Err(format!(
                "boundary runs: {:?} is no class letter",
                char::from(letter)
            ));
        }
        let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        let n = match digits {
            0 => 1,
            _ => std::str::from_utf8(&tail[..digits])
                .expect("ASCII digits")
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 1)
                .ok_or("boundary runs: bad run length")?,
        };
        if n > cells - out.len() {
            return Err("boundary runs: more cells than the grid".into());
        }
        out.extend(std::iter::repeat_n(char::from(letter - b'a' + b'0'), n));
        rest = &tail[digits..];
    }
    if out.len() != cells {
        return Err("boundary runs: fewer cells than the grid".into());
    }
    Ok(out)
}

impl From<Boundary> for BoundaryRepr {
    fn from(b: Boundary) -> BoundaryRepr {
        let packable = b.res.checked_mul(b.res) == Some(b.classes.len())
            && b.classes.bytes().all(|c| c.is_ascii_digit());
        let (runs, classes) = match packable {
            true => (Some(runs(&b.classes)), None),
            false => (None, Some(b.classes)),
        };
        BoundaryRepr {
            x: b.x,
            y: b.y,
            res: b.res,
            runs,
            classes,
        }
    }
}

impl TryFrom<BoundaryRepr> for Boundary {
    type Error = String;
    fn try_from(r: BoundaryRepr) -> Result<Boundary, String> {
        let classes = match (r.runs, r.classes) {
            (Some(runs), None) => {
                let cells = r.res.checked_mul(r.res).ok_or("boundary: res too large")?;
                unrun(&runs, cells)?
            }
            (None, Some(classes)) => classes,
            _ => return Err("boundary: needs one of runs and classes".into()),
        };
        Ok(Boundary {
            x: r.x,
            y: r.y,
            res: r.res,
            classes,
        })
    }
}

#[cfg(test)]
mod tests;
