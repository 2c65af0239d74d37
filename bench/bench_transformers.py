"""Pruning a transformer: ViT-tiny (2 blocks, 4 heads each, 70,922 parameters) on the bundled MNIST digits.

1. Attention heads removed (magnitude head scores, the same share per attention layer): 0, 25, 50, 75% —
   test accuracy right after pruning and after 1 fine-tune epoch (removed heads held at zero), and the
   compact model (fewer heads, rebuilt): parameters and CPU latency against dense.
2. Weight sparsity 50, 80, 90% per kernel — every kernel this library covers (attention projections, the
   patchify Conv, the feed-forward Dense, the classifier) against Dense/Conv only (the attention kernels left
   whole, as the library did before it covered them): the share of ALL parameters zeroed (the honest
   denominator), test accuracy after pruning and after 1 fine-tune epoch.

3. Compact ViT-tiny at 50% heads + 50% FFN neurons (heads removed, then each FFN's hidden neurons): parameters,
   multiply-adds and CPU latency (batch 32) against dense.
4. Streams mode: 25 / 50% of the residual stream's 64 channels removed (patchify, both attention outputs, both FFN
   outputs and every LayerNorm together): the compact model's accuracy (the truth in this mode), after 1
   fine-tune epoch of the compact model, parameters and latency.
5. keras.applications.ConvNeXtTiny(weights=None) at 224×224 (untrained: sizes and speed only): 50% of the channels
   of every group in streams mode (each stage's stream, each block's expansion), compact vs dense: parameters,
   multiply-adds and CPU latency (batch 32; ``--skip-convnext`` skips it).

Training: 5 epochs, batch 64, Adam 2e-3, seed 0; fine-tuning: 1 epoch, batch 64, Adam 1e-3, seed 0.
Prints figures, asserts nothing. Run (about 8-12 minutes on 2 cores):
    .venv/bin/python bench/bench_transformers.py
    .venv/bin/python bench/bench_transformers.py --epochs 3 --repeats 10 --skip-convnext
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


def multiply_adds(model) -> int:
    """Multiply-adds of one example, counted from the layers' shapes: every Dense/Conv kernel once per output
    position (a grouped conv's kernel holds its input group only), attention's four projections once per token and
    its two matmuls (heads × queries × keys × (key_dim + value_dim)). Elementwise work (norms, activations, adds,
    pooling) is not counted."""
    from prune_core import graph

    total = 0
    for layer in graph.layers(model):
        cls = type(layer).__name__
        if cls == "MultiHeadAttention":
            inputs = layer._inbound_nodes[0].input_tensors
            queries, keys = int(inputs[0].shape[1]), int(inputs[1].shape[1])
            total += queries * int(np.prod(layer._query_dense.kernel.shape))
            total += keys * int(np.prod(layer._key_dense.kernel.shape) + np.prod(layer._value_dense.kernel.shape))
            total += queries * int(np.prod(layer._output_dense.kernel.shape))
            total += layer.num_heads * queries * keys * (layer.key_dim + layer.value_dim)
        elif cls in ("Dense", "Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D"):
            total += int(np.prod(layer.output.shape[1:-1])) * int(np.prod(layer.kernel.shape))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs of the dense ViT-tiny")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per latency figure")
    parser.add_argument("--skip-convnext", action="store_true", help="skip ConvNeXtTiny at 224×224")
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

    batch = xt[:32]
    print("\n## Compact ViT-tiny: 50% heads + 50% FFN neurons (batch 32)")
    heads = pc.prune(model, pc.PruneSpec(criterion="magnitude", granularity="head", rule="sparsity", value=0.5))
    fewer_heads = pc.compact(model, heads.masks)
    ffn = {g.name: 0.5 for g in pc.graph.dependency_groups(fewer_heads) if g.prunable and g.name.endswith("_up")}
    units = pc.prune(fewer_heads, pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", value=0.0,
                                               per_layer=ffn))
    small = pc.compact(fewer_heads, units.masks)
    print(f"{'model':>24} {'params':>8} {'mult-adds':>10} {'latency ms':>11} {'accuracy':>9}")
    for label, m in (("dense", model), ("50% heads + 50% FFN", small)):
        print(f"{label:>24} {m.count_params():>8,} {multiply_adds(m):>10,} "
              f"{latency_ms(m, batch, batch_size=32, repeats=args.repeats):>11.2f} {evaluate(m, xt, yt).accuracy:>9.2%}")

    print("\n## Streams mode: channels of the residual stream removed (compact model; batch 32 latency)")
    print(f"{'removed':>8} {'compact acc':>12} {'+1 epoch':>9} {'params':>8} {'mult-adds':>10} {'latency ms':>11}")
    for share in (0.25, 0.5):
        spec = pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", value=0.0,
                            per_layer={"patchify": share}, streams=True)
        mask_set = pc.select(model, spec)
        run = pc.run_oneshot(model, mask_set, ds, epochs=1, batch_size=64, seed=0, latency_repeats=args.repeats)
        small = run.model
        print(f"{share:>8.0%} {run.pruned_accuracy:>12.2%} {run.final_accuracy:>9.2%} {small.count_params():>8,} "
              f"{multiply_adds(small):>10,} {latency_ms(small, batch, batch_size=32, repeats=args.repeats):>11.2f}")

    if args.skip_convnext:
        return
    import keras

    print("\n## ConvNeXtTiny 224×224 (untrained): 50% of every group's channels in streams mode (batch 32)")
    dense = keras.applications.ConvNeXtTiny(weights=None, input_shape=(224, 224, 3), classes=1000)
    groups = pc.graph.dependency_groups(dense, streams=True)
    print(f"groups: {len(groups)}, prunable with streams: {sum(g.prunable for g in groups)}, without: "
          f"{sum(g.prunable for g in pc.graph.dependency_groups(dense))}")
    started = time.perf_counter()
    mask_set = pc.select(dense, pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", value=0.5,
                                             streams=True))
    small = pc.compact(dense, mask_set)
    print(f"selected and rebuilt in {time.perf_counter() - started:.1f} s")
    images = np.random.default_rng(0).random((32, 224, 224, 3), dtype=np.float32) * 255
    repeats = max(3, args.repeats // 4)
    print(f"{'model':>8} {'params':>12} {'mult-adds':>15} {'latency ms':>11}")
    for label, m in (("dense", dense), ("compact", small)):
        print(f"{label:>8} {m.count_params():>12,} {multiply_adds(m):>15,} "
              f"{latency_ms(m, images, batch_size=32, repeats=repeats):>11.1f}")


if __name__ == "__main__":
    main()
