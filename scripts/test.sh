#!/usr/bin/env bash
# Every test of the project: set-up, native Rust tests (core, CLI, web logic, GPU on
# lavapipe, the CLI built without the GPU crate),
# then the browser tests in headless Chromium. Exits non-zero if any suite fails.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; exit 1; }

passed=0; failed=0
suite() {
  local name=$1; shift
  echo "=== $name: $*"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "=== $name FAILED"; fi
}

suite rust cargo test --locked
# The CLI without the GPU crate (no wgpu): the CPU token pass alone must work.
suite cli-without-gpu cargo test --locked -p batchlab-cli --no-default-features
[ -x scripts/test-browser.sh ] && suite browser bash scripts/test-browser.sh

echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
