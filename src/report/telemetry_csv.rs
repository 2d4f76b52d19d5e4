//! `telemetry.csv`: the records' packed telemetry as a tidy table, one row
//! per (trial, evaluation epoch, weight layer), so nobody has to decode
//! `trials.jsonl`. Epoch 0 is the untrained network (activations only: no
//! update has run). Layers count from 1; the last is the output layer,
//! which has an update ratio but no activation statistics (it has no
//! activation). Empty cells: not measured for that activation (saturated
//! for the ReLU family, dead for tanh and sigmoid) or not at that epoch.

use anyhow::Result;
use polars::prelude::*;

use super::Row;
use crate::telemetry::LayerActivations;

/// The columns, in order.
#[derive(Default)]
struct Columns {
    trial: Vec<u64>,
    epoch: Vec<u64>,
    layer: Vec<u64>,
    mean: Vec<Option<f64>>,
    std: Vec<Option<f64>>,
    saturated: Vec<Option<f64>>,
    dead: Vec<Option<f64>>,
    update_ratio: Vec<Option<f64>>,
}

impl Columns {
    /// One epoch of one trial: every hidden layer's activations and every
    /// weight layer's update ratio (`ratios` empty at epoch 0).
    fn push(&mut self, trial: u64, epoch: u64, acts: &[LayerActivations], ratios: &[f64]) {
        let layers = acts.len().max(ratios.len());
        for l in 0..layers {
            let a = acts.get(l);
            self.trial.push(trial);
            self.epoch.push(epoch);
            self.layer.push(l as u64 + 1);
            self.mean.push(a.map(|a| a.mean));
            self.std.push(a.map(|a| a.std));
            self.saturated.push(a.and_then(|a| a.saturated));
            self.dead.push(a.and_then(|a| a.dead));
            self.update_ratio.push(ratios.get(l).copied());
        }
    }

    fn frame(self) -> Result<DataFrame> {
        let n = self.trial.len();
        Ok(DataFrame::new(
            n,
            vec![
                Column::new("trial".into(), self.trial),
                Column::new("epoch".into(), self.epoch),
                Column::new("layer".into(), self.layer),
                Column::new("activation_mean".into(), self.mean),
                Column::new("activation_std".into(), self.std),
                Column::new("saturated".into(), self.saturated),
                Column::new("dead".into(), self.dead),
                Column::new("update_ratio".into(), self.update_ratio),
            ],
        )?)
    }
}

/// The frame of every stored trial's telemetry, in plan order; `None`
/// when no record has any (records stored before telemetry existed).
pub fn frame(rows: &[Row]) -> Result<Option<DataFrame>> {
    let mut c = Columns::default();
    for (t, r) in rows {
        let Some(tel) = &r.telemetry else { continue };
        let trial = t.index as u64;
        c.push(trial, 0, &tel.initial, &[]);
        let evals = r.curve.iter().filter(|p| p.eval.is_some());
        for (k, p) in evals.enumerate() {
            let acts = tel.activations.get(k).map_or(&[][..], |a| a.as_slice());
            let ratios = tel.update_ratio.get(k).map_or(&[][..], |r| r.as_slice());
            c.push(trial, p.epoch as u64, acts, ratios);
        }
    }
    if c.trial.is_empty() {
        return Ok(None);
    }
    c.frame().map(Some)
}
