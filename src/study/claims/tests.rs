//! Claims read from study files: `where` lists, `differs`, and the
//! refusals of claims no run could judge (each also a case in
//! `tests/bad_input/`, which checks the whole message).

use crate::study::{Expect, Setting, StudyError, from_str, matches};
use std::path::Path;

const STUDY: &str = "name = \"c\"\nseeds = 3\n[grid]\nlr = [0.01, 0.1, 1.0]\nwidth = [2, 8, 32]\n";

fn load(claim: &str) -> Result<crate::study::Study, StudyError> {
    let src = format!("{STUDY}[[claims]]\nname = \"x\"\n{claim}");
    from_str(&src, Path::new("s.toml"), &[])
}

fn refusal(claim: &str) -> String {
    match load(claim) {
        Ok(_) => panic!("accepted: {claim}"),
        Err(e) => format!("{}: {}", e.key, e.message),
    }
}

/// A `where` list is "one of": a trial with any listed value matches,
/// others do not; a single value still reads as one. Catches `matches`
/// requiring every listed value, or only the first.
#[test]
fn a_where_list_matches_any_of_its_values() {
    let s =
        load("along = \"width\"\nexpect = \"decreasing\"\nwhere = { lr = [0.01, 1] }\n").unwrap();
    let f = &s.report.claims[0].filter;
    assert_eq!(
        f,
        &[(
            "train.lr".to_string(),
            vec![Setting::Float(0.01), Setting::Int(1)]
        )]
    );
    let trial = |lr: f64| vec![("train.lr".to_string(), Setting::Float(lr))];
    assert!(matches(&trial(0.01), f));
    assert!(matches(&trial(1.0), f));
    assert!(!matches(&trial(0.1), f));
}

/// A trend along a key `where` lists two values of is allowed; one value
/// (bare or in a list) is refused at `where`. Catches the check counting
/// the axis's settings instead of those `where` keeps, or refusing lists.
#[test]
fn a_trend_needs_two_settings_that_where_keeps() {
    let two = load("along = \"lr\"\nexpect = \"decreasing\"\nwhere = { lr = [0.01, 0.1] }\n");
    assert!(two.is_ok(), "{:?}", two.err());
    for pin in ["0.1", "[0.1]"] {
        let e = refusal(&format!(
            "along = \"lr\"\nexpect = \"decreasing\"\nwhere = {{ lr = {pin} }}\n"
        ));
        assert!(
            e.starts_with("claims[0].where: leaves one setting of train.lr"),
            "{e}"
        );
    }
}

/// `differs` reads as a trend with `along` and as a comparison with
/// `this`/`than`, and is refused with neither. Catches `differs` missing
/// from the names, or sent to the one-sided shape checks.
#[test]
fn differs_is_a_trend_or_a_comparison() {
    let t = load("along = \"lr\"\nexpect = \"differs\"\n").unwrap();
    assert_eq!(t.report.claims[0].expect, Expect::Differs);
    let c = load("expect = \"differs\"\nthis = { width = 2 }\nthan = { width = 8 }\n").unwrap();
    assert_eq!(c.report.claims[0].along, None);
    assert!(
        refusal("expect = \"differs\"\n")
            .starts_with("claims[0].expect: expect = \"differs\" needs `along`")
    );
}

/// Pooling gives a group several trials, so a spread of one seed per
/// configuration is allowed with `pool = true` over another key and
/// refused without it. Catches the pooled axes left out of the count.
#[test]
fn one_seed_spreads_need_pooling() {
    let one = |claim: &str| {
        let src = format!(
            "name = \"c\"\n[grid]\nlr = [0.01, 0.1, 1.0]\nwidth = [2, 8, 32]\n[[claims]]\nname = \"x\"\n{claim}"
        );
        from_str(&src, Path::new("s.toml"), &[])
    };
    let claim = "statistic = \"std\"\nalong = \"width\"\nexpect = \"decreasing\"\n";
    let e = one(claim).unwrap_err();
    assert_eq!(e.key, "claims[0].statistic", "{e}");
    assert!(one(&format!("{claim}pool = true\n")).is_ok());
}

/// `tune` may pick among the values `where` lists for its key, but not
/// a key `where` pins. Catches every `where` key counted as used.
#[test]
fn tune_among_listed_values() {
    let ok = "expect = \"less_than\"\nthis = { width = 2 }\nthan = { width = 8 }\ntune = \"lr\"\nwhere = { lr = [0.01, 0.1] }\n";
    assert!(load(ok).is_ok());
    let pinned = ok.replace("[0.01, 0.1]", "0.1");
    assert!(refusal(&pinned).starts_with("claims[0].tune"));
}

/// Two claims may not share a name, even up to surrounding blanks.
/// Catches the check comparing a claim with itself, or not at all.
#[test]
fn claim_names_are_unique() {
    let src = format!(
        "{STUDY}[[claims]]\nname = \"x\"\nalong = \"lr\"\nexpect = \"differs\"\n[[claims]]\nname = \"x \"\nalong = \"width\"\nexpect = \"differs\"\n"
    );
    let e = from_str(&src, Path::new("s.toml"), &[]).unwrap_err();
    assert_eq!(e.key, "claims[1].name", "{e}");
}
