# mlpsweep tasks. `just` with no arguments lists them.
# Tests, sweeps and benchmarks share one cargo profile (see Cargo.toml), so
# the candle + polars dependency tree is compiled once.

default:
    @just --list

# The SLURM test skips with a message where no SLURM cluster answers
# (scripts/slurm-local.sh starts one), and fails instead under
# MLPSWEEP_REQUIRE_SLURM=1, which .ci/run sets.
#
# Run every test (unit, integration, doc), then the SLURM test (docs/testing.md)
test:
    cargo test --all-targets
    cargo test --test cluster -- --ignored --nocapture

# Train every trial of a study and write its report: just sweep experiments/depth_vs_width.toml
sweep FILE *ARGS:
    cargo run --quiet -- run {{FILE}} {{ARGS}}

# Show the trials a study expands to, and which are stored: just plan experiments/depth_vs_width.toml
plan FILE *ARGS:
    cargo run --quiet -- plan {{FILE}} {{ARGS}}

# Rebuild a results folder's report without training: just report results/depth_vs_width
report DIR:
    cargo run --quiet -- report {{DIR}}

# Formatting check and lints (clippy compiles the dependency tree once more).
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Run every shipped study (experiments/*.toml) into results/, timing the whole set.
studies:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build --quiet
    start=$(date +%s)
    for f in experiments/*.toml; do
        echo "== $f"
        ./target/debug/mlpsweep run "$f"
    done
    echo "all studies: $(( $(date +%s) - start )) s"

# Benchmarks: the reference sweeps P1 to P4 and a per-step profile (docs/performance.md).
bench:
    cargo run --quiet --example bench

# P4 alone (Fashion-MNIST at 784 inputs: its profile rows and sweep), then the same
# sweep with scikit-learn (pip install --user scikit-learn): just bench-p4 [--runs N]
bench-p4 *ARGS:
    cargo run --quiet --example bench -- p4 {{ARGS}}
    python3 benches/p4_sklearn.py --jobs 1
    python3 benches/p4_sklearn.py --jobs 2

# Plant the six one-line bugs that once passed the suite; each must fail the tests (~2 min).
planted:
    bash scripts/planted-bugs.sh

# Mutation testing of the code that makes numbers (docs/testing.md; ~2 h on 2 cores): just mutants [fused data ...]
mutants *PASSES:
    bash scripts/mutants.sh {{PASSES}}
