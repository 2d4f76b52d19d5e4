use super::*;
use crate::model::Mode;
use crate::plan::Plan;
use candle_core::{Device, Tensor};

#[test]
fn softmax_matches_a_hand_computed_row() {
    // e^0, e^1, e^2 over their sum 1 + e + e².
    let mut row = [1.0f32, 2.0, 3.0];
    softmax(&mut row);
    let s = 1.0 + 1f64.exp() + 2f64.exp();
    for (v, want) in row.iter().zip([1.0 / s, 1f64.exp() / s, 2f64.exp() / s]) {
        assert!((f64::from(*v) - want).abs() < 1e-7, "{v} vs {want}");
    }
}

#[test]
fn stored_predictions_read_back_bit_for_bit_in_row_order() {
    // Three examples, two classes; awkward values included.
    let p = Predictions {
        outputs: 2,
        values: vec![0.25, 0.75, 1e-30, 1.0, 0.1, 0.9],
    };
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.starts_with(r#"{"examples":3,"outputs":2,"values32":""#));
    let back: Predictions = serde_json::from_str(&json).unwrap();
    assert_eq!(back.outputs, 2);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.values), bits(&p.values));
    assert_eq!(back.row(1), &[1e-30, 1.0]);
}

/// The bytes `trials.bin` keeps are the two counts and then exactly the
/// `values32` column's bytes before base64; they read back bit for bit,
/// and a cut, a count that does not match or no output is an error.
#[test]
fn predictions_as_bytes_are_the_packed_column_and_read_back() {
    use base64::Engine;
    let p = Predictions {
        outputs: 2,
        values: vec![0.25, 0.75, 1e-30, 1.0, 0.1, 0.9],
    };
    let bytes = p.to_bytes();
    assert_eq!(&bytes[..8], &[3, 0, 0, 0, 2, 0, 0, 0]);
    let json = serde_json::to_value(&p).unwrap();
    let column = base64::engine::general_purpose::STANDARD
        .decode(json["values32"].as_str().unwrap())
        .unwrap();
    assert_eq!(&bytes[8..], column.as_slice());
    let back = Predictions::from_bytes(&bytes).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!((back.outputs, bits(&back.values)), (2, bits(&p.values)));
    assert!(Predictions::from_bytes(&bytes[..6]).is_err());
    assert!(Predictions::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut more = bytes.clone();
    more[0] = 4;
    assert!(Predictions::from_bytes(&more).is_err());
    let mut none = bytes;
    none[4] = 0;
    assert!(Predictions::from_bytes(&none).is_err());
}

#[test]
fn a_wrong_count_or_a_non_f32_value_is_an_error() {
    let good = serde_json::to_value(Predictions {
        outputs: 1,
        values: vec![0.5, 1.5],
    })
    .unwrap();
    let mut short = good.clone();
    short["examples"] = 3.into();
    assert!(serde_json::from_value::<Predictions>(short).is_err());
    let mut wide = good.clone();
    wide["values32"] = crate::codec::pack_words([1u64 << 32, 0]).into();
    assert!(serde_json::from_value::<Predictions>(wide).is_err());
    let mut old = good.clone();
    old["values"] = crate::codec::pack([0.1f64, 0.2]).into();
    old.as_object_mut().unwrap().remove("values32");
    assert!(serde_json::from_value::<Predictions>(old).is_err());
    let mut both = good.clone();
    both["values"] = crate::codec::pack([0.5f64, 1.5]).into();
    assert!(serde_json::from_value::<Predictions>(both).is_err());
    let mut neither = good;
    neither.as_object_mut().unwrap().remove("values32");
    assert!(serde_json::from_value::<Predictions>(neither).is_err());
}

/// Lines written before `values32` hold `values`, the f32s widened to f64
/// (column-major too): they read back to the same bits as the new shape,
/// which is shorter: up to a byte a value (the f64 exponent's 3 extra bits).
#[test]
fn old_values_lines_read_to_the_same_predictions_and_are_longer() {
    let p = Predictions {
        outputs: 3,
        values: vec![
            0.7, 0.2, 0.1, 1e-9, 0.999, 1e-3, 0.33, 0.33, 0.34, 2e-20, 0.5, 0.5,
        ],
    };
    let (n, k) = (p.examples(), p.outputs);
    let column_major = (0..k).flat_map(|c| (0..n).map(move |i| (i, c)));
    let wide = crate::codec::pack(column_major.map(|(i, c)| f64::from(p.values[i * k + c])));
    let old = serde_json::json!({"examples": n, "outputs": k, "values": wide});
    let back: Predictions = serde_json::from_value(old).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.values), bits(&p.values));
    let new = serde_json::to_value(&p).unwrap();
    let new_len = new["values32"].as_str().unwrap().len();
    assert!(new_len < wide.len(), "{new_len} vs {}", wide.len());
}

