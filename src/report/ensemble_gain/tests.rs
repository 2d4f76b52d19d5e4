use super::*;

fn p(outputs: usize, values: &[f32]) -> Predictions {
    Predictions {
        outputs,
        values: values.to_vec(),
    }
}

/// Three seeds, four examples, three classes, probabilities in sixteenths
/// (exact in f32), labels 0, 1, 2, 0. The numbers in the tests below come
/// from NumPy 2.4.6 (`scripts/ensemble_gain_numpy.py`, written out in the comments): each
/// member scored alone, the ensemble of the mean, and the exact bootstrap
/// distribution over all 27 ordered draws of three seeds.
fn three() -> (Vec<Predictions>, Targets) {
    let s = |v: [f32; 12]| p(3, &v.map(|x| x / 16.0));
    (
        vec![
            s([8., 4., 4., 2., 12., 2., 4., 4., 8., 10., 3., 3.]),
            s([4., 8., 4., 6., 6., 4., 2., 2., 12., 3., 10., 3.]),
            s([12., 2., 2., 4., 8., 4., 8., 4., 4., 5., 5., 6.]),
        ],
        Targets::Classes(vec![0, 1, 2, 0]),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

/// The point gain against NumPy: members' losses 0.53600, 1.08220,
/// 0.88257 (mean 0.83357), ensemble 0.74506: loss gain
/// 0.08852936215464147; accuracies 1, 0.25, 0.5 (member 1's tie on
/// example 1 goes to class 0, a miss) against the ensemble's 1: gain
/// 5/12. Catches the sign flipped for accuracies, the gain taken against
/// the stored logits' loss, and a member scored with another argmax.
#[test]
fn the_gain_matches_numpy() {
    let (m, y) = three();
    let refs: Vec<&Predictions> = m.iter().collect();
    let g = gain(&refs, &y, false, 200, 0.95, 1).unwrap();
    assert_eq!(g.seeds, 3);
    assert!(close(
        g.member,
        (0.5359950157043518 + 1.0821955300387673 + 0.8825686059843245) / 3.0
    ));
    assert!(close(g.ensemble, 0.7450570217545064), "{}", g.ensemble);
    assert!(close(g.gain, 0.08852936215464147), "{}", g.gain);
    let g = gain(&refs, &y, true, 200, 0.95, 1).unwrap();
    assert!(close(g.member, 1.75 / 3.0));
    assert_eq!(g.ensemble, 1.0);
    assert!(close(g.gain, 5.0 / 12.0), "{}", g.gain);
}

/// The bootstrap against the exact distribution of NumPy's 27 draws:
/// every replicate is one of the 8 (loss) or 6 (accuracy) values a draw
/// can give; the replicates' mean is near the exact expectation
/// (0.0595384 ± 4 standard errors, sd 0.0281361; accuracy 0.231481, sd
/// 0.165635); the share of zero gains is 3/27 (loss: a draw of one seed
/// only) and 6/27 (accuracy), so the two-sided p is 2/9 and 4/9; and the
/// 95% interval is [0, the full ensemble's gain] (P(0) > 2.5%, and the
/// draws of all three seeds, 6/27, give the largest gain). Catches a seed
/// drawn twice weighing once in the ensemble (values off the list), the
/// mean member left unresampled, and draws of k − 1 seeds.
#[test]
fn the_bootstrap_matches_the_exact_distribution() {
    let (m, y) = three();
    let refs: Vec<&Predictions> = m.iter().collect();
    let reps = 20_000;
    let cases = [
        (
            false,
            &[
                0.0,
                0.033455662739,
                0.037408417175,
                0.063017938238,
                0.073892051732,
                0.074843293633,
                0.076169475426,
                0.088529362155,
            ][..],
            (0.05953839591698509, 0.0281361473988558),
            2.0 / 9.0,
        ),
        (
            true,
            &[
                0.0,
                1.0 / 12.0,
                2.0 / 12.0,
                3.0 / 12.0,
                4.0 / 12.0,
                5.0 / 12.0,
            ][..],
            (0.23148148148148145, 0.16563466499998442),
            4.0 / 9.0,
        ),
    ];
    for (accuracy, values, (mean, sd), p) in cases {
        let (_, _, r) = bootstrap(&refs, &y, accuracy, reps, 7).unwrap();
        assert_eq!(r.len(), reps);
        for x in &r {
            assert!(
                values.iter().any(|v| (x - v).abs() < 1e-9),
                "{x} not a draw's gain"
            );
        }
        let m = stats::mean(&r);
        assert!(
            (m - mean).abs() < 4.0 * sd / (reps as f64).sqrt(),
            "{m} vs {mean}"
        );
        let g = gain(&refs, &y, accuracy, reps, 0.95, 7).unwrap();
        let (pv, above) = g.test.unwrap();
        assert!((pv - p).abs() < 0.02, "p {pv} vs {p}");
        assert_eq!(above, Some(true));
        let (lo, hi) = g.ci.unwrap();
        assert_eq!(lo, 0.0);
        assert!(close(hi, g.gain), "{hi} vs {}", g.gain);
        assert!((g.se.unwrap() - sd).abs() < 0.05 * sd, "{:?} vs {sd}", g.se);
    }
}

/// Two seeds, hand-worked: a draw is both seeds (the full gain) or one
/// seed twice (a gain of exactly 0), half the time each, so the interval
/// is [0, gain] and the p-value near 1: two seeds never settle a gain.
/// Member A scores p_y = 0.5, 0.25, 0.75 and accuracy 2/3, B 0.25, 0.5,
/// 0.25 and 1/3; the ensemble 0.375, 0.375, 0.5 and 2/3 (its tie on
/// example 1 goes to class 0). Catches a degenerate draw scored as a gain.
#[test]
fn two_seeds_worked_by_hand() {
    let a = p(3, &[0.5, 0.25, 0.25, 0.5, 0.25, 0.25, 0.125, 0.125, 0.75]);
    let b = p(3, &[0.25, 0.5, 0.25, 0.25, 0.5, 0.25, 0.5, 0.25, 0.25]);
    let y = Targets::Classes(vec![0, 1, 2]);
    let loss = |ps: [f64; 3]| -ps.iter().map(|p| p.ln()).sum::<f64>() / 3.0;
    let member = (loss([0.5, 0.25, 0.75]) + loss([0.25, 0.5, 0.25])) / 2.0;
    let want = member - loss([0.375, 0.375, 0.5]);
    let g = gain(&[&a, &b], &y, false, 2000, 0.95, 3).unwrap();
    assert!(close(g.gain, want), "{} vs {want}", g.gain);
    assert_eq!(g.ci.map(|c| c.0), Some(0.0));
    assert!(close(g.ci.unwrap().1, want));
    assert!(g.test.unwrap().0 > 0.9, "{:?}", g.test);
    let g = gain(&[&a, &b], &y, true, 2000, 0.95, 3).unwrap();
    assert!(close(g.gain, 2.0 / 3.0 - 0.5), "{}", g.gain);
}

/// Identical seeds gain exactly nothing (each member is scored from the
/// same probabilities as the ensemble), one seed has no gain, and a
/// regression has no accuracy gain; its loss gain is the mean squared
/// error of the members minus that of the mean (outputs 1 and 3 against
/// target 1.5: (0.25 + 2.25)/2 − 0.25 = 1). Catches members scored from
/// another source than the ensemble and a one-seed "ensemble".
#[test]
fn degenerate_cases() {
    let (m, y) = three();
    let same = [&m[0], &m[0], &m[0]];
    let g = gain(&same, &y, false, 100, 0.95, 1).unwrap();
    assert_eq!((g.gain, g.ci), (0.0, Some((0.0, 0.0))));
    assert_eq!(gain(&[&m[0]], &y, false, 100, 0.95, 1), None);
    let (a, b) = (p(1, &[1.0]), p(1, &[3.0]));
    let t = Targets::Values(vec![1.5]);
    assert_eq!(gain(&[&a, &b], &t, true, 100, 0.95, 1), None);
    assert_eq!(gain(&[&a, &b], &t, false, 100, 0.95, 1).unwrap().gain, 1.0);
}
