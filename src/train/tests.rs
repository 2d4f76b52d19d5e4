use super::epochs::one_epoch;
use super::*;
use crate::plan::Plan;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn run(src: &str) -> Vec<TrialRecord> {
    let (_, plan) = crate::testkit::plan(src);
    plan.trials
        .iter()
        .map(|t| {
            let data = crate::data::load(&t.config.data).unwrap();
            run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap()
        })
        .collect()
}

/// Decision regions cover the training points' range padded by 10% on
/// each side (computed here from the data), on a 60 × 60 grid, and are
/// stored for 2-D classification with at most 10 classes only: not for
/// 1-D or 3-D inputs, 11 classes, or 2-D regression. The classes at
/// the cell centres are checked against candle in
/// `fused_evaluation_matches_candle`. Catches a wrong padding and a
/// wrong condition (`||` for `&&`, `>=` for `>`).
#[test]
fn decision_regions_cover_the_padded_range_of_2d_classification_only() {
    let src = "[data]\npoints_per_class = 40\n[model]\nwidth = 8\n[train]\nepochs = 2\n";
    let r = &run(src)[0];
    let b = r.boundary.as_ref().expect("2-D classification has regions");
    let e = crate::testkit::study(src);
    let data = crate::data::load(&e.config_at(&e.coords(0)).unwrap().data).unwrap();
    for (k, got) in [(0, b.x), (1, b.y)] {
        let v: Vec<f64> = data
            .train
            .x
            .iter()
            .skip(k)
            .step_by(2)
            .map(|v| f64::from(*v))
            .collect();
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let want = (lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo));
        assert!(
            (got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12,
            "axis {k}: {got:?} vs {want:?}"
        );
    }
    assert_eq!(b.res, 60);
    assert_eq!(b.classes.len(), 60 * 60);
    assert!(b.classes.bytes().all(|c| (b'0'..b'3').contains(&c)));

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("plane.csv");
    std::fs::write(
        &csv,
        "a,b,y\n0,0,0.5\n1,0,1.5\n0,1,2.5\n1,1,3.5\n0.5,0.5,1\n",
    )
    .unwrap();
    let regions = |data: &str| {
        run(&format!("[data]\n{data}\n[train]\nepochs = 1\n"))[0]
            .boundary
            .is_some()
    };
    assert!(regions(
        "kind = \"blobs\"\nclasses = 10\npoints_per_class = 5"
    ));
    for data in [
        "kind = \"blobs\"\nclasses = 11\npoints_per_class = 5".to_string(),
        "kind = \"blobs\"\ndims = 3\npoints_per_class = 5".to_string(),
        "kind = \"sine\"\npoints = 20".to_string(),
        format!(
            "kind = \"csv\"\npath = {:?}\ntask = \"regression\"\nval = \"none\"",
            csv.to_str().unwrap()
        ),
    ] {
        assert!(!regions(&data), "{data}");
    }
}

/// A record is stored as finished only when every number is finite:
/// an evaluation with an infinite or NaN loss, L2 term or norm means the
/// network diverged (and JSON could not store it). Catches
/// `is_finite` always answering true.
#[test]
fn metrics_with_a_non_finite_number_are_not_finite() {
    let m = Metrics {
        train_loss: 0.5,
        val_loss: Some(0.6),
        train_acc: Some(0.9),
        val_acc: Some(0.8),
        l2_term: 0.01,
        weight_norm: 3.0,
        dead_fraction: Some(0.0),
    };
    assert!(m.is_finite());
    assert!(
        Metrics {
            val_loss: None,
            ..m
        }
        .is_finite()
    );
    for bad in [
        Metrics {
            train_loss: f64::NAN,
            ..m
        },
        Metrics {
            val_loss: Some(f64::INFINITY),
            ..m
        },
        Metrics {
            l2_term: f64::INFINITY,
            ..m
        },
        Metrics {
            weight_norm: f64::NAN,
            ..m
        },
    ] {
        assert!(!bad.is_finite(), "{bad:?}");
    }
}

#[test]
fn a_diverged_trial_is_recorded_and_its_record_parses_back() {
    // Regression with a learning rate far too large: the loss overflows.
    let r =
        &run("[data]\nkind = \"sine\"\n[model]\nwidth = 40\n[train]\nlr = 0.2\nepochs = 50\n")[0];
    assert_eq!(r.status, Status::Diverged);
    let epoch = r.diverged_epoch.expect("the epoch it diverged in");
    assert!(epoch > 1, "diverged at once");
    assert_eq!(r.curve.last().map(|p| p.epoch), Some(epoch));
    assert!(r.metrics.is_none());
    // JSON has no NaN: the packed curve keeps the diverged epoch's loss
    // bit for bit, or resume would take the line for a torn one and retrain
    // the trial forever.
    let line = serde_json::to_string(r).unwrap();
    let back: TrialRecord = serde_json::from_str(&line).unwrap();
    assert_eq!(back.status, Status::Diverged);
    let loss = r.curve.last().unwrap().batch_loss;
    assert!(!loss.is_finite());
    assert_eq!(
        back.curve.last().unwrap().batch_loss.to_bits(),
        loss.to_bits()
    );
    let n = r.curve.len();
    assert_eq!(back.curve[..n - 1], r.curve[..n - 1]);
}

