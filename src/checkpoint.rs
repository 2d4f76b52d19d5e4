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
//!
//! Checksum: metadata `checksum` = `fnv1a64:<16 hex digits>`, a 64-bit
//! FNV-1a (the digest trial ids use) over every other metadata field and
//! every tensor (name, dtype, shape, bytes), each length-prefixed, keys and
//! names in sorted order (see [`checksum`]). FNV-1a steps are bijections of
//! the state, so any one damaged byte changes it; it guards against bit rot
//! and torn copies, not against someone forging a file. [`load`] refuses a
//! file whose checksum differs, that has none (written before checksums:
//! unverifiable), that does not parse, or whose `order` is not a
//! permutation of the trial's training rows; the caller then retrains the
//! trial from epoch 0, which gives the same numbers bit for bit.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::train::{Snapshot, TrialRecord};

/// Marks the layout of the metadata, for a later change of it. Adding the
/// checksum kept the name: a file without one is read as unverifiable.
const FORMAT: &str = "mlpsweep-checkpoint-1";

/// The metadata key of the checksum, and the digest its value names.
const CHECKSUM: &str = "checksum";
const DIGEST: &str = "fnv1a64";

/// Where trial `id`'s checkpoint lives under results folder `dir`.
pub fn path(dir: &Path, id: &str) -> PathBuf {
    dir.join("checkpoints").join(format!("{id}.safetensors"))
}

/// 64-bit FNV-1a, fed piece by piece; equal to [`crate::study::fnv1a`] of
/// the concatenated bytes.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A length-prefixed field, so that moving bytes from one field to the
    /// next changes the digest.
    fn field(&mut self, bytes: &[u8]) {
        self.bytes(&(bytes.len() as u64).to_le_bytes());
        self.bytes(bytes);
    }
}

/// The checksum of a checkpoint's metadata (every key but the checksum's
/// own) and tensors, as stored in its `checksum` field.
fn checksum<'a>(
    meta: &HashMap<String, String>,
    tensors: impl IntoIterator<Item = (&'a str, TensorView<'a>)>,
) -> String {
    let mut h = Fnv::new();
    let fields: BTreeMap<&String, &String> = meta.iter().filter(|(k, _)| *k != CHECKSUM).collect();
    h.field(&(fields.len() as u64).to_le_bytes());
    for (k, v) in fields {
        h.field(k.as_bytes());
        h.field(v.as_bytes());
    }
    let tensors: BTreeMap<&str, TensorView> = tensors.into_iter().collect();
    h.field(&(tensors.len() as u64).to_le_bytes());
    for (name, t) in tensors {
        h.field(name.as_bytes());
        h.field(t.dtype().to_string().as_bytes());
        let shape: Vec<u8> = t
            .shape()
            .iter()
            .flat_map(|d| (*d as u64).to_le_bytes())
            .collect();
        h.field(&shape);
        h.field(t.data());
    }
    format!("{DIGEST}:{:016x}", h.0)
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
    let mut meta: HashMap<String, String> = [
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
    let sum = checksum(&meta, tensors.iter().map(|(n, t)| (*n, t.clone())));
    meta.insert(CHECKSUM.to_string(), sum);
    Ok(safetensors::serialize(tensors, Some(meta))?)
}

/// Read back what [`encode`] wrote, after checking its checksum and that
/// `order` is a permutation (a damaged index would reach past the data).
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
    let Some(stored) = meta.get(CHECKSUM) else {
        bail!("no checksum (written before checkpoints carried one): cannot be verified");
    };
    let computed = checksum(meta, tensors.iter());
    if *stored != computed {
        bail!("checksum mismatch: stored {stored:?}, computed {computed}: the file is damaged");
    }
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
    let order: Vec<u32> = order
        .data()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect();
    check_permutation(&order)?;
    let record: TrialRecord = serde_json::from_str(get("record")?)?;
    if &record.id != get("id")? {
        bail!("the record is of another trial");
    }
    Ok(Snapshot {
        epoch: get("epoch")?.parse()?,
        t: get("t")?.parse()?,
        state: f32s("state")?,
        order,
        order_pos: get("order_word_pos")?.parse()?,
        dropout_pos: get("dropout_word_pos")?.parse()?,
        record,
    })
}

/// `order` holds each of 0..len exactly once: the rows an epoch visits.
fn check_permutation(order: &[u32]) -> Result<()> {
    let mut seen = vec![false; order.len()];
    for (i, &row) in order.iter().enumerate() {
        match seen.get_mut(row as usize) {
            None => bail!(
                "order[{i}] = {row} is out of range (the order has {} rows)",
                order.len()
            ),
            Some(true) => bail!("order[{i}] = {row} repeats a row"),
            Some(s) => *s = true,
        }
    }
    Ok(())
}

/// Store `s` for trial `id` under `dir`, atomically.
pub fn save(dir: &Path, s: &Snapshot, params_len: usize) -> Result<()> {
    let p = path(dir, &s.record.id);
    std::fs::create_dir_all(p.parent().expect("a folder"))
        .with_context(|| format!("creating {}", p.display()))?;
    crate::store::write_atomic_owned(&p, &encode(s, params_len)?)
}

