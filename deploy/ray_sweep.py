#!/usr/bin/env python3
"""Run a BatchLab sweep on a Ray cluster: one Ray task per shard.

Each task runs `batchlab sweep SPEC --shard I/N` on whichever node Ray gives it and
returns the shard's two files (so nodes need no shared disk, only the `batchlab`
binary at the same path); the driver writes them as shard folders and calls
`batchlab merge`, which checks that the shards belong to the spec and cover it once and
writes exactly the single-machine sweep's files (wall-clock cells aside).

    python3 deploy/ray_sweep.py examples/sweep_continuous_load.toml --shards 8 \\
        --address 127.0.0.1:6379 --batchlab ./target/release/batchlab --out out/ray-sweep

Without --address, Ray starts a local cluster for the run.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import ray

SHARD_FILES = ("sweep_runs.csv", "sweep_shard.json")


@ray.remote
def run_shard(batchlab: str, spec_name: str, spec_text: str, index: int, shards: int) -> dict:
    """One shard on a Ray worker: its files' contents, or the CLI's one-line error."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, os.path.basename(spec_name))
        with open(spec, "w", encoding="utf-8") as f:
            f.write(spec_text)
        out = os.path.join(tmp, "out")
        done = subprocess.run(
            [batchlab, "sweep", spec, "--shard", f"{index}/{shards}", "--threads", "1", "--out", out],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"shard {index}/{shards}: {done.stderr.strip()}")
        files = {}
        for name in SHARD_FILES:
            with open(os.path.join(out, name), encoding="utf-8") as f:
                files[name] = f.read()
        return files


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("spec", help="the sweep's spec (TOML)")
    p.add_argument("--shards", type=int, default=8, help="number of Ray tasks (default 8)")
    p.add_argument("--address", default=None, help="a Ray cluster's address (default: a local one)")
    p.add_argument("--batchlab", default="batchlab", help="the batchlab binary, same path on every node")
    p.add_argument("--out", default="out", help="folder for the merged sweep_runs.csv and sweep_summary.csv")
    args = p.parse_args()
    if args.shards < 1:
        print("error: --shards must be at least 1", file=sys.stderr)
        return 2
    batchlab = os.path.abspath(args.batchlab) if os.path.exists(args.batchlab) else args.batchlab
    with open(args.spec, encoding="utf-8") as f:
        spec_text = f.read()
    ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    tasks = [run_shard.remote(batchlab, args.spec, spec_text, i, args.shards) for i in range(1, args.shards + 1)]
    try:
        results = ray.get(tasks)
    except ray.exceptions.RayTaskError as e:
        print(f"error: {e.cause if hasattr(e, 'cause') else e}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        dirs = []
        for i, files in enumerate(results, start=1):
            d = os.path.join(tmp, f"shard-{i}")
            os.makedirs(d)
            for name, text in files.items():
                with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                    f.write(text)
            dirs.append(d)
        merged = subprocess.run([batchlab, "merge", *dirs, "--out", args.out])
    ray.shutdown()
    return merged.returncode


if __name__ == "__main__":
    sys.exit(main())