#[test]
fn training_lowers_the_loss() {
    let r = &run("[model]\ndepth = 1\nwidth = 32\n[train]\nepochs = 30\neval_every = 1\n")[0];
    assert_eq!(r.status, Status::Ok);
    let first = r.curve[0].eval.unwrap().train_loss;
    let last = r.metrics.unwrap().train_loss;
    assert!(last < 0.8 * first, "loss {first} -> {last}");
    assert_eq!(r.curve.len(), 30);
}

#[test]
fn two_hidden_layers_fit_the_spiral() {
    let r = &run(
        "[model]\ndepth = 2\nwidth = 64\n[train]\nlr = 0.1\nmomentum = 0.9\nbatch_size = 32\nepochs = 300\n",
    )[0];
    let acc = r.metrics.unwrap().train_acc.unwrap();
    assert!(acc >= 0.95, "train accuracy {acc}");
}

#[test]
fn l2_shrinks_the_weights() {
    let recs = run("[model]\nwidth = 32\n[train]\nepochs = 60\n[grid]\nl2 = [0.0, 0.1]\n");
    let (free, reg) = (recs[0].metrics.unwrap(), recs[1].metrics.unwrap());
    assert!(
        reg.weight_norm < 0.7 * free.weight_norm,
        "{} vs {}",
        reg.weight_norm,
        free.weight_norm
    );
    assert_eq!(free.l2_term, 0.0);
    assert!(
        (reg.l2_term - 0.5 * 0.1 * reg.weight_norm.powi(2)).abs() < 1e-6 * reg.l2_term.max(1.0)
    );
}

#[test]
fn same_trial_gives_identical_records() {
    let src = "[model]\nwidth = 16\ndropout = 0.3\n[train]\nepochs = 10\n";
    let (mut a, mut b) = (run(src).remove(0), run(src).remove(0));
    a.wall_time_s = 0.0;
    b.wall_time_s = 0.0;
    assert_eq!(a, b);
}

#[test]
fn a_huge_learning_rate_diverges_and_is_recorded() {
    let r = &run(
        "[data]\nkind = \"sine\"\n[model]\nwidth = 64\n[train]\nlr = 1e6\nmomentum = 0.0\nepochs = 50\n",
    )[0];
    assert_eq!(r.status, Status::Diverged);
    assert!(r.diverged_epoch.is_some() && r.metrics.is_none());
}

#[test]
fn regression_and_adam_and_every_activation_train() {
    for act in ["sigmoid", "tanh", "relu", "leaky_relu", "maxout"] {
        let r = &run(&format!(
            "[data]\nkind = \"sine\"\n[model]\nwidth = 32\nactivation = \"{act}\"\n[train]\noptimizer = \"adam\"\nlr = 0.01\nepochs = 100\n"
        ))[0];
        let m = r.metrics.unwrap();
        assert!(m.train_acc.is_none());
        assert!(m.train_loss < 0.25, "{act}: mse {}", m.train_loss);
    }
}

/// Only each configuration's first seed (in the study's order, not the
/// smallest) computes decision regions: the figures draw no other, and the
/// grid costs more than a cheap trial's training.
#[test]
fn only_first_seeds_store_decision_regions() {
    let records = run("seeds = [3, 1]\n[grid]\nwidth = [4, 8]\n[train]\nepochs = 1\n");
    let stored: Vec<(u64, bool)> = records
        .iter()
        .map(|r| (r.seed, r.boundary.is_some()))
        .collect();
    assert_eq!(stored, [(3, true), (1, false), (3, true), (1, false)]);
}

