//! `best_of_block` against numbers worked out by hand (in the comments)
//! and the power counts against SciPy's normal quantiles.

use super::super::{Outcome, Row, Verdict, judge};
use super::*;
use crate::study::Setting;

/// Two blocks of two random points and a 2-point grid over one key: the
/// search axis is configurations 0, 1 (block 0), 2, 3 (block 1), 4, 5 (grid).
fn study(expect: &str) -> crate::study::Study {
    let src = format!(
        "name = \"b\"\nseeds = 3\n[search]\nstrategy = \"random\"\nsamples = 4\nblocks = 2\ngrid = 2\n\
         [space]\nlr = {{ log_uniform = [1e-3, 1e-1] }}\n[[claims]]\nname = \"x\"\nmetric = \"val_loss\"\n\
         statistic = \"best_of_block\"\nexpect = \"{expect}\"\n"
    );
    crate::testkit::study(&src)
}

/// Seed values of configurations 0..5, three seeds each.
const HAND: [[f64; 3]; 6] = [
    [1.0, 2.0, 3.0],  // block 0, median 2
    [4.0, 5.0, 0.5],  // block 0, median 4
    [3.0, 3.0, 3.0],  // block 1, median 3
    [2.5, 10.0, 1.0], // block 1, median 2.5
    [2.2, 2.4, 2.6],  // grid, median 2.4
    [9.0, 9.0, 9.0],  // grid, median 9
];

fn verdict(expect: &str, values: &[[f64; 3]; 6]) -> Verdict {
    let s = study(expect);
    let axes: Vec<Vec<String>> = s.axes.iter().map(|a| a.keys.clone()).collect();
    let swept: Vec<Vec<(String, Setting)>> = (0..6)
        .map(|c| vec![("train.lr".to_string(), Setting::Float(c as f64))])
        .collect();
    let search = s.search.clone().unwrap();
    judge(&s.report, &axes, |_| {
        (0..6)
            .flat_map(|c| (0..3).map(move |rep| (c, rep)))
            .map(|(c, rep)| Row {
                config: c,
                arm: search.arm(c).map(|a| (a, rep)),
                ..Row::of(&swept[c], Some(values[c][rep]))
            })
            .collect()
    })
    .remove(0)
}

fn hand_configs() -> Vec<Config> {
    let arms = [
        Arm::Block(0),
        Arm::Block(0),
        Arm::Block(1),
        Arm::Block(1),
        Arm::Grid,
        Arm::Grid,
    ];
    (0..6)
        .map(|c| Config {
            arm: arms[c],
            config: c,
            values: HAND[c].iter().map(|v| Some(*v)).collect(),
        })
        .collect()
}

#[test]
fn block_bests_and_the_grid_best_are_the_best_seed_medians() {
    let configs = hand_configs();
    // Losses: block 0 min(2, 4) = 2, block 1 min(3, 2.5) = 2.5, grid min(2.4, 9).
    assert_eq!(
        bests(&configs, &[0, 1, 2], false),
        (vec![2.0, 2.5], Some(2.4))
    );
    // Accuracies: block 0 max(2, 4), block 1 max(3, 2.5), grid max(2.4, 9).
    assert_eq!(
        bests(&configs, &[0, 1, 2], true),
        (vec![4.0, 3.0], Some(9.0))
    );
    // A resample of seed 0 three times, the same for every configuration:
    // block 0 min(1, 4), block 1 min(3, 2.5), grid min(2.2, 9).
    assert_eq!(
        bests(&configs, &[0, 0, 0], false),
        (vec![1.0, 2.5], Some(2.2))
    );
    // A seed that did not finish is skipped, not counted as a value.
    let mut gap = hand_configs();
    gap[0].values[1] = None;
    // Configuration 0 over seeds 0, 2: median(1, 3) = 2, unchanged.
    assert_eq!(bests(&gap, &[0, 1, 2], false).0, vec![2.0, 2.5]);
}

