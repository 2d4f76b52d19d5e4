//! Regression pins: tiny trials whose final numbers are written below, bit
//! for bit, at `plan::FORMAT_VERSION` 4.
//!
//! These are not an oracle: the values were produced by this code, so they
//! cannot say the arithmetic is *right* (the gradient, optimiser, L2 and
//! standardisation tests against candle and f64 formulas do that). They say
//! it has not *moved*: any one-line change to how a number is made (a
//! kernel, the update rule, the RNG order, data generation, the evaluation)
//! changes some bit here. The cases cover every activation, dropout, L2,
//! SGD with and without momentum, Nesterov, Adam over hundreds of steps,
//! every init, standardisation, label noise, a table data set with its
//! split, classification and regression. The trial ids are pinned too: an
//! id is the resume contract, and must not change unless the numbers do.
//!
//! When a pin moves on purpose: bump `plan::FORMAT_VERSION`, regenerate the
//! studies (`just studies`), and print the new pins with
//! `MLPSWEEP_PRINT_PINS=1 cargo test --lib pinned -- --nocapture`.
//!
//! Bits hold on CPUs with AVX-512 (where the pins were made, like CI):
//! gemm's AVX2 kernels differ in the last bits (docs/semantics.md), so on
//! other CPUs the test compares to a relative 1e-3 and says so.

use std::path::Path;

use crate::plan::{FORMAT_VERSION, Plan};
use crate::study::from_str;
use crate::train::{Status, TrialRecord, run_trial};

/// One pinned trial: its study (the first trial of the first seed runs),
/// its id, and its final numbers.
struct Pin {
    name: &'static str,
    study: &'static str,
    id: &'static str,
    /// train_loss, val_loss, train_acc, val_acc, weight_norm, l2_term,
    /// dead_fraction, last epoch's batch_loss (NaN where absent).
    values: [f64; 8],
}

const FIELDS: [&str; 8] = [
    "train_loss",
    "val_loss",
    "train_acc",
    "val_acc",
    "weight_norm",
    "l2_term",
    "dead_fraction",
    "batch_loss",
];

/// The pins' shared data and length: 3 × 30 spiral points, 12 epochs of
/// batches of 16 unless a case says otherwise.
const PINS: &[Pin] = &[
    Pin {
        name: "relu, sgd momentum 0.9, spiral",
        study: "[data]\npoints_per_class = 30\n[model]\ndepth = 2\nwidth = 8\n[train]\nepochs = 12\nbatch_size = 16\n",
        id: "3a7247ebbfe934ff",
        values: [
            0.39836965401967367,
            0.4093418313397302,
            0.8444444444444444,
            0.8555555555555555,
            8.725586330448927,
            0.0,
            0.0,
            0.4479803346925312,
        ],
    },
    Pin {
        name: "tanh, plain sgd, l2, xavier init",
        study: "[data]\npoints_per_class = 30\n[model]\ndepth = 2\nwidth = 8\nactivation = \"tanh\"\ninit = \"xavier_uniform\"\n[train]\nmomentum = 0.0\nl2 = 0.01\nepochs = 12\nbatch_size = 16\n",
        id: "7cf733c9c6a5e53a",
        values: [
            0.8306214928627014,
            0.8116190844111972,
            0.5111111111111111,
            0.4888888888888889,
            3.9928022418836275,
            0.07971234871395462,
            0.0,
            0.8409418953789605,
        ],
    },
    Pin {
        name: "sigmoid, nesterov, dropout, normal init",
        study: "[data]\npoints_per_class = 30\n[model]\ndepth = 2\nwidth = 8\nactivation = \"sigmoid\"\ninit = \"normal\"\ninit_std = 0.5\ndropout = 0.2\n[train]\nlr = 0.5\nnesterov = true\nepochs = 12\nbatch_size = 16\n",
        id: "3d4ecd062777ac0b",
        values: [
            1.0090648505422803,
            1.0011406275961134,
            0.5222222222222223,
            0.5444444444444444,
            7.8397541516134375,
            0.0,
            0.0,
            1.1704463455412122,
        ],
    },
    Pin {
        name: "leaky relu, adam over 360 steps, l2, circles",
        study: "[data]\nkind = \"circles\"\npoints_per_class = 48\n[model]\ndepth = 2\nwidth = 8\nactivation = \"leaky_relu\"\nalpha = 0.1\n[train]\noptimizer = \"adam\"\nlr = 0.01\nl2 = 0.001\nepochs = 30\nbatch_size = 8\n",
        id: "53e1930d37144908",
        values: [
            0.015720915670196216,
            0.044044689585765205,
            1.0,
            0.9895833333333334,
            7.8489596812494495,
            0.03080308403893973,
            0.0,
            0.01888025738298893,
        ],
    },
    Pin {
        name: "maxout, adam with its own betas and eps, dropout, moons",
        study: "[data]\nkind = \"moons\"\npoints_per_class = 40\n[model]\ndepth = 1\nwidth = 6\nactivation = \"maxout\"\npieces = 3\ndropout = 0.3\n[train]\noptimizer = \"adam\"\nlr = 0.02\nbeta1 = 0.8\nbeta2 = 0.99\neps = 1e-6\nepochs = 20\nbatch_size = 16\n",
        id: "bbee1f4b3a168ace",
        values: [
            0.26721965335309505,
            0.22957315295934677,
            0.85,
            0.8875,
            6.616698945183527,
            0.0,
            0.0,
            0.2870370477437973,
        ],
    },
    Pin {
        name: "regression: tanh, sgd momentum, standardised sine",
        study: "[data]\nkind = \"sine\"\npoints = 80\nstandardize = true\n[model]\ndepth = 1\nwidth = 12\nactivation = \"tanh\"\n[train]\nlr = 0.02\nepochs = 15\nbatch_size = 16\n",
        id: "d64b51faf1bcf8c0",
        values: [
            0.028625511773958577,
            0.04617753736306725,
            f64::NAN,
            f64::NAN,
            5.0759056745529465,
            0.0,
            0.0,
            0.029627166502177716,
        ],
    },
    Pin {
        name: "relu, label noise, standardised blobs in 4 dims, full batch",
        study: "[data]\nkind = \"blobs\"\ndims = 4\nclasses = 4\npoints_per_class = 25\nlabel_noise = 0.2\nstandardize = true\n[model]\ndepth = 1\nwidth = 10\n[train]\nlr = 0.05\nbatch_size = \"full\"\nepochs = 25\n",
        id: "b8c59db8759a4ede",
        values: [
            0.764701071381569,
            0.7816988176107407,
            0.79,
            0.82,
            5.165641544621398,
            0.0,
            0.0,
            0.7671871185302734,
        ],
    },
    Pin {
        name: "iris: table data, its validation split, standardised, l2",
        study: "[data]\nkind = \"iris\"\n[model]\ndepth = 1\nwidth = 8\n[train]\nl2 = 0.01\nlr = 0.05\nepochs = 10\nbatch_size = 16\n",
        id: "d632ac6e0aa6b755",
        values: [
            0.09326282739639283,
            0.06846452951431274,
            0.975,
            1.0,
            4.877445666768517,
            0.1189473811613949,
            0.125,
            0.09532927374045054,
        ],
    },
    Pin {
        name: "relu, sgd momentum, xor, seed 7, dead units",
        study: "seeds = [7]\n[data]\nkind = \"xor\"\npoints_per_class = 30\n[model]\ndepth = 3\nwidth = 5\n[train]\nlr = 0.3\nepochs = 10\nbatch_size = 16\n",
        id: "7fb4f47ca1156b4c",
        values: [
            0.5620583777626356,
            0.7935767859220505,
            0.7166666666666667,
            0.6,
            10.082957306406426,
            0.0,
            0.3333333333333333,
            0.5508600393931071,
        ],
    },
];

