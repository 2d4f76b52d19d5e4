//! The figures' data: curves from epoch 0, the spread and profile
//! figures' series with their bootstrap intervals, and log-scale axes.
use super::*;

/// curves.csv starts a trial at epoch 0 when its record holds the initial
/// evaluation: no batch loss there (no update has run), the metrics of
/// `initial`; a record without one (stored before it existed) starts at
/// epoch 1. The curves figure's line does the same, its epoch-0 point the
/// mean and std of the four seeds' initial losses (1.5, 0.5, 1.5, 0.5:
/// mean 1, std √(4·0.25/3) by hand). Catches epoch 0 dropped, given a batch loss, or the
/// figure averaging the wrong seeds.
#[test]
fn curves_start_at_epoch_zero_when_the_initial_evaluation_is_stored() {
    use crate::train::CurvePoint;
    let (e, plan, mut records) = stored_study("", &[0.5, 0.2, 0.9, 0.4, 0.25]);
    let eval = |l: f64| Metrics {
        train_loss: l,
        val_loss: Some(2.0 * l),
        train_acc: Some(0.5),
        val_acc: Some(0.25),
        l2_term: 0.0,
        weight_norm: 1.0,
        dead_fraction: Some(0.0),
    };
    for r in &mut records {
        r.curve = vec![CurvePoint {
            epoch: 1,
            batch_loss: 0.75,
            eval: Some(eval(0.625)),
        }];
    }
    for (r, l) in records.iter_mut().zip([1.5, 0.5, 1.5, 0.5]) {
        r.initial = Some(eval(l));
    }
    let (_, files) = render(&e, &plan, &records, None, &About::default(), None, None).unwrap();
    let csv = files.iter().find(|f| f.0 == "curves.csv").unwrap();
    let text = String::from_utf8(csv.1.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "trial,epoch,batch_loss,train_loss,val_loss,train_acc,val_acc"
    );
    assert_eq!(lines[1], "0,0,,1.5,3,0.5,0.25");
    assert_eq!(lines[2], "0,1,0.75,0.625,1.25,0.5,0.25");
    // Trial 4 (width 8) has no initial evaluation.
    assert_eq!(lines[9], "4,1,0.75,0.625,1.25,0.5,0.25");
    assert_eq!(lines.len(), 10);
    let rows = plot::finished_rows(&plan, &records);
    let (_, line) = plot::config_line(&e, "", &rows, 0).unwrap();
    assert_eq!(line[0], (0.0, 1.0, (1.0f64 / 3.0).sqrt()));
    assert_eq!(line[1], (1.0, 0.625, 0.0));
    let (_, line) = plot::config_line(&e, "", &rows, 1).unwrap();
    assert_eq!(line, [(1.0, 0.625, 0.0)]);
}

