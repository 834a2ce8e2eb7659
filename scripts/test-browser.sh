#!/usr/bin/env bash
# Browser tests: build the site (release) and the CLI, run the wasm tests in headless
# Chromium (wasm-bindgen-test), then the page tests (node --test + playwright-core on
# Debian's chromium; token.test.mjs launches it with and without --enable-unsafe-webgpu:
# the token pass on SwiftShader's WebGPU adapter, and the CPU fallback). Prints one summary line; exits non-zero if anything failed.
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
if [ -f dist/index.html ]; then
  step "page tests" env BATCHLAB_CLI="$PWD/target/debug/batchlab" \
    bash -c 'cd tests/browser && node --test --test-concurrency=1 app.test.mjs token.test.mjs'
fi

echo "browser: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
