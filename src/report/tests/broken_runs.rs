//! The collapsed and unstable flags through the tables and a claim: each
//! trial's flags in trials.csv, each configuration's counts in
//! summary.csv and the Markdown table, and `collapsed_fraction` and
//! `unstable_fraction` judged on them.
use super::*;
use crate::train::CurvePoint;

/// An evaluation with train loss `l` (the other fields do not matter).
fn eval(l: f64) -> Metrics {
    Metrics {
        train_loss: l,
        val_loss: Some(l),
        train_acc: Some(0.5),
        val_acc: Some(0.5),
        l2_term: 0.0,
        weight_norm: 1.0,
        dead_fraction: Some(0.0),
    }
}

/// The study below (with `claims` added): final losses, initial losses
/// and curves that flag seeds 0 and 1 collapsed and seed 2 unstable.
fn flagged_study(claims: &str) -> (Study, Plan, Vec<TrialRecord>) {
    let (e, plan, mut records) =
        stored_study(claims, &[1.1, 1.15, 0.5, f64::NAN, 0.3, 0.25, 0.2, 0.35]);
    for r in &mut records {
        r.initial = Some(eval(1.2));
        let last = r.metrics.map_or(1.0, |m| m.train_loss);
        let best = if r.index == 2 { 0.1 } else { last };
        r.curve = vec![
            CurvePoint {
                epoch: 1,
                batch_loss: 1.0,
                eval: Some(eval(best)),
            },
            CurvePoint {
                epoch: 2,
                batch_loss: 1.0,
                eval: Some(eval(last)),
            },
        ];
    }
    (e, plan, records)
}

/// Widths 2 and 8, four seeds each, 3-class spiral (chance ln 3 =
/// 1.0986, flagged from 0.99·ln 3 = 1.0876), every trial starting at an
/// initial loss of 1.2:
/// - width 2: seed 0 ends at 1.1 (chance: collapsed), seed 1 at 1.15
///   (not 5% below 1.2, the bar being 1.14: collapsed), seed 2 at 0.5
///   after reaching 0.1 (0.5 > 0.1 + max(0.1, 0.1) = 0.2: unstable),
///   seed 3 diverged (no flags);
/// - width 8: 0.3, 0.25, 0.2, 0.35 after curves whose best is the end.
///
/// Catches the chance rule or the 5% rule dropped, the unstable bar
/// mis-computed, a diverged trial counted, or the counts summed over the
/// wrong configuration.
#[test]
fn flags_are_written_per_trial_and_counted_per_configuration() {
    let (e, plan, records) = flagged_study("");
    let r = build(&e, &plan, &records).unwrap();
    let flag = |name: &str| -> Vec<Option<bool>> {
        r.trials
            .column(name)
            .unwrap()
            .bool()
            .unwrap()
            .iter()
            .collect()
    };
    let (t, f) = (Some(true), Some(false));
    assert_eq!(flag("collapsed"), [t, t, f, None, f, f, f, f]);
    assert_eq!(flag("unstable"), [f, f, t, None, f, f, f, f]);
    let count = |name: &str| -> Vec<Option<u64>> {
        r.summary
            .column(name)
            .unwrap()
            .u64()
            .unwrap()
            .iter()
            .collect()
    };
    assert_eq!(count("n_collapsed"), [Some(2), Some(0)]);
    assert_eq!(count("n_unstable"), [Some(1), Some(0)]);
    let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
    assert!(
        md.contains("| diverged / failed | collapsed / unstable |"),
        "{md}"
    );
    assert!(md.contains("| 1 / 0 | 2 / 1 |"), "{md}");
    assert!(md.contains("| 0 / 0 | 0 / 0 |"), "{md}");
}

/// A `collapsed_fraction` claim reads the flags: 2 of the 3 finished
/// width-2 seeds against 0 of 4 at width 8, so the point values are 2/3
/// and 0 (the diverged seed is in neither numerator nor denominator of a
/// claim's statistic, which counts finished trials).
#[test]
fn collapsed_fraction_claims_read_the_flags() {
    let claim = "[[claims]]\nname = \"narrow nets collapse more\"\nmetric = \"train_loss\"\n\
                 statistic = \"collapsed_fraction\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
    let (e, plan, mut records) =
        stored_study(claim, &[1.1, 1.15, 0.5, f64::NAN, 0.3, 0.25, 0.2, 0.35]);
    for r in &mut records {
        r.initial = Some(eval(1.2));
    }
    let r = build(&e, &plan, &records).unwrap();
    let points = &r.verdicts[0].slices[0].points;
    assert_eq!(points.len(), 2);
    assert!((points[0].value.unwrap() - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(points[1].value, Some(0.0));
}

/// An `unstable_fraction` claim reads the unstable flags: 1 of the 3
/// finished width-2 seeds (seed 2, back up to 0.5 from 0.1) against 0 of
/// 4 at width 8. Catches the statistic read off the losses instead (their
/// mean at width 2 is 0.917) or off another flag (collapsed: 2/3).
#[test]
fn unstable_fraction_claims_read_the_flags() {
    let claim = "[[claims]]\nname = \"narrow nets bounce back more\"\nmetric = \"train_loss\"\n\
                 statistic = \"unstable_fraction\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
    let (e, plan, records) = flagged_study(claim);
    let r = build(&e, &plan, &records).unwrap();
    let points = &r.verdicts[0].slices[0].points;
    assert_eq!(points.len(), 2);
    assert!((points[0].value.unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(points[1].value, Some(0.0));
}

/// One seed's validation loss far above the others (1000.1 among three
/// at 0.2) makes its configuration's std (≈ 500) exceed its mean (≈ 250):
/// the val loss column switches to median [IQR] for every configuration
/// (width 2: median 0.2, IQR 250 by NumPy's linear quantiles of [0.2,
/// 0.2, 0.2, 1000.1]: 250.175 − 0.2 = 249.975). Without the outlier the
/// column stays mean ± std. Catches the rule reversed or never applied.
#[test]
fn a_heavy_spread_shows_the_validation_loss_as_median_and_iqr() {
    let (e, plan, records) = stored_study("", &[0.1, 0.1, 0.1, 1000.0, 0.3, 0.25, 0.2, 0.35]);
    let r = build(&e, &plan, &records).unwrap();
    let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
    assert!(md.contains("| stuck | val loss median [IQR] |"), "{md}");
    // 249.975 to four significant digits.
    assert!(md.contains("| 0.2000 [250.0] |"), "{md}");
    let (e, plan, records) = stored_study("", &[0.1, 0.1, 0.1, 0.2, 0.3, 0.25, 0.2, 0.35]);
    let r = build(&e, &plan, &records).unwrap();
    let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
    assert!(md.contains("| stuck | val loss |"), "{md}");
}
