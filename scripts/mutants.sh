#!/usr/bin/env bash
# Mutation testing of the code that makes numbers (docs/testing.md).
# cargo-mutants mutates one line at a time and runs the unit tests; a mutant
# the tests miss is a one-line bug that would pass `just test`.
#
#   bash scripts/mutants.sh                 # every pass below, about 2 h on 2 cores
#   bash scripts/mutants.sh fused data      # some passes
#   ITERATE=1 bash scripts/mutants.sh fused # retest only what the last run did not catch
#
# It mutates a throwaway git worktree of HEAD in place (so your own tree is
# never touched) and builds in target/scratch, seeded from ./target's
# dependencies, so only mlpsweep recompiles per mutant (5-20 s). Results: target/mutants/<pass>/mutants.out/{caught,missed,
# timeout,unviable}.txt. Needs `cargo install --locked cargo-mutants`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || { echo "install it: cargo install --locked cargo-mutants" >&2; exit 1; }
. scripts/scratch-worktree.sh mutants

# Each pass: a file and the functions in it that compute a number. Left
# out on purpose: time_products (the benchmark's), flush_denormals and
# set_threads (speed only; results are tested not to depend on them), the
# candle op plumbing (any mistake there fails every test), parsing and errors
# (tests/bad_input.rs covers those through the binary).
declare -A passes=(
  [plan]="src/plan.rs Plan::shard"
  [clip]="src/engine/regularise.rs clipped_grad"
  [fused]="src/engine/*.rs update|apply_rule|with_l2|add_l2|clipped_grad|l1_grad|max_norm|forward_backward|gather_targets|output_loss|cross_entropy|backward|activation_grad|activate|forward|draw_mask|row_sums|gather|mul|add_scalar|Fused::weight_sq|evaluate|evaluate_portable|lane_max|LayerSums::add|Score::add|matmul|product_forward|product_weight_grad|product_input_grad|Layer::weights"
  [train]="src/train.rs evaluate|Metrics::is_finite|boundary"
  [epochs]="src/train/epochs.rs train|one_epoch|Run(<[^>]*>)?::(start|initial|resume|epoch|shuffle|telemetry|diverged|finish)"
  [data]="src/data.rs standardize|flip_labels|split_off|spiral|blobs|circles|moons|xor|sine|two_class|linspace|randn|load|draw|generated|table|Split::select"
  [report]="src/report/mod.rs summarise|add_t_intervals"
  [trials]="src/report/trials.rs metric_columns"
  [stuck]="src/report/stuck.rs Stuck::of|Stuck::group"
  [metric]="src/metric.rs Metric::is_accuracy|Metric::higher_is_better"
  [value]="src/train/value.rs TrialRecord::finished|TrialRecord::value|best_val"
  [stats]="src/stats/mod.rs t_interval|quantile|std|mean|median|iqr|percentile_interval|quantile_by_selection|order_key|from_order_key"
  [variance]="src/stats/variance.rs variance_components|bootstrap_components|check|one_factor|parity_sign|resample_cells|Design::new|Design::index|Design::size|Design::marginal_means|Design::mean_squares|Design::terms"
  [robust]="src/stats/robust.rs iqm|stratified_bootstrap"
  [improvement]="src/stats/improvement.rs probability_of_improvement|probability_of_improvement_interval"
  [holm]="src/stats/holm.rs holm"
  [seeds]="src/stats/seeds.rs seeds_needed|seeds_needed_for|z_sum|rounded"
  [model]="src/model.rs Mlp::architecture|count_params|Mlp::forward_all|Mlp::activate|layer_sizes|params_for|Mlp::param_count|Mlp::forward"
  [claims]="src/report/claims.rs judge|statistic|stat_of_sample|sample|all_of"
  [points]="src/report/claims/points.rs best_of|point|seed"
  [slicing]="src/report/claims/slicing.rs slices"
  [trend]="src/report/claims/trend.rs trend|settings_along|spearman_test|spread_test"
  [compare]="src/report/claims/compare.rs compare|bootstrap_difference"
  [identity]="src/identity.rs trial_id|setting_columns|config_fields|data_fields|model_fields|train_fields|label_field|val_field|task_name|data_key|Field::json|Field::write|Field::cell|Field::opt"
  [resolve]="src/study/resolve.rs resolve|read_values|read|check|data|model|train"
  [store]="src/store.rs ResultsDir::read_records|ResultsDir::open_log|same_path|latest"
  [draws]="src/report/draws.rs Wanted::ride|Bootstrapped::of|Bootstrapped::spread|Bootstrapped::profile|same"
  [dodge]="src/report/plot/mod.rs dodge"
  [log]="src/store/log.rs Log::append_all|Files::write"
  [merge]="src/publish/merge.rs union|merge"
  [record]="src/train/record.rs runs|unrun|Columns::of|Columns::points"
  [codec]="src/codec.rs pack|unpack"
  [csv]="src/data/csv_file.rs parse_csv|records|header_names|label_index|read_rows|finite|regression_targets|class_indices"
  [replicates]="src/study/replicates.rs Replication::len|Replication::varying|Replication::replicates|Replication::label|Replicate::source_seed|seed_list|check_sources"
  [decompose]="src/report/variance.rs decompose|columns|term_names|names"
  [preprocess]="src/data/preprocess.rs apply|Fit::of|Fit::transform|symmetric_eigen"
  [schedule]="src/study/spec.rs Schedule::rate"
  [blocks]="src/report/claims/blocks.rs configs|bests|best_of_block|wins|seeds_part|variance|replicates|blocks_needed|seeds_needed|both_needed"
  [gain]="src/report/ensemble_gain.rs bootstrap|gain"
  [arms]="src/study/arms.rs Arms::arm|Arms::grid_points|levels|grid_levels"
  [reference]="src/report/reference.rs best|paired_bootstrap"
)
order=(plan fused train epochs data report trials stuck metric value stats variance robust improvement holm seeds model claims points slicing trend compare identity resolve store draws dodge log merge record codec csv replicates decompose preprocess schedule blocks gain arms reference)
[ $# -gt 0 ] && order=("$@")

for name in "${order[@]}"; do
  read -r file fns <<<"${passes[$name]}"
  echo "== $name: $file ($fns)"
  mkdir -p "$root/target/mutants/$name"
  (cd "$tree" && cargo mutants --in-place --no-shuffle --timeout 60 --build-timeout 600 ${ITERATE:+--iterate} \
    --cargo-test-arg=--lib -o "$root/target/mutants/$name" \
    -f "$file" -F "(in |replace )($fns)( |$)") || true
done
