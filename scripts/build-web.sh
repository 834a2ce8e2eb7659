#!/usr/bin/env bash
# Build the static site into dist/ (release, offline): trunk with the pinned
# wasm-bindgen 0.2.130 (see Trunk.toml; no wasm-opt, by measurement). dist/ works under
# any path prefix. Extra arguments go to trunk.
set -euo pipefail
cd "$(dirname "$0")/.."
# The commit goes into the page's reproducibility stamp (src/stamp.rs).
BATCHLAB_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export BATCHLAB_COMMIT
trunk build --release "$@"
