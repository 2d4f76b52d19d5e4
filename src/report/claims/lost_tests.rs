//! Diverged and failed trials in claims: counted on every point, kept out
//! of every statistic, and a group (or slice) with none finished is not
//! judged.

use super::*;

/// Eight seeds per width (2, 8, 32) with values `value(width, seed)`,
/// ending as `status(width, seed)`.
fn judge_lost(
    claim: &str,
    value: &dyn Fn(i64, usize) -> f64,
    status: &dyn Fn(i64, usize) -> Status,
) -> Verdict {
    let src = format!(
        "name = \"c\"\nseeds = 8\n[grid]\nwidth = [2, 8, 32]\n[[claims]]\nname = \"x\"\n{claim}"
    );
    let e = crate::testkit::study(&src);
    let axes: Vec<Vec<String>> = e.axes.iter().map(|a| a.keys.clone()).collect();
    let widths = [2i64, 8, 32];
    let swept: Vec<Vec<(String, Setting)>> = widths
        .iter()
        .map(|w| vec![("model.width".to_string(), Setting::Int(*w))])
        .collect();
    judge(&e.report, &axes, |_| {
        (0..3)
            .flat_map(|c| (0..8).map(move |s| (c, s)))
            .map(|(c, s)| {
                let st = status(widths[c], s);
                Row {
                    config: c,
                    status: st,
                    ..Row::of(&swept[c], (st == Status::Ok).then(|| value(widths[c], s)))
                }
            })
            .collect()
    })
    .remove(0)
}

const COMPARE: &str = "metric = \"train_loss\"\nstatistic = \"median\"\nexpect = \"less_than\"\nthis = { width = 32 }\nthan = { width = 2 }\n";

/// A group whose every seed diverged cannot be judged (no test, out of
/// the Holm family) and says so; a group that lost some seeds is judged
/// on the rest, and its point says how many it lost. Seeds 0–2 of width
/// 32 diverge: its median is that of seeds 3–7 (values 0.13 … 0.17 →
/// 0.15), not of all eight. Catches diverged trials entering the
/// statistic, lost counts miscounted, and an empty group judged.
#[test]
fn a_group_that_lost_every_seed_is_not_judged() {
    let value = |w: i64, s: usize| {
        if w == 32 {
            0.1 + 0.01 * s as f64
        } else {
            1.0 + 0.01 * s as f64
        }
    };
    let v = judge_lost(COMPARE, &value, &|w, s| {
        if w == 32 && s < 3 {
            Status::Diverged
        } else if w == 2 && s == 7 {
            Status::Failed
        } else {
            Status::Ok
        }
    });
    let s = &v.slices[0];
    assert_eq!(s.outcome, Outcome::Holds);
    assert!((s.points[0].value.unwrap() - 0.15).abs() < 1e-12);
    assert_eq!(
        (s.points[0].n, s.points[0].diverged, s.points[0].failed),
        (5, 3, 0)
    );
    assert_eq!(
        s.points[0].lost().as_deref(),
        Some("3 of 8 trials diverged")
    );
    assert_eq!(s.points[1].lost().as_deref(), Some("1 of 8 trials failed"));

    let v = judge_lost(COMPARE, &value, &|w, _| {
        if w == 2 { Status::Diverged } else { Status::Ok }
    });
    let s = &v.slices[0];
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert_eq!(s.test, None);
    assert!(s.points[1].none_finished());
    assert_eq!(
        s.evidence,
        "cannot judge: no trial of width=2 finished (all 8 trials diverged)"
    );
    let mixed = |w: i64, seed: usize| match (w, seed) {
        (2, 0) => Status::Failed,
        (2, _) => Status::Diverged,
        _ => Status::Ok,
    };
    let v = judge_lost(COMPARE, &value, &mixed);
    assert_eq!(
        v.slices[0].points[1].lost().as_deref(),
        Some("all 8 trials diverged or failed (7 diverged, 1 failed)")
    );
}

/// Along an axis, a setting whose seeds all diverged is shown (with its
/// count) but not ranked: the test is exactly the one of the study
/// without that setting's trials. A slice with no finished trial at all
/// is a slice that cannot be judged, so the claim no longer "holds" by
/// leaving it out. Catches an empty setting entering Spearman or
/// Brown–Forsythe and a slice of diverged trials silently dropped.
#[test]
fn a_setting_that_lost_every_seed_is_shown_not_ranked() {
    let trend = "metric = \"train_loss\"\nstatistic = \"std\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
    let value = |w: i64, s: usize| 1.0 / w as f64 + (s as f64 - 3.5) / (w * w) as f64;
    let v = judge_lost(trend, &value, &|w, _| {
        if w == 32 {
            Status::Diverged
        } else {
            Status::Ok
        }
    });
    let s = &v.slices[0];
    assert_eq!(s.points.len(), 3);
    assert!(s.points[2].none_finished());
    assert!(s.evidence.contains("width=2 vs width=8"), "{}", s.evidence);
    assert!(s.evidence.contains("(2 settings"), "{}", s.evidence);
    // Every trial diverged: one slice, not judged, and not "holds".
    let v = judge_lost(trend, &value, &|_, _| Status::Diverged);
    assert_eq!(v.slices.len(), 1);
    assert_eq!(v.outcome, Outcome::Inconclusive);
    assert_eq!(v.slices[0].evidence, "cannot judge: all 24 trials diverged");
}
