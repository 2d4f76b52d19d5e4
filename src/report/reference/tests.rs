use super::*;
use crate::metric::Metric;
use crate::stats::Statistic;

fn h(metric: Metric) -> Halving {
    Halving {
        metric,
        statistic: Statistic::Median,
        min_epochs: 1,
        eta: 3,
        reference: None,
    }
}

/// Seeds are resampled in pairs: a pick that is every seed's best
/// value plus 1 differs by exactly 1 in every resample (the median
/// shifts with its sample), so its interval is [1, 1] and excludes 0.
/// Catches unpaired resampling (the difference would vary) and the
/// difference taken the wrong way round.
#[test]
fn paired_resamples_keep_a_constant_shift_exact() {
    let best = [0.1, 0.5, 0.2, 0.9, 0.4, 0.3].map(Some);
    let pick = best.map(|x| x.map(|v| v + 1.0));
    let (diffs, bests) = paired_bootstrap(&h(Metric::ValLoss), &pick, &best, 500, 7);
    assert_eq!(diffs.len(), 500);
    assert!(diffs.iter().all(|d| (d - 1.0).abs() < 1e-12), "{diffs:?}");
    let (lo, hi) = crate::stats::percentile_interval(&bests, 0.95).unwrap();
    // The best's own resampled medians stay within its seeds' range.
    assert!((0.1..=0.9).contains(&lo) && (0.1..=0.9).contains(&hi));
}

/// A best whose score is exactly 0 on every seed keeps every
/// replicate: the difference is finite, although a ratio would not be.
/// Catches the finiteness test made on something other than the
/// difference (x / y drops every replicate here).
#[test]
fn a_zero_best_keeps_every_replicate() {
    let best = [0.0; 4].map(Some);
    let pick = [1.0; 4].map(Some);
    let (diffs, bests) = paired_bootstrap(&h(Metric::ValLoss), &pick, &best, 100, 3);
    assert_eq!((diffs.len(), bests.len()), (100, 100));
    assert!(diffs.iter().all(|&d| d == 1.0));
}

/// For an accuracy, higher is better: a pick 0.1 above the best on
/// every seed is better, a difference of −0.1 in the lower-is-better
/// scores, so it is not significantly worse. Catches accuracies
/// judged as losses.
#[test]
fn a_higher_accuracy_is_not_worse() {
    let best = [0.7, 0.8, 0.75, 0.9].map(Some);
    let pick = best.map(|x| x.map(|v| v + 0.1));
    let (diffs, _) = paired_bootstrap(&h(Metric::ValAcc), &pick, &best, 200, 1);
    assert!(diffs.iter().all(|d| (d + 0.1).abs() < 1e-12), "{diffs:?}");
}

/// The best configuration is the lowest score, ties by the lower index.
#[test]
fn the_best_is_the_lowest_score_then_the_lowest_index() {
    assert_eq!(best(&[(0, 0.3), (1, 0.2), (2, 0.2)]), Some((1, 0.2)));
    assert_eq!(best(&[(4, f64::INFINITY), (5, 1.0)]), Some((5, 1.0)));
    assert_eq!(best(&[]), None);
}