/// The spread figure's numbers: per configuration the std (ddof 1) and
/// IQR of its seeds' final losses, as NumPy gives them
/// (`np.std(x, ddof=1)`, `np.quantile(x, .75) - np.quantile(x, .25)`),
/// one series per depth, diverged seeds left out; the intervals read each
/// configuration's own resamples (`iqm::resamples`, the IQM columns' too),
/// std and IQR the same ones. Catches std and IQR swapped, seeds of
/// another configuration or series mixed in, diverged trials counted, and
/// intervals from other draws than the configuration's resamples.
#[test]
fn spread_plot_has_each_configurations_std_and_iqr_with_bootstrap_intervals() {
    let n = f64::NAN;
    let losses = [
        0.5, 0.2, 0.9, 0.4, // width 2, depth 1
        0.3, 0.3, 0.3, 0.3, // width 2, depth 2
        1.0, 0.01, 0.02, 0.03, // width 8, depth 1
        0.7, n, n, n, // width 8, depth 2: one finished seed
    ];
    let (e, plan, records) = stored_study(
        "depth = [1, 2]\n[report]\nlevel = 0.9\nbootstrap = 500\n",
        &losses,
    );
    let rows = plot::finished_rows(&plan, &records);
    let p = width_spread(&e, &rows);
    assert_eq!(p.axis.labels, ["2", "8"]);
    assert!(!p.axis.is_log());
    let names: Vec<&str> = p.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["depth=1", "depth=2"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    let d1 = &p.series[0].points;
    assert_eq!(
        (d1[0].setting, d1[0].n, d1[1].setting, d1[1].n),
        (0, 4, 1, 4)
    );
    assert!(close(d1[0].std.unwrap().0, 0.2943920288775949));
    assert!(close(d1[0].iqr.unwrap().0, 0.24999999999999994));
    assert!(close(d1[1].std.unwrap().0, 0.49006802248939546));
    assert!(close(d1[1].iqr.unwrap().0, 0.25499999999999995));
    let d2 = &p.series[1].points;
    assert_eq!(d2[0].std, Some((0.0, Some((0.0, 0.0)))));
    assert_eq!(d2[0].iqr, Some((0.0, Some((0.0, 0.0)))));
    assert_eq!((d2[1].n, d2[1].std, d2[1].iqr), (1, None, None));
    // Configurations 0..3 in the order of `losses`.
    assert_eq!(
        (plan.trials[4].config_index, plan.trials[8].config_index),
        (1, 2)
    );
    let iv = |c: u64, seeds: &[f64]| {
        crate::stats::spread_intervals(seeds, &super::iqm::resamples(c, seeds.len(), 500), 0.9)
    };
    let (std0, iqr0) = iv(0, &losses[0..4]);
    let (std2, iqr2) = iv(2, &losses[8..12]);
    assert_eq!(d1[0].std.unwrap().1, std0);
    assert_eq!(d1[1].std.unwrap().1, std2);
    assert_eq!(d1[0].iqr.unwrap().1, iqr0);
    assert_eq!(d1[1].iqr.unwrap().1, iqr2);
    let (lo, hi) = std0.unwrap();
    assert!(lo < 0.2943920288775949 && 0.2943920288775949 < hi && lo > 0.0);
}

/// The spread figure's x axis is log scale only for a numeric axis of
/// positive settings spanning more than a decade, and then places
/// settings at their values; else evenly spaced. Catches the decade rule
/// applied to positions instead of values, and a 0 setting put on a log
/// axis.
#[test]
fn spread_axis_goes_log_for_numbers_over_a_decade() {
    let axis = |values: Option<Vec<f64>>| plot::AxisSettings {
        labels: vec!["a".into(), "b".into(), "c".into()],
        values,
    };
    let a = axis(Some(vec![2.0, 8.0, 64.0]));
    assert!(a.is_log() && a.x(2) == 64.0);
    let a = axis(Some(vec![2.0, 4.0, 8.0]));
    assert!(!a.is_log() && a.x(2) == 2.0);
    assert!(!axis(Some(vec![0.0, 0.1, 0.5])).is_log());
    assert!(!axis(None).is_log());
}

/// The profile figure's numbers: per configuration, at each τ, the share
/// of its seeds with a final loss below τ (counted here in a loop; a
/// diverged seed is in the denominator and never below τ, as +∞), its band from that configuration's own resamples of its seeds
/// (`iqm::resamples`, which its IQM columns read); τ evenly spaced
/// on a linear axis for losses within a decade, in equal ratios once they
/// span more. Twelve configurations (more than fit one legend) split into
/// one panel per depth with a curve per width. Catches a diverged seed
/// left out of the denominator (width 2 would reach 100%), a curve fed another configuration's seeds, `<=` for `<`,
/// linear thresholds on a log axis, and panels split by the wrong axis;
/// past twelve panels, those left out are counted (their bands are not
/// computed).
#[test]
fn profile_plot_counts_each_configurations_seeds_below_tau() {
    let n = f64::NAN;
    let losses = [0.5, 0.2, 0.9, n, 0.25, 0.3, 0.35, 0.4];
    let (e, plan, records) = stored_study("[report]\nbootstrap = 300\n", &losses);
    let rows = plot::stored_rows(&plan, &records);
    let p = width_profile(&e, &rows);
    assert!(!p.scale.is_log() && p.panels.len() == 1 && p.dropped == 0);
    assert_eq!(p.panels[0].curves[0].share.last(), Some(&0.75));
    let width2 = [0.5, 0.2, 0.9, f64::INFINITY];
    let curves = &p.panels[0].curves;
    let names: Vec<&str> = curves.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["width=2", "width=8"]);
    for (c, (curve, seeds)) in curves.iter().zip([&width2[..], &losses[4..8]]).enumerate() {
        for (tau, share) in p.taus.iter().zip(&curve.share) {
            let below = seeds.iter().filter(|x| *x < tau).count();
            assert_eq!(*share, below as f64 / seeds.len() as f64, "τ = {tau}");
        }
        let res = super::iqm::resamples(c as u64, seeds.len(), 300);
        let band = crate::stats::share_below_bands(seeds, &p.taus, &res, 0.95);
        assert_eq!(curve.band, band);
    }
    assert_eq!(p.taus[0], 0.2 - 0.035);
    let step = p.taus[1] - p.taus[0];
    assert!((p.taus[2] - p.taus[1] - step).abs() < 1e-12);

    let mut many = vec![0.5; 48];
    many[0] = 0.01;
    let (e, plan, records) = stored_study("depth = [1, 2, 3, 4, 5, 6]\n", &many);
    let rows = plot::finished_rows(&plan, &records);
    let p = width_profile(&e, &rows);
    assert!(p.scale.is_log());
    let ratio = p.taus[1] / p.taus[0];
    assert!((p.taus[2] / p.taus[1] - ratio).abs() < 1e-12);
    let titles: Vec<&str> = p.panels.iter().map(|q| q.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "depth=1", "depth=2", "depth=3", "depth=4", "depth=5", "depth=6"
        ]
    );
    for panel in &p.panels {
        let names: Vec<&str> = panel.curves.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["width=2", "width=8"]);
    }

    let depths: Vec<String> = (1..=14).map(|d| d.to_string()).collect();
    let (e, plan, records) =
        stored_study(&format!("depth = [{}]\n", depths.join(", ")), &[0.5; 112]);
    let rows = plot::finished_rows(&plan, &records);
    let p = width_profile(&e, &rows);
    assert_eq!((p.panels.len(), p.dropped), (12, 2));
    assert!(p.panels.iter().all(|q| q.curves.len() == 2));
}

