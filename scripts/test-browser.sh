#!/usr/bin/env bash
# Browser tests: build the site (release) and the CLI, run the wasm tests in headless
# Chromium (wasm-bindgen-test), then the page tests (node --test + playwright-core on
# Debian's chromium; token.test.mjs launches it with and without --enable-unsafe-webgpu:
# the token pass on SwiftShader's WebGPU adapter, and the CPU fallback). Every step
# runs; a step whose input is missing fails rather than being skipped. Prints one
# summary line; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0; failed=0
step() {
  local name=$1; shift
  echo "--- $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "--- $name FAILED"; fi
}

if [ ! -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
step "build site" bash scripts/build-web.sh
# The site without the GPU token pass (no wgpu): token.test.mjs checks its CPU fallback.
step "build CPU-only site" bash scripts/build-web.sh --no-default-features --dist target/dist-cpu
step "build CLI" cargo build --locked -p batchlab-cli
# wasm32 tests (tests/wasm_same_numbers.rs): the core in Chromium gives the bytes the
# native CLI writes into target/wasm-golden.
wasm_tests() {
  local cli=$PWD/target/debug/batchlab golden=$PWD/target/wasm-golden s
  rm -rf "$golden" && mkdir -p "$golden" || return 1
  for s in static_fifo dynamic_no_bins multi_bin_dynamic multi_bin_fixed; do
    $cli run --preset paper --requests 3000 --gpus 2 --k 4 --seed 11 --scheduler $s --out "$golden/paper-$s" >/dev/null || return 1
  done
  $cli run --preset compat --requests 3000 --gpus 2 --k 4 --seed 11 --scheduler multi_bin_dynamic \
    --out "$golden/compat-multi_bin_dynamic" >/dev/null || return 1
  (cd tests/browser/fixtures && $cli run --trace burstgpt_sample.csv --requests 1000 --gpus 2 \
    --real-timestamps --predictor oracle --out "$golden/trace" >/dev/null) || return 1
  $cli stress --preset paper --max-requests 2000 --max-gpus 4 --seed 3 --out "$golden/plan" >/dev/null 2>&1 || return 1
  BATCHLAB_GOLDEN="$golden" CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=300 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test --locked -p batchlab-web --target wasm32-unknown-unknown --test wasm_same_numbers
}
step "wasm tests" wasm_tests
# Page tests. They always run: a build they need that is missing (its step failed
# above) fails this step too, and so does any test node reports as skipped or todo,
# so a suite that did not run can never pass as "ok".
page_tests() {
  local f tap rc=0 cli=$PWD/target/debug/batchlab
  for f in dist/index.html target/dist-cpu/index.html target/debug/batchlab; do
    [ -e "$f" ] || { echo "missing $f (its build failed): the page tests cannot run"; return 1; }
  done
  tap=$(mktemp) || return 1
  (cd tests/browser && BATCHLAB_CLI="$cli" node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$tap" \
    app.test.mjs token.test.mjs learn.test.mjs layout.test.mjs defects.test.mjs timeline.test.mjs worker-death.test.mjs rate.test.mjs plan-published.test.mjs bigfile.test.mjs) || rc=1
  # node counts skipped tests in "# skipped N", but a skipped describe only as a
  # "# SKIP" directive on its line: check both.
  if ! grep -qx '# skipped 0' "$tap" || ! grep -qx '# todo 0' "$tap" || grep -qE '^ *(not )?ok [0-9]+ .*# (SKIP|TODO)' "$tap"; then
    echo "page tests: some tests did not run:"
    grep -E '^ *(not )?ok [0-9]+ .*# (SKIP|TODO)|^# (tests|pass|fail|skipped|todo) ' "$tap"; rc=1
  fi
  rm -f "$tap"
  return $rc
}
step "page tests" page_tests

echo "browser: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
