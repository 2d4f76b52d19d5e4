//! `just bench`: the reference sweeps of docs/performance.md and a
//! per-step profile. Timings are printed, never asserted.
//!
//! P1 to P4 run through the same code as `mlpsweep run` (a temporary
//! results folder, the full report at the end), so the figures are what a
//! user sees. FLOPs count the matrix products a step does: forward and dW
//! on every layer, dA on every layer but the first (the inputs need no
//! gradient): 2 · batch · (3 · Σ fan_in · columns − the first layer's).
//!
//! `cargo run --example bench -- p4` runs only what P4 needs (the sgemm
//! peak, the 784-input profile rows, P4); `--runs N` sets how many runs
//! each sweep's median takes (3).

use std::path::Path;
use std::time::Instant;

use mlpsweep::{data, fused::Fused, model::Mlp, plan::Plan, schedule, study};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Training FLOPs of one row through a network of `spec` (see the module doc).
fn row_flops(spec: &study::ModelSpec, n_in: usize, n_out: usize) -> f64 {
    let weights = mlpsweep::model::params_for(spec, n_in, n_out).weights;
    let sizes = mlpsweep::model::layer_sizes(n_in, spec, n_out);
    let pieces = if spec.depth > 0 {
        spec.activation.pieces()
    } else {
        1
    };
    let first = sizes[0] * sizes[1] * pieces;
    2.0 * (3 * weights - first) as f64
}

fn flops(plan: &Plan, n_rows: usize, n_in: usize, n_out: usize) -> f64 {
    plan.trials
        .iter()
        .map(|t| {
            row_flops(&t.config.model, n_in, n_out) * n_rows as f64 * t.config.train.epochs as f64
        })
        .sum()
}

/// One timed run of a study: seconds, trials, FLOPs, bytes of trials.jsonl
/// and of its sidecar trials.bin.
fn sweep(file: &str, jobs: usize) -> (f64, usize, f64, (u64, u64)) {
    let exp = study::load(Path::new(file), &[]).expect("bench study loads");
    let plan = Plan::new(&exp).expect("bench plan");
    let ds = data::Datasets::load(&exp, &plan).expect("bench data");
    let d = ds.of(&plan.trials[0]);
    let total = flops(&plan, d.train.len(), d.n_features, d.n_outputs);
    let out = tempfile_dir();
    let opts = schedule::RunOptions {
        jobs,
        out: out.clone(),
        quiet: true,
        fresh: false,
        fail_fast: false,
        shard: None,
        merged: None,
    };
    let t0 = Instant::now();
    schedule::run(&exp, &plan, &opts).expect("bench run");
    let secs = t0.elapsed().as_secs_f64();
    let size = |name: &str| std::fs::metadata(out.join(name)).map_or(0, |m| m.len());
    let bytes = (size("trials.jsonl"), size("trials.bin"));
    let _ = std::fs::remove_dir_all(&out);
    (secs, plan.len(), total, bytes)
}

fn tempfile_dir() -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!(
        "mlpsweep-bench-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&p);
    p
}

/// One row of the per-step profile: µs per fused step and µs in its
/// matrix products, each the best of several blocks (the VM's noise only
/// ever adds time), and the step's GFLOP. `data` is the study's `[data]`
/// section (its rows' values do not matter to the timing, only the shape).
fn profile(depth: usize, width: usize, batch: usize, data: &str) -> (f64, f64, f64) {
    let src = format!(
        "name = \"s\"\n[data]\n{data}\n[model]\ndepth = {depth}\nwidth = {width}\n[train]\nbatch_size = {batch}\nl2 = 1e-3\n"
    );
    let e = study::from_str(&src, Path::new("s.toml"), &[]).unwrap();
    let cfg = e.config_at(&e.coords(0)).unwrap();
    let ds = data::load(&cfg.data).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let model = Mlp::new(&cfg.model, ds.n_features, ds.n_outputs, &mut rng).unwrap();
    let mut fused = Fused::new(&model, &cfg.train, &ds.train).unwrap();
    // A fixed minibatch spread over the classes.
    let n = ds.train.len() as u32;
    let rows: Vec<u32> = (0..batch as u32).map(|i| (i * 7919) % n).collect();
    for _ in 0..20 {
        fused.step(&rows, &mut rng).unwrap();
    }
    let steps = (1_000_000 / (batch * width * width.max(8) * depth).max(1)).clamp(4, 2000);
    let mut best = f64::MAX;
    for _ in 0..15 {
        let t0 = Instant::now();
        for _ in 0..steps {
            fused.step(&rows, &mut rng).unwrap();
        }
        best = best.min(t0.elapsed().as_secs_f64() * 1e6 / steps as f64);
    }
    let products = fused
        .time_products(batch, 15 * steps)
        .unwrap()
        .as_secs_f64()
        * 1e6;
    let gflop = row_flops(&cfg.model, ds.n_features, ds.n_outputs) * batch as f64 / 1e9;
    (best, products, gflop)
}

