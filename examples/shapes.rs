use mlpsweep::{data, experiment, fused::Fused, model::Mlp};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::Instant;
fn main() {
    for (depth, width) in [
        (1usize, 128usize),
        (2, 128),
        (3, 128),
        (3, 64),
        (3, 96),
        (3, 127),
        (3, 129),
        (2, 256),
    ] {
        let src = format!(
            "name = \"s\"\n[data]\nval = \"none\"\n[model]\ndepth = {depth}\nwidth = {width}\n[train]\nbatch_size = 64\n"
        );
        let e = experiment::from_str(&src, Path::new("s.toml"), &[]).unwrap();
        let cfg = e.config_at(&e.coords(0)).unwrap();
        let ds = data::load(&cfg.data).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let model = Mlp::new(&cfg.model, ds.n_features, ds.n_outputs, &mut rng).unwrap();
        let mut f = Fused::new(&model, &cfg.train, &ds.train).unwrap();
        let rows: Vec<u32> = (0..64).collect();
        for _ in 0..50 {
            f.step(&rows, &mut rng).unwrap();
        }
        let t0 = Instant::now();
        for _ in 0..500 {
            f.step(&rows, &mut rng).unwrap();
        }
        println!(
            "{depth}x{width}: {:.1} us/step",
            t0.elapsed().as_secs_f64() * 1e6 / 500.0
        );
    }
}
