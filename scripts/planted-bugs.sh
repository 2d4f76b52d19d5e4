#!/usr/bin/env bash
# Plant, one at a time, the six one-line bugs that once passed the whole
# suite (issue 11), and check that the unit tests now fail on each.
# Works in a throwaway git worktree of HEAD, building in target/scratch
# (seeded from ./target's dependencies), so only mlpsweep itself recompiles
# (about 20 s a bug on 2 cores).
#
#   bash scripts/planted-bugs.sh        # exit 0: every planted bug was caught
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/scratch-worktree.sh planted

# name | file | exact text | replacement (python string escapes)
bugs=(
  "dropout mask removed from the backward pass|src/engine/pass.rs|mul(&mut da, &ws.mask[l - 1]);|{}"
  "Adam's bias correction frozen at step 1|src/engine/optim.rs|b1.powi(t), 1.0 - b2.powi(t));\\n            let s2|b1.powi(t.min(1)), 1.0 - b2.powi(t.min(1)));\\n            let s2"
  "shard balancing turned into round-robin|src/plan.rs|        load[k] += c;\\n        if k + 1 == i {|        let k = t.index % n;\\n        load[k] += c;\\n        if k + 1 == i {"
  "validation split not standardised|src/data.rs|    if let Some(v) = &mut ds.val {\\n        apply(&mut v.x);\\n    }|"
  "[report] level ignored|src/report/mod.rs|summarise(&trials, &swept, exp.report.level)|summarise(&trials, &swept, 0.95)"
  "L2 applied to the biases too|src/engine/optim.rs|(layer.b_off..shape.unpenalised_end(l), 0.0),|(layer.b_off..shape.unpenalised_end(l), l2),"
)

missed=0
for bug in "${bugs[@]}"; do
  IFS='|' read -r name file from to <<<"$bug"
  git -C "$tree" checkout -- .
  python3 - "$tree/$file" "$from" "$to" <<'EOF'
import sys
path, a, b = sys.argv[1], sys.argv[2].encode().decode("unicode_escape"), sys.argv[3].encode().decode("unicode_escape")
s = open(path).read()
assert s.count(a) == 1, f"{path}: the text to replace occurs {s.count(a)} times: {a!r}"
open(path, "w").write(s.replace(a, b))
EOF
  if ! (cd "$tree" && cargo test --quiet --lib --no-run >/dev/null 2>&1); then
    echo "UNBUILT $name (the plant does not compile: fix this script)"
    missed=$((missed + 1))
  elif (cd "$tree" && cargo test --quiet --lib >/dev/null 2>&1); then
    echo "MISSED  $name"
    missed=$((missed + 1))
  else
    echo "caught  $name"
  fi
done
[ "$missed" -eq 0 ]
