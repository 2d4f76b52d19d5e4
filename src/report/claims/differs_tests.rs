//! `expect = "differs"` and `where` lists, judged on synthetic trials.

use super::*;

/// 6 seeds per (width, lr) around `centre`, evenly spread ±0.05.
fn data(centre: impl Fn(i64, f64) -> f64) -> Vec<(Vec<(String, Setting)>, f64)> {
    let mut out = Vec::new();
    for w in [2, 8, 32] {
        for lr in [0.01, 0.1, 1.0] {
            for s in 0..6 {
                let swept = vec![
                    ("model.width".to_string(), Setting::Int(w)),
                    ("train.lr".to_string(), Setting::Float(lr)),
                ];
                out.push((swept, centre(w, lr) + 0.02 * (s as f64 - 2.5)));
            }
        }
    }
    out
}

fn verdict(claim: &str, data: &[(Vec<(String, Setting)>, f64)]) -> Verdict {
    let src = format!(
        "name = \"c\"\nseeds = 6\n[grid]\nwidth = [2, 8, 32]\nlr = [0.01, 0.1, 1.0]\n[[claims]]\nname = \"x\"\n{claim}"
    );
    let e = crate::testkit::study(&src);
    let axes: Vec<Vec<String>> = e.axes.iter().map(|a| a.keys.clone()).collect();
    judge(&e.report, &axes, |_| {
        data.iter().map(|(s, v)| Row::of(s, Some(*v))).collect()
    })
    .remove(0)
}

/// A two-sided trend holds whichever way the metric moves, where a
/// one-sided claim on the same data fails for one of the directions; on
/// flat data it is inconclusive and never fails. Catches `differs`
/// judged as increasing (the falling case would fail) or as decreasing
/// (the rising case would fail), and a non-significant `differs` turned
/// into "fails".
#[test]
fn differs_along_an_axis_holds_either_way_and_never_fails() {
    let claim = "along = \"width\"\nexpect = \"differs\"\npool = true\n";
    let falling = data(|w, _| 1.0 / w as f64);
    let rising = data(|w, _| w as f64);
    assert_eq!(verdict(claim, &falling).outcome, Outcome::Holds);
    assert_eq!(verdict(claim, &rising).outcome, Outcome::Holds);
    let one_sided = claim.replace("differs", "increasing");
    assert_eq!(verdict(&one_sided, &falling).outcome, Outcome::Fails);
    let flat = data(|_, _| 1.0);
    let v = verdict(claim, &flat);
    assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.slices[0].evidence);
    assert_ne!(v.slices[0].seeds_needed, Some(SeedsNeeded::OtherWay));
}

/// A two-sided comparison holds when `this` is above `than` and when it
/// is below; `less_than` on the first fails. Catches `differs` sent to the
/// one-sided side test.
#[test]
fn differs_between_groups_holds_either_way() {
    let claim = "expect = \"differs\"\nthis = { width = 32 }\nthan = { width = 2 }\n";
    let above = data(|w, _| w as f64);
    let below = data(|w, _| -(w as f64));
    for d in [&above, &below] {
        let v = verdict(claim, d);
        assert_eq!(v.outcome, Outcome::Holds, "{}", v.slices[0].evidence);
        assert_eq!(v.slices.len(), 3, "one slice per lr");
    }
    let less = claim.replace("differs", "less_than");
    assert_eq!(verdict(&less, &above).outcome, Outcome::Fails);
}

/// `where = { lr = [0.01, 1.0] }` keeps only those two settings of lr,
/// one slice each; a trend along lr over the listed values runs over
/// exactly those. Catches a list matched as "all of" (no trial kept), the
/// middle value let through, and the listed key pooled into one slice.
#[test]
fn a_where_list_keeps_one_of_its_values_and_slices_by_them() {
    let rising_in_lr = data(|_, lr| lr);
    let claim = "along = \"width\"\nexpect = \"differs\"\nwhere = { lr = [0.01, 1.0] }\n";
    let v = verdict(claim, &rising_in_lr);
    let labels: Vec<&str> = v.slices.iter().map(|s| s.slice.as_str()).collect();
    assert_eq!(labels, ["lr=0.01", "lr=1"]);
    let claim = "along = \"lr\"\nexpect = \"increasing\"\nwhere = { lr = [0.01, 1.0] }\n";
    let v = verdict(claim, &rising_in_lr);
    assert_eq!(v.outcome, Outcome::Holds);
    let points: Vec<&str> = v.slices[0]
        .points
        .iter()
        .map(|p| p.label.as_str())
        .collect();
    assert_eq!(points, ["lr=0.01", "lr=1"]);
    assert_eq!(v.slices.len(), 3, "one slice per width");
}
