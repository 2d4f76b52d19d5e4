use super::*;
use crate::train::{Status, TrialRecord};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Real lines of `trials.jsonl` as written before the packed format: the
/// first of results/depth (200 epochs on the spiral, with a decision grid)
/// and one of results/digits (64 features, no grid).
const OLD_LINES: &str = include_str!("old_lines.jsonl");

/// Every float of a record, as bits, so that NaN and -0.0 compare exactly.
fn bits(r: &TrialRecord) -> Vec<u64> {
    let metrics = |m: &Metrics| {
        [m.train_loss, m.l2_term, m.weight_norm]
            .into_iter()
            .chain(
                [m.val_loss, m.train_acc, m.val_acc, m.dead_fraction]
                    .into_iter()
                    .flatten(),
            )
            .map(f64::to_bits)
            .collect::<Vec<_>>()
    };
    let mut out = vec![r.wall_time_s.to_bits()];
    out.extend(r.metrics.iter().flat_map(metrics));
    out.extend(r.initial.iter().flat_map(metrics));
    for p in &r.curve {
        out.push(p.batch_loss.to_bits());
        out.extend(p.eval.iter().flat_map(metrics));
    }
    if let Some(b) = &r.boundary {
        out.extend([b.x.0, b.x.1, b.y.0, b.y.1].map(f64::to_bits));
    }
    out
}

/// Write `r` and read it back: the same record, every float bit for bit.
fn round_trip(r: &TrialRecord) -> String {
    let line = serde_json::to_string(r).unwrap();
    let back: TrialRecord = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(format!("{back:?}"), format!("{r:?}"));
    assert_eq!(bits(&back), bits(r));
    line
}

fn old_records() -> Vec<TrialRecord> {
    OLD_LINES
        .lines()
        .map(|l| serde_json::from_str(l).expect("an old line reads"))
        .collect()
}

#[test]
fn old_lines_read_as_before() {
    let [depth, digits] = &old_records()[..] else {
        panic!("two fixture lines")
    };
    assert_eq!(depth.id, "1dc60766c18b361e");
    assert_eq!(depth.status, Status::Ok);
    assert_eq!(depth.curve.len(), 200);
    let first = depth.curve[0];
    assert_eq!(
        (first.epoch, first.batch_loss, first.eval),
        (1, 1.034071875413259, None)
    );
    let tenth = depth.curve[9].eval.expect("evaluated every 10 epochs");
    assert_eq!(tenth.train_loss, 0.4152754366397858);
    assert_eq!(tenth.dead_fraction, Some(0.0375));
    assert_eq!(depth.curve.iter().filter(|p| p.eval.is_some()).count(), 20);
    assert_eq!(depth.curve[199].eval, depth.metrics);
    let b = depth.boundary.as_ref().expect("2-D data has a grid");
    assert_eq!((b.res, b.classes.len()), (60, 3600));
    assert!(b.classes.bytes().all(|c| c.is_ascii_digit()));
    assert_eq!(digits.curve.len(), 40);
    assert!(digits.boundary.is_none());
    // The same records as the generic JSON reading of the old shape gives.
    for (line, r) in OLD_LINES.lines().zip(old_records()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let curve: Vec<CurvePoint> = serde_json::from_value(v["curve"].clone()).unwrap();
        assert_eq!(curve, r.curve);
        assert_eq!(
            v["boundary"]["classes"].as_str(),
            r.boundary.as_ref().map(|b| &b.classes[..])
        );
    }
}

