#!/usr/bin/env bash
# The Ray driver (deploy/ray_sweep.py) on a real local Ray cluster, head node on
# loopback: the example sweep run as 4 Ray tasks and merged must equal the sweep run on
# this machine alone, byte for byte (wall-clock cells aside). Ray comes from
# scripts/setup.sh (.venv-ray).
set -euo pipefail
cd "$(dirname "$0")/.."
ray=.venv-ray/bin/ray
[ -x "$ray" ] || { echo "test-ray: $ray missing: run scripts/setup.sh"; exit 1; }
cargo build --release --locked -p batchlab-cli --quiet
bin=$PWD/target/release/batchlab
spec=examples/sweep_continuous_load.toml
tmp=$(mktemp -d)
port=6390
cleanup() { "$ray" stop --force >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
export RAY_USAGE_STATS_ENABLED=0
"$ray" start --head --node-ip-address=127.0.0.1 --port=$port --num-cpus=2 --include-dashboard=false --disable-usage-stats >"$tmp/ray-start.log" 2>&1 \
  || { cat "$tmp/ray-start.log"; exit 1; }
"$bin" sweep "$spec" --out "$tmp/whole" >/dev/null
.venv-ray/bin/python deploy/ray_sweep.py "$spec" --shards 4 --address 127.0.0.1:$port --batchlab "$bin" --out "$tmp/ray"
python3 - "$tmp/whole" "$tmp/ray" <<'PY'
import sys
whole, ray = sys.argv[1], sys.argv[2]
def runs(d):  # the runs CSV without its last column (wall_time_s)
    return [line.rsplit(",", 1)[0] for line in open(f"{d}/sweep_runs.csv", encoding="utf-8").read().splitlines()]
a, b = runs(whole), runs(ray)
assert len(a) == 25, f"{len(a)} lines"
assert a == b, "the Ray sweep's runs differ from the single machine's"
assert open(f"{whole}/sweep_summary.csv").read() == open(f"{ray}/sweep_summary.csv").read(), "summaries differ"
print(f"test-ray: the Ray sweep ({len(a) - 1} runs in 4 tasks) equals the single-machine sweep")
PY