#[test]
fn the_slice_reports_the_mean_of_block_bests_against_the_grid_best() {
    let v = verdict("less_than", &HAND);
    let s = &v.slices[0];
    assert_eq!(v.slices.len(), 1, "the search keys do not split slices");
    assert_eq!(s.slice, "all");
    // mean(2, 2.5) = 2.25 against the grid's 2.4: difference −0.15; block 0
    // (2 < 2.4) beats the grid, block 1 (2.5) does not.
    assert_eq!(s.points[0].value, Some(2.25));
    assert_eq!(s.points[1].value, Some(2.4));
    assert_eq!((s.points[0].n, s.points[1].n), (2, 2));
    assert!(s.evidence.contains("= -0.1500"), "{}", s.evidence);
    assert!(s.evidence.contains("in 1 of 2 blocks"), "{}", s.evidence);
    assert!(s.test.is_some());
    assert_eq!(s.seeds_needed, None, "blocks, not seeds, are counted");
}

/// Random blocks near 1, the grid near 5: every bootstrap replicate's
/// difference is negative, so p = 1/2000 (the floor), and the claim holds
/// as less_than and fails as greater_than.
#[test]
fn a_clear_gap_holds_one_way_and_fails_the_other() {
    let mut gap = HAND;
    for (c, row) in gap.iter_mut().enumerate() {
        let centre = if c < 4 { 1.0 } else { 5.0 };
        *row = [centre - 0.1, centre, centre + 0.1 + c as f64 * 0.01];
    }
    let holds = verdict("less_than", &gap);
    assert_eq!(holds.outcome, Outcome::Holds);
    assert_eq!(holds.slices[0].test.unwrap().p, 1.0 / 2000.0);
    assert_eq!(verdict("greater_than", &gap).outcome, Outcome::Fails);
}

#[test]
fn too_few_blocks_give_no_test() {
    let s = study("less_than");
    let axes: Vec<Vec<String>> = s.axes.iter().map(|a| a.keys.clone()).collect();
    let swept = vec![("train.lr".to_string(), Setting::Float(0.0))];
    // Only block 0 and the grid finished.
    let v = judge(&s.report, &axes, |_| {
        [0usize, 4]
            .iter()
            .map(|&c| Row {
                config: c,
                arm: s.search.as_ref().unwrap().arm(c).map(|a| (a, 0)),
                ..Row::of(&swept, Some(1.0))
            })
            .collect()
    });
    assert_eq!(v[0].slices[0].test, None);
    assert_eq!(v[0].outcome, Outcome::Inconclusive);
}

/// z = norm.ppf(0.975) + norm.ppf(0.8), z² = 7.848879734349088 (SciPy).
/// Block bests [1, 3]: mean 2, s² = 2; grid best 0 (δ = 2).
/// v = 0: 2/(4/z²) = 3.924 → 4. v = 0.4: 2/(4/z² − 0.4) = 18.24 → 19.
/// v = 0.6: 4/z² − 0.6 = −0.090 < 0, no number of blocks.
#[test]
fn blocks_needed_match_the_normal_approximation() {
    assert_eq!(blocks_needed(&[1.0, 3.0], 0.0, 0.0, 0.05), Some(Some(4)));
    assert_eq!(blocks_needed(&[1.0, 3.0], 0.0, 0.4, 0.05), Some(Some(19)));
    assert_eq!(blocks_needed(&[1.0, 3.0], 0.0, 0.6, 0.05), Some(None));
    assert_eq!(blocks_needed(&[1.0, 3.0], 2.0, 0.0, 0.05), None, "δ = 0");
    assert_eq!(blocks_needed(&[2.0, 2.0], 0.0, 0.0, 0.05), None, "s = 0");
}

/// Block bests [1.9, 2.1, 2, 2]: mean 2, s² = 0.02/3, R = 4; grid 0,
/// v = 0.6, S = 5: 5·0.6/(4/z² − s²/4) = 5.906 → 6 (SciPy quantiles).
/// Block bests [1, 3] (s²/R = 1 > 4/z²): seeds alone cannot, `None`.
#[test]
fn seeds_needed_when_blocks_alone_cannot() {
    assert_eq!(
        seeds_needed(&[1.9, 2.1, 2.0, 2.0], 0.0, 0.6, 5, 0.05),
        Some(6)
    );
    assert_eq!(seeds_needed(&[1.0, 3.0], 0.0, 0.6, 5, 0.05), None);
}