/// Each source of randomness draws from its own stream (streams.rs): a
/// seed a trial does not use leaves it bit-identical, and a seed it uses
/// changes it. Full batch without dropout uses only the init seed; with
/// minibatches and dropout every seed matters. Catches a source drawing
/// from another's generator (shuffling from the init stream, masks from
/// the order stream), which would tie their variances together.
#[test]
fn each_source_of_randomness_has_its_own_stream() {
    use crate::streams::Seeds;
    let train = |src: &str, seeds: Seeds| -> TrialRecord {
        let e = crate::testkit::study(src);
        let mut t = Plan::new(&e).unwrap().trials[0].clone();
        t.seeds = seeds;
        let data = crate::data::load(&t.config.data).unwrap();
        run_trial(&t, &data, &mut |_, _, _| true, &|| 1).unwrap()
    };
    let same = |a: &TrialRecord, b: &TrialRecord| a.metrics == b.metrics && a.curve == b.curve;
    let base = Seeds::all(0);
    let full = "[data]\npoints_per_class = 20\n[train]\nbatch_size = \"full\"\nepochs = 3\n";
    let r = train(full, base);
    assert!(
        same(&r, &train(full, Seeds { order: 5, ..base })),
        "order seed used"
    );
    assert!(
        same(&r, &train(full, Seeds { dropout: 5, ..base })),
        "dropout seed used"
    );
    assert!(
        !same(&r, &train(full, Seeds { init: 5, ..base })),
        "init seed unused"
    );
    let mini = "[data]\npoints_per_class = 20\n[model]\ndropout = 0.3\n[train]\nbatch_size = 16\nepochs = 3\n";
    let r = train(mini, base);
    for (what, seeds) in [
        ("init", Seeds { init: 5, ..base }),
        ("order", Seeds { order: 5, ..base }),
        ("dropout", Seeds { dropout: 5, ..base }),
    ] {
        assert!(!same(&r, &train(mini, seeds)), "{what} seed unused");
    }
}

/// A schedule's rate reaches the fused step each epoch: a full-batch SGD
/// run with `step` (every epoch, factor 0.5) ends where three hand-driven
/// steps at lr, lr/2 and lr/4 end, bit for bit, and not where a constant
/// rate ends. Catches the rate set once, set from epoch 1 instead of 0, or
/// not set at all.
#[test]
fn the_schedule_sets_each_epochs_rate() {
    let src = "name = \"s\"\n[data]\npoints_per_class = 20\n[train]\nbatch_size = \"full\"\nmomentum = 0.0\nepochs = 3\nlr = 0.5\nschedule = \"step\"\nstep_every = 1\nstep_factor = 0.5\n";
    let e = crate::testkit::study(src);
    let t = Plan::new(&e).unwrap().trials[0].clone();
    let data = crate::data::load(&t.config.data).unwrap();
    let rec = run_trial(&t, &data, &mut |_, _, _| true, &|| 1).unwrap();
    let by_hand = |rates: &[f64]| -> f64 {
        let model = crate::train::initial_model(&t, &data).unwrap();
        let mut fused = Fused::new(&model, &t.config.train, &data.train).unwrap();
        let rows: Vec<u32> = (0..data.train.len() as u32).collect();
        let mut rng = t.seeds.dropout_rng();
        for &lr in rates {
            fused.set_lr(lr);
            fused.step(&rows, &mut rng).unwrap();
        }
        fused.evaluate(&data.train).unwrap().loss
    };
    let got = rec.metrics.unwrap().train_loss;
    assert_eq!(got, by_hand(&[0.5, 0.25, 0.125]));
    assert_ne!(got, by_hand(&[0.5, 0.5, 0.5]));
}

/// Stopping at epochs 3 and 7 (each stop through a checkpoint file's bytes)
/// and continuing to the end gives the record of a straight run, bit for
/// bit: curve, initial evaluation, metrics, decision regions. The study has
/// every piece of state that carries across epochs: Adam's moments and
/// step counter, minibatch shuffles (the order is reshuffled in place),
/// dropout masks, a cosine schedule over all 10 epochs, and evaluations
/// every 4 epochs that the stops do not line up with. Catches a resume that
/// forgets the step counter, the order, either generator's position, or
/// that schedules the rate over the stop instead of `train.epochs`; and a
/// stop's own evaluation leaking into the curve.
#[test]
fn stopping_and_continuing_is_bit_identical_to_training_straight_through() {
    let src = "name = \"t\"\nseeds = 1\n[model]\nwidth = 16\ndropout = 0.3\n[train]\noptimizer = \"adam\"\nlr = 0.01\nschedule = \"cosine\"\nbatch_size = 32\nepochs = 10\neval_every = 4\n";
    let e = crate::testkit::study(src);
    let plan = Plan::new(&e).unwrap();
    let t = &plan.trials[0];
    let data = crate::data::load(&t.config.data).unwrap();
    let mut straight = run_trial(t, &data, &mut |_, _, _| true, &|| 1).unwrap();
    let mut from = None;
    let mut records = Vec::new();
    for until in [3, 7, 10] {
        let (r, s) = run_trial_to(t, &data, from, until, &mut |_, _, _| true, &|| 1).unwrap();
        let s = s.unwrap();
        assert_eq!(s.epoch, until);
        let bytes = crate::checkpoint::encode(&s, r.params.total).unwrap();
        from = Some(crate::checkpoint::decode(&bytes).unwrap());
        records.push(r);
    }
    let mut last = records.pop().unwrap();
    straight.wall_time_s = 0.0;
    last.wall_time_s = 0.0;
    assert_eq!(last, straight);
    // A stop's record: metrics at its epoch, the straight curve up to it,
    // no evaluation added to the curve (epochs 4 and 8 only).
    let at3 = &records[0];
    assert_eq!(at3.epochs_trained, Some(3));
    assert_eq!(at3.curve, straight.curve[..3]);
    assert!(at3.curve.iter().all(|p| p.eval.is_none()));
    assert_eq!(records[1].curve, straight.curve[..7]);
    assert!(at3.metrics.is_some() && at3.boundary.is_none());
    // The metrics at a stop are those a plain run evaluating at that epoch
    // reports: epoch 4 of the straight run's curve = a stop at 4.
    let (at4, _) = run_trial_to(t, &data, None, 4, &mut |_, _, _| true, &|| 1).unwrap();
    assert_eq!(at4.metrics, straight.curve[3].eval);
}

