"""Hostile uploads: how fast each is refused and how much this (server-like) process grows meanwhile, and
what isolation costs a good upload.

    .venv/bin/python -m bench.bench_uploads [--repeats 3]

Prints one row per hostile file of tests/badfiles.py (file size, seconds to the refusal, peak RSS growth of
this process in MB — VmHWM reset before each — and the start of the message), then the cost of validating a
good model in the isolated child: load with and without isolation (medians), the fork server's start.
Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import time

from prune_core.io import safe_load as loading
from prune_core.io.safe_load import tempfiles
from tests import badfiles


def _vm(pid: int | str = "self", field: str = "VmRSS") -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def refusals() -> None:
    rows = badfiles.measure_refusals(badfiles.hostile_cases() + badfiles.last_line_cases())
    print(f"{'file':38s} {'size':>9s} {'seconds':>8s} {'RSS +MB':>8s}  message")
    for row in rows:
        ok = row["message"] is not None and row["expected"] in row["message"]
        text = (row["message"] or "LOADED (not refused)")[:110]
        print(f"{row['id']:38s} {row['file_kb']:7.1f}KB {row['seconds']:8.3f} {row['rss_growth_mb']:8.1f}  "
              f"{'' if ok else '!! '}{text}")
    print(f"worst: {max(r['seconds'] for r in rows):.2f} s, {max(r['rss_growth_mb'] for r in rows):.0f} MB")


def isolation_cost(repeats: int) -> None:
    import keras

    started = time.perf_counter()
    loading.load_model_file(badfiles.models()["mlp.keras"], "mlp.keras")
    print(f"\nfirst isolated load (starts the fork server, which imports Keras): {time.perf_counter() - started:.2f} s")
    import multiprocessing.forkserver as fs

    pid = getattr(fs._forkserver, "_forkserver_pid", None)
    if pid:
        print(f"fork server resident memory: {_vm(pid):.0f} MB (VmRSS)")
    mobilenet = keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)
    resnet = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)
    files = {"conv.keras (8 k params)": badfiles.models()["conv.keras"],
             "MobileNetV2 0.35 (0.4 M)": badfiles.save_bytes(mobilenet, ".keras"),
             "ResNet50 (23.6 M, 94 MB)": badfiles.save_bytes(resnet, ".keras")}
    print(f"{'model':28s} {'static checks':>14s} {'in-server load':>15s} {'isolated + load':>16s} {'child peak':>11s}")
    for name, blob in files.items():
        static, plain, isolated, peaks = [], [], [], []
        for _ in range(repeats):
            t = time.perf_counter()
            loading.check_model_bytes(blob, "m.keras")
            static.append(time.perf_counter() - t)
            t = time.perf_counter()
            loading.load_model_file(blob, "m.keras", isolate=False)
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            loading.load_model_file(blob, "m.keras", isolate=True)
            isolated.append(time.perf_counter() - t)
            path = tempfiles._write_upload(blob, ".keras")
            try:
                peaks.append(loading.validate_isolated(path, "m.keras", len(blob))["peak_mb"])
            finally:
                tempfiles._remove(path)
        print(f"{name:28s} {statistics.median(static):13.2f}s {statistics.median(plain):14.2f}s "
              f"{statistics.median(isolated):15.2f}s {statistics.median(peaks):9.0f}MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    refusals()
    isolation_cost(args.repeats)
    print("\nreproduce: .venv/bin/python -m bench.bench_uploads --repeats", args.repeats)


if __name__ == "__main__":
    main()