/// Block bests [1, 3] (s² = 2), grid 0 (δ = 2), v = 0.6, S = 5, z² from
/// SciPy: 2·7.8489·2/4 = 7.85 → 8 blocks; 2·7.8489·5·0.6/4 = 11.77 → 12 seeds.
#[test]
fn blocks_and_seeds_together_split_the_allowed_variance() {
    assert_eq!(both_needed(&[1.0, 3.0], 0.0, 0.6, 5, 0.05), Some((8, 12)));
    assert_eq!(both_needed(&[1.0, 3.0], 2.0, 0.6, 5, 0.05), None, "δ = 0");
}

/// Wins: a better block counts 1, a tie ½, a worse one 0, by the metric's
/// direction. Catches the tie dropped, the direction ignored, or ties
/// counted as wins.
#[test]
fn wins_count_ties_as_half_in_the_metrics_direction() {
    let r = [1.0, 2.0, 3.0, 2.0];
    assert_eq!(wins(&r, 2.0, false), 1.0 + 0.5 + 0.0 + 0.5);
    assert_eq!(wins(&r, 2.0, true), 0.0 + 0.5 + 1.0 + 0.5);
    assert_eq!(wins(&[5.0], 4.0, true), 1.0);
}

/// The seeds' part: diffs 1, 2, 3, 4, 5 have variance 2.5 (ddof 1); block
/// bests 1, 3 have variance 2, so s²/R = 1 and the seeds' part is 1.5.
/// With block bests 0, 10 (s²/R = 25) it is clamped at 0. Catches the
/// blocks' part not divided by R, squared wrongly, added, or unclamped.
#[test]
fn the_seeds_part_is_the_bootstrap_variance_less_the_blocks_part() {
    let diffs = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert!((variance(&diffs) - 2.5).abs() < 1e-12);
    assert!((seeds_part(&diffs, &[1.0, 3.0]) - 1.5).abs() < 1e-12);
    assert_eq!(seeds_part(&diffs, &[0.0, 10.0]), 0.0);
    assert_eq!(variance(&[7.0]), 0.0);
}

/// Block bests [1, 3] (s² = 2), grid 0.5 (δ = 1.5), v = 0.6, S = 5, z²
/// = 7.8489 from SciPy: k = 2z²/δ² = 6.977, so 13.95 → 14 blocks and
/// 20.93 → 21 seeds. δ² = 2.25 keeps k far from 2 + z²/δ² (5.49) and
/// 2z²/(2δ) (5.23), which δ = 2 does not. Block bests [1.9, 2.1], grid 0,
/// v = 1, S = 20: 20/(4/z² − 0.01) = 40.03 → 41 seeds (39 with the
/// blocks' part added instead of taken away).
#[test]
fn power_counts_away_from_their_rounding_floor() {
    assert_eq!(both_needed(&[1.0, 3.0], 0.5, 0.6, 5, 0.05), Some((14, 21)));
    assert_eq!(seeds_needed(&[1.9, 2.1], 0.0, 1.0, 20, 0.05), Some(41));
    // A grid best of 0.5: δ = 1.5, 20/(2.25/z² − 0.01) = 72.3 → 73 (26
    // with δ = mean + g).
    assert_eq!(seeds_needed(&[1.9, 2.1], 0.5, 1.0, 20, 0.05), Some(73));
}

/// Every seed of a configuration scores the same and both blocks' best is
/// 2, so every bootstrap replicate is exactly (2, 5) whatever seeds and
/// blocks are drawn. Catches the resampled blocks summed but not divided by
/// their count, or multiplied by it.
#[test]
fn replicates_of_constant_blocks_are_exact() {
    let constant = |arm, config, v: f64| Config {
        arm,
        config,
        values: vec![Some(v); 3],
    };
    let configs = vec![
        constant(Arm::Block(0), 0, 2.0),
        constant(Arm::Block(0), 1, 7.0),
        constant(Arm::Block(1), 2, 2.0),
        constant(Arm::Block(1), 3, 9.0),
        constant(Arm::Grid, 4, 5.0),
        constant(Arm::Grid, 5, 6.0),
    ];
    let reps = replicates(&configs, &[0, 1, 2], false, 50, 7);
    assert_eq!(reps.len(), 50);
    assert!(reps.iter().all(|&(m, g)| m == 2.0 && g == 5.0), "{reps:?}");
}
