#!/usr/bin/env bash
# Fuzz the project's input surfaces with cargo-fuzz (libFuzzer) on nightly: every target
# of fuzz/fuzz_targets, or those named, for RUNS executions each (one process, one at a
# time). Prints per target the executions done and PASS or FAIL; exits non-zero if any
# target crashed, timed out or ran out of memory (its input is then in
# fuzz/artifacts/<target>/: fix the bug, then copy the input into
# fuzz/regressions/<target>/, which the stable `cargo test` replays).
#
#   bash scripts/fuzz.sh                      # every target, 10,000,000 runs each
#   RUNS=100000 bash scripts/fuzz.sh trace    # a short run of one target
#
# Settings (environment): RUNS (default 10000000), TIMEOUT_S per input (default 10),
# RSS_MB (default 2048), SANITIZER (default none: the code is safe Rust, and overflow
# checks and debug assertions stay on; `address` is slower). The corpus grows in
# fuzz/corpus/<target>/ (not committed), seeded from fuzz/regressions/<target>/.
set -uo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-10000000}
TIMEOUT_S=${TIMEOUT_S:-10}
RSS_MB=${RSS_MB:-2048}
SANITIZER=${SANITIZER:-none}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked || { echo "cannot install cargo-fuzz"; exit 1; }
rustup run nightly rustc --version >/dev/null 2>&1 || { echo "the nightly toolchain is missing (rustup toolchain install nightly)"; exit 1; }

# Largest input per target (bytes): room for real files' first rows, small enough that
# each execution stays cheap.
max_len() {
  case $1 in
    shard_merge|request) echo 4096 ;;
    sweep_spec) echo 2048 ;;
    *) echo 1024 ;;
  esac
}

# The CSV targets are built without libFuzzer's compare tracing (in their own target
# folder): every CSV import builds a csv-core reader, whose DFA construction under that
# tracing took ~75% of each execution (4,000 exec/s instead of ~20,000). Coverage
# guidance stays; the seeds hold the real header names that tracing would find.
flags() {
  case $1 in
    trace|calibration|iteration_profile|session) echo "-s $SANITIZER -a --no-trace-compares --target-dir fuzz/target/nocmp" ;;
    *) echo "-s $SANITIZER -a" ;;
  esac
}

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi

for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] && { cargo +nightly fuzz build $(flags "$t") "$t" || { echo "fuzz build of $t failed"; exit 1; }; }
done

failed=0
summary=""
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "no fuzz target '$t'"; failed=1; continue; }
  mkdir -p "fuzz/corpus/$t" "fuzz/regressions/$t"
  log="fuzz/target/fuzz-$t.log"
  echo "=== $t: $RUNS runs, max_len $(max_len "$t")"
  started=$(date +%s)
  cargo +nightly fuzz run $(flags "$t") "$t" "fuzz/corpus/$t" "fuzz/regressions/$t" -- \
    -runs="$RUNS" -max_len="$(max_len "$t")" -timeout="$TIMEOUT_S" -rss_limit_mb="$RSS_MB" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  secs=$(( $(date +%s) - started ))
  if [ $rc -eq 0 ] && [ "${execs:-0}" -ge "$RUNS" ]; then
    verdict=PASS
  else
    verdict="FAIL (exit $rc; see $log)"
    failed=1
    grep -E "^==[0-9]+== ERROR|panicked at|deadly signal|timeout|out-of-memory|Test unit written" "$log" | head -5
  fi
  line="$t: ${execs:-0} executions in ${secs} s: $verdict"
  echo "$line"
  summary+="$line"$'\n'
done
printf '=== summary\n%s' "$summary"
exit $failed
