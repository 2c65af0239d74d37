"""Global ranking of whole channels across groups of different sizes (issue 24): for global 50% of channels by
magnitude on a real architecture (keras.applications ResNet50, weights=None, 32×32 inputs, 10 classes), how many
groups end under 10% of their channels kept, the smallest share kept, and the share of channels actually removed —
for each normalisation × floor. Structural figures: random initial weights suffice (He init makes a filter's L1 norm
grow with its fan-in, which is exactly what skews a raw global ranking).

    python -m bench.bench_global_units [--model resnet50|mobilenetv2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def build(name: str):
    import keras

    keras.utils.set_random_seed(0)
    if name == "mobilenetv2":
        return keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=10)
    return keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)


def main(argv=None) -> None:
    import prune_core as pc

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("resnet50", "mobilenetv2"), default="resnet50")
    parser.add_argument("--sparsity", type=float, default=0.5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = build(args.model)
    groups = pc.graph.dependency_groups(model)
    scores = pc.CRITERIA["magnitude"].scores_from_kernels(pc.graph.kernels(model))
    print(f"{args.model}: {model.count_params():,} parameters, {len(groups)} groups, built and walked in "
          f"{time.perf_counter() - started:.1f} s; global {args.sparsity:.0%} of channels by magnitude")
    print(f"{'normalize':<10}{'floor':>7}{'groups < 10% kept':>20}{'smallest kept':>15}{'channels removed':>18}")
    for normalize in ("none", "mean", "max", "sum"):
        for floor in (0.0, 0.1):
            spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", scope="global",
                                value=args.sparsity, normalize=normalize, min_keep=floor)
            masks = pc.select(model, spec, scores, groups=groups)
            shares = np.array([float(np.mean(u)) for u in masks.units.values()])
            kept, total = masks.unit_counts
            print(f"{normalize:<10}{floor:>7.0%}{int((shares < 0.1).sum()):>12} of {len(shares):<5}"
                  f"{shares.min():>15.1%}{1 - kept / total:>18.1%}")


if __name__ == "__main__":
    main()