/// The log-scale decision reaches the drawings: with final losses from
/// 0.01 to 0.9 (a span of 90) the metric-vs-axis, histogram and spread
/// figures say "log scale" on an axis and in the caption; from 0.2 to 0.9
/// the first two do not (the spread is log scale always). Catches the
/// decision computed but not used, or captions that do not follow it.
#[test]
fn loss_figures_say_log_scale_exactly_when_the_losses_span_a_decade() {
    let figures = |losses: &[f64]| {
        let (e, plan, records) = stored_study("", losses);
        let (_, files) = render(&e, &plan, &records, None, &About::default(), None, None).unwrap();
        let text = |name: &str| {
            let f = files.iter().find(|f| f.0 == name).unwrap();
            String::from_utf8(f.1.clone()).unwrap()
        };
        let report = text("report.md");
        let caption = |file: &str| {
            let at = report.find(&format!("(figures/{file})")).unwrap();
            let start = report[..at].rfind("![").unwrap();
            report[start..at].to_string()
        };
        [
            "train_loss_vs_width.svg",
            "hist_train_loss.svg",
            "spread_train_loss_vs_width.svg",
        ]
        .map(|f| (text(&format!("figures/{f}")), caption(f)))
    };
    let wide = figures(&[0.5, 0.01, 0.9, 0.4, 0.25, 0.3, 0.02, 0.4]);
    for (svg, caption) in &wide {
        assert!(svg.contains("(log scale)"), "{caption}");
        assert!(caption.contains("log scale"), "{caption}");
    }
    let narrow = figures(&[0.5, 0.2, 0.9, 0.4, 0.25, 0.3, 0.35, 0.4]);
    for (svg, caption) in &narrow[..2] {
        assert!(
            !svg.contains("log scale") && !caption.contains("log scale"),
            "{caption}"
        );
    }
    assert!(narrow[2].0.contains("(log scale)"));
}

