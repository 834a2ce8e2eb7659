#!/usr/bin/env bash
# Build the static site into dist/ (release, offline): trunk with the pinned
# wasm-bindgen 0.2.130 and wasm-opt 132 (binaryen from npm, tests/browser/node_modules;
# Debian's older binaryen breaks the page). dist/ works under any path prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x tests/browser/node_modules/.bin/wasm-opt ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
export PATH="$PWD/tests/browser/node_modules/.bin:$PATH"
trunk build --release "$@"
