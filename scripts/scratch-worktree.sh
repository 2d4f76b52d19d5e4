# Sourced by planted-bugs.sh and mutants.sh, from the repository root:
# a throwaway git worktree of HEAD in $tree (removed on exit), built in a
# target dir of its own, seeded once from ./target's dependencies so only
# mlpsweep recompiles. Never ./target itself: cargo's dep-info paths are
# relative to the package, so a mutant built there from the worktree would
# look up to date to a later `cargo test` in your tree, which would then
# run the mutant.
root=$PWD
tree=$(mktemp -d "/tmp/mlpsweep-$1.XXXXXX")
trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
git worktree add --detach --force "$tree" HEAD >/dev/null
export CARGO_TARGET_DIR="$root/target/scratch"
if [ ! -d "$CARGO_TARGET_DIR/debug" ] && [ -d "$root/target/debug" ]; then
    mkdir -p "$CARGO_TARGET_DIR" && cp -a "$root/target/debug" "$CARGO_TARGET_DIR/"
fi
