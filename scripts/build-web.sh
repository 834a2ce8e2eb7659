#!/usr/bin/env bash
# Build the static site into dist/ (release, offline): trunk with the pinned
# wasm-bindgen 0.2.130 (see Trunk.toml; no wasm-opt, by measurement). dist/ works under
# any path prefix. Extra arguments go to trunk.
set -euo pipefail
cd "$(dirname "$0")/.."
trunk build --release "$@"