/// This core's single-threaded sgemm rate (GFLOP/s) on a 1024³ product
/// through the `gemm` crate: the ceiling for the products.
fn sgemm_peak() -> f64 {
    let k = 1024;
    let a: Vec<f32> = (0..k * k).map(|i| (i % 13) as f32 - 6.0).collect();
    let mut c = vec![0.0f32; k * k];
    let mut best = f64::MAX;
    for _ in 0..25 {
        let t0 = Instant::now();
        // SAFETY: three k × k row-major matrices, all in bounds.
        unsafe {
            gemm::gemm(
                k,
                k,
                k,
                c.as_mut_ptr(),
                1,
                k as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                a.as_ptr(),
                1,
                k as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        best = best.min(t0.elapsed().as_secs_f64());
    }
    2.0 * (k * k * k) as f64 / best / 1e9
}

/// Median and best of `runs` timings of a sweep, its trials, FLOPs and
/// bytes of trials.jsonl and trials.bin.
fn sweeps(file: &str, jobs: usize, runs: usize) -> (f64, f64, usize, f64, (u64, u64)) {
    let mut secs: Vec<f64> = Vec::new();
    let (mut n, mut total, mut bytes) = (0, 0.0, (0, 0));
    for _ in 0..runs {
        let (s, trials, flops, b) = sweep(file, jobs);
        secs.push(s);
        (n, total, bytes) = (trials, flops, b);
    }
    secs.sort_by(f64::total_cmp);
    (secs[runs / 2], secs[0], n, total, bytes)
}

/// The per-step profile's table, one row per (depth, width, batch, data
/// section, label of the input shape).
fn profile_table(peak: f64, rows: &[(usize, usize, usize, String, &str)]) {
    println!(
        "per-step profile (fused step: gather, forward, loss, backward, update; best of 15 blocks)"
    );
    println!(
        "| shape (inputs: depth x width) | batch | µs/step | GFLOP/s | products µs | products GFLOP/s (% of sgemm) | rest µs |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (depth, width, batch, data, inputs) in rows {
        let (us, products, gflop) = profile(*depth, *width, *batch, data);
        let pg = gflop / (products * 1e-6);
        println!(
            "| {inputs}: {depth} x {width} | {batch} | {us:.1} | {:.1} | {products:.1} | {pg:.1} ({:.0}%) | {:.1} |",
            gflop / (us * 1e-6),
            100.0 * pg / peak,
            (us - products).max(0.0)
        );
    }
}

/// The spiral rows of the profile: (depth, width, batch, points a class).
fn spiral_rows() -> Vec<(usize, usize, usize, String, &'static str)> {
    [
        (1, 8, 64, 100),
        (2, 32, 64, 100),
        (3, 128, 64, 100),
        (2, 1024, 256, 2000),
    ]
    .into_iter()
    .map(|(d, w, b, ppc)| {
        (
            d,
            w,
            b,
            format!("points_per_class = {ppc}\nval = \"none\""),
            "2",
        )
    })
    .collect()
}

/// P4's shapes at 784 inputs and its batch: 10 Gaussian blobs in 784
/// dimensions, so the profile needs no data package (only the shape
/// matters to the timing).
fn p4_rows() -> Vec<(usize, usize, usize, String, &'static str)> {
    let data = "kind = \"blobs\"\ndims = 784\nclasses = 10\npoints_per_class = 100\nval = \"none\"";
    [(1, 128), (1, 512), (2, 512)]
        .into_iter()
        .map(|(d, w)| (d, w, 200, data.to_string(), "784"))
        .collect()
}

fn p1_to_p3(cores: usize, runs: usize) {
    println!("\nsweeps: median of {runs} runs (best in brackets), each with its report");
    for jobs in [1, cores] {
        let (med, best, n, total, _) = sweeps("benches/p1.toml", jobs, runs);
        println!(
            "P1 (72 small nets, 1000 steps each), --jobs {jobs}: {med:.2} s ({best:.2}), {:.1} trials/s, {:.1} GFLOP/s",
            n as f64 / med,
            total / med / 1e9
        );
    }
    let (med, best, _, total, _) = sweeps("benches/p2.toml", cores, runs);
    println!(
        "P2 (2 x [2 x 1024] nets, 470 steps each), --jobs {cores}: {med:.2} s ({best:.2}), {:.1} GFLOP/s ({:.1})",
        total / med / 1e9,
        total / best / 1e9
    );
    for jobs in [1, cores] {
        let (med, best, n, _, (line, bin)) = sweeps("benches/p3.toml", jobs, runs);
        println!(
            "P3 (40,000 cheap trials, 4 steps each), --jobs {jobs}: {med:.2} s ({best:.2}), {:.0} trials/s, bytes/trial: trials.jsonl {:.0}, trials.bin {:.0}",
            n as f64 / med,
            line as f64 / n as f64,
            bin as f64 / n as f64
        );
    }
}

/// Where `data.kind = "fashion_mnist"` reads its files.
const FASHION: &str = "/usr/share/datasets/fashion-mnist";

/// P4 (Fashion-MNIST), or a message saying why it is skipped.
fn p4(cores: usize, runs: usize) {
    let files = [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ];
    if let Some(f) = files.iter().find(|f| !Path::new(FASHION).join(f).exists()) {
        println!(
            "\nP4 skipped: {FASHION}/{f} is absent (sudo apt-get install dataset-fashion-mnist)"
        );
        return;
    }
    println!(
        "\nP4: median of {runs} runs (best in brackets), each with its report; compare python3 benches/p4_sklearn.py"
    );
    for jobs in [1, cores] {
        let (med, best, n, total, _) = sweeps("benches/p4.toml", jobs, runs);
        println!(
            "P4 (30 nets at 784 inputs, Fashion-MNIST 5,000 images, 250 steps each), --jobs {jobs}: {med:.2} s ({best:.2}), {n} trials, {:.1} GFLOP/s ({:.1})",
            total / med / 1e9,
            total / best / 1e9
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only_p4 = args.iter().any(|a| a == "p4");
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1)?.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("mlpsweep bench: {cores} cores, one trial per core, each single-threaded\n");
    let peak = sgemm_peak();
    println!("single-core sgemm (gemm crate, 1024³): {peak:.0} GFLOP/s\n");
    let mut rows = if only_p4 { Vec::new() } else { spiral_rows() };
    rows.extend(p4_rows());
    profile_table(peak, &rows);
    if !only_p4 {
        p1_to_p3(cores, runs);
    }
    p4(cores, runs);
}
