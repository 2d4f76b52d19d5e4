//! The section tables: rows well formed, the enums' names theirs, and the
//! readers, `--set` and unknown-key errors driven by them.
use std::path::Path;

use super::*;
use crate::study::keys::When;
use crate::study::{Replication, Source, StudyError, from_str};

fn load(src: &str, sets: &[&str]) -> Result<crate::study::Study, StudyError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    from_str(src, Path::new("s.toml"), &sets)
}

#[test]
fn every_row_is_documented_and_named_once_in_its_section() {
    for section in SECTIONS {
        assert!(section.unknown.contains("{known}"), "{}", section.path);
        for key in section.keys {
            assert!(!key.doc.is_empty(), "{} has no doc", key.path());
            assert_eq!(key.section, section.path, "{} is filed elsewhere", key.name);
            let named = section.keys.iter().filter(|k| k.name == key.name).count();
            assert_eq!(named, 1, "{} is in [{}] twice", key.name, section.path);
            assert!(
                !matches!(key.default, Default::By(..)),
                "{}: sections compute no defaults",
                key.path()
            );
        }
    }
}

/// The rows that name an enum's values list exactly its names, in order.
#[test]
fn choice_rows_are_the_enums_names() {
    let sources: Vec<&str> = Source::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(REPLICATES.names(), sources);
    let Type::Choice(names) = CLAIM.row("source").ty else {
        panic!("claims.source is a choice");
    };
    assert_eq!(names.to_vec(), sources);
    let Type::Choice(names) = SEARCH.row("strategy").ty else {
        panic!("search.strategy is a choice");
    };
    assert_eq!(names, ["grid", "random", "sobol"]);
    let Type::Choice(names) = HALVING.row("statistic").ty else {
        panic!("search.halving.statistic is a choice");
    };
    assert_eq!(names, ["median", "mean", "iqm"]);
}

/// The known keys an error lists are the rows', written out here as the
/// catalogue (`tests/bad_input/07_unknown_report_key.toml`) spells them.
#[test]
fn unknown_keys_are_refused_with_the_rows_names() {
    let e = load("name = \"t\"\n[report]\nlevl = 0.9\n", &[]).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("report.levl", Some(3)));
    assert!(
        e.message.starts_with(
            "unknown key; [report] has: stuck_delta, stuck_relative, level, bootstrap, target_acc, boundaries"
        ),
        "{}",
        e.message
    );
    let e = load("name = \"t\"\nseed = 3\n", &[]).unwrap_err();
    assert_eq!(e.key, "seed");
    assert!(
        e.message
            .starts_with("unknown key; the top level has: name, description, seeds, replicates")
    );
}

/// Defaults, required keys, a range the study narrows and unset keys, read
/// through `[search.halving]`'s rows.
#[test]
fn fields_read_by_the_rows() {
    let t: toml::Table = "eta = 1\nmin_epochs = 20\n".parse().unwrap();
    let f = HALVING.fields(&t, "search.halving.").unwrap();
    let e = f.int("eta").unwrap_err();
    assert_eq!(e.key, "search.halving.eta");
    assert_eq!(
        e.message,
        "expected an integer in 2..=1000000, got 1 (each rung keeps the best 1/eta of the configurations)"
    );
    let e = f.int_to("min_epochs", 19, " (below 20)").unwrap_err();
    assert_eq!(
        e.message,
        "expected an integer in 1..=19, got 20 (below 20)"
    );
    assert_eq!(f.float("max_share").unwrap(), 0.4);
    assert_eq!(f.text("reference").unwrap(), None);
    assert_eq!(f.text("metric").unwrap().as_deref(), Some("val_loss"));
    let empty = toml::Table::new();
    let f = HALVING.fields(&empty, "search.halving.").unwrap();
    let e = f.int_to("min_epochs", 19, "").unwrap_err();
    assert_eq!(
        e.message,
        "missing: halving needs min_epochs, the epochs of rung 0"
    );
}

/// `--set` reaches the keys of any section whose rows allow it, and an
/// error about one blames `--set`.
#[test]
fn set_reaches_section_keys() {
    let src = "name = \"t\"\n[model]\ndepth = 1\n";
    let s = load(
        src,
        &["report.level=0.9", "replicates.init=2", "description=why"],
    )
    .unwrap();
    assert_eq!(s.report.level, 0.9);
    assert_eq!(s.description, "why");
    assert_eq!(
        s.replication,
        Replication::Crossed(vec![Some(vec![0, 1]), None, None, None])
    );
    let e = load(src, &["report.level=1.5"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "--set: report.level: expected a confidence level in (0, 1), got 1.5"
    );
}

/// A section row's "applies" names an earlier key of its own section and
/// is decided by it there (never by resolved `[data]`/`[model]`/`[train]`
/// keys); a `Named` decider is a choice that has those names.
#[test]
fn applies_rows_are_decided_within_their_section() {
    for section in SECTIONS {
        for (i, key) in section.keys.iter().enumerate() {
            let Some(a) = &key.applies else { continue };
            let at = section.keys.iter().position(|k| k.name == a.decider);
            assert!(
                at.is_some_and(|d| d < i),
                "{}: {} is not an earlier key",
                key.path(),
                a.decider
            );
            match a.when {
                When::Resolved(_) => panic!("{}: decided outside its section", key.path()),
                When::Given => {}
                When::Named(names) => {
                    let Type::Choice(options) = section.row(a.decider).ty else {
                        panic!("{}: {} is not a choice", key.path(), a.decider);
                    };
                    assert!(names.iter().all(|n| options.contains(n)), "{}", key.path());
                }
            }
        }
    }
}

/// A key refused by its row where its deciding key says it does not apply,
/// with the row's reason; the same key is read where it applies.
#[test]
fn a_key_that_does_not_apply_is_refused_by_its_row() {
    let t: toml::Table = "strategy = \"grid\"\nseed = 3\n".parse().unwrap();
    let e = SEARCH
        .fields(&t, "search.")
        .unwrap()
        .check_applies()
        .unwrap_err();
    assert_eq!(e.key, "search.seed");
    assert_eq!(
        e.message,
        "applies to strategy = \"random\" or \"sobol\"; a grid runs every point of [grid] and [[zip]]"
    );
    let t: toml::Table = "strategy = \"sobol\"\nseed = 3\n".parse().unwrap();
    assert!(
        SEARCH
            .fields(&t, "search.")
            .unwrap()
            .check_applies()
            .is_ok()
    );
    let t: toml::Table = "max_share = 0.5\n".parse().unwrap();
    let e = HALVING
        .fields(&t, "search.halving.")
        .unwrap()
        .check_applies()
        .unwrap_err();
    assert_eq!(e.key, "search.halving.max_share");
    assert!(
        e.message
            .starts_with("a budget against the full grid needs"),
        "{}",
        e.message
    );
    let t: toml::Table = "max_share = 0.5\nreference = \"../grid\"\n"
        .parse()
        .unwrap();
    assert!(
        HALVING
            .fields(&t, "search.halving.")
            .unwrap()
            .check_applies()
            .is_ok()
    );
}
