#!/usr/bin/env bash
# The native counterpart of the main job: set up, then run the full 34-run stress plan
# (paper preset, synthetic BurstGPT-like workload) natively and write its 4 CSVs and
# analysis JSON into out/. Extra arguments go to `batchlab stress`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p batchlab-cli
./target/release/batchlab stress --out out "$@"
