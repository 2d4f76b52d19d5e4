//! Checkpoints of halving trials: a [`Snapshot`] stored as safetensors
//! (candle's own format) at `checkpoints/<trial id>.safetensors` in the
//! results folder.
//!
//! Tensors: `params` (the network's weights and biases, layer by layer,
//! each W row-major `fan_in × units` then b, as `fused.rs` packs them),
//! `state` (the whole flat `[params | m | s]`, optimiser buffers included)
//! and `order` (the minibatch permutation, u32). Metadata (strings): the
//! trial id, the epoch, the step counter `t`, both generators' word
//! positions, and the record so far as JSON (curve, initial evaluation,
//! metrics at that epoch). The generators' seeds and streams are not
//! stored: they follow from the trial's seeds, which the id fixes.
//! Written whole or not at all (`store::write_atomic_owned`: only the process training the trial writes it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::train::{Snapshot, TrialRecord};

/// Marks the layout of the metadata, for a later change of it.
const FORMAT: &str = "mlpsweep-checkpoint-1";

/// Where trial `id`'s checkpoint lives under results folder `dir`.
pub fn path(dir: &Path, id: &str) -> PathBuf {
    dir.join("checkpoints").join(format!("{id}.safetensors"))
}

/// The bytes of `s`'s checkpoint; `params_len` is the length of the
/// parameter part of the state.
pub fn encode(s: &Snapshot, params_len: usize) -> Result<Vec<u8>> {
    let bytes_f32 = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let state = bytes_f32(&s.state);
    let params = bytes_f32(&s.state[..params_len.min(s.state.len())]);
    let order: Vec<u8> = s.order.iter().flat_map(|x| x.to_le_bytes()).collect();
    let tensors = vec![
        (
            "params",
            TensorView::new(Dtype::F32, vec![params.len() / 4], &params)?,
        ),
        (
            "state",
            TensorView::new(Dtype::F32, vec![s.state.len()], &state)?,
        ),
        (
            "order",
            TensorView::new(Dtype::U32, vec![s.order.len()], &order)?,
        ),
    ];
    let meta: HashMap<String, String> = [
        ("format", FORMAT.to_string()),
        ("id", s.record.id.clone()),
        ("epoch", s.epoch.to_string()),
        ("t", s.t.to_string()),
        ("order_word_pos", s.order_pos.to_string()),
        ("dropout_word_pos", s.dropout_pos.to_string()),
        ("record", serde_json::to_string(&s.record)?),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok(safetensors::serialize(tensors, Some(meta))?)
}

/// Read back what [`encode`] wrote.
pub fn decode(bytes: &[u8]) -> Result<Snapshot> {
    let (_, header) = SafeTensors::read_metadata(bytes)?;
    let meta = header
        .metadata()
        .as_ref()
        .ok_or_else(|| anyhow!("no metadata"))?;
    let get = |k: &str| meta.get(k).ok_or_else(|| anyhow!("metadata has no `{k}`"));
    if get("format")? != FORMAT {
        bail!("not an {FORMAT} file");
    }
    let tensors = SafeTensors::deserialize(bytes)?;
    let f32s = |name: &str| -> Result<Vec<f32>> {
        let t = tensors.tensor(name)?;
        if t.dtype() != Dtype::F32 {
            bail!("{name} is not f32");
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    };
    let order = tensors.tensor("order")?;
    if order.dtype() != Dtype::U32 {
        bail!("order is not u32");
    }
    let record: TrialRecord = serde_json::from_str(get("record")?)?;
    if &record.id != get("id")? {
        bail!("the record is of another trial");
    }
    Ok(Snapshot {
        epoch: get("epoch")?.parse()?,
        t: get("t")?.parse()?,
        state: f32s("state")?,
        order: order
            .data()
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect(),
        order_pos: get("order_word_pos")?.parse()?,
        dropout_pos: get("dropout_word_pos")?.parse()?,
        record,
    })
}

/// Store `s` for trial `id` under `dir`, atomically.
pub fn save(dir: &Path, s: &Snapshot, params_len: usize) -> Result<()> {
    let p = path(dir, &s.record.id);
    std::fs::create_dir_all(p.parent().expect("a folder"))
        .with_context(|| format!("creating {}", p.display()))?;
    crate::store::write_atomic_owned(&p, &encode(s, params_len)?)
}

/// Trial `id`'s checkpoint under `dir`, if there is one. An unreadable one
/// is an error naming the file.
pub fn load(dir: &Path, id: &str) -> Result<Option<Snapshot>> {
    let p = path(dir, id);
    match std::fs::read(&p) {
        Ok(bytes) => decode(&bytes)
            .map(Some)
            .with_context(|| format!("reading checkpoint {}", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", p.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_reads_back_bit_for_bit() {
        let exp = crate::study::from_str(
            "name = \"c\"\nseeds = 1\n[model]\nwidth = 3\n",
            Path::new("s.toml"),
            &[],
        )
        .unwrap();
        let plan = crate::plan::Plan::new(&exp).unwrap();
        let params = crate::model::ParamCount {
            weights: 2,
            biases: 1,
            total: 3,
            hidden_neurons: 1,
            norm: 0,
        };
        let mut record = TrialRecord::new(&plan.trials[0], params);
        record.epochs_trained = Some(7);
        let s = Snapshot {
            epoch: 7,
            t: 91,
            // A NaN payload, a negative zero and a subnormal keep their bits.
            state: vec![
                1.5,
                -0.0,
                f32::from_bits(0x7fc0_0123),
                f32::from_bits(1),
                3.25,
            ],
            order: vec![2, 0, 1, u32::MAX],
            order_pos: (1u128 << 70) + 5,
            dropout_pos: 12345,
            record,
        };
        let back = decode(&encode(&s, 3).unwrap()).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back.state), bits(&s.state));
        assert_eq!((back.epoch, back.t, &back.order), (7, 91, &s.order));
        assert_eq!(
            (back.order_pos, back.dropout_pos),
            (s.order_pos, s.dropout_pos)
        );
        assert_eq!(back.record, s.record);
        // The file is plain safetensors: `params` is the first 3 values.
        let bytes = encode(&s, 3).unwrap();
        let t = SafeTensors::deserialize(&bytes).unwrap();
        let p = t.tensor("params").unwrap();
        assert_eq!(p.shape(), &[3]);
        assert_eq!(&p.data()[..4], &1.5f32.to_le_bytes());
        assert!(decode(b"not a checkpoint").is_err());
    }
}
