"""Pruning methods side by side: our one-shot, gradual and iterative magnitude pruning (per-layer and global
scope) at 90/95/98/99% overall sparsity on LeNet-300-100, bundled MNIST split, beside
tensorflow-model-optimization's prune_low_magnitude (ConstantSparsity, PolynomialDecay) when
bench/bench_tfmot.py has written its results.

Same budget everywhere: the dense model trains 5 epochs (batch 32, Adam 1e-3); every method then gets
2 epochs of training with pruning (batch 32, Adam 1e-3):
- one-shot: prune to the target at once, fine-tune 2 epochs with the mask held;
- gradual: polynomial schedule 0 → target over the first 75% of the 2 epochs (runs.run_gradual);
- iterative: 2 rounds of (prune → 1 epoch), each round pruning 1 − √(1 − target) of what remains, so
  round 2 lands on the target; no tolerance stop (runs.run_iterative, tolerance 1).
"overall sparsity" = zeros among all Dense kernel weights (biases are never pruned), as tfmot counts it.

Prints figures (asserts nothing):
1. sparsity × method → final test accuracy, one table (tfmot columns when the JSON exists);
2. the highest sparsity within 1 point of dense, per method;
3. dense vs 90%-sparse vs compact (50% of hidden neurons removed, fine-tuned 2 epochs): gzip bytes and
   latency (ms per batch of 256), with ratios to dense.

Issue-12 tables (``--tables``, comma-separated; default ``modes``):
- ``criteria``: final accuracy at ``--method-sparsities`` for every ``--criteria`` × ``--strategies``
  (finetune, rewind-lr, reconstruct = reconstruction + fine-tune), global sparsity rule, 2 epochs, each cell with
  its best rate from ``--learning-rates``; beside today's best (the ``modes`` rows) and tfmot's when present;
- ``zero``: 0-epoch accuracy at 50/70/90% per criterion (per-layer sparsity), plain masking vs reconstruction;
- ``nm``: 2:4 (50%) and 1×4 blocks (90%) by magnitude and Wanda: no retraining, reconstruction, fine-tuned;
- ``init``: pruning at initialization at 98% (global) by SNIP, SynFlow, random and the shuffled controls,
  trained ``--train-epochs`` epochs, beside magnitude pruning of the trained model (+ 2 epochs fine-tuning).

Run (full, ~10–20 min on 2 cores):   .venv/bin/python bench/bench_methods.py
Reduced scale check:                 .venv/bin/python bench/bench_methods.py --train-epochs 1 \\
                                         --fine-tune-epochs 1 --sparsities 0.9,0.98 --train-subset 2000
tfmot side (separate venv, see bench/README.md): /tmp/bench-tfmot/bin/python bench/bench_tfmot.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
TFMOT_JSON = os.path.join(RESULTS, "tfmot.json")
OURS_JSON = os.path.join(RESULTS, "ours.json")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sparsities", default="0.9,0.95,0.98,0.99")
    p.add_argument("--modes", default="oneshot,gradual,iterative")
    p.add_argument("--scopes", default="layer,global")
    p.add_argument("--train-epochs", type=int, default=5)
    p.add_argument("--fine-tune-epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--train-subset", type=int, default=0, help="use N random training digits (0: all 8,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tfmot-json", default=TFMOT_JSON)
    p.add_argument("--skip-size", action="store_true", help="skip the dense / sparse / compact size table")
    p.add_argument("--tables", default="modes", help="modes,criteria,zero,nm,init (comma-separated)")
    p.add_argument("--criteria", default="magnitude,wanda,obd,taylor,snip,synflow,random")
    p.add_argument("--strategies", default="finetune,rewind-lr,reconstruct")
    p.add_argument("--learning-rates", default="1e-3,3e-3,1e-2,2e-2")
    p.add_argument("--method-sparsities", default="0.9,0.95,0.98,0.99")
    return p.parse_args(argv)


def load_data(subset: int):
    from prune_core.io.data import load_bundled

    ds = load_bundled()
    index = subset_index(len(ds.x_train), subset)
    return ds, (ds.x_train[index], ds.y_train[index], ds.x_test, ds.y_test)


def subset_index(n: int, subset: int) -> np.ndarray:
    """A seeded random subset (the bundled digits are stored class by class: a prefix would miss classes).
    bench_tfmot.py uses the same one."""
    if not subset or subset >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).permutation(n)[:subset])


def magnitude_masks(model, sparsity: float, scope: str):
    from prune_core.methods import masks as mk
    from prune_core.methods.criteria import weight_scores

    return mk.build_masks(weight_scores(model, "magnitude"), "sparsity", sparsity, scope=scope)


def run_ours(dense, data, sparsity: float, mode: str, scope: str, args):
    from prune_core.experiments import runs

    common = dict(batch_size=args.batch_size, seed=args.seed, latency_repeats=0)
    if mode == "oneshot":
        return runs.run_oneshot(dense, magnitude_masks(dense, sparsity, scope), data, epochs=args.fine_tune_epochs,
                                **common)
    if mode == "gradual":
        return runs.run_gradual(dense, data, final_sparsity=sparsity, epochs=args.fine_tune_epochs, scope=scope,
                                **common)
    rounds = args.fine_tune_epochs  # one epoch a round: the same 2-epoch budget
    fraction = 1.0 - (1.0 - sparsity) ** (1.0 / rounds)
    return runs.run_iterative(dense, data, step_fraction=fraction, fine_tune_epochs=1, tolerance=1.0,
                              target_sparsity=sparsity, max_rounds=rounds, scope=scope, **common)


def size_table(dense, data, args):
    """Dense, 90%-sparse (global one-shot) and compact (half the hidden neurons) models measured."""
    from prune_core.methods import masks as mk
    from prune_core.measure import metrics
    from prune_core.experiments import runs
    from prune_core.methods.criteria import weight_scores
    from prune_core.methods.signals import unit_scores
    from prune_core.graph import kernels, output_layer_name

    x, y, xt, yt = data
    sparse = runs.run_oneshot(dense, magnitude_masks(dense, 0.9, "global"), data, epochs=args.fine_tune_epochs,
                              batch_size=args.batch_size, seed=args.seed, latency_repeats=0).model
    out = output_layer_name(dense)
    units = unit_scores(weight_scores(dense, "magnitude"), "magnitude", output_layer=out)
    ms = mk.build_masks(units, "sparsity", 0.5, granularity="unit", weights=kernels(dense), output_layer=out)
    compact = runs.run_oneshot(dense, ms, data, epochs=args.fine_tune_epochs, batch_size=args.batch_size,
                               seed=args.seed, latency_repeats=0).compact_model
    named = (("dense", dense), ("90% sparse (masked)", sparse), ("compact (50% neurons)", compact))
    # Latency: the models take turns, 5 rounds of 20 batches each; the best round's median counts
    # (the cores are shared, so a slow round says more about the neighbours than about the model).
    latency = {name: metrics.latency_ms(model, xt, repeats=20) for name, model in named}
    for _ in range(4):
        for name, model in named:
            latency[name] = min(latency[name], metrics.latency_ms(model, xt, repeats=20))
    return [{"model": name, "params": metrics.count_params(model), "nonzero": metrics.count_nonzero(model),
             "gzip": metrics.gzip_bytes(model), "latency": latency[name],
             "accuracy": metrics.evaluate(model, xt, yt).accuracy} for name, model in named]


def within_one_point(table: dict, dense_accuracy: float) -> float | None:
    """Highest sparsity whose accuracy is >= dense − 1 point (None if none)."""
    good = [s for s, a in table.items() if a is not None and a >= dense_accuracy - 0.01]
    return max(good) if good else None


# --- issue 12: criteria × retraining strategies, reconstruction, N:M / blocks, pruning at init ---------------

def select_masks(dense, data, criterion: str, rule: str, value, scope: str):
    import prune_core as pc

    x, y = data[0], data[1]
    return pc.select(dense, pc.PruneSpec(criterion=criterion, rule=rule, value=value, scope=scope), data=(x, y))


def strategy_run(dense, data, masks, strategy: str, lr: float, epochs: int, args):
    from prune_core.experiments import runs

    return runs.run_oneshot(dense, masks, data, epochs=epochs, batch_size=args.batch_size, seed=args.seed,
                            learning_rate=lr, latency_repeats=0, compact=False,
                            retrain="rewind-lr" if strategy == "rewind-lr" else "finetune",
                            reconstruct=strategy == "reconstruct")


def criteria_table(dense, data, dense_accuracy, args):
    """{(criterion, strategy): {sparsity: (best accuracy, its rate)}}, printed as it goes."""
    criteria = [c for c in args.criteria.split(",") if c]
    strategies = [s for s in args.strategies.split(",") if s]
    rates = [float(r) for r in args.learning_rates.split(",") if r]
    sparsities = [float(s) for s in args.method_sparsities.split(",") if s]
    table = {}
    for criterion in criteria:
        for s in sparsities:
            masks = select_masks(dense, data, criterion, "sparsity", s, "global")
            for strategy in strategies:
                best = None
                for lr in rates:
                    t = time.perf_counter()
                    r = strategy_run(dense, data, masks, strategy, lr, args.fine_tune_epochs, args)
                    print(f"  {criterion:<10}{strategy:<12}{s:>6.1%} lr {lr:<6g} pruned {r.pruned_accuracy:.2%}"
                          + (f" · reconstructed {r.reconstructed_accuracy:.2%}" if r.reconstructed_accuracy else "")
                          + f" → {r.final_accuracy:.2%} ({time.perf_counter() - t:.0f} s)", flush=True)
                    if best is None or r.final_accuracy > best[0]:
                        best = (r.final_accuracy, lr)
                table.setdefault((criterion, strategy), {})[s] = best
    print(f"\nfinal test accuracy, best rate of {{{args.learning_rates}}} per cell (dense {dense_accuracy:.2%}; global "
          f"sparsity rule; {args.fine_tune_epochs} retraining epochs, batch {args.batch_size})")
    print(f"{'criterion · strategy':<26}" + "".join(f"{s:>16.1%}" for s in sparsities))
    for (criterion, strategy), cells in table.items():
        print(f"{criterion + ' · ' + strategy:<26}" + "".join(
            f"{cells[s][0]:>9.2%} ({cells[s][1]:g})".rjust(16) for s in sparsities))
    print("goals: ≥ 94.2% at 98% (within 0.5 of dense), ≥ 93.5% at 99%, ≥ 90% at 99.5%")
    for s, goal in ((0.98, max(0.942, dense_accuracy - 0.005)), (0.99, 0.935), (0.995, 0.90)):
        if s in sparsities:
            acc, name = max((cells[s][0], key) for key, cells in table.items())
            print(f"  {s:.1%}: best {name[0]} · {name[1]} {acc:.2%} — goal {goal:.2%} "
                  f"{'met' if acc >= goal else 'NOT met'}")
    for key, cells in table.items():
        good = [s for s in sparsities if cells[s][0] >= dense_accuracy - 0.01]
        print(f"  highest sparsity within 1 point of dense, {key[0]} · {key[1]}: "
              f"{f'{max(good):.1%}' if good else 'none'}")
    return table


def zero_epoch_table(dense, data, args):
    from prune_core.measure import metrics
    from prune_core.train.reconstruct import reconstruct

    xt, yt = data[2], data[3]
    rows = [(c, "sparsity") for c in args.criteria.split(",") if c] + [("wanda", "per-output")]
    print(f"\n0-epoch test accuracy (per-layer sparsity; 'rec': after layer-wise reconstruction on "
          f"{4 * 128} training digits)")
    print(f"{'criterion · rule':<26}" + "".join(f"{f'{s:.0%}':>10}{f'{s:.0%} rec':>10}" for s in (0.5, 0.7, 0.9)))
    for criterion, rule in rows:
        cells = ""
        for s in (0.5, 0.7, 0.9):
            masks = select_masks(dense, data, criterion, rule, s, "layer")
            plain = metrics.evaluate(__import__("prune_core").apply_masks(dense, masks), xt, yt).accuracy
            rec = metrics.evaluate(reconstruct(dense, masks, data[0], seed=args.seed)[0], xt, yt).accuracy
            cells += f"{plain:>10.2%}{rec:>10.2%}"
        print(f"{criterion + ' · ' + rule:<26}{cells}", flush=True)


def nm_table(dense, data, args):
    lr = 1e-2
    print(f"\nsemi-structured patterns (per layer): accuracy with no retraining, after reconstruction, and after "
          f"{args.fine_tune_epochs} fine-tuning epochs at lr {lr:g} (plain / reconstructed first)")
    print(f"{'pattern · criterion':<28}{'none':>10}{'rec':>10}{'fine-tuned':>12}{'rec + ft':>10}")
    for rule, value, label in (("nm", "2:4", "2:4 (50%)"), ("block", 0.9, "1×4 blocks 90%")):
        for criterion in ("magnitude", "wanda"):
            masks = select_masks(dense, data, criterion, rule, value, "layer")
            ft = strategy_run(dense, data, masks, "finetune", lr, args.fine_tune_epochs, args)
            rec = strategy_run(dense, data, masks, "reconstruct", lr, args.fine_tune_epochs, args)
            print(f"{label + ' · ' + criterion:<28}{ft.pruned_accuracy:>10.2%}{rec.reconstructed_accuracy:>10.2%}"
                  f"{ft.final_accuracy:>12.2%}{rec.final_accuracy:>10.2%}", flush=True)


def init_table(dense, data, dense_accuracy, args):
    import prune_core as pc
    from prune_core.experiments import runs

    sparsity = 0.98
    pc.methods.criteria.shuffled("snip"), pc.methods.criteria.shuffled("synflow")
    print(f"\npruning at initialization at {sparsity:.0%} (global), the sparse network trained {args.train_epochs} "
          f"epochs at lr 1e-3 (dense {dense_accuracy:.2%})")
    for criterion in ("snip", "synflow", "random", "magnitude", "shuffled-snip", "shuffled-synflow"):
        t = time.perf_counter()
        spec = pc.PruneSpec(criterion=criterion, rule="sparsity", value=sparsity, scope="global", seed=args.seed)
        r = runs.run_init(dense, data, spec, epochs=args.train_epochs, batch_size=args.batch_size, seed=args.seed,
                          dense_accuracy=dense_accuracy, latency_repeats=0, compact=False)
        layers = " ".join(f"{n} {v:.1%}" for n, v in r.layer_sparsity.items())
        print(f"  at init · {criterion:<18} {r.final_accuracy:.2%}   (layers {layers}; {time.perf_counter() - t:.0f} s)",
              flush=True)
    masks = select_masks(dense, data, "magnitude", "sparsity", sparsity, "global")
    r = strategy_run(dense, data, masks, "finetune", 1e-2, args.fine_tune_epochs, args)
    print(f"  after training · magnitude, {args.fine_tune_epochs} epochs fine-tuning at lr 1e-2: {r.final_accuracy:.2%}")



def main(argv=None):
    args = parse_args(argv)
    import keras

    from prune_core.measure import metrics
    from prune_core.train import fit, models

    sparsities = [float(s) for s in args.sparsities.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    scopes = [s for s in args.scopes.split(",") if s]
    ds, data = load_data(args.train_subset)
    x, y, xt, yt = data
    print(f"data: {ds.description}; training on {len(x):,} digits; keras {keras.__version__}", flush=True)

    started = time.perf_counter()
    dense = models.build_model("lenet-300-100", ds.input_shape, ds.num_classes, seed=args.seed)
    fit.train(dense, x, y, epochs=args.train_epochs, batch_size=args.batch_size, seed=args.seed)
    dense_accuracy = metrics.evaluate(dense, xt, yt).accuracy
    print(f"dense LeNet-300-100: {args.train_epochs} epochs in {time.perf_counter() - started:.1f} s,"
          f" test accuracy {dense_accuracy:.2%}", flush=True)

    tables = [t for t in args.tables.split(",") if t]
    print(f"command: {' '.join([sys.executable.rsplit('/', 1)[-1], *sys.argv])}", flush=True)
    if "zero" in tables:
        zero_epoch_table(dense, data, args)
    if "nm" in tables:
        nm_table(dense, data, args)
    if "init" in tables:
        init_table(dense, data, dense_accuracy, args)
    if "criteria" in tables:
        criteria_table(dense, data, dense_accuracy, args)
    if "modes" not in tables:
        print(f"\ntotal {time.perf_counter() - started:.0f} s")
        return

    ours: dict[str, dict[float, float]] = {}
    held: dict[str, dict[float, float]] = {}
    for mode in modes:
        for scope in scopes:
            name = f"ours {mode} {scope}"
            ours[name], held[name] = {}, {}
            for s in sparsities:
                t = time.perf_counter()
                result = run_ours(dense, data, s, mode, scope, args)
                ours[name][s], held[name][s] = result.final_accuracy, result.sparsity
                print(f"  {name:<26} {s:.0%}: held {result.sparsity:.2%} · pruned {result.pruned_accuracy:.2%}"
                      f" → final {result.final_accuracy:.2%}  ({time.perf_counter() - t:.1f} s)", flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(OURS_JSON, "w") as f:
        json.dump({"dense_accuracy": dense_accuracy, "args": vars(args),
                   "results": {k: {str(s): a for s, a in v.items()} for k, v in ours.items()}}, f, indent=1)

    columns = dict(ours)
    tfmot_dense = None
    if os.path.exists(args.tfmot_json):
        with open(args.tfmot_json) as f:
            tf_results = json.load(f)
        tfmot_dense = tf_results.get("dense_accuracy")
        for name, values in tf_results["results"].items():
            columns[name] = {float(s): a for s, a in values.items()}
        print(f"tfmot results from {args.tfmot_json} (tfmot {tf_results.get('tfmot_version')}, "
              f"its dense model {tfmot_dense:.2%})")
    else:
        print(f"(no tfmot results at {args.tfmot_json}: run bench/bench_tfmot.py in its venv for those columns)")

    names = list(columns)
    width = max(len(n) for n in names) + 2
    print(f"\nfinal test accuracy (dense {dense_accuracy:.2%}; {args.train_epochs} training epochs, "
          f"{args.fine_tune_epochs} pruning/fine-tuning epochs, batch {args.batch_size})")
    print(f"{'method':<{width}}" + "".join(f"{s:>9.0%}" for s in sparsities))
    for name in names:
        cells = "".join(f"{columns[name][s]:>9.2%}" if columns[name].get(s) is not None else f"{'—':>9}"
                        for s in sparsities)
        print(f"{name:<{width}}{cells}")
    for s in sparsities:
        best_ours = max((v[s], n) for n, v in ours.items() if s in v)
        others = [(v[s], n) for n, v in columns.items() if n not in ours and v.get(s) is not None]
        if others:
            best_other = max(others)
            print(f"at {s:.0%}: our best {best_ours[1]} {best_ours[0]:.2%} vs tfmot best {best_other[1]} "
                  f"{best_other[0]:.2%}: {100 * (best_ours[0] - best_other[0]):+.1f} pts")

    print("\nhighest sparsity within 1 point of dense:")
    for name in names:
        reference = tfmot_dense if (name not in ours and tfmot_dense is not None) else dense_accuracy
        best = within_one_point(columns[name], reference)
        print(f"  {name:<{width}}{'none' if best is None else f'{best:.0%}'}")

    if not args.skip_size:
        from prune_core.measure.metrics import human_bytes
        rows = size_table(dense, data, args)
        base = rows[0]
        print("\nsize and latency (latency: ms per batch of 256, best of 5 interleaved rounds of 20-batch medians)")
        print(f"{'model':<24}{'params':>10}{'nonzero':>10}{'gzip':>12}{'× dense':>9}{'latency':>10}{'× dense':>9}"
              f"{'accuracy':>10}")
        for r in rows:
            print(f"{r['model']:<24}{r['params']:>10,}{r['nonzero']:>10,}{human_bytes(r['gzip']):>12}"
                  f"{r['gzip'] / base['gzip']:>9.2f}{r['latency']:>8.3f}ms{r['latency'] / base['latency']:>9.2f}"
                  f"{r['accuracy']:>10.2%}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
