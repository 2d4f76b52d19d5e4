use super::*;
use toml::Value;

fn key(k: &str, dist: Dist) -> SearchKey {
    SearchKey {
        key: k.into(),
        dist,
    }
}

fn choice(names: &[&str]) -> Dist {
    Dist::Choice(names.iter().map(|n| Value::String((*n).into())).collect())
}

/// 24 configurations: activation (3 choices) decides the loss (1, 2 or 3,
/// each seed ±0.1 around it, so every median is exactly its level), and
/// lr takes 24 distinct values in an order unrelated to activation. The
/// activation's ε² is exactly 1 (no variance within its groups); lr's
/// is near 0: its 5 rank bins hold activations 2:2:1-ish mixes. η² in
/// place of ε² gives lr about (5 − 1)/(24 − 1) ≈ 0.17 by chance or more,
/// and swapping the keys' bins swaps the numbers: both fail here.
#[test]
fn a_deciding_key_explains_everything_and_a_nuisance_key_nothing() {
    let keys = vec![
        key("model.activation", choice(&["relu", "tanh", "maxout"])),
        key("train.lr", Dist::LogUniform(1e-4, 1.0)),
    ];
    let names = ["relu", "tanh", "maxout"];
    let configs = (0..24)
        .map(|i| {
            let a = i % 3;
            // A permutation of 0..24 (7 is coprime to 24): lr's rank is
            // unrelated to i % 3.
            let lr = 1e-4 * 1.4f64.powi(((i * 7) % 24) as i32);
            let level = (a + 1) as f64;
            (
                vec![
                    (
                        "model.activation".to_string(),
                        Setting::Str(names[a].into()),
                    ),
                    ("train.lr".to_string(), Setting::Float(lr)),
                ],
                vec![level - 0.1, level, level + 0.1],
            )
        })
        .collect();
    let s = synthetic(keys, configs);
    let (act, lr) = (&s.importance[0], &s.importance[1]);
    assert_eq!(act.share, Some(1.0));
    assert_eq!(act.bins, 3);
    assert_eq!(lr.bins, MAX_BINS);
    assert!(lr.share.unwrap() < 0.05, "{:?}", lr.share);
    let (lo, hi) = act.interval.unwrap();
    assert!(lo > 0.9 && hi <= 1.0, "{lo} {hi}");
    let (_, hi) = lr.interval.unwrap();
    assert!(hi < 0.3, "{hi}");
}

/// The best has lr = 1.5e-4 in log_uniform [1e-4, 1]: log position
/// ln 1.5 / ln 1e4 = 0.044, the low border; dropout 0.65 in uniform
/// [0, 0.7]: 0.929, the high border; width 32 in int_log_uniform [4, 512]:
/// ln 8 / ln 128 = 0.43, no border. A second best lr of 1.5e-3 (log
/// position 0.29, linear 0.0014) is no border: measuring in value space
/// would flag it.
#[test]
fn borders_name_the_key_and_the_end_in_log_space() {
    let keys = vec![
        key("train.lr", Dist::LogUniform(1e-4, 1.0)),
        key("model.dropout", Dist::Uniform(0.0, 0.7)),
        key("model.width", Dist::IntLogUniform(4, 512)),
        key("model.activation", choice(&["relu", "tanh"])),
    ];
    let config = |lr: f64| ConfigStat {
        config: 0,
        swept: vec![
            ("train.lr".into(), Setting::Float(lr)),
            ("model.dropout".into(), Setting::Float(0.65)),
            ("model.width".into(), Setting::Int(32)),
            ("model.activation".into(), Setting::Str("relu".into())),
        ],
        seeds: vec![1.0],
        median: 1.0,
        quartiles: (1.0, 1.0),
        epochs: None,
    };
    let b = borders(&keys, &config(1.5e-4));
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].key.as_str(), b[0].low, b[0].log),
        ("train.lr", true, true)
    );
    assert_eq!((b[1].key.as_str(), b[1].low), ("model.dropout", false));
    let b = borders(&keys, &config(1.5e-3));
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0].key, "model.dropout");
}

/// Order: lowest median first, ties in plan order (configurations 1 and
/// 3 both have median 2). Intervals worked by hand: a resampled median of
/// seeds [1, 2, 3] is 1 with probability P(two or three 1s) = 7/27 ≈ 0.26
/// (and 3 likewise), far above 2.5%, so the 95% percentile interval is
/// exactly [1, 3]; identical seeds give [2, 2]. Catches a descending sort,
/// an unstable tie order, and intervals of the mean (not [1, 3] ends).
#[test]
fn best_first_with_median_intervals() {
    let k = vec![key("model.width", Dist::IntUniform(1, 10))];
    let w = |i: i64| vec![("model.width".to_string(), Setting::Int(i))];
    let s = synthetic(
        k,
        vec![
            (w(1), vec![5.0, 5.0, 5.0]),
            (w(2), vec![1.0, 2.0, 3.0]),
            (w(3), vec![0.5, 0.5, 0.5]),
            (w(4), vec![2.0, 2.0, 2.0]),
        ],
    );
    assert_eq!(s.order, [2, 1, 3, 0]);
    let tops: Vec<(usize, Option<(f64, f64)>)> = s.top.clone();
    assert_eq!(tops[1], (1, Some((1.0, 3.0))));
    assert_eq!(tops[2], (3, Some((2.0, 2.0))));
    // An accuracy ranks highest first.
    assert_eq!(rank(&s.configs, Metric::ValAcc), [0, 1, 3, 2]);
}

/// Depth 1 and 2 crossed with a search axis of 4 points: points 0–1 block
/// 0, 2 block 1, 3 the grid. Medians by hand (the seeds are equal): the
/// best of each (depth, arm) group is the lowest. Order: depth 1 before
/// depth 2 (plan order), blocks before the grid.
#[test]
fn each_arm_finds_its_best_within_each_slice() {
    let keys = vec![key("train.lr", Dist::LogUniform(1e-4, 1.0))];
    let loss = [[0.5, 0.3, 0.4, 0.2], [0.1, 0.6, 0.7, 0.8]];
    let mut configs = Vec::new();
    for (d, row) in loss.iter().enumerate() {
        for (p, &x) in row.iter().enumerate() {
            let swept = vec![
                ("model.depth".to_string(), Setting::Int(d as i64 + 1)),
                ("train.lr".to_string(), Setting::Float(p as f64)),
            ];
            configs.push(ConfigStat {
                config: 4 * d + p,
                swept,
                seeds: vec![x, x],
                median: x,
                quartiles: (x, x),
                epochs: None,
            });
        }
    }
    let order = rank(&configs, Metric::ValLoss);
    let arm = |p: usize| match p {
        0 | 1 => Arm::Block(0),
        2 => Arm::Block(1),
        _ => Arm::Grid,
    };
    let bests = arm_bests(&configs, &order, &keys, |c| Some(arm(c % 4)));
    let got: Vec<(&str, Arm, usize)> = bests
        .iter()
        .map(|a| (a.slice.as_str(), a.arm, configs[a.best].config))
        .collect();
    assert_eq!(
        got,
        [
            ("depth=1", Arm::Block(0), 1), // min(0.5, 0.3)
            ("depth=1", Arm::Block(1), 2),
            ("depth=1", Arm::Grid, 3),
            ("depth=2", Arm::Block(0), 4), // min(0.1, 0.6)
            ("depth=2", Arm::Block(1), 6),
            ("depth=2", Arm::Grid, 7),
        ]
    );
    assert!(arm_bests(&configs, &order, &keys, |_| None).is_empty());
}
