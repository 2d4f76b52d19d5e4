//! Repeats are independent searches: repeat `r` is, point for point and id
//! for id, the search run alone with seed `seed + r`.
use std::path::Path;

use crate::plan::Plan;
use crate::study::{Study, StudyError, from_str};

fn study(src: &str, sets: &[&str]) -> Result<Study, StudyError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    from_str(src, Path::new("s.toml"), &sets)
}

fn search(strategy: &str) -> String {
    format!(
        r#"
name = "s"
seeds = 2
[grid]
depth = [1, 2]
[search]
strategy = "{strategy}"
samples = 5
seed = 7
[space]
lr = {{ log_uniform = [1e-4, 1.0] }}
activation = {{ choice = ["relu", "tanh"] }}
"#
    )
}

/// Trial ids per configuration.
fn ids(p: &Plan) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); p.n_configs];
    for t in &p.trials {
        out[t.config_index].push(t.id.clone());
    }
    out
}

#[test]
fn one_repeat_is_the_search_without_the_key() {
    let src = search("random");
    let plain = Plan::new(&study(&src, &[]).unwrap()).unwrap();
    let one = Plan::new(&study(&src, &["search.repeats=1"]).unwrap()).unwrap();
    assert_eq!(ids(&plain), ids(&one));
    let s = study(&src, &[]).unwrap();
    assert_eq!(s.search.as_ref().unwrap().repeat(0), None);
}

#[test]
fn repeat_r_is_the_search_with_seed_plus_r() {
    for strategy in ["random", "sobol"] {
        let src = search(strategy);
        let rep = study(&src, &["search.repeats=3"]).unwrap();
        let plan = ids(&Plan::new(&rep).unwrap());
        // Depth outermost, then 3 repeats of 5 points each.
        assert_eq!(plan.len(), 2 * 3 * 5, "{strategy}");
        let search = rep.search.as_ref().unwrap();
        for r in 0..3 {
            let seed = format!("search.seed={}", 7 + r);
            let alone = ids(&Plan::new(&study(&src, &[&seed]).unwrap()).unwrap());
            for depth in 0..2 {
                for i in 0..5 {
                    assert_eq!(
                        plan[depth * 15 + r * 5 + i],
                        alone[depth * 5 + i],
                        "{strategy} r={r} depth={depth} i={i}"
                    );
                    assert_eq!(search.repeat(r * 5 + i), Some(r));
                }
            }
        }
        let text = search.describe();
        assert!(text.contains("repeated 3 times, seeds 7..9"), "{text}");
    }
}

#[test]
fn a_point_two_repeats_draw_shares_its_ids_and_trains_once() {
    // One choice key of two values: 3 repeats of 4 draws cannot all differ.
    let src = "name = \"s\"\nseeds = 2\n[search]\nstrategy = \"random\"\nsamples = 4\nrepeats = 3\n\
               [space]\nactivation = { choice = [\"relu\", \"tanh\"] }\n";
    let plan = Plan::new(&study(src, &[]).unwrap()).unwrap();
    assert_eq!(plan.len(), 3 * 4 * 2);
    assert_eq!(plan.distinct().count(), 2 * 2);
}

#[test]
fn combinations_repeats_cannot_run_are_refused_naming_the_key() {
    let src = search("random");
    let blocks = study(&src, &["search.repeats=2", "search.blocks=5"]).unwrap_err();
    assert_eq!(blocks.key, "search.repeats");
    assert!(blocks.message.contains("not both"), "{}", blocks.message);
    let halving = format!("{src}[search.halving]\nmin_epochs = 1\n[train]\nepochs = 3\n");
    // Halving runs per repeat; only its verdict against a reference is refused.
    study(&halving, &["search.repeats=2"]).unwrap();
    let reference = halving.replace("min_epochs = 1", "min_epochs = 1\nreference = \"../grid\"");
    let e = study(&reference, &["search.repeats=2"]).unwrap_err();
    assert_eq!(e.key, "search.repeats");
    assert!(e.message.contains("reference"), "{}", e.message);
}

#[test]
fn growing_repeats_keeps_every_earlier_id() {
    let src = search("sobol");
    let ids_of = |r: &str| {
        let set = format!("search.repeats={r}");
        let plan = Plan::new(&study(&src, &[&set]).unwrap()).unwrap();
        plan.trials
            .iter()
            .map(|t| t.id.clone())
            .collect::<std::collections::HashSet<_>>()
    };
    let (two, three) = (ids_of("2"), ids_of("3"));
    assert!(two.is_subset(&three));
    // 2 depths × 5 points × 2 seeds new (none drawn before, the lr being continuous).
    assert_eq!(three.len() - two.len(), 2 * 5 * 2);
}
