"""Past one machine and on every backend (issue 22): sweeps and scans in-process vs on Ray, one run per backend.

1. A criteria sweep — 4 criteria × 4 sparsities, 1 fine-tune epoch — on the shipped LeNet-300-100 and the bundled
   digits: wall time in this process vs on a local Ray with 2 workers (``num_cpus=1`` each), Ray's start-up apart,
   and whether the numbers are the same.
2. A per-layer sensitivity scan of ResNet-50 (32×32, 10 classes, random weights; 256 test images) — every kernel ×
   5 sparsities: in-process vs Ray (``--scan-layers N`` scans the first N kernels only).
3. The same one-shot run (magnitude, 90% global, 1 fine-tune epoch, LeNet-300-100 from the shipped baseline) under
   KERAS_BACKEND=tensorflow, jax and torch, each in a fresh process: wall time and final accuracy side by side.

    .venv/bin/python -m bench.bench_scale [--scan-layers 54]      # needs Ray: pip install 'prune-core[ray]'
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench.common import ROOT

CRITERIA = ["magnitude", "taylor", "wanda", "random"]
SPARSITIES = [0.5, 0.8, 0.9, 0.95]
SCAN_SPARSITIES = (0.1, 0.3, 0.5, 0.7, 0.9)

ONE_SHOT = """
import json, time
import keras, prune_core as pc
from prune_core.io import data
ds = data.load_dataset("bundled")
model = keras.saving.load_model(data.asset("baseline-lenet-300-100.keras"), safe_mode=True, compile=False)
started = time.perf_counter()
masks = pc.select(model, pc.PruneSpec(rule="sparsity", scope="global", value=0.9))
result = pc.run_oneshot(model, masks, ds, epochs=1, latency_repeats=3)
print(json.dumps({"seconds": time.perf_counter() - started, "pruned": result.pruned_accuracy,
                  "final": result.final_accuracy, "sparsity": result.sparsity}))
"""


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def sweep_figures(runner) -> None:
    import keras

    from prune_core.experiments import sweeps
    from prune_core.io import data

    ds = data.load_dataset("bundled")
    model = keras.saving.load_model(data.asset("baseline-lenet-300-100.keras"), safe_mode=True, compile=False)
    here, local_s = timed(lambda: sweeps.criteria_sweep(model, ds, CRITERIA, SPARSITIES, 1))
    there, ray_s = timed(lambda: sweeps.criteria_sweep(model, ds, CRITERIA, SPARSITIES, 1, executor=runner))
    columns = ["criterion", "sparsity", "pruned_accuracy", "final_accuracy", "held_sparsity"]
    same = here[columns].equals(there[columns])
    print(f"sweep {len(CRITERIA)} criteria × {len(SPARSITIES)} sparsities, 1 epoch, LeNet-300-100: in-process "
          f"{local_s:.1f} s, Ray 2 workers {ray_s:.1f} s → {ray_s / local_s:.2f}× (goal ≤ 0.65×); same numbers: {same}")


def scan_figures(runner, layers: int) -> None:
    import keras
    import numpy as np

    from prune_core.experiments import sweeps
    from prune_core.graph import weight_targets

    model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
    rng = np.random.default_rng(0)
    x, y = rng.random((256, 32, 32, 3), dtype=np.float32), rng.integers(0, 10, 256)
    names = [t.key for t in weight_targets(model)][:layers]
    here, local_s = timed(lambda: sweeps.layer_sensitivity(model, x, y, SCAN_SPARSITIES, layers=names))
    there, ray_s = timed(lambda: sweeps.layer_sensitivity(model, x, y, SCAN_SPARSITIES, layers=names,
                                                          executor=runner))
    same = here.equals(there)
    print(f"sensitivity scan ResNet-50 32×32, {len(names)} layers × {len(SCAN_SPARSITIES)} sparsities on 256 images: "
          f"in-process {local_s:.1f} s, Ray 2 workers {ray_s:.1f} s → {ray_s / local_s:.2f}×; same numbers: {same}")


def backend_figures() -> None:
    rows = []
    for backend in ("tensorflow", "jax", "torch"):
        out = subprocess.run([sys.executable, "-c", ONE_SHOT], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"})
        if out.returncode:
            rows.append(f"  {backend:<11} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(f"  {backend:<11} {r['seconds']:6.1f} s   pruned {r['pruned']:.2%} → final {r['final']:.2%} "
                    f"at {r['sparsity']:.2%} sparsity")
    print("one-shot, LeNet-300-100 shipped baseline, magnitude 90% global, 1 epoch, per backend (fresh process):")
    print("\n".join(rows))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan-layers", type=int, default=54)
    parser.add_argument("--only", choices=("sweep", "scan", "backends"), default=None)
    args = parser.parse_args(argv)
    from prune_core.experiments.executor import RayExecutor

    runner = RayExecutor(local_cpus=2)
    if args.only in (None, "sweep", "scan"):
        _, start_s = timed(runner.start)
        print(f"local Ray with 2 workers started in {start_s:.1f} s (not counted below)")
    if args.only in (None, "sweep"):
        sweep_figures(runner)
    if args.only in (None, "scan"):
        scan_figures(runner, args.scan_layers)
    if args.only in (None, "backends"):
        backend_figures()


if __name__ == "__main__":
    main()