#[test]
fn old_lines_are_rewritten_packed_and_read_back_the_same() {
    for r in old_records() {
        let line = round_trip(&r);
        assert!(line.contains(r#""curve":{"epochs":"#), "{line}");
        assert!(!line.contains(r#""epoch":"#), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let old = OLD_LINES.lines().find(|l| l.contains(&r.id)).unwrap();
        let without_grid = {
            let mut v = v.clone();
            v.as_object_mut().unwrap().remove("boundary");
            serde_json::to_string(&v).unwrap().len()
        };
        eprintln!(
            "{}: {} -> {} bytes ({without_grid} without the grid)",
            r.id,
            old.len(),
            line.len()
        );
        if r.curve.len() == 200 {
            // ~19.8 KB before.
            assert!(without_grid < 4000, "{without_grid}");
            assert!(line.len() < 4600, "{}", line.len());
            let runs = v["boundary"]["runs"].as_str().unwrap();
            assert!(runs.starts_with('a') && runs.len() < 600, "{runs}");
            assert!(v["boundary"].get("classes").is_none());
        }
    }
}

/// An old-format line of a regression trial without validation split or
/// hidden layer: the optional metrics are null.
const OLD_REGRESSION: &str = r#"{"format":3,"id":"00","index":0,"seed":1,"status":"ok","message":null,"diverged_epoch":null,"params":{"weights":1,"biases":1,"total":2,"hidden_neurons":0},"metrics":{"train_loss":0.5,"val_loss":null,"train_acc":null,"val_acc":null,"l2_term":0.0,"weight_norm":1.25,"dead_fraction":null},"curve":[{"epoch":1,"batch_loss":0.7,"eval":null},{"epoch":2,"batch_loss":0.6,"eval":{"train_loss":0.5,"val_loss":null,"train_acc":null,"val_acc":null,"l2_term":0.0,"weight_norm":1.25,"dead_fraction":null}}],"wall_time_s":0.01}"#;

#[test]
fn absent_metrics_stay_absent() {
    let r: TrialRecord = serde_json::from_str(OLD_REGRESSION).unwrap();
    let m = r.curve[1].eval.unwrap();
    assert_eq!(
        (m.val_loss, m.train_acc, m.val_acc, m.dead_fraction),
        (None, None, None, None)
    );
    let line = round_trip(&r);
    for key in ["val_loss", "train_acc", "val_acc", "dead_fraction"] {
        // Only the final metrics name them (as null, as before).
        assert_eq!(line.matches(key).count(), 1, "{key}: {line}");
    }
    assert!(line.contains(r#""eval_epochs":[2]"#), "{line}");
}

#[test]
fn a_diverged_epoch_keeps_its_bits() {
    let mut r: TrialRecord = serde_json::from_str(OLD_REGRESSION).unwrap();
    for bad in [f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        r.curve.push(CurvePoint {
            epoch: r.curve.len() + 1,
            batch_loss: bad,
            eval: None,
        });
        r.status = Status::Diverged;
        r.metrics = None;
        round_trip(&r);
        r.curve.pop();
    }
    // The old shape wrote it as null, which still reads as NaN.
    let old = OLD_REGRESSION.replace(r#""batch_loss":0.6"#, r#""batch_loss":null"#);
    let r: TrialRecord = serde_json::from_str(&old).unwrap();
    assert!(r.curve[1].batch_loss.is_nan());
}

#[test]
fn curves_the_columns_cannot_hold_are_written_in_the_old_shape() {
    let r: TrialRecord = serde_json::from_str(OLD_REGRESSION).unwrap();
    // An optional metric some evaluations have and others not.
    let mut mixed = r.clone();
    mixed.curve[0].eval = Some(Metrics {
        val_loss: Some(0.25),
        ..mixed.curve[1].eval.unwrap()
    });
    // Epochs other than 1, 2, ….
    let mut gap = r.clone();
    gap.curve[1].epoch = 3;
    let mut empty = r.clone();
    empty.curve.clear();
    for r in [&mixed, &gap] {
        assert!(round_trip(r).contains(r#""curve":[{"epoch":1"#));
    }
    // An empty curve (a failed trial's) is left out, and reads back empty.
    assert!(!round_trip(&empty).contains(r#""curve""#));
}

#[test]
fn packed_floats_round_trip_bit_for_bit() {
    let cases: Vec<Vec<f64>> = vec![
        vec![],
        vec![0.0],
        vec![-0.0, 0.0, -0.0],
        vec![1.0; 7],
        vec![
            f64::NAN,
            f64::from_bits(0x7ff8_dead_beef_0001),
            -f64::NAN,
            f64::INFINITY,
        ],
        vec![f64::MIN_POSITIVE, 5e-324, f64::MAX, f64::MIN, f64::EPSILON],
        // f32-exact values: three low zero bytes each, dropped.
        (1..50).map(|i| f64::from(1.0f32 / i as f32)).collect(),
        (1..201).map(|i| 1.0 / f64::from(i) + 0.1).collect(),
        vec![0.99, 0.99, 0.9933333333333333, 0.10625, 0.0375],
    ];
    for v in cases {
        let text = pack(v.iter().copied());
        let back = unpack(&text, v.len()).unwrap();
        assert_eq!(
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            "{text}"
        );
        // Never more than 8 bytes a value, plus a nibble and the shift byte.
        assert!(text.len() <= (1 + v.len().div_ceil(2) + 8 * v.len()).div_ceil(3) * 4);
    }
    // Shift 6 (1.0 is 0x3ff0 and six zero bytes), lengths 2, 0, 0, 0 (the
    // repeats XOR to 0), then 0x3ff0 least significant byte first.
    assert_eq!(
        STANDARD.decode(pack([1.0; 4])).unwrap(),
        [6, 0x20, 0x00, 0xf0, 0x3f]
    );
    // f32-exact values drop their three zero low bytes.
    let f32s = pack((1..50).map(|i| f64::from(1.0f32 / i as f32)));
    assert_eq!(STANDARD.decode(f32s).unwrap()[0], 3);
}

#[test]
fn malformed_packed_floats_are_errors() {
    let enc = |b: &[u8]| STANDARD.encode(b);
    let cases = [
        ("".to_string(), 0),        // no shift byte
        ("!!".to_string(), 1),      // not base64
        (enc(&[8]), 0),             // shift past 7 bytes
        (enc(&[0]), 1),             // no length nibble
        (enc(&[0, 0x20, 0xf0]), 1), // 2 bytes promised, 1 there
        (enc(&[0, 0x10, 1, 2]), 1), // a trailing byte
        (enc(&[7, 0x20, 1, 2]), 1), // 2 bytes, but shift 7 leaves room for 1
        (enc(&[0, 0x90]), 1),       // 9 bytes
        (pack([1.0, 2.0]), 3),      // too few values
    ];
    for (text, n) in cases {
        assert!(unpack(&text, n).is_err(), "{text} {n}");
    }
    // An odd count pads the last nibble with 0.
    assert!(unpack(&pack([2.0]), 1).is_ok());
    assert!(unpack(&STANDARD.encode([0u8, 0x01]), 1).is_err());
}

#[test]
fn grids_are_stored_as_runs() {
    let b = |res, classes: &str| Boundary {
        x: (-1.0, 1.0),
        y: (-0.5, 0.5),
        res,
        classes: classes.into(),
    };
    assert_eq!(runs("0001222223"), "a3bc5d");
    assert_eq!(unrun("a3bc5d", 10).unwrap(), "0001222223");
    let json = |b: &Boundary| serde_json::to_string(b).unwrap();
    assert_eq!(
        json(&b(2, "0119")),
        r#"{"x":[-1.0,1.0],"y":[-0.5,0.5],"res":2,"runs":"ab2j"}"#
    );
    // Not digits filling the grid: kept as is.
    assert!(json(&b(2, "011")).contains(r#""classes":"011""#));
    assert!(json(&b(1, "x")).contains(r#""classes":"x""#));
    for original in [
        b(2, "0119"),
        b(2, "011"),
        b(1, "x"),
        b(0, ""),
        b(3, "000000000"),
    ] {
        let back: Boundary = serde_json::from_str(&json(&original)).unwrap();
        assert_eq!(back, original);
    }
    for (runs, cells) in [
        ("a3", 2),
        ("a3", 4),
        ("k", 1),
        ("a0", 0),
        ("a1", 1),
        ("3a", 3),
        ("a99999999999999999999999", 4),
    ] {
        assert!(unrun(runs, cells).is_err(), "{runs} {cells}");
    }
    let both = r#"{"x":[0,1],"y":[0,1],"res":1,"runs":"a","classes":"0"}"#;
    let neither = r#"{"x":[0,1],"y":[0,1],"res":1}"#;
    assert!(serde_json::from_str::<Boundary>(both).is_err());
    assert!(serde_json::from_str::<Boundary>(neither).is_err());
}

/// Evaluation epochs out of order, repeated, or past the last epoch make
/// a line that does not parse (so it is skipped and its trial reruns),
/// never a curve with evaluations in the wrong place.
#[test]
fn eval_epochs_out_of_place_are_errors() {
    let r: TrialRecord = serde_json::from_str(OLD_REGRESSION).unwrap();
    let line = serde_json::to_string(&r).unwrap();
    assert!(line.contains(r#""eval_epochs":[2]"#), "{line}");
    assert!(serde_json::from_str::<TrialRecord>(&line).is_ok());
    for bad in [r#""eval_epochs":[3]"#, r#""eval_epochs":[0]"#] {
        let broken = line.replace(r#""eval_epochs":[2]"#, bad);
        assert!(
            serde_json::from_str::<TrialRecord>(&broken).is_err(),
            "{bad}"
        );
    }
}

/// The initial evaluation (epoch 0) is a plain `initial` object beside
/// `metrics`, read back bit for bit; lines written before it have none
/// and read as `None`, and a record without one writes no key, so such
/// lines stay byte for byte what they were. Catches the field written
/// under another name, dropped on read, or written as `null`.
#[test]
fn the_initial_evaluation_is_optional_and_exact() {
    for r in old_records() {
        assert_eq!(r.initial, None);
        assert!(!round_trip(&r).contains("initial"));
    }
    let mut r = old_records().remove(0);
    r.initial = Some(Metrics {
        train_loss: 1.0986122886681098,
        val_loss: Some(0.1 + 0.2),
        train_acc: Some(1.0 / 3.0),
        val_acc: Some(0.34),
        l2_term: 1e-300,
        weight_norm: 7.25,
        dead_fraction: Some(0.0),
    });
    let line = round_trip(&r);
    assert!(
        line.contains(
            r#""initial":{"train_loss":1.0986122886681098,"val_loss":0.30000000000000004,"#
        )
    );
}
