use super::*;

/// An arm whose expected best at n is `values[n − 1]`, each with the band
/// ± `half`.
fn arm(name: &str, values: &[f64], half: f64) -> ArmCurve {
    ArmCurve {
        name: name.into(),
        slice: "all".into(),
        points: values
            .iter()
            .enumerate()
            .map(|(i, &v)| TuningPoint {
                n: i + 1,
                expected_best: v,
                with_replacement: v,
                band: Some((v - half, v + half)),
                train_epochs: (i + 1) as f64 * 10.0,
            })
            .collect(),
    }
}

/// Losses: a is lower at n = 1–2, they tie at 3, b is lower at 4; only the
/// gap of 0.3 at n = 1 separates bands of half-width 0.1. The runs stop
/// at the shorter arm's N (4). For accuracies the same numbers make b the
/// leader where a was. Catches the direction flipped and overlapping
/// bands counted as a lead.
#[test]
fn lead_names_the_runs_of_budgets_each_arm_is_ahead() {
    let a = arm("random", &[0.2, 0.45, 0.5, 0.6, 0.1], 0.1);
    let b = arm("grid", &[0.5, 0.5, 0.5, 0.55], 0.1);
    let l = lead(&a, &b, false);
    assert_eq!(
        l.by_estimate,
        vec![(1, 2, Some(true)), (3, 3, None), (4, 4, Some(false))]
    );
    assert_eq!(l.by_band, vec![(1, 1, Some(true)), (2, 4, None)]);
    let l = lead(&a, &b, true);
    assert_eq!(
        l.by_estimate,
        vec![(1, 2, Some(false)), (3, 3, None), (4, 4, Some(true))]
    );
    assert_eq!(l.by_band, vec![(1, 1, Some(false)), (2, 4, None)]);
}

/// tuning.csv's frame: one row per arm and n with the stated columns, in
/// arm order; an undefined band is an empty cell, parsed back as such.
#[test]
fn the_frame_has_one_row_per_arm_and_n() {
    let mut b = arm("grid", &[0.5, 0.4], 0.1);
    b.points[1].band = None;
    let t = TuningCurves {
        metric: Metric::ValLoss,
        from_claim: false,
        level: 0.95,
        reps: 100,
        arms: vec![arm("random", &[0.75, 0.5, 0.25], 0.125), b],
    };
    let csv = String::from_utf8(crate::report::csv::render(&frame(&t).unwrap()).unwrap()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "arm,n,expected_best,expected_best_with_replacement,lo,hi,train_epochs"
    );
    assert_eq!(lines.len(), 1 + 3 + 2);
    assert_eq!(lines[1], "random,1,0.75,0.75,0.625,0.875,10");
    assert_eq!(lines[5], "grid,2,0.4,0.4,,,20");
}
