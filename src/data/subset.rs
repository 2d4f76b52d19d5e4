//! Rows chosen from a read data set: `data.max_rows`' stratified subset
//! and the stratified validation fraction of the image and array kinds.
//!
//! Stratified: each class keeps its share of the rows, by the largest
//! remainder method (each class gets ⌊m·n_c/n⌋ rows, and the rows left go
//! to the classes with the largest remainders, the lower class index first
//! on a tie); within a class the rows are a seeded Fisher–Yates shuffle's
//! first ones. Regression targets have no classes: a plain seeded sample.
//! Chosen rows keep the file's order.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Targets;

/// `count` rows of `n` with targets `y` (`classes` classes), stratified,
/// in increasing order.
pub(super) fn pick(y: &Targets, classes: usize, count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut chosen = match y {
        Targets::Classes(c) if classes > 0 => {
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); classes];
            for (row, &label) in c.iter().enumerate() {
                members[label as usize].push(row);
            }
            let quotas = quotas(&members.iter().map(Vec::len).collect::<Vec<_>>(), count);
            let mut chosen = Vec::with_capacity(count);
            for (mut rows, q) in members.into_iter().zip(quotas) {
                shuffle(&mut rows, rng);
                chosen.extend_from_slice(&rows[..q]);
            }
            chosen
        }
        _ => {
            let n = match y {
                Targets::Classes(c) => c.len(),
                Targets::Values(v) => v.len(),
            };
            let mut rows: Vec<usize> = (0..n).collect();
            shuffle(&mut rows, rng);
            rows.truncate(count);
            rows
        }
    };
    chosen.sort_unstable();
    chosen
}

/// Each class's share of `count` rows by the largest remainder method.
pub(super) fn quotas(sizes: &[usize], count: usize) -> Vec<usize> {
    let n: usize = sizes.iter().sum();
    if n == 0 {
        return vec![0; sizes.len()];
    }
    let count = count.min(n) as u128;
    let exact: Vec<(u128, u128)> = sizes
        .iter()
        .map(|&s| {
            let p = count * s as u128;
            (p / n as u128, p % n as u128)
        })
        .collect();
    let mut q: Vec<usize> = exact.iter().map(|(f, _)| *f as usize).collect();
    let left = count as usize - q.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    // Largest remainder first; the lower class on a tie (a stable sort).
    order.sort_by(|&a, &b| exact[b].1.cmp(&exact[a].1));
    for &c in order.iter().take(left) {
        q[c] += 1;
    }
    q
}

/// Fisher–Yates, as the validation split's shuffle draws it.
fn shuffle(rows: &mut [usize], rng: &mut ChaCha8Rng) {
    for i in (1..rows.len()).rev() {
        rows.swap(i, rng.random_range(0..=i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::rng;

    /// Worked by hand: 10 rows of 3 classes sized 5, 3, 2 and m = 4 give
    /// exact shares 2.0, 1.2, 0.8: floors 2, 1, 0 and the one row left
    /// goes to the largest remainder, class 2 (0.8).
    #[test]
    fn quotas_follow_the_largest_remainder() {
        assert_eq!(quotas(&[5, 3, 2], 4), vec![2, 1, 1]);
        // Equal remainders (1/3 each, one row left): the lowest class.
        assert_eq!(quotas(&[1, 1, 1], 1), vec![1, 0, 0]);
        // Fashion-MNIST's training split, 6000 a class, m = 5000: 500 each.
        assert_eq!(quotas(&[6000; 10], 5000), vec![500; 10]);
        assert_eq!(quotas(&[3, 4], 100), vec![3, 4]);
    }

    #[test]
    fn picks_are_stratified_sorted_distinct_and_seeded() {
        let labels: Vec<u32> = (0..100).map(|i| if i < 70 { 0 } else { 1 }).collect();
        let y = Targets::Classes(labels.clone());
        let a = pick(&y, 2, 10, &mut rng(3, 5));
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "{a:?}");
        let ones = a.iter().filter(|&&r| labels[r] == 1).count();
        assert_eq!(ones, 3, "30% of 10 rows are class 1: {a:?}");
        assert_eq!(a, pick(&y, 2, 10, &mut rng(3, 5)));
        assert_ne!(a, pick(&y, 2, 10, &mut rng(4, 5)));
        let v = Targets::Values((0..50).map(|i| i as f32).collect());
        let r = pick(&v, 0, 7, &mut rng(0, 5));
        assert_eq!(r.len(), 7);
        assert!(r.windows(2).all(|w| w[0] < w[1]) && r[6] < 50, "{r:?}");
    }
}
