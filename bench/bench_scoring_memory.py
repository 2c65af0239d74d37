"""Peak memory of gradient scoring (sensitivity) on a big model: keras.applications.ResNet50(weights=None) at
224×224×3, the Prune page's sampling (4 batches of 128) or less with --batches. Each measurement runs in a
fresh process, so its peak RSS is its own. Prints figures; asserts nothing.

    .venv/bin/python -m bench.bench_scoring_memory              # ResNet50, 1 batch of 32 (a few minutes)
    .venv/bin/python -m bench.bench_scoring_memory --batches 4 --batch-size 128   # what the Prune page asks for
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
import numpy as np
import keras
from prune_core.methods import criteria, signals as importance
batches, batch_size, budget = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
importance.GRADIENT_BUDGET = budget
model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3), classes=1000)
rng = np.random.default_rng(0)
n = batches * batch_size
x = rng.random((n, 224, 224, 3), dtype=np.float32)
y = rng.integers(0, 1000, n)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
started = time.perf_counter()
scores = criteria.score_many(model, ["sensitivity"], (x, y), batches=batches, batch_size=batch_size)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"peak_mb": peak, "before_mb": before, "seconds": seconds, "layers": len(scores["sensitivity"]),
                  "micro": importance.micro_batch_size((224, 224, 3), batch_size, budget)}))
"""


def measure(batches: int, batch_size: int, budget: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(batches), str(batch_size), str(budget)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    from prune_core.methods.signals import GRADIENT_BUDGET

    print(f"ResNet50 (weights=None) at 224×224×3, sensitivity over {args.batches} × {args.batch_size} examples")
    print(f"{'backward pass':<34}{'peak RSS':>12}{'model + data':>14}{'time':>10}")
    for label, budget in (("micro-batches (the default)", GRADIENT_BUDGET), ("whole batch at once (before)", 1 << 40)):
        started = time.perf_counter()
        try:
            r = measure(args.batches, args.batch_size, budget)
        except subprocess.CalledProcessError as exc:
            print(f"{label:<34}{'failed':>12}  {exc.stderr.strip().splitlines()[-1][:80]}")
            continue
        print(f"{label + ' of ' + str(r['micro']):<34}{r['peak_mb']:>9.0f} MB{r['before_mb']:>11.0f} MB"
              f"{r['seconds']:>8.1f} s   (wall {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
