//! Tests of drawing: prefix stability, determinism, the distributions'
//! shapes against their formulas, and the evenness of Sobol points.
//! Expected numbers are worked out from the distributions' definitions
//! (written beside each test), not read off the code.
use std::path::Path;

use super::*;
use crate::plan::Plan;
use crate::study::{Study, StudyError, from_str};

fn study(src: &str, sets: &[&str]) -> Result<Study, StudyError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    from_str(src, Path::new("s.toml"), &sets)
}

const SEARCH: &str = r#"
name = "s"
seeds = 2
[grid]
depth = [1, 2]
[search]
strategy = "random"
samples = 64
seed = 7
[space]
lr = { log_uniform = [1e-4, 1.0] }
l2 = { log_uniform = [1e-6, 1e-1] }
width = { int_log_uniform = [4, 512] }
dropout = { uniform = [0.0, 0.7] }
activation = { choice = ["relu", "tanh", "maxout"] }
"#;

/// Trial ids of configuration `c` (its seeds), for every configuration.
fn ids(p: &Plan) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); p.n_configs];
    for t in &p.trials {
        out[t.config_index].push(t.id.clone());
    }
    out
}

#[test]
fn the_space_is_one_innermost_axis_crossed_with_the_grid() {
    let s = study(SEARCH, &[]).unwrap();
    assert_eq!(s.n_configs(), 2 * 64);
    assert_eq!(s.axes.len(), 2);
    assert!(!s.axes[0].sampled && s.axes[1].sampled);
    assert_eq!(
        s.axes[1].keys,
        [
            "train.lr",
            "train.l2",
            "model.width",
            "model.dropout",
            "model.activation"
        ]
    );
    // Configuration 64 is depth 2 with point 0: the drawn point varies fastest.
    let (a, b) = (
        s.config_at(&s.coords(0)).unwrap(),
        s.config_at(&s.coords(64)).unwrap(),
    );
    assert_eq!((a.model.depth, b.model.depth), (1, 2));
    assert_eq!((a.train.lr, a.model.width), (b.train.lr, b.model.width));
}

/// `samples = 64` then `samples = 128`: the first 64 points, and so the
/// ids of every trial of theirs, are unchanged (at both depths), for both
/// strategies; the grown study's new trials are the 2 × 64 × 2 new ones.
#[test]
fn growing_samples_keeps_the_first_points_and_their_ids() {
    for strategy in ["random", "sobol"] {
        let set = format!("search.strategy={strategy}");
        let small = Plan::new(&study(SEARCH, &[&set]).unwrap()).unwrap();
        let big = Plan::new(&study(SEARCH, &[&set, "search.samples=128"]).unwrap()).unwrap();
        let (small, big) = (ids(&small), ids(&big));
        for depth in 0..2 {
            for i in 0..64 {
                assert_eq!(small[depth * 64 + i], big[depth * 128 + i], "{strategy}");
            }
        }
        let old: std::collections::HashSet<&String> = small.iter().flatten().collect();
        let new = big.iter().flatten().filter(|id| !old.contains(id)).count();
        assert_eq!(new, 2 * 64 * 2, "{strategy}");
    }
}

/// The same study gives the same points on every load, and the values
/// follow from the documented construction: point i's generator is
/// ChaCha8 keyed by (seed, i) on stream 20, u = (next_u64 >> 11)·2⁻⁵³.
/// Different search seeds give different points.
#[test]
fn points_are_deterministic_and_follow_the_documented_generator() {
    use rand::{RngCore, SeedableRng};
    let a = study(SEARCH, &[]).unwrap();
    let b = study(SEARCH, &[]).unwrap();
    assert_eq!(a.axes, b.axes);
    let mut key = [0u8; 32];
    key[0] = 7; // seed 7, little-endian
    key[8] = 3; // point 3
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(key);
    rng.set_stream(20);
    let u = (rng.next_u64() >> 11) as f64 / 2f64.powi(53);
    let lr = (1e-4f64.ln() + u * (1f64.ln() - 1e-4f64.ln())).exp();
    let c = a.config_at(&a.coords(3)).unwrap();
    assert_eq!(c.train.lr, lr);
    let other = study(SEARCH, &["search.seed=8"]).unwrap();
    assert_ne!(other.config_at(&other.coords(3)).unwrap().train.lr, lr);
}

/// Draw `n` values of one distribution through a loaded study.
fn draws(strategy: &str, dist: &str, n: usize) -> Vec<toml::Value> {
    let src = format!(
        "name = \"d\"\n[search]\nstrategy = \"{strategy}\"\nsamples = {n}\n[space]\n{dist}\n"
    );
    let s = study(&src, &[]).unwrap();
    s.axes[0].points.iter().map(|p| p[0].clone()).collect()
}

