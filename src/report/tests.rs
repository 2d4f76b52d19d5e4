use super::*;
use crate::metric::Metric;
use crate::study::from_str;
use crate::testkit::record;
use crate::train::{Metrics, Status};
use std::path::Path;

/// The profile figure's numbers of the final train loss along width,
/// every band bootstrapped by the figure itself.
fn width_profile(e: &Study, rows: &[plot::Row]) -> plot::Profile {
    plot::profile_plot(
        e,
        rows,
        Metric::TrainLoss,
        "model.width",
        &Default::default(),
    )
    .unwrap()
}

/// The spread figure's numbers of the final train loss along width,
/// every interval bootstrapped by the figure itself.
fn width_spread(e: &Study, rows: &[plot::Row]) -> plot::SpreadPlot {
    plot::spread_plot(
        e,
        rows,
        Metric::TrainLoss,
        "model.width",
        &Default::default(),
    )
    .unwrap()
}

/// A study of widths 2 and 8 with four seeds, `extra` appended, and a
/// stored record per value in plan order: NaN stands for a diverged
/// trial; trials past the values are not stored.
fn stored_study(extra: &str, losses: &[f64]) -> (Study, Plan, Vec<TrialRecord>) {
    let src = format!("name = \"a\"\nseeds = 4\n[grid]\nwidth = [2, 8]\n{extra}");
    let e = crate::testkit::study(&src);
    let plan = Plan::new(&e).unwrap();
    let records = plan
        .trials
        .iter()
        .zip(losses)
        .map(|(t, &loss)| {
            let status = if loss.is_nan() {
                Status::Diverged
            } else {
                Status::Ok
            };
            record(t, loss, status)
        })
        .collect();
    (e, plan, records)
}

/// Every metric a table, claim or figure can name reads its own field
/// of the record: each field holds a different value here, so a metric
/// mapped to the wrong field, or to none, shows. Catches a crossed arm
/// in `Metric::value`.
#[test]
fn each_metric_name_reads_its_own_field() {
    let (_, plan, _) = stored_study("", &[]);
    let mut r = record(&plan.trials[0], 0.5, Status::Ok);
    r.metrics = Some(Metrics {
        train_loss: 0.5,
        val_loss: Some(0.75),
        train_acc: Some(0.8),
        val_acc: Some(0.7),
        l2_term: 0.125,
        weight_norm: 3.0,
        dead_fraction: Some(0.25),
    });
    r.initial = Some(Metrics {
        train_loss: 1.0986,
        ..r.metrics.unwrap()
    });
    let acts = |s| crate::telemetry::LayerActivations {
        mean: 0.0,
        std: 1.0,
        saturated: Some(s),
        dead: None,
    };
    r.telemetry = Some(crate::telemetry::Telemetry {
        initial: Vec::new(),
        // The last evaluation's median over three layers is 0.002; the
        // saturated share is the mean of the last evaluation's layers.
        update_ratio: vec![vec![9.0, 9.0, 9.0], vec![0.003, 0.001, 0.002]],
        activations: vec![vec![acts(1.0)], vec![acts(0.375), acts(0.125)]],
        weight_sparsity: Some(0.0625),
    });
    let want = [
        (Metric::TrainLoss, 0.5),
        (Metric::ValLoss, 0.75),
        (Metric::TrainAcc, 0.8),
        (Metric::ValAcc, 0.7),
        (Metric::Gap, 0.25),
        (Metric::DeadFraction, 0.25),
        (Metric::WeightNorm, 3.0),
        (Metric::L2Term, 0.125),
        (Metric::InitialLoss, 1.0986),
        (Metric::UpdateRatio, 0.002),
        (Metric::SaturatedFraction, 0.25),
        (Metric::WeightSparsity, 0.0625),
    ];
    for (m, value) in want {
        assert_eq!(r.value(m, 0.9), Some(value), "{m}");
    }
    // Every metric is one of these, or read from the curve: epochs to
    // target (tested below), the best validation loss and its epoch
    // (`metric::tests`).
    let from_curve = [
        Metric::EpochsToTarget,
        Metric::BestValLoss,
        Metric::BestEpoch,
    ];
    for m in Metric::ALL {
        assert!(
            from_curve.contains(&m) || want.iter().any(|(n, _)| *n == m),
            "{m} is not checked here"
        );
    }
}

