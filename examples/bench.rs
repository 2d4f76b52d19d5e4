//! `just bench`: the reference sweeps of docs/performance.md and a
//! per-step profile. Timings are printed, never asserted.
//!
//! P1 and P2 run through the same code as `mlpsweep run` (a temporary
//! results folder, the full report at the end), so the figures are what a
//! user sees. FLOPs count the three matrix products per layer and step
//! (forward, dW, dA): 6 · batch · Σ fan_in · columns.

use std::path::Path;
use std::time::Instant;

use mlpsweep::{data, experiment, fused::Fused, model::Mlp, plan::Plan, schedule};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn flops(plan: &Plan, n_rows: usize, n_in: usize, n_out: usize) -> f64 {
    plan.trials
        .iter()
        .map(|t| {
            // Multiply-adds per row and pass = the number of weights.
            let macs = mlpsweep::model::params_for(&t.config.model, n_in, n_out).weights;
            6.0 * macs as f64 * n_rows as f64 * t.config.train.epochs as f64
        })
        .sum()
}

fn sweep(file: &str, jobs: usize) -> (f64, usize, f64) {
    let exp = experiment::load(Path::new(file), &[]).expect("bench study loads");
    let plan = Plan::new(&exp).expect("bench plan");
    let ds = schedule::load_data(&exp, &plan).expect("bench data");
    let d = schedule::data_for(&ds, &plan.trials[0]);
    let total = flops(&plan, d.train.len(), d.n_features, d.n_outputs);
    let out = tempfile_dir();
    let opts = schedule::RunOptions {
        jobs,
        out: out.clone(),
        quiet: true,
        fresh: false,
        fail_fast: false,
        shard: None,
    };
    let t0 = Instant::now();
    schedule::run(&exp, &plan, &opts).expect("bench run");
    let secs = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    (secs, plan.len(), total)
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

/// µs per fused training step for one shape.
fn step_us(depth: usize, width: usize, batch: usize, points_per_class: usize) -> (f64, f64) {
    let src = format!(
        "name = \"s\"\n[data]\npoints_per_class = {points_per_class}\nval = \"none\"\n[model]\ndepth = {depth}\nwidth = {width}\n[train]\nbatch_size = {batch}\nl2 = 1e-3\n"
    );
    let e = experiment::from_str(&src, Path::new("s.toml"), &[]).unwrap();
    let cfg = e.config_at(&e.coords(0)).unwrap();
    let ds = data::load(&cfg.data).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let model = Mlp::new(&cfg.model, ds.n_features, ds.n_outputs, &mut rng).unwrap();
    let mut fused = Fused::new(&model, &cfg.train, &ds.train).unwrap();
    let rows: Vec<u32> = (0..batch as u32).collect();
    for _ in 0..20 {
        fused.step(&rows, &mut rng).unwrap();
    }
    let n = (2_000_000 / (batch * width * width.max(8) * depth).max(1)).clamp(20, 5000);
    let t0 = Instant::now();
    for _ in 0..n {
        fused.step(&rows, &mut rng).unwrap();
    }
    let us = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    let sizes = mlpsweep::model::layer_sizes(2, &cfg.model, 3);
    let macs: usize = (1..sizes.len()).map(|l| sizes[l - 1] * sizes[l]).sum();
    let gflops = 6.0 * macs as f64 * batch as f64 / (us * 1e3);
    (us, gflops)
}

fn main() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("mlpsweep bench: {cores} cores, one trial per core, each single-threaded\n");
    println!("per-step profile (fused step: gather, forward, loss, backward, update)");
    println!("| shape (depth x width) | batch | µs/step | GFLOP/s |");
    println!("|---|---:|---:|---:|");
    for (depth, width, batch, ppc) in [
        (1, 8, 64, 100),
        (2, 32, 64, 100),
        (3, 128, 64, 100),
        (2, 1024, 256, 2000),
    ] {
        let (us, gf) = step_us(depth, width, batch, ppc);
        println!("| {depth} x {width} | {batch} | {us:.1} | {gf:.1} |");
    }
    println!();
    for jobs in [1, cores] {
        let (secs, n, total) = sweep("benches/p1.toml", jobs);
        println!(
            "P1 (72 small nets, 1000 steps each), --jobs {jobs}: {secs:.2} s, {:.1} trials/s, {:.1} GFLOP/s",
            n as f64 / secs,
            total / secs / 1e9
        );
    }
    let (secs, _, total) = sweep("benches/p2.toml", cores);
    println!(
        "P2 (2 x [2 x 1024] nets, 470 steps each), --jobs {cores}: {secs:.2} s, {:.1} GFLOP/s",
        total / secs / 1e9
    );
}