fn floats(v: &[toml::Value]) -> Vec<f64> {
    v.iter().map(|x| x.as_float().unwrap()).collect()
}

fn ints(v: &[toml::Value]) -> Vec<i64> {
    v.iter().map(|x| x.as_integer().unwrap()).collect()
}

/// |count − n·p| within 4.5 binomial standard deviations √(n·p·(1 − p)).
/// For a correct sampler a single check fails with probability ~7e-6.
fn near(count: usize, n: usize, p: f64, what: &str) {
    let (n, c) = (n as f64, count as f64);
    let sd = (n * p * (1.0 - p)).sqrt();
    assert!(
        (c - n * p).abs() <= 4.5 * sd,
        "{what}: {count} of {n}, expected {:.1} ± {:.1}",
        n * p,
        4.5 * sd
    );
}

/// log_uniform [1e-4, 1]: ln x is uniform, so the share below the
/// geometric midpoint √(1e-4 · 1) = 1e-2 is 1/2 and each of the four
/// decades holds 1/4. With 2,000 draws the tolerance (4.5 sd) is ±0.050
/// on the half and ±87 draws on each decade's 500.
#[test]
fn log_uniform_is_uniform_in_the_logarithm() {
    let n = 2000;
    for strategy in ["random", "sobol"] {
        let x = floats(&draws(strategy, "lr = { log_uniform = [1e-4, 1.0] }", n));
        assert!(x.iter().all(|&v| (1e-4..=1.0).contains(&v)));
        near(x.iter().filter(|&&v| v < 1e-2).count(), n, 0.5, strategy);
        for d in 0..4 {
            let (lo, hi) = (10f64.powi(d - 4), 10f64.powi(d - 3));
            let count = x.iter().filter(|&&v| v >= lo && v < hi).count();
            near(count, n, 0.25, &format!("{strategy} decade {d}"));
        }
    }
}

/// uniform [0, 0.7]: the share below 0.35 is 1/2, below 0.07 is 1/10.
#[test]
fn uniform_is_flat() {
    let n = 2000;
    for strategy in ["random", "sobol"] {
        let x = floats(&draws(strategy, "dropout = { uniform = [0.0, 0.7] }", n));
        assert!(x.iter().all(|&v| (0.0..=0.7).contains(&v)));
        near(x.iter().filter(|&&v| v < 0.35).count(), n, 0.5, strategy);
        near(x.iter().filter(|&&v| v < 0.07).count(), n, 0.1, strategy);
    }
}

/// int_log_uniform [4, 16] rounds exp(U(ln 4, ln 16)), so integer k is
/// drawn with probability ln(min(k + ½, 16) / max(k − ½, 4)) / ln 4:
/// 4 → ln(4.5/4)/ln 4 = 0.085, 16 → ln(16/15.5)/ln 4 = 0.023. Every draw
/// is within the bounds, both ends are hit, and each integer's count
/// matches its probability.
#[test]
fn int_log_uniform_rounds_a_log_uniform_draw() {
    let n = 2000;
    for strategy in ["random", "sobol"] {
        let x = ints(&draws(strategy, "width = { int_log_uniform = [4, 16] }", n));
        assert!(x.iter().all(|&v| (4..=16).contains(&v)));
        assert!(x.contains(&4) && x.contains(&16), "{strategy}: both ends");
        for k in 4..=16i64 {
            let p = ((k as f64 + 0.5).min(16.0) / (k as f64 - 0.5).max(4.0)).ln() / 4f64.ln();
            let count = x.iter().filter(|&&v| v == k).count();
            near(count, n, p, &format!("{strategy} width {k}"));
        }
    }
}

/// int_uniform [2, 5] includes both bounds, each with probability 1/4;
/// choice picks each of three values with probability 1/3.
#[test]
fn int_uniform_and_choice_are_equally_likely() {
    let n = 2000;
    for strategy in ["random", "sobol"] {
        let x = ints(&draws(strategy, "depth = { int_uniform = [2, 5] }", n));
        for k in 2..=5 {
            near(x.iter().filter(|&&v| v == k).count(), n, 0.25, strategy);
        }
        let names = draws(
            strategy,
            "activation = { choice = [\"relu\", \"tanh\", \"maxout\"] }",
            n,
        );
        for a in ["relu", "tanh", "maxout"] {
            let count = names.iter().filter(|v| v.as_str() == Some(a)).count();
            near(count, n, 1.0 / 3.0, strategy);
        }
    }
}