/// `one_epoch` snapshots the parameters just before the epoch's *last*
/// step (what the update-to-weight ratio compares with), and only when
/// asked: the reference steps a twin of the network through the same
/// minibatches by hand (3 steps of 40, 40, 20 rows) and copies its
/// parameters before the third. Catches the snapshot taken before the
/// first step, after the last, or at every epoch.
#[test]
fn the_epoch_snapshot_is_taken_before_its_last_step() {
    let e =
        crate::testkit::study("name = \"s\"\n[data]\npoints_per_class = 40\n[model]\nwidth = 6\n");
    let cfg = e.config_at(&e.coords(0)).unwrap();
    let data = crate::data::load(&cfg.data).unwrap();
    let model = Mlp::new(&cfg.model, 2, 3, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
    let mut a = Fused::new(&model, &cfg.train, &data.train).unwrap();
    let mut b = Fused::new(&model, &cfg.train, &data.train).unwrap();
    let order: Vec<u32> = (0..100).map(|i| (i * 37) % 120).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let (_, none) = one_epoch(&mut a, &order, 40, &mut rng, false).unwrap();
    assert!(none.is_none());
    let (_, before) = one_epoch(&mut a, &order, 40, &mut rng, true).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for chunk in order.chunks(40) {
        b.step(chunk, &mut rng).unwrap();
    }
    let mut want = None;
    for (i, chunk) in order.chunks(40).enumerate() {
        if i == 2 {
            want = Some(b.params().unwrap());
        }
        b.step(chunk, &mut rng).unwrap();
    }
    assert_eq!(before, want);
    assert_eq!(a.params().unwrap(), b.params().unwrap());
}

/// A batch-norm trial trains end to end: its loss falls from the initial
/// one, its record counts γ and β (2·2·8 = 32) instead of the 16 hidden
/// biases and writes them as `norm`, while a plain record has no `norm`
/// field at all (stored records keep their bytes). A trial whose epoch ends
/// with a minibatch of one example fails with a message that says what to
/// change. Catches γ packed in the wrong place (training would not learn),
/// the counts unchanged, and the one-example batch dividing by zero.
#[test]
fn a_batch_norm_trial_trains_and_counts_gamma_and_beta() {
    let base = "[data]\npoints_per_class = 20\n[model]\ndepth = 2\nwidth = 8\nbatch_norm = true\n[train]\nepochs = 30\nbatch_size = 16\n";
    let r = &run(base)[0];
    assert_eq!(r.status, Status::Ok, "{:?}", r.message);
    let (initial, fin) = (r.initial.as_ref().unwrap(), r.metrics.as_ref().unwrap());
    assert!(
        fin.train_loss < 0.8 * initial.train_loss,
        "{} → {}",
        initial.train_loss,
        fin.train_loss
    );
    // 2·8 + 8·8 + 8·3 weights, 3 output biases, γ and β for 16 hidden units.
    assert_eq!(
        (
            r.params.weights,
            r.params.biases,
            r.params.norm,
            r.params.total
        ),
        (104, 3, 32, 139)
    );
    let json = serde_json::to_string(&r.params).unwrap();
    assert!(json.contains("\"norm\":32"), "{json}");
    let plain = &run("[data]\npoints_per_class = 20\n[train]\nepochs = 1\n")[0];
    assert!(
        !serde_json::to_string(&plain.params)
            .unwrap()
            .contains("norm")
    );
    // 60 training points in batches of 59: the second minibatch has one.
    let one = &run(&base.replace("batch_size = 16", "batch_size = 59"))[0];
    assert_eq!(one.status, Status::Failed);
    let msg = one.message.as_deref().unwrap_or("");
    assert!(msg.contains("train.batch_size"), "{msg}");
}
