#!/usr/bin/env bash
# Mutation testing of the core crate with cargo-mutants (from crates.io): each mutant is
# a small deliberate bug (an operator flipped, a return value replaced, a branch deleted);
# the core's own tests must fail on it. Not part of CI: it takes tens of minutes.
#
#   bash scripts/mutants.sh            # the engine, controller, memory, bins, metrics,
#                                      # the plan's choices and the analysis
#   bash scripts/mutants.sh --all      # every file of the core crate (much longer)
#   bash scripts/mutants.sh -- ARGS    # extra cargo-mutants arguments (e.g. --list)
#
# Results land in target/mutants/mutants.out/ (caught.txt, missed.txt, timeout.txt,
# unviable.txt); the summary line is printed at the end. Survivors that are equivalent to
# the original code are listed, with the reason, in .cargo/mutants.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

MUTANTS_VERSION=27.1.0
if [ "$(cargo mutants --version 2>/dev/null || true)" != "cargo-mutants $MUTANTS_VERSION" ]; then
  echo "[mutants] cargo install cargo-mutants $MUTANTS_VERSION (about 2 minutes)"
  cargo install cargo-mutants --version "$MUTANTS_VERSION" --locked --quiet
fi

files=(
  crates/batchlab/src/engine/batch.rs
  crates/batchlab/src/engine/py_heap.rs
  crates/batchlab/src/sla.rs
  crates/batchlab/src/memory.rs
  crates/batchlab/src/bins.rs
  crates/batchlab/src/metrics.rs
  crates/batchlab/src/plan.rs
  crates/batchlab/src/analysis.rs
)
selection=()
if [ "${1:-}" = "--all" ]; then
  shift
else
  for f in "${files[@]}"; do selection+=(--file "$f"); done
fi
[ "${1:-}" = "--" ] && shift

# Only the core's tests run against a core mutant: the CLI, web and GPU crates have
# their own suites (and the GPU one needs an adapter).
mkdir -p target
cargo mutants --package batchlab "${selection[@]}" --output target/mutants --timeout 30 "$@"