/// Train each study's first trial to the end, rebuild its final network
/// from the snapshot as an `Mlp`, and run the validation split through
/// candle's own ops (matmuls, activations, `softmax_last_dim`): the stored
/// predictions are those numbers, example by example. Catches predictions
/// of the untrained network, of the training split, a softmax over the
/// wrong axis, a transposed layout, or raw logits stored as probabilities.
/// The ensemble of the trial with itself scores as the trial: its loss to
/// f32 precision (our loss takes logits, the ensemble's probabilities),
/// its accuracy exactly.
#[test]
fn stored_predictions_are_candles_softmax_of_the_trained_network() {
    for src in [
        "[data]\npoints_per_class = 100\n[model]\ndepth = 2\nwidth = 16\n[train]\nepochs = 15\n",
        "[data]\nkind = \"digits\"\n[model]\nwidth = 12\ndropout = 0.2\n[train]\nepochs = 4\n",
        "[data]\nkind = \"sine\"\npoints = 300\n[model]\nwidth = 20\nactivation = \"tanh\"\n[train]\nlr = 0.02\nepochs = 10\n",
    ] {
        let e = crate::testkit::study(src);
        let plan = Plan::new(&e).unwrap();
        let t = &plan.trials[0];
        let data = crate::data::load(&t.config.data).unwrap();
        let epochs = t.config.train.epochs;
        let (record, snap) =
            crate::train::run_trial_to(t, &data, None, epochs, &mut |_, _, _| true, &|| 1).unwrap();
        let snap = snap.expect("finished");
        let ours = record.val_predictions.as_ref().expect("stored");
        let model = crate::train::initial_model(t, &data).unwrap();
        let mut fused = Fused::new(&model, &t.config.train, &data.train).unwrap();
        fused.restore(snap.state, snap.t).unwrap();
        fused.write_back(&model).unwrap();
        let val = data.val.as_ref().unwrap();
        let x =
            Tensor::from_vec(val.x.clone(), (val.len(), data.n_features), &Device::Cpu).unwrap();
        let mut out = model.forward(&x, Mode::Eval).unwrap();
        let classes = matches!(val.y, Targets::Classes(_));
        if classes {
            out = candle_nn::ops::softmax_last_dim(&out).unwrap();
        }
        let want: Vec<f32> = out.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(ours.outputs, data.n_outputs, "{src}");
        assert_eq!(ours.values.len(), want.len(), "{src}");
        for (i, (a, b)) in ours.values.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 2e-5 * b.abs().max(1.0),
                "{src}: value {i}: {a} vs {b}"
            );
        }
        // The trial with itself.
        let m = record.metrics.unwrap();
        let e = crate::report::ensemble::ensemble(&[ours, ours], &val.y).unwrap();
        let v = m.val_loss.unwrap();
        assert!(
            (e.loss - v).abs() <= 1e-5 * v.max(1.0),
            "{src}: {} vs {v}",
            e.loss
        );
        assert_eq!(e.acc, m.val_acc, "{src}");
    }
}