#[test]
fn aggregates_match_independent_values() {
    // width=2: three finished seeds (0.5, 0.2, 0.9) and one diverged;
    // width=8: only one seed stored.
    let (e, plan, records) = stored_study("", &[0.5, 0.2, 0.9, f64::NAN, 0.25]);
    let r = build(&e, &plan, &records).unwrap();
    let s = &r.summary;
    let f = |c: &str, i: usize| s.column(c).unwrap().f64().unwrap().get(i);
    let u = |c: &str, i: usize| s.column(c).unwrap().u64().unwrap().get(i);
    assert_eq!(
        (u("n", 0), u("n_diverged", 0), u("n_failed", 0)),
        (Some(3), Some(1), Some(0))
    );
    // Values computed with NumPy/SciPy: mean, std(ddof=1), median,
    // quantile(.75) - quantile(.25), mean ± t.ppf(0.975, 2)·s/√3.
    let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-9;
    assert!(close(f("train_loss_mean", 0), 0.5333333333333333));
    assert!(close(f("train_loss_std", 0), 0.35118845842842467));
    assert!(close(f("train_loss_median", 0), 0.5));
    assert!(close(f("train_loss_iqr", 0), 0.35));
    assert!(close(f("train_loss_min", 0), 0.2) && close(f("train_loss_max", 0), 0.9));
    assert!((f("train_loss_ci_lo", 0).unwrap() - -0.33906716018017946).abs() < 1e-7);
    assert!((f("train_loss_ci_hi", 0).unwrap() - 1.4057338268468462).abs() < 1e-7);
    assert!(close(f("gap_mean", 0), 0.1));
    // Stuck: final train loss more than 0.1 above the best (0.2): 0.5 and 0.9 of three.
    assert_eq!(r.best_train_loss, Some(0.2));
    assert!(close(f("stuck_fraction", 0), 2.0 / 3.0));
    // One seed: the mean is its value, the std and interval are empty.
    assert_eq!(
        (u("n", 1), f("train_loss_mean", 1), f("train_loss_std", 1)),
        (Some(1), Some(0.25), None)
    );
    assert_eq!(f("train_loss_ci_lo", 1), None);
    let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
    assert!(!md.contains("NaN") && !md.contains("nan"), "{md}");
    assert!(
        md.contains("| 2 | 3 | 15 | 0.5333 ± 0.3512 | 0.5000 [0.3500] | 67% |"),
        "{md}"
    );
    assert!(
        md.contains("| 8 | 1 | 15 | 0.2500 | 0.2500 [0] | 0% |"),
        "{md}"
    );
    assert!(
        md.contains("diverged / failed") && md.contains("| 1 / 0 |"),
        "{md}"
    );
    let csv = String::from_utf8(csv::render(s).unwrap()).unwrap();
    assert!(!csv.contains("NaN"), "{csv}");
}

