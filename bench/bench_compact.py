"""Dense vs compact (channels physically removed through dependency groups): parameters, MACs, CPU latency.

Models (random weights, no download):
- ``keras.applications.ResNet50(weights=None)`` and ``MobileNetV2(weights=None)`` at 224×224×3: 50% of
  the channels of every prunable dependency group removed (the lowest magnitude group scores of each
  group; a residual stream is one group), latency at batch 8;
- LeNet-300-100 (784-300-100-10, ReLU): 50% of each hidden layer's neurons removed, latency at batch 256.

``--scope global`` instead removes 50% of all prunable channels at once, ranked by the mean-reduced group
score (each group keeps at least one channel).

MACs are counted analytically from the layer shapes (Dense, Conv*, Conv*Transpose, DepthwiseConv,
SeparableConv; FLOPs ≈ 2 × MACs); BatchNorm, activations, pooling and adds are not counted. Latency is
the median over ``--repeats`` timed calls of a ``tf.function`` of the model (inference mode) after two
warm-up calls, dense and compact calls interleaved so that machine load hits both alike. The compact
model is checked against the masked model (max relative difference printed).

Prints figures, asserts nothing. Run (about 2-4 minutes on 2 cores):
    .venv/bin/python bench/bench_compact.py
    .venv/bin/python bench/bench_compact.py --models lenet --repeats 30
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def macs(model) -> int:
    """Multiply-accumulates of one sample through the prunable and depthwise layers."""
    from prune_core import graph

    total = 0
    for layer in graph.layers(model):
        cls = type(layer).__name__
        if graph.kind(layer) != "prunable" and not cls.startswith("DepthwiseConv"):
            continue
        out_positions = int(np.prod(layer.output.shape[1:-1], dtype=np.int64))
        if cls.endswith("Transpose"):
            in_positions = int(np.prod(layer.input.shape[1:-1], dtype=np.int64))
            total += in_positions * int(np.prod(layer.kernel.shape))
        elif cls.startswith("SeparableConv"):
            total += out_positions * (int(np.prod(layer.depthwise_kernel.shape))
                                      + int(np.prod(layer.pointwise_kernel.shape)))
        else:
            total += out_positions * int(np.prod(layer.kernel.shape))
    return total


def half_units(model, scope: str, fraction: float = 0.5) -> dict[str, np.ndarray]:
    """{group: kept mask}: ``fraction`` of every prunable group's channels removed (lowest magnitude
    group score first), or of all channels at once with ``scope='global'``."""
    from prune_core import graph

    groups = graph.dependency_groups(model)
    scores = graph.group_scores(model, {n: np.abs(k) for n, k in graph.kernels(model).items()}, groups,
                                reduce="mean" if scope == "global" else "sum")
    units = {}
    if scope == "group":
        for name, s in scores.items():
            keep = np.ones(s.size, bool)
            keep[np.argsort(s, kind="stable")[:int(s.size * fraction)]] = False
            if not keep.all():
                units[name] = keep
        return units
    flat = np.concatenate(list(scores.values()))
    owner = np.repeat(np.arange(len(scores)), [s.size for s in scores.values()])
    left = np.array([s.size for s in scores.values()])
    removed = np.zeros(flat.size, bool)
    target = int(flat.size * fraction)
    for i in np.argsort(flat, kind="stable"):
        if removed.sum() == target:
            break
        if left[owner[i]] > 1:
            removed[i], left[owner[i]] = True, left[owner[i]] - 1
    bounds = np.cumsum([0] + [s.size for s in scores.values()])
    return {n: ~removed[a:b] for n, a, b in zip(scores, bounds[:-1], bounds[1:]) if removed[a:b].any()}


def latencies(models: dict, x, repeats: int) -> dict[str, float]:
    """{name: median ms per call}, calls of the models interleaved."""
    import tensorflow as tf

    fns = {name: tf.function(lambda t, m=m: m(t, training=False)) for name, m in models.items()}
    for fn in fns.values():
        for _ in range(2):
            fn(x).numpy()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(x).numpy()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: float(np.median(t)) for name, t in times.items()}


def lenet_latencies(models: dict, x, repeats: int, inner: int = 50) -> dict[str, float]:
    """Like ``latencies``, each sample the mean of ``inner`` calls (a LeNet batch takes well under 1 ms)."""
    import tensorflow as tf

    fns = {name: tf.function(lambda t, m=m: m(t, training=False)) for name, m in models.items()}
    for fn in fns.values():
        for _ in range(5):
            fn(x).numpy()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(inner):
                fn(x).numpy()
            times[name].append((time.perf_counter() - start) * 1000 / inner)
    return {name: float(np.median(t)) for name, t in times.items()}


def bench(name: str, model, x, units, repeats: int, timer) -> None:
    from prune_core import graph
    from prune_core.graph.surgery import compact

    graph.clear_cache()  # time a fresh walk, not the one half_units cached
    start = time.perf_counter()
    groups = graph.dependency_groups(model)
    t_groups = time.perf_counter() - start
    start = time.perf_counter()
    small, report = compact(model, units)
    t_compact = time.perf_counter() - start
    sample = x[:2]
    masked_ref = _masked_outputs(model, units, sample)
    diff = np.abs(np.asarray(small(sample, training=False)) - masked_ref).max() / np.abs(masked_ref).max()
    lat = timer({"dense": model, "compact": small}, x, repeats)
    p0, p1, m0, m1 = model.count_params(), small.count_params(), macs(model), macs(small)
    prunable = sum(g.prunable for g in groups)
    removed = sum(t - k for k, t in report.removed.values())
    total = sum(t for _, t in report.removed.values())
    print(f"\n{name}: {len(groups)} groups ({prunable} prunable), {removed} of {total} channels removed in "
          f"{len(report.removed)} groups; groups {t_groups:.2f} s, compact {t_compact:.2f} s; "
          f"compact vs masked max rel diff {diff:.1e}")
    print(f"  {'':10s} {'dense':>14s} {'compact':>14s} {'ratio':>7s}")
    print(f"  {'params':10s} {p0:14,d} {p1:14,d} {p1 / p0:7.3f}")
    print(f"  {'MACs':10s} {m0:14,d} {m1:14,d} {m1 / m0:7.3f}")
    print(f"  {'latency':10s} {lat['dense']:11.2f} ms {lat['compact']:11.2f} ms {lat['compact'] / lat['dense']:7.3f}"
          f"   (batch {len(x)}, median of {repeats})")


def _masked_outputs(model, units, x):
    import keras

    from prune_core import graph

    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    graph.zero_units(clone, units)
    return np.asarray(clone(x, training=False))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="resnet50,mobilenetv2,lenet")
    parser.add_argument("--scope", choices=("group", "global"), default="group")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    from prune_core.train.models import build_model

    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}; "
          f"scope {args.scope}")
    rng = np.random.default_rng(0)
    for name in args.models.split(","):
        if name in ("resnet50", "mobilenetv2"):
            build = keras.applications.ResNet50 if name == "resnet50" else keras.applications.MobileNetV2
            model = build(weights=None, input_shape=(224, 224, 3))
            x = rng.random((args.batch, 224, 224, 3), dtype=np.float32)
            bench(model.name, model, x, half_units(model, args.scope), args.repeats, latencies)
        elif name == "lenet":
            model = build_model("lenet-300-100")
            x = rng.random((256, 28, 28), dtype=np.float32)
            bench("LeNet-300-100", model, x, half_units(model, "group"), max(args.repeats, 15), lenet_latencies)
        else:
            raise SystemExit(f"unknown model {name!r}")


if __name__ == "__main__":
    main()