/// The spread and profile bootstraps the IQM pass computes for the
/// figures (`report::draws`) are the ones the figures compute alone, bit
/// for bit; and the pass does compute them (the configurations whose
/// seeds all finished), so the figures do not draw them again. A
/// configuration with a diverged seed has a profile of four values
/// (+∞ for the diverged) but three finished trials to resample: the
/// figure computes that band itself. Catches a result used for other values
/// or thresholds than its own, and rides that never happen or are never
/// found.
#[test]
fn the_iqm_pass_bootstraps_what_the_figures_would() {
    let n = f64::NAN;
    let losses = [
        0.5, 0.2, 0.9, 0.4, // width 2, depth 1
        0.3, 0.3, 0.31, 0.2, // width 2, depth 2
        1.0, 0.01, 0.03, n, // width 8, depth 1: one diverged
        0.7, 0.1, 0.2, 0.5, // width 8, depth 2
    ];
    let (e, plan, records) = stored_study("depth = [1, 2]\n[report]\nbootstrap = 400\n", &losses);
    let report = build(&e, &plan, &records).unwrap();
    assert_eq!(report.drawn.counts(), (4, 3));
    // Configuration 0 is the first four seeds; its results are there for
    // its own values and thresholds only.
    let (mine, other) = (&losses[0..4], &losses[4..8]);
    let taus = width_profile(&e, &plot::stored_rows(&plan, &records)).taus;
    assert!(report.drawn.spread(0, mine).is_some());
    assert!(report.drawn.spread(0, other).is_none());
    assert!(report.drawn.profile(0, mine, &taus).is_some());
    assert!(report.drawn.profile(0, mine, &taus[1..]).is_none());
    let alone = super::draws::Bootstrapped::default();
    let finished = plot::finished_rows(&plan, &records);
    let (m, along) = (Metric::TrainLoss, "model.width");
    let spread = |d| {
        plot::spread_plot(&e, &finished, m, along, d)
            .unwrap()
            .series
    };
    let points =
        |s: Vec<plot::SpreadSeries>| -> Vec<_> { s.into_iter().flat_map(|s| s.points).collect() };
    assert_eq!(points(spread(&report.drawn)), points(spread(&alone)));
    let stored = plot::stored_rows(&plan, &records);
    let bands = |d| -> Vec<_> {
        let p = plot::profile_plot(&e, &stored, m, along, d).unwrap();
        p.panels
            .into_iter()
            .flat_map(|p| p.curves)
            .map(|c| c.band)
            .collect()
    };
    assert_eq!(bands(&report.drawn), bands(&alone));
}

/// Many series stay inside their setting's slot and get a legend strip:
/// series are 8% of the spacing apart in the spread figure (1.2% of the
/// axis in metric-vs-axis), but never more than ±0.4 of a setting away
/// (P3's 500 series were drawn twenty settings wide, off the axis). The
/// spread figure's legend goes to a strip beside the panels past twelve
/// series ("series (14)"), and stays inside with two. Catches the cap
/// dropped, applied to few series, or the legend left over the data.
#[test]
fn many_series_stay_in_their_slot_with_a_legend_strip() {
    use super::plot::dodge;
    assert_eq!(
        [0, 1, 2].map(|s| dodge(s, 3, 1.0, 0.08)),
        [-0.08, 0.0, 0.08]
    );
    assert!((0..500).all(|s| dodge(s, 500, 1.0, 0.08).abs() <= 0.4 + 1e-12));
    assert_eq!(dodge(0, 500, 1.0, 0.08), -0.4);
    assert_eq!(dodge(0, 1, 3.0, 0.012), 0.0);
    assert_eq!(dodge(0, 3, 2.0, 0.012), -0.024);
    let spread = |depths: usize| {
        let list: Vec<String> = (1..=depths).map(|d| d.to_string()).collect();
        let losses: Vec<f64> = (0..depths * 8)
            .map(|i| 0.2 + 0.01 * (i % 7) as f64)
            .collect();
        let (e, plan, records) = stored_study(&format!("depth = [{}]\n", list.join(", ")), &losses);
        let (_, files) = render(&e, &plan, &records, None, &About::default(), None, None).unwrap();
        let f = files
            .iter()
            .find(|f| f.0 == "figures/spread_train_loss_vs_width.svg");
        String::from_utf8(f.unwrap().1.clone()).unwrap()
    };
    assert!(spread(14).contains("series (14)"));
    assert!(!spread(2).contains("series ("));
}
