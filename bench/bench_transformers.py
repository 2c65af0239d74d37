"""Pruning a transformer: ViT-tiny (2 blocks, 4 heads each, 70,922 parameters) on the bundled MNIST digits.

1. Attention heads removed (magnitude head scores, the same share per attention layer): 0, 25, 50, 75% —
   test accuracy right after pruning and after 1 fine-tune epoch (removed heads held at zero), and the
   compact model (fewer heads, rebuilt): parameters and CPU latency against dense.
2. Weight sparsity 50, 80, 90% per kernel — every kernel this library covers (attention projections, the
   patchify Conv, the feed-forward Dense, the classifier) against Dense/Conv only (the attention kernels left
   whole, as the library did before it covered them): the share of ALL parameters zeroed (the honest
   denominator), test accuracy after pruning and after 1 fine-tune epoch.

Training: 5 epochs, batch 64, Adam 2e-3, seed 0; fine-tuning: 1 epoch, batch 64, Adam 1e-3, seed 0.
Prints figures, asserts nothing. Run (about 4-6 minutes on 2 cores):
    .venv/bin/python bench/bench_transformers.py
    .venv/bin/python bench/bench_transformers.py --epochs 3 --repeats 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def dense_only(mask_set, model):
    """``mask_set`` with every kernel outside Dense/Conv layers kept whole (what a Dense/Conv-only run prunes)."""
    from dataclasses import replace

    from prune_core import graph

    prunable = {layer.name for layer in graph.layers(model) if graph.kind(layer) == "prunable"}
    kernels = {k: (m if k in prunable else np.ones_like(m)) for k, m in mask_set.kernels.items()}
    return replace(mask_set, kernels=kernels)


def zeroed_share(model, mask_set) -> float:
    """Share of ALL the model's parameters the masks zero."""
    removed = sum(int((~m).sum()) for m in mask_set.kernels.values())
    removed += sum(int((~m).sum()) for weights in mask_set.extra.values() for m in weights.values())
    return removed / model.count_params()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs of the dense ViT-tiny")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per latency figure")
    args = parser.parse_args()

    import prune_core as pc
    from prune_core.io.data import load_dataset
    from prune_core.measure.metrics import evaluate, latency_ms
    from prune_core.train import fit, models

    ds = load_dataset("bundled")
    x, y, xt, yt = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    print(f"data: {ds.description}")
    model = models.build_model("vit-tiny", ds.input_shape, ds.num_classes, seed=0)
    started = time.perf_counter()
    model, _ = fit.train_model(model, ds, epochs=args.epochs, batch_size=64, learning_rate=2e-3, seed=0)
    dense_acc = evaluate(model, xt, yt).accuracy
    print(f"ViT-tiny: {model.count_params():,} parameters, trained {args.epochs} epochs in "
          f"{time.perf_counter() - started:.0f} s → test accuracy {dense_acc:.2%}")
    print(pc.coverage_sentence(pc.coverage(model)))

    def tuned_accuracy(mask_set) -> float:
        tuned, _ = pc.fine_tune(model, mask_set, x, y, epochs=1, batch_size=64, seed=0)
        return evaluate(tuned, xt, yt).accuracy

    print("\n## Attention heads removed (same share per layer; 2 layers × 4 heads)")
    print(f"{'heads removed':>14} {'after pruning':>14} {'+1 epoch':>9} {'params':>8} {'latency ms':>11} "
          f"{'× dense':>8}")
    dense_ms = latency_ms(model, xt[:256], batch_size=256, repeats=args.repeats)
    for share in (0.0, 0.25, 0.5, 0.75):
        spec = pc.PruneSpec(criterion="magnitude", granularity="head", rule="sparsity", value=share)
        result = pc.prune(model, spec)
        pruned = evaluate(result.model, xt, yt).accuracy
        tuned = tuned_accuracy(result.masks)
        small = pc.compact(model, result.masks)
        ms = latency_ms(small, xt[:256], batch_size=256, repeats=args.repeats)
        removed = sum(int((~keep).sum()) for keep in result.masks.heads.values())
        print(f"{removed:>5} of 8 ({share:>4.0%}) {pruned:>14.2%} {tuned:>9.2%} {small.count_params():>8,} "
              f"{ms:>11.2f} {ms / dense_ms:>8.2f}")
    print(f"dense latency: {dense_ms:.2f} ms per batch of 256 (median of {args.repeats})")

    print("\n## Weight sparsity per kernel: every kernel vs Dense/Conv only")
    print(f"{'target':>7} {'kernels':>15} {'zeroed of all params':>21} {'after pruning':>14} {'+1 epoch':>9}")
    for target in (0.5, 0.8, 0.9):
        every = pc.prune(model, pc.PruneSpec(criterion="magnitude", rule="sparsity", value=target)).masks
        for label, masks in (("every kernel", every), ("Dense/Conv only", dense_only(every, model))):
            pruned = evaluate(pc.apply_masks(model, masks), xt, yt).accuracy
            print(f"{target:>7.0%} {label:>15} {zeroed_share(model, masks):>21.1%} {pruned:>14.2%} "
                  f"{tuned_accuracy(masks):>9.2%}")


if __name__ == "__main__":
    main()
