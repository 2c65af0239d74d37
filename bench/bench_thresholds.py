"""Recompute time when a threshold slider moves: scores given → masks + per-layer histograms + sparsity table.

Prints figures (it asserts nothing about time). Two weight sets:
- LeNet-300-100's kernels (784·300 + 300·100 + 100·10 = 266,200 weights);
- a synthetic 25.5M-weight set shaped like ResNet-50's conv and fc kernels (53 convs + fc 2048×1000).

Each variant is timed beside a naive numpy baseline in the same run:
- naive: per layer np.quantile for the threshold, a mask, np.histogram (60 bins), the table;
- fast (slider move): prune_core masks (np.partition for exact counts, max for the coefficient rule)
  + split of histograms binned once per score set + MaskSet.table();
- fast (cold): the same plus binning the histograms (what a new criterion / new scores costs);
- Prune page: masks + the weight-value histograms the page draws (``preview.split_counts``) + the table.

Run: .venv/bin/python bench/bench_thresholds.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from prune_core.methods import masks as mk  # noqa: E402
from prune_core.measure import preview  # noqa: E402

BINS = 60
TARGET_MS = 60.0


def lenet_300_100_shapes() -> dict[str, tuple]:
    return {"dense1": (784, 300), "dense2": (300, 100), "output": (100, 10)}


def resnet50_shapes() -> dict[str, tuple]:
    """Kernel shapes of ResNet-50 (He et al. 2016): conv1, 16 bottleneck blocks (+4 projections), fc."""
    shapes = {"conv1": (7, 7, 3, 64)}
    channels = 64
    for stage, (blocks, mid, out) in enumerate([(3, 64, 256), (4, 128, 512), (6, 256, 1024), (3, 512, 2048)], 2):
        for block in range(blocks):
            name = f"conv{stage}_block{block + 1}"
            if block == 0:
                shapes[f"{name}_0"] = (1, 1, channels, out)
            shapes[f"{name}_1"] = (1, 1, channels if block == 0 else out, mid)
            shapes[f"{name}_2"] = (3, 3, mid, mid)
            shapes[f"{name}_3"] = (1, 1, mid, out)
        channels = out
    shapes["fc"] = (2048, 1000)
    return shapes


def synthetic_scores(shapes: dict[str, tuple], seed: int = 0) -> dict[str, np.ndarray]:
    """|w| of He-normal weights: float32, kernel-shaped, like magnitude scores of a trained net."""
    rng = np.random.default_rng(seed)
    scores = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[:-1]))
        scores[name] = np.abs(rng.standard_normal(shape, dtype=np.float32) * np.float32(np.sqrt(2.0 / fan_in)))
    return scores


def naive(scores: dict[str, np.ndarray], sparsity: float):
    """Per layer: np.quantile threshold, mask, np.histogram of kept and pruned, a table."""
    import pandas as pd

    rows, hists = [], {}
    for name, s in scores.items():
        t = np.quantile(s, sparsity)
        keep = s >= t
        edges = np.histogram_bin_edges(s, bins=BINS)
        hists[name] = (np.histogram(s[keep], bins=edges)[0], np.histogram(s[~keep], bins=edges)[0])
        kept = int(np.count_nonzero(keep))
        rows.append({"layer": name, "kept": kept, "total": s.size, "sparsity": 1 - kept / s.size, "threshold": t})
    return pd.DataFrame(rows), hists


def score_bins(scores):
    """What the Prune page does once per score set: each layer's scores assigned to log-spaced bins."""
    return {name: preview.log_score_bins(s, BINS) for name, s in scores.items()}


def fast(scores, rule, value, scope, histograms=None):
    """prune_core: masks, kept/pruned recount of the score histograms (binning once when ``histograms``
    is None), table."""
    if histograms is None:
        histograms = score_bins(scores)
    mask_set = mk.build_masks(scores, rule, value, scope=scope)
    return mask_set.table(), {n: preview.split_counts(histograms[n], mask_set.kernels[n]) for n in scores}


def best_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * min(times), 1000 * float(np.median(times))


def run(label: str, scores: dict[str, np.ndarray], repeats: int) -> None:
    n = sum(s.size for s in scores.values())
    print(f"\n{label}: {len(scores)} layers, {n:,} weights ({n * 4 / 1e6:.1f} MB float32); "
          f"best / median of {repeats} runs, ms")
    t0 = time.perf_counter()
    hists = score_bins(scores)
    bin_ms = 1000 * (time.perf_counter() - t0)
    print(f"  binning the {BINS}-bin histograms once per score set: {bin_ms:8.1f}")
    naive_best, naive_median = best_ms(lambda: naive(scores, 0.5), repeats)
    print(f"  {'naive (np.quantile per layer, sparsity 0.5)':58s} {naive_best:8.1f} {naive_median:8.1f}")
    cases = [("sparsity", 0.5, "layer"), ("sparsity", 0.5, "global"), ("coefficient", 0.3, "layer"),
             ("coefficient", 0.3, "global"), ("std", 1.0, "layer")]
    for rule, value, scope in cases:
        warm_best, warm_median = best_ms(lambda: fast(scores, rule, value, scope, hists), repeats)
        cold_best, _ = best_ms(lambda: fast(scores, rule, value, scope), max(1, repeats // 2))
        flag = "" if warm_median <= TARGET_MS or n < 1e6 else f"  (over the {TARGET_MS:.0f} ms target)"
        print(f"  {f'fast, slider move: {rule} {value} {scope}':58s} {warm_best:8.1f} {warm_median:8.1f}"
              f"  ×{naive_best / warm_best:5.1f} vs naive (best/best) · cold {cold_best:7.1f}{flag}")
    # What the Prune page draws: weight-value histograms split by any keep mask (not only a threshold on the
    # binned scores), recounted with preview.split_counts over bins assigned once per session.
    binned = {name: preview.bin_values(s, preview.weight_edges(s, BINS)) for name, s in scores.items()}

    def page_move():
        mask_set = mk.build_masks(scores, "coefficient", 0.3)
        return mask_set.table(), {name: preview.split_counts(binned[name], mask_set.kernels[name]) for name in scores}

    page_best, page_median = best_ms(page_move, repeats)
    print(f"  {'Prune page: masks + weight histograms (bincount) + table':58s} {page_best:8.1f} {page_median:8.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs; target: slider move ≤ {TARGET_MS:.0f} ms on 26M weights")
    run("LeNet-300-100", synthetic_scores(lenet_300_100_shapes()), args.repeats)
    run("ResNet-50-shaped", synthetic_scores(resnet50_shapes()), args.repeats)


if __name__ == "__main__":
    main()