/// Trial `id`'s checkpoint under `dir`, if there is one, checked against
/// its checksum and against the trial: its id and its `rows` training
/// rows. An error names the file and says why it cannot be used.
pub fn load(dir: &Path, id: &str, rows: usize) -> Result<Option<Snapshot>> {
    let p = path(dir, id);
    let bytes = match std::fs::read(&p) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("checkpoint {}", p.display())),
    };
    let fits = |s: Snapshot| -> Result<Snapshot> {
        if s.record.id != id {
            bail!("holds trial {}, not {id}", s.record.id);
        }
        if s.order.len() != rows {
            bail!(
                "its order has {} rows, the trial trains on {rows}",
                s.order.len()
            );
        }
        Ok(s)
    };
    decode(&bytes)
        .and_then(fits)
        .map(Some)
        .with_context(|| format!("checkpoint {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot of a 3-parameter network over 4 training rows.
    fn snapshot() -> Snapshot {
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
        Snapshot {
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
            order: vec![2, 0, 3, 1],
            order_pos: (1u128 << 70) + 5,
            dropout_pos: 12345,
            record,
        }
    }

    #[test]
    fn a_checkpoint_reads_back_bit_for_bit() {
        let s = snapshot();
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

    /// The digest is FNV-1a 64: the published test vector of "foobar"
    /// (Fowler, Noll, Vo; draft-eastlake-fnv), fed whole or in pieces.
    /// Catches a wrong offset basis or prime, or a pieced feed that drops
    /// bytes.
    #[test]
    fn the_digest_is_fnv1a_64() {
        let mut h = Fnv::new();
        h.bytes(b"foo");
        h.bytes(b"bar");
        assert_eq!(h.0, 0x8594_4171_f739_67e8);
        assert_eq!(crate::study::fnv1a(b"foobar"), h.0);
    }

    /// One flipped bit anywhere in the file (a tensor's bytes, the header's
    /// numbers, the checksum itself) and the file is refused. Catches a
    /// checksum that leaves out a tensor or a metadata field (`t`, the
    /// word positions, the record), or that is not compared.
    #[test]
    fn every_flipped_bit_is_refused() {
        let bytes = encode(&snapshot(), 3).unwrap();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1 << (i % 8);
            assert!(decode(&bad).is_err(), "byte {i} flipped, accepted");
        }
        // The tensors' bytes and a header digit, by name.
        let (n, _) = SafeTensors::read_metadata(&bytes).unwrap();
        let state_start = 8 + n + 3 * 4; // params: 3 f32s first
        let mut bad = bytes.clone();
        bad[state_start] ^= 0x10;
        let e = format!("{:#}", decode(&bad).unwrap_err());
        assert!(e.contains("checksum mismatch"), "{e}");
        let at = bytes.windows(7).position(|w| w == b"\"t\":\"91").unwrap();
        let mut bad = bytes.clone();
        bad[at + 5] = b'8';
        let e = format!("{:#}", decode(&bad).unwrap_err());
        assert!(e.contains("checksum mismatch"), "{e}");
    }

    /// An order that is not a permutation of its rows is refused by name,
    /// even under a valid checksum (the panic of issue 23: "range start
    /// index 4261417832 out of range"). Catches a bound check dropped or
    /// made `<=`.
    #[test]
    fn an_order_out_of_range_or_repeated_is_refused() {
        for (order, why) in [
            (
                vec![0, 4_261_417_832, 1, 2],
                "order[1] = 4261417832 is out of range",
            ),
            (vec![0, 1, 2, 4], "order[3] = 4 is out of range"),
            (vec![0, 1, 1, 2], "order[2] = 1 repeats a row"),
        ] {
            let s = Snapshot {
                order,
                ..snapshot()
            };
            let e = format!("{:#}", decode(&encode(&s, 3).unwrap()).unwrap_err());
            assert!(e.contains(why), "{e}");
        }
    }

    /// A file written before checksums (the same file, its `checksum`
    /// removed) is unverifiable, so not used.
    #[test]
    fn a_checkpoint_without_checksum_is_refused() {
        let bytes = encode(&snapshot(), 3).unwrap();
        let t = SafeTensors::deserialize(&bytes).unwrap();
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let mut meta = header.metadata().clone().unwrap();
        meta.remove(CHECKSUM);
        let old = safetensors::serialize(t.tensors(), Some(meta)).unwrap();
        let e = format!("{:#}", decode(&old).unwrap_err());
        assert!(e.contains("no checksum"), "{e}");
    }

    /// `load` names the file and refuses another trial's checkpoint or one
    /// over another number of rows; a missing one is `None`. Catches the
    /// row count not compared (the order would index past the data).
    #[test]
    fn load_checks_the_trial_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = snapshot();
        let id = s.record.id.clone();
        assert!(load(dir.path(), &id, 4).unwrap().is_none());
        save(dir.path(), &s, 3).unwrap();
        assert_eq!(load(dir.path(), &id, 4).unwrap().unwrap().order, s.order);
        let e = format!("{:#}", load(dir.path(), &id, 5).unwrap_err());
        assert!(e.contains(&format!("{id}.safetensors")), "{e}");
        assert!(
            e.contains("its order has 4 rows, the trial trains on 5"),
            "{e}"
        );
        std::fs::copy(path(dir.path(), &id), path(dir.path(), "other")).unwrap();
        let e = format!("{:#}", load(dir.path(), "other", 4).unwrap_err());
        assert!(e.contains(&format!("holds trial {id}, not other")), "{e}");
    }
}