/// Warnock's closed form of the squared L2-star discrepancy of N points in
/// [0, 1)^d: 3^−d − (2^(1−d)/N) Σ_i Π_k (1 − x_ik²) + (1/N²) Σ_i Σ_j Π_k
/// (1 − max(x_ik, x_jk)).
fn l2_star_discrepancy_sq(points: &[Vec<f64>]) -> f64 {
    let n = points.len() as f64;
    let d = points[0].len() as i32;
    let mut single = 0.0;
    for p in points {
        single += p.iter().map(|x| (1.0 - x * x) / 2.0).product::<f64>();
    }
    let mut pairs = 0.0;
    for p in points {
        for q in points {
            pairs += p
                .iter()
                .zip(q)
                .map(|(a, b)| 1.0 - a.max(*b))
                .product::<f64>();
        }
    }
    3f64.powi(-d) - 2.0 * single / n + pairs / (n * n)
}

/// Sobol points cover the unit square more evenly than random ones.
/// Stratification: 256 two-dimensional Sobol points are a (0, 8, 2)-net,
/// so every box [a/2^j, (a+1)/2^j) × [b/2^(8−j), (b+1)/2^(8−j)) of area
/// 1/256 holds exactly one point, for every j = 0..=8 (counted here);
/// 256 random points leave about 256·(255/256)^256 ≈ 94 of the 16 × 16
/// cells empty. Discrepancy: the expected squared L2-star discrepancy of
/// N random points is (2^−d − 3^−d)/N = 5.4e-4 for d = 2, N = 256; the
/// Sobol points' must be far below it, and below the random points'.
#[test]
fn sobol_points_cover_the_square_more_evenly_than_random() {
    let n = 256;
    for seed in [0u64, 1, 12345] {
        let sobol: Vec<Vec<f64>> = (0..n)
            .map(|i| unit_point(Strategy::Sobol, seed, i, 2))
            .collect();
        let random: Vec<Vec<f64>> = (0..n)
            .map(|i| unit_point(Strategy::Random, seed, i, 2))
            .collect();
        for j in 0..=8 {
            let (cols, rows) = (1usize << j, 1usize << (8 - j));
            let mut count = vec![0; cols * rows];
            for p in &sobol {
                let (a, b) = ((p[0] * cols as f64) as usize, (p[1] * rows as f64) as usize);
                count[a * rows + b] += 1;
            }
            assert!(
                count.iter().all(|&c| c == 1),
                "seed {seed}: boxes of {cols} × {rows}: {count:?}"
            );
        }
        let empty = |pts: &[Vec<f64>]| {
            let mut hit = [false; 256];
            for p in pts {
                hit[(p[0] * 16.0) as usize * 16 + (p[1] * 16.0) as usize] = true;
            }
            hit.iter().filter(|h| !**h).count()
        };
        assert_eq!(empty(&sobol), 0);
        assert!(empty(&random) > 60, "random: {} empty", empty(&random));
        let expected_random = (0.25 - 1.0 / 9.0) / n as f64;
        let (ds, dr) = (
            l2_star_discrepancy_sq(&sobol),
            l2_star_discrepancy_sq(&random),
        );
        assert!(
            ds < expected_random / 10.0 && ds < dr,
            "sobol {ds}, random {dr}"
        );
    }
}

/// Warnock's formula checked on one point p = (½, ½) against the
/// definition ∫∫ (1[p < t] − t₁t₂)² dt integrated by hand:
/// ∫∫ t₁²t₂² − 2·(∫_½^1 t dt)² + ¼ = 1/9 − 2·(3/8)² + 1/4 = 0.0798611….
#[test]
fn warnock_formula_matches_a_hand_worked_case() {
    let d = l2_star_discrepancy_sq(&[vec![0.5, 0.5]]);
    assert!(
        (d - (1.0 / 9.0 - 2.0 * 0.375 * 0.375 + 0.25)).abs() < 1e-15,
        "{d}"
    );
}

#[test]
fn a_repeated_point_shares_its_id_and_trains_once() {
    let src = "name = \"r\"\n[search]\nstrategy = \"random\"\nsamples = 6\n[space]\nwidth = { int_uniform = [2, 3] }\n";
    let p = Plan::new(&study(src, &[]).unwrap()).unwrap();
    assert_eq!(p.len(), 6);
    let distinct: Vec<&str> = p.distinct().map(|t| t.id.as_str()).collect();
    assert_eq!(distinct.len(), 2, "two widths, two ids");
}

#[test]
fn a_drawn_value_the_key_refuses_names_the_space_key() {
    let src = "name = \"v\"\n[data]\nkind = \"iris\"\n[search]\nstrategy = \"sobol\"\nsamples = 2\n[space]\nval = { choice = [\"fresh\"] }\n";
    let e = study(src, &[]).unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("space.val", Some(8)));
    assert!(
        e.message.starts_with("drawn value \"fresh\" (point 0): "),
        "{}",
        e.message
    );
}
