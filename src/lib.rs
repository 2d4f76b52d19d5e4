//! mlpsweep: a declarative experiment runner for small neural networks.
//!
//! The pipeline runs in one direction, one stage a module:
//!
//! ```text
//! study.toml ─study::load─▶ Study ─plan::Plan::new─▶ Vec<Trial>
//! Trial + data::Dataset ─train::run_trial─▶ TrialRecord ─schedule─▶ trials.jsonl
//! trials.jsonl ─report::build─▶ Report ─publish─▶ trials.csv, summary.csv, report.md, figures/
//! ```
//!
//! The modules in layers, bottom first; a module imports only modules
//! below it ([`LAYERS`], kept by `tests/layers.rs`; `docs/architecture.md`
//! says where each concern lives):
//!
//! ```text
//! foundations    dispatch codec streams stats metric
//! schema         study
//! plan           identity plan
//! network, data  model data
//! engine         engine fused(re-export)
//! records, train telemetry predictions train gradcheck pinned testkit
//! decisions      halving settle
//! folder         store checkpoint reference
//! report         report
//! orchestration  publish listing refine schedule cluster sweep calibrate
//! ```
#![warn(missing_docs)]

pub mod calibrate;
pub mod checkpoint;
pub mod cluster;
pub mod codec;
pub mod data;
pub(crate) mod dispatch;
pub mod engine;
pub mod fused;
pub mod gradcheck;
pub mod halving;
pub mod identity;
pub mod listing;
pub mod metric;
pub mod model;
#[cfg(test)]
mod pinned;
pub mod plan;
pub mod predictions;
pub mod publish;
pub mod reference;
pub mod refine;
pub mod report;
pub mod schedule;
pub mod settle;
pub mod stats;
pub mod store;
pub mod streams;
pub mod study;
pub mod sweep;
pub mod telemetry;
#[cfg(test)]
mod testkit;
pub mod train;

/// The top-level modules in layer order, bottom first: a module's
/// `crate::` (and, at the top level, `super::`) paths name only modules
/// before it. `tests/layers.rs` reads every production source file and
/// fails on a path that points up; test files may reach up to build
/// fixtures from the whole pipeline.
pub const LAYERS: &[&str] = &[
    "dispatch",
    "codec",
    "streams",
    "stats",
    "metric",
    "study",
    "identity",
    "plan",
    "model",
    "data",
    "engine",
    "fused",
    "telemetry",
    "predictions",
    "train",
    "gradcheck",
    "pinned",
    "testkit",
    "halving",
    "settle",
    "store",
    "checkpoint",
    "reference",
    "report",
    "publish",
    "listing",
    "refine",
    "schedule",
    "cluster",
    "sweep",
    "calibrate",
];
