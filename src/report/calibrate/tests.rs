//! Calibration on synthetic rows: the interval against closed forms, and
//! nulls that are nulls (built within a configuration or a slice, so a real
//! effect between configurations does not leak into them).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::*;
use crate::study::from_str;

/// Catches the tails swapped or the Beta parameters off by one: with no
/// success the upper end is 1 − (0.025)^(1/n), with all n successes the
/// lower end is 0.025^(1/n), and with one success the lower end is
/// 1 − 0.975^(1/n) (the Clopper–Pearson bounds' closed forms).
#[test]
fn clopper_pearson_matches_its_closed_forms() {
    let n = 100.0f64;
    let (lo, hi) = clopper_pearson(0, 100, 0.95);
    assert_eq!(lo, 0.0);
    assert!((hi - (1.0 - 0.025f64.powf(1.0 / n))).abs() < 1e-9, "{hi}");
    let (lo, hi) = clopper_pearson(100, 100, 0.95);
    assert!((lo - 0.025f64.powf(1.0 / n)).abs() < 1e-9, "{lo}");
    assert_eq!(hi, 1.0);
    let (lo, _) = clopper_pearson(1, 100, 0.95);
    assert!((lo - (1.0 - 0.975f64.powf(1.0 / n))).abs() < 1e-9, "{lo}");
}

/// Two widths whose losses differ by ten standard deviations, 40 seeds
/// each: the comparison claim holds on the real data, but its nulls split
/// one configuration's seeds, so they hold or fail at about α, not always;
/// the trend's nulls permute the widths within the slice, likewise. The
/// bound is the 0.9995 quantile of Binomial(200, 0.05) by the normal
/// approximation, 10 + 3.29·√(200·0.05·0.95) ≈ 20.
#[test]
fn nulls_are_built_within_a_configuration_or_slice() {
    let src = "name = \"c\"\nseeds = 40\n[grid]\nwidth = [4, 64]\n\
        [[claims]]\nname = \"wider is lower\"\nstatistic = \"mean\"\nexpect = \"less_than\"\n\
        this = { width = 64 }\nthan = { width = 4 }\n\
        [[claims]]\nname = \"falls with width\"\nstatistic = \"mean\"\nalong = \"width\"\n\
        expect = \"decreasing\"\n[report]\nbootstrap = 400\n";
    let e = from_str(src, std::path::Path::new("s.toml"), &[]).unwrap();
    let axes: Vec<Vec<String>> = e.axes.iter().map(|a| a.keys.clone()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let swept: Vec<Vec<(String, Setting)>> = [4, 64]
        .iter()
        .map(|&w| vec![("model.width".to_string(), Setting::Int(w))])
        .collect();
    let data: Vec<(usize, f64)> = (0..2)
        .flat_map(|c| (0..40).map(move |_| c))
        .map(|c| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (c, if c == 0 { 10.0 } else { 0.0 } + z)
        })
        .collect();
    let rows = || {
        data.iter()
            .map(|&(c, v)| Row {
                config: c,
                ..Row::of(&swept[c], Some(v))
            })
            .collect::<Vec<_>>()
    };
    let real = claims::judge(&e.report, &axes, |_| rows());
    assert!(real.iter().all(|v| v.outcome == Outcome::Holds));
    let rates = calibrate(&e.report, &axes, |_| rows(), (200, 1, 3.0));
    assert_eq!(rates.len(), 4, "{rates:?}");
    for r in &rates {
        assert_eq!(r.judged, 200, "{r:?}");
        assert!(r.holds + r.fails <= 20, "{r:?}");
    }
    let kinds: Vec<(&str, &str)> = rates.iter().map(|r| (r.kind.as_str(), r.scheme)).collect();
    assert!(
        kinds.contains(&("mean comparison", "sequential")),
        "{kinds:?}"
    );
    assert!(kinds.contains(&("mean trend", "fixed")), "{kinds:?}");
}