/// Train the first trial of `study` and return its record.
fn train_first(study: &str) -> TrialRecord {
    let e = from_str(
        &format!("name = \"pin\"\n{study}"),
        Path::new("pin.toml"),
        &[],
    )
    .unwrap();
    let plan = Plan::new(&e).unwrap();
    let trial = &plan.trials[0];
    let data = crate::data::load(&trial.config.data).unwrap();
    run_trial(trial, &data, &mut |_, _, _| true, &|| 1).unwrap()
}

/// The eight pinned numbers of a record (NaN where a metric is absent).
fn values_of(r: &TrialRecord) -> [f64; 8] {
    let m = r.metrics.expect("a pinned trial finishes");
    let none = f64::NAN;
    [
        m.train_loss,
        m.val_loss.unwrap_or(none),
        m.train_acc.unwrap_or(none),
        m.val_acc.unwrap_or(none),
        m.weight_norm,
        m.l2_term,
        m.dead_fraction.unwrap_or(none),
        r.curve.last().map_or(none, |p| p.batch_loss),
    ]
}

/// Bit equality, NaN equal to NaN; or, off AVX-512, relative `tol`.
fn same(pinned: f64, now: f64, tol: Option<f64>) -> bool {
    match tol {
        None => pinned.to_bits() == now.to_bits() || (pinned.is_nan() && now.is_nan()),
        Some(t) => {
            (pinned.is_nan() && now.is_nan()) || (pinned - now).abs() <= t * pinned.abs().max(1e-3)
        }
    }
}

/// Whether the pins' bits apply here (see the module doc).
fn bit_exact_here() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[test]
fn regression_pins_final_metrics_and_ids_bit_for_bit() {
    assert_eq!(
        FORMAT_VERSION, 4,
        "FORMAT_VERSION changed: regenerate these pins for the new version (see the module doc)"
    );
    let records: Vec<TrialRecord> = PINS.iter().map(|p| train_first(p.study)).collect();
    if std::env::var_os("MLPSWEEP_PRINT_PINS").is_some() {
        for (p, r) in PINS.iter().zip(&records) {
            println!(
                "{}\n    id: {:?},\n    values: {:?},",
                p.name,
                r.id,
                values_of(r)
            );
        }
    }
    let tol = if bit_exact_here() {
        None
    } else {
        eprintln!(
            "regression pins: this CPU has no AVX-512, whose gemm kernels made the pins; comparing to a relative 1e-3, not bit for bit"
        );
        Some(1e-3)
    };
    let mut moved = Vec::new();
    for (p, r) in PINS.iter().zip(&records) {
        assert_eq!(r.status, Status::Ok, "{}", p.name);
        if r.id != p.id {
            moved.push(format!("{}: id {} (pinned {})", p.name, r.id, p.id));
        }
        for ((field, pinned), now) in FIELDS.iter().zip(p.values).zip(values_of(r)) {
            if !same(pinned, now, tol) {
                moved.push(format!("{}: {field} {now:?} (pinned {pinned:?})", p.name));
            }
        }
    }
    assert!(
        moved.is_empty(),
        "REGRESSION PIN MOVED: the training arithmetic, data or ids changed.\n  {}\n\
         If this is intended: bump plan::FORMAT_VERSION, run `just studies`, say which verdicts \
         moved, and update the pins in src/pinned.rs (MLPSWEEP_PRINT_PINS=1 cargo test --lib \
         pinned -- --nocapture prints them). If not, the change broke a number.",
        moved.join("\n  ")
    );
}
