"""All benchmarks behind one entry point (`make bench`): each prints its figures and the command that
reproduces it. Nothing here asserts on time.

    .venv/bin/python -m bench                  # everything (the methods comparison takes the longest)
    .venv/bin/python -m bench --skip methods   # leave some out: thresholds, slider, startup, load, compact, scoring_memory, uploads, deploy, methods, rates
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHES = {
    "thresholds": ["-m", "bench.bench_thresholds"],
    "slider": ["-m", "bench.bench_slider", "--moves", "20"],
    "startup": ["-m", "bench.bench_startup", "--repeats", "3"],
    "load": ["-m", "bench.bench_load", "--sessions", "5", "--seconds", "60"],
    "compact": ["-m", "bench.bench_compact"],
    "scoring_memory": ["-m", "bench.bench_scoring_memory"],
    "uploads": ["-m", "bench.bench_uploads", "--repeats", "3"],
    "deploy": ["bench/bench_deploy.py"],
    "methods": ["bench/bench_methods.py"],
    "rates": ["-m", "bench.bench_rates"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks in bench/.")
    parser.add_argument("--skip", nargs="*", default=[], choices=list(BENCHES))
    args = parser.parse_args()
    for name, command in BENCHES.items():
        if name in args.skip:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, *command])
        print(f"({name}: {time.perf_counter() - started:.0f} s{'' if code == 0 else f', exit {code}'})", flush=True)


if __name__ == "__main__":
    main()
