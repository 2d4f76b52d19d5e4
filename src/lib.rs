//! mlpsweep: a declarative experiment runner for small neural networks.
//!
//! The pipeline runs in one direction, one stage a module:
//!
//! ```text
//! study.toml ─study::load─▶ Study ─plan::Plan::new─▶ Vec<Trial>
//! Trial + data::Dataset ─train::run_trial─▶ TrialRecord ─schedule─▶ trials.jsonl
//! trials.jsonl ─report::build─▶ trials.csv, summary.csv, summary.md
//! ```
//!
//! `model` holds the MLP that `train` optimises; `schedule` owns threads,
//! progress and the results folder; `sweep` runs each subcommand through
//! these stages, and `listing` renders the plan table. Nothing downstream reaches back upstream.
#![warn(missing_docs)]

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
pub mod stats;
pub mod store;
pub mod streams;
pub mod study;
pub mod sweep;
pub mod telemetry;
pub mod train;