/// Writer and reader of summary.csv share one set of column names. The
/// header is pinned literally (stored results and users' scripts read
/// these names), every (metric, aggregate) column named by
/// [`Metric::column`] is in it, and summary.md, which looks each of its
/// columns up by the same names and fails on a missing one, renders every
/// column it has (dead units and diverged trials included). Catches a
/// column renamed in the writer only (the reader fails, or the header
/// differs), in the reader only (the render fails), or in the shared
/// definition (the header differs).
#[test]
fn summary_columns_written_are_the_ones_summary_md_reads() {
    let (e, plan, mut records) = stored_study("", &[0.5, 0.2, 0.9, f64::NAN, 0.25]);
    records[0].metrics.as_mut().unwrap().dead_fraction = Some(0.5);
    let r = build(&e, &plan, &records).unwrap();
    let text = String::from_utf8(csv::render(&r.summary).unwrap()).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "config,width,n,n_diverged,n_failed,n_collapsed,n_unstable,weights,biases,params,hidden_neurons,stuck_fraction,\
         train_loss_mean,train_loss_std,train_loss_median,train_loss_iqr,train_loss_min,train_loss_max,\
         val_loss_mean,val_loss_std,val_loss_median,val_loss_iqr,val_loss_min,val_loss_max,\
         train_acc_mean,train_acc_std,train_acc_median,train_acc_iqr,train_acc_min,train_acc_max,\
         val_acc_mean,val_acc_std,val_acc_median,val_acc_iqr,val_acc_min,val_acc_max,\
         gap_mean,gap_std,gap_median,gap_iqr,gap_min,gap_max,\
         dead_fraction_mean,dead_fraction_std,dead_fraction_median,dead_fraction_iqr,dead_fraction_min,dead_fraction_max,\
         weight_norm_mean,weight_norm_std,weight_norm_median,weight_norm_iqr,weight_norm_min,weight_norm_max,\
         l2_term_mean,l2_term_std,l2_term_median,l2_term_iqr,l2_term_min,l2_term_max,\
         epochs_to_target_mean,epochs_to_target_std,epochs_to_target_median,epochs_to_target_iqr,epochs_to_target_min,epochs_to_target_max,\
         best_val_loss_mean,best_val_loss_std,best_val_loss_median,best_val_loss_iqr,best_val_loss_min,best_val_loss_max,\
         best_epoch_mean,best_epoch_std,best_epoch_median,best_epoch_iqr,best_epoch_min,best_epoch_max,\
         initial_loss_mean,initial_loss_std,initial_loss_median,initial_loss_iqr,initial_loss_min,initial_loss_max,\
         update_ratio_mean,update_ratio_std,update_ratio_median,update_ratio_iqr,update_ratio_min,update_ratio_max,\
         saturated_fraction_mean,saturated_fraction_std,saturated_fraction_median,saturated_fraction_iqr,saturated_fraction_min,saturated_fraction_max,\
         weight_sparsity_mean,weight_sparsity_std,weight_sparsity_median,weight_sparsity_iqr,weight_sparsity_min,weight_sparsity_max,\
         train_loss_ci_lo,train_loss_ci_hi,val_loss_ci_lo,val_loss_ci_hi,train_acc_ci_lo,train_acc_ci_hi,\
         val_acc_ci_lo,val_acc_ci_hi,gap_ci_lo,gap_ci_hi,dead_fraction_ci_lo,dead_fraction_ci_hi,\
         weight_norm_ci_lo,weight_norm_ci_hi,l2_term_ci_lo,l2_term_ci_hi,epochs_to_target_ci_lo,epochs_to_target_ci_hi,\
         best_val_loss_ci_lo,best_val_loss_ci_hi,best_epoch_ci_lo,best_epoch_ci_hi,\
         initial_loss_ci_lo,initial_loss_ci_hi,update_ratio_ci_lo,update_ratio_ci_hi,saturated_fraction_ci_lo,saturated_fraction_ci_hi,weight_sparsity_ci_lo,weight_sparsity_ci_hi,\
         train_loss_iqm,train_loss_iqm_lo,train_loss_iqm_hi,val_loss_iqm,val_loss_iqm_lo,val_loss_iqm_hi,\
         train_acc_iqm,train_acc_iqm_lo,train_acc_iqm_hi,val_acc_iqm,val_acc_iqm_lo,val_acc_iqm_hi,\
         gap_iqm,gap_iqm_lo,gap_iqm_hi,dead_fraction_iqm,dead_fraction_iqm_lo,dead_fraction_iqm_hi,\
         weight_norm_iqm,weight_norm_iqm_lo,weight_norm_iqm_hi,l2_term_iqm,l2_term_iqm_lo,l2_term_iqm_hi,\
         epochs_to_target_iqm,epochs_to_target_iqm_lo,epochs_to_target_iqm_hi,\
         best_val_loss_iqm,best_val_loss_iqm_lo,best_val_loss_iqm_hi,best_epoch_iqm,best_epoch_iqm_lo,best_epoch_iqm_hi,\
         initial_loss_iqm,initial_loss_iqm_lo,initial_loss_iqm_hi,update_ratio_iqm,update_ratio_iqm_lo,update_ratio_iqm_hi,saturated_fraction_iqm,saturated_fraction_iqm_lo,saturated_fraction_iqm_hi,weight_sparsity_iqm,weight_sparsity_iqm_lo,weight_sparsity_iqm_hi"
    );
    let columns: Vec<&str> = header.split(',').collect();
    for m in Metric::ALL {
        for a in crate::metric::Aggregate::ALL {
            let name = m.column(a);
            assert!(columns.contains(&name.as_str()), "{name} not written");
        }
    }
    let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
    assert!(
        md.contains(
            "| width | n | params | train loss | median [IQR] | stuck | val loss | train acc (%) | val acc (%) | dead units | diverged / failed |"
        ),
        "{md}"
    );
    assert!(
        md.contains(
            "| 2 | 3 | 15 | 0.5333 ± 0.3512 | 0.5000 [0.3500] | 67% | 0.6333 ± 0.3512 | 50.0 ± 0.0 | 40.0 ± 0.0 | 16.7% | 1 / 0 |"
        ),
        "{md}"
    );
}

