//! The engine's old path, kept so callers written against `crate::fused`
//! need no edit; everything lives in [`crate::engine`].

pub use crate::engine::{Evaluation, Fused, Layer, LayerSums, Shape, flush_denormals};