/// `[report] level` other than the default reaches both summary.csv and
/// the metric-vs-axis figure. With level = 0.8, width=2 has three
/// finished seeds (0.5, 0.2, 0.9; one diverged, left out) and width=8
/// four (0.25, 0.4, 0.3, 0.7). Reference intervals from SciPy 1.17.1:
/// `stats.t.interval(0.8, n - 1, loc=mean, scale=stats.sem(xs))`, i.e.
/// mean ± t.ppf(0.9, n − 1)·s/√n with t.ppf(0.9, 2) = 1.8856180831641272
/// and t.ppf(0.9, 3) = 1.637744353696209. Catches: `summarise(.., 0.95)`
/// ignoring the level, the figure's bars drawn at a fixed 95 % (as they
/// were before), and a wrong quantile (`level` instead of
/// `0.5 + level / 2`, or n degrees of freedom instead of n − 1).
#[test]
fn report_level_sets_the_summary_and_figure_intervals() {
    let (e, plan, records) = stored_study(
        "[report]\nlevel = 0.8\n",
        &[0.5, 0.2, 0.9, f64::NAN, 0.25, 0.4, 0.3, 0.7],
    );
    let t = &plan.trials;
    let want = [
        (0.15100776590921638, 0.9156589007574503),
        (0.24745103618350672, 0.5775489638164932),
    ];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // summary.csv, as written.
    let r = build(&e, &plan, &records).unwrap();
    let text = String::from_utf8(csv::render(&r.summary).unwrap()).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (lo, hi) = (at("train_loss_ci_lo"), at("train_loss_ci_hi"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    for (row, (wlo, whi)) in rows.iter().zip(want) {
        let (glo, ghi): (f64, f64) = (row[lo].parse().unwrap(), row[hi].parse().unwrap());
        assert!(
            close(glo, wlo) && close(ghi, whi),
            "summary.csv width={}: ({glo}, {ghi}), want ({wlo}, {whi})",
            row[at("width")]
        );
    }
    // The figure: the numbers its bars are drawn from, and its caption.
    let rows: Vec<(&Trial, &TrialRecord)> = t
        .iter()
        .zip(&records)
        .filter(|(_, r)| r.status == Status::Ok)
        .collect();
    let fig = plot::axis_plot(&e, &rows, &[], Metric::TrainLoss, "model.width").unwrap();
    assert_eq!(fig.positions.labels, ["2", "8"]);
    assert_eq!(fig.series.len(), 1);
    let means = &fig.series[0].means;
    assert_eq!(means.len(), 2);
    for (&(x, mean, interval), (wlo, whi)) in means.iter().zip(want) {
        let (glo, ghi) = interval.unwrap();
        assert!(
            close(glo, wlo) && close(ghi, whi) && close(mean, (wlo + whi) / 2.0),
            "figure width={x}: {mean} ({glo}, {ghi}), want ({wlo}, {whi})"
        );
    }
    let figures = plot::render(&e, &plan, &records, &r, None).unwrap();
    let f = figures
        .iter()
        .find(|f| f.file == "train_loss_vs_width.svg")
        .unwrap();
    assert!(
        f.caption
            .contains("the mean with its 80% Student-t interval"),
        "{}",
        f.caption
    );
}

/// Claims state their intervals at `[report] level` with the figures'
/// spelling: 0.975 is "97.5%", where `{:.0}%` printed "98%" (a level the
/// study did not ask for). Catches a claim's text going back to a
/// rounded or fixed level.
#[test]
fn claims_state_the_report_level_as_figures_do() {
    let claim = "[report]\nlevel = 0.975\n[[claims]]\nname = \"c\"\nexpect = \"less_than\"\n\
                 this = { width = 8 }\nthan = { width = 2 }\n";
    let (e, plan, records) = stored_study(claim, &[0.5, 0.2, 0.9, 0.6, 0.25, 0.4, 0.3, 0.2]);
    let r = build(&e, &plan, &records).unwrap();
    let md = String::from_utf8(
        markdown::render_report(
            &e,
            &plan,
            &r,
            (&[], &[]),
            &About {
                provenance: "test",
                damaged: &[],
            },
            None,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(md.contains("97.5% bootstrap CI ["), "{md}");
    assert!(md.contains("with 97.5% bootstrap intervals:"), "{md}");
    assert!(!md.contains("98%"), "{md}");
}

#[test]
fn epochs_to_target_is_the_first_epoch_reaching_it_or_the_budget_plus_one() {
    let e = from_str("name = \"a\"\n", Path::new("s.toml"), &[]).unwrap();
    let plan = Plan::new(&e).unwrap();
    let mut r = record(&plan.trials[0], 0.3, Status::Ok);
    let eval = |acc: f64| {
        Some(Metrics {
            train_acc: Some(acc),
            ..r.metrics.unwrap()
        })
    };
    r.curve = [0.5, 0.85, 0.92, 0.95]
        .iter()
        .enumerate()
        .map(|(i, a)| crate::train::CurvePoint {
            epoch: i + 1,
            batch_loss: 1.0,
            eval: eval(*a),
        })
        .collect();
    assert_eq!(r.value(Metric::EpochsToTarget, 0.9), Some(3.0));
    assert_eq!(
        r.value(Metric::EpochsToTarget, 0.99),
        Some(5.0),
        "never reached: censored at 4 + 1"
    );
    assert_eq!(r.value(Metric::Gap, 0.9), Some(0.3 + 0.1 - 0.3));
}

/// The header of the flagship's trials.csv, literal: the swept columns,
/// the metrics, the flags and every resolved setting, fixed settings named
/// like swept ones (bare keys, `data_seed`; docs/reports.md, "Column
/// names"). Renaming a spec field, a metric or a setting column fails here
/// before it breaks anyone's scripts.
#[test]
fn the_flagship_trials_csv_header_is_pinned() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/depth_vs_width.toml");
    let e = crate::study::load(&path, &[]).unwrap();
    let plan = Plan::new(&e).unwrap();
    let records = vec![record(&plan.trials[0], 0.5, Status::Ok)];
    let report = build(&e, &plan, &records).unwrap();
    let text = String::from_utf8(csv::render(&report.trials).unwrap()).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        concat!(
            "trial,id,config,depth,width,seed,status,weights,biases,params,hidden_neurons,",
            "train_loss,val_loss,train_acc,val_acc,gap,dead_fraction,weight_norm,l2_term,",
            "epochs_to_target,best_val_loss,best_epoch,initial_loss,update_ratio,saturated_fraction,weight_sparsity,",
            "stuck,collapsed,unstable,diverged_epoch,message,classes,kind,",
            "label_noise,noise,points_per_class,data_seed,standardize,",
            "task,val,activation,dropout,init,batch_size,",
            "epochs,eval_every,l2,lr,momentum,nesterov,",
            "optimizer"
        )
    );
}

/// `[report] stuck_relative`: the stuck share of each configuration of a
/// width × depth study (width first, so a slice is a width), worked by
/// hand from δ = 0.1 and each group's best final train loss. Study: best
/// 0.01, so every width-2 seed is stuck. Slice: width 2's best is 0.15
/// (0.28, 0.9, 0.6 stuck at depth 1; 0.4 at depth 2), width 8's 0.01.
/// Config: each configuration's own best (0.2 → 0.9, 0.6 stuck; 0.15 →
/// 0.4; 0.01 → 0.3; 0.08 → 0.5). The default is `config`. Catches the
/// rule grouping by the wrong key, the default changed, and the key
/// ignored.
#[test]
fn stuck_is_relative_to_the_chosen_group() {
    let losses = [
        0.28, 0.2, 0.9, 0.6, // width 2, depth 1
        0.15, 0.16, 0.4, 0.17, // width 2, depth 2
        0.01, 0.05, 0.3, 0.02, // width 8, depth 1
        0.08, 0.09, 0.1, 0.5, // width 8, depth 2
    ];
    for (setting, want) in [
        ("", [0.5, 0.25, 0.25, 0.25]),
        ("stuck_relative = \"config\"", [0.5, 0.25, 0.25, 0.25]),
        ("stuck_relative = \"slice\"", [0.75, 0.25, 0.25, 0.25]),
        ("stuck_relative = \"study\"", [1.0, 1.0, 0.25, 0.25]),
    ] {
        let (e, plan, records) =
            stored_study(&format!("depth = [1, 2]\n[report]\n{setting}\n"), &losses);
        let r = build(&e, &plan, &records).unwrap();
        let got: Vec<f64> = (0..4)
            .map(|i| {
                r.summary
                    .column("stuck_fraction")
                    .unwrap()
                    .f64()
                    .unwrap()
                    .get(i)
                    .unwrap()
            })
            .collect();
        assert_eq!(got, want, "{setting:?}");
        let md = String::from_utf8(markdown::render_summary(&e, &plan, &r).unwrap()).unwrap();
        let name = e.report.stuck_relative.name();
        assert!(
            md.contains(&format!("(`stuck_relative = \"{name}\"`)")),
            "{md}"
        );
    }
}

/// summary.csv's IQM and its stratified-bootstrap interval. The IQM of
/// [0.7, 0.2, 0.4, 0.1] is `scipy.stats.trim_mean(x, 0.25)` = 0.3 (the
/// mean would be 0.35). The interval's reference is the exact bootstrap
/// distribution, enumerating all 4⁴ resamples in Python: P(IQM ≤ 0.1) =
/// 5.1%, P(≤ 0.15) = 16.8%, P(≤ 0.45) = 83.2%, P(≤ 0.55) = 94.9%, so at
/// level 0.8 the 10% and 90% quantiles sit on the plateaus 0.15 and 0.55,
/// far from any jump for 2000 resamples (at 0.95 they would be 0.1 and
/// 0.7). Width 8 has one finished seed and one diverged: [0.25, 0.25].
/// The streams' seed is FNV-1a of "iqm" (Python). Catches the
/// level ignored, the mean in place of the IQM, diverged trials or other
/// configurations' seeds in a group, and a seed that moves.
#[test]
fn summary_has_the_iqm_with_a_stratified_bootstrap_interval() {
    let (e, plan, records) = stored_study(
        "[report]\nlevel = 0.8\n",
        &[0.7, 0.2, 0.4, 0.1, 0.25, f64::NAN],
    );
    let r = build(&e, &plan, &records).unwrap();
    let f = |c: &str, i: usize| r.summary.column(c).unwrap().f64().unwrap().get(i).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(f("train_loss_iqm", 0), 0.3));
    assert!(
        close(f("train_loss_iqm_lo", 0), 0.15),
        "{}",
        f("train_loss_iqm_lo", 0)
    );
    assert!(
        close(f("train_loss_iqm_hi", 0), 0.55),
        "{}",
        f("train_loss_iqm_hi", 0)
    );
    assert_eq!(
        (
            f("train_loss_iqm", 1),
            f("train_loss_iqm_lo", 1),
            f("train_loss_iqm_hi", 1)
        ),
        (0.25, 0.25, 0.25)
    );
    assert_eq!(iqm::seed(), 3153900833875410278);
    let again = build(&e, &plan, &records).unwrap();
    assert_eq!(
        csv::render(&r.summary).unwrap(),
        csv::render(&again.summary).unwrap()
    );
}

mod every_trial;
mod figures;

mod broken_runs;

/// `[report] title` heads both reports; without it the name does.
#[test]
fn a_report_title_replaces_the_name_in_the_headings() {
    let losses = [0.5, 0.2, 0.9, 0.6, 0.25, 0.4, 0.3, 0.2];
    let about = About {
        provenance: "test",
        damaged: &[],
    };
    for (extra, heading) in [
        (
            "[report]\ntitle = \"Does width help?\"\n",
            "# Does width help?\n\n",
        ),
        ("", "# a\n\n"),
    ] {
        let (e, plan, records) = stored_study(extra, &losses);
        let r = build(&e, &plan, &records).unwrap();
        let summary = markdown::render_summary(&e, &plan, &r).unwrap();
        let report = markdown::render_report(&e, &plan, &r, (&[], &[]), &about, None).unwrap();
        for md in [summary, report] {
            let md = String::from_utf8(md).unwrap();
            assert!(md.starts_with(heading), "{md}");
            assert_eq!(md.matches("\n# ").count(), 0, "one heading: {md}");
        }
        assert_eq!(e.name, "a", "the results folder keeps the name");
    }
}
