"""What pruning buys in TensorFlow Lite: LeNet-300-100 exported dense, pruned and compact, float32 and int8,
measured in the LiteRT interpreter (prune_core.deploy).

The shipped baseline (assets/baseline-lenet-300-100.keras) on the bundled MNIST digits (8,000 train /
2,000 test), then, each with a short masked fine-tune (``--epochs``, default 2):
- global magnitude at 90, 95, 98 and 99% (``--sparsities``);
- 1×4 blocks at 90% (global; the block rule), the pattern TFLite's block-sparse kernels run;
- 50% and 75% of the hidden neurons removed (``--neurons``), compacted.

Every model is converted float32 (``Optimize.EXPERIMENTAL_SPARSITY``) and int8 (post-training quantization on
200 training images). Latency: batch 1, one thread pinned, all files timed in turn in one interleaved loop
(median of the runs ``--budget`` seconds allow), so the ratios to dense hold on a busy machine. Accuracy:
the whole test split through the interpreter, beside the Keras model's own. It prints the table, where the
sparse kernel starts to win, the issue's goals, and the fastest file within 1 point of dense.

Prints figures, asserts nothing. Run (about 3-5 minutes on 2 busy cores):
    .venv/bin/python bench/bench_deploy.py
    .venv/bin/python bench/bench_deploy.py --sparsities 0.9 0.98 --neurons 0.5 --budget 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def variants(args, dense, ds, say):
    """[(name, float model, Keras test accuracy, sparsity)] — the dense baseline first."""
    import prune_core as pc
    from prune_core.measure import metrics

    out = [("dense", dense, metrics.evaluate(dense, ds.x_test, ds.y_test).accuracy, 0.0)]

    def run(name, spec, compact=False):
        started = time.perf_counter()
        masks = pc.prune(dense, spec, ds).masks
        result = pc.run_oneshot(dense, masks, ds, epochs=args.epochs, seed=args.seed, compact=compact,
                                latency_repeats=0)
        model = result.compact_model if compact else result.model
        accuracy = result.compact["accuracy"] if compact else result.final_accuracy
        say(f"  {name}: sparsity {result.sparsity:.1%}, Keras accuracy {accuracy:.2%} "
            f"({time.perf_counter() - started:.0f} s)")
        out.append((name, model, accuracy, result.sparsity))

    for s in args.sparsities:
        run(f"{s:.0%} magnitude", pc.PruneSpec(criterion="magnitude", rule="sparsity", scope="global", value=s))
    if "block" in pc.RULES:
        run(f"{args.block:.0%} 1×4 blocks", pc.PruneSpec(criterion="magnitude", rule="block", scope="global",
                                                         value=args.block))
    else:
        say("  (the 1×4 block rule is not registered here: skipped)")
    for share in args.neurons:
        run(f"{share:.0%} neurons removed", pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity",
                                                         scope="layer", value=share), compact=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sparsities", type=float, nargs="*", default=[0.9, 0.95, 0.98, 0.99])
    parser.add_argument("--block", type=float, default=0.9, help="1×4 block sparsity (default %(default)s)")
    parser.add_argument("--neurons", type=float, nargs="*", default=[0.5, 0.75],
                        help="shares of hidden neurons removed, compacted (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=2, help="masked fine-tuning epochs (default %(default)s)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds of timing for all files together")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras

    from prune_core.io import data
    from prune_core import deploy
    from prune_core.deploy import report
    from prune_core.measure import metrics
    from prune_core.io.data import BASELINE_PATH

    say = lambda text: print(text, flush=True)  # noqa: E731
    started = time.perf_counter()
    dense = keras.saving.load_model(BASELINE_PATH, compile=False)
    ds = data.load_mnist("bundled")
    say(f"LeNet-300-100 (shipped baseline) on {ds.description}; fine-tune {args.epochs} epoch(s) per variant")
    models = variants(args, dense, ds, say)

    say("converting (float32 with EXPERIMENTAL_SPARSITY, int8 post-training quantization on 200 images)…")
    calibration = deploy.representative(ds.x_train, 200, args.seed)
    rows, files = [], {}
    for name, model, keras_accuracy, sparsity in models:
        names = [layer.name for layer in model.layers]
        for precision, cal in (("float32", None), ("int8", calibration)):
            converted = deploy.to_tflite(model, calibration=cal)
            key = f"{name} · {precision}"
            row = dict(name=name, precision=precision, key=key, sparsity=sparsity, keras_accuracy=keras_accuracy,
                       nonzero=metrics.count_nonzero(model), params=metrics.count_params(model))
            if not converted.ok:
                row["reason"] = converted.reason
                rows.append(row)
                continue
            ops = deploy.operators(converted.data, names)
            runner = deploy.Runner(converted.data, batch=256)
            row.update(bytes=len(converted.data), gzip=report._gzip(converted.data),
                       sparse=ops.count("sparse"), densified=ops.count("densified"), kernels=len(ops.kernels),
                       accuracy=deploy.accuracy(runner, ds.x_test, ds.y_test), runtime=runner.runtime)
            files[key] = converted.data
            rows.append(row)

    say(f"timing {len(files)} files at batch 1, one pinned thread, interleaved ({args.budget:g} s)…")
    times, runs = deploy.latency_us(files, ds.x_test[:1], budget_s=args.budget, max_runs=100_000)
    dense_row = next(r for r in rows if r["key"] == "dense · float32")
    base_us, base_bytes = times[dense_row["key"]], dense_row["bytes"]
    for row in rows:
        if row["key"] in times:
            row["us"] = times[row["key"]]
            row["ratio"] = row["us"] / base_us
            row["size"] = row["bytes"] / base_bytes

    say(f"\n{deploy.interpreter_name()} · batch 1 · one thread · median of {runs:,} runs per file · "
        f"dense float32 {base_us:.1f} µs, {base_bytes / 1e3:.0f} kB\n")
    head = (f"{'model':<22}{'prec.':<8}{'nonzero':>9}{'TFLite':>10}{'gzip':>9}{'× size':>8}{'µs':>8}{'× dense':>9}"
            f"{'sparse':>8}{'acc TFLite':>11}{'acc Keras':>10}{'Δ pts':>7}")
    say(head)
    say("-" * len(head))
    for r in rows:
        if "bytes" not in r:
            say(f"{r['name']:<22}{r['precision']:<8}{r['nonzero']:>9,}  not converted: {r['reason']}")
            continue
        note = "" if r["runtime"] == "XNNPACK" else "  (built-in kernels: XNNPACK failed to prepare)"
        delta = (r["accuracy"] - r["keras_accuracy"]) * 100
        say(f"{r['name']:<22}{r['precision']:<8}{r['nonzero']:>9,}{r['bytes'] / 1e3:>8.0f}kB{r['gzip'] / 1e3:>7.0f}kB"
            f"{r['size']:>8.3f}{r['us']:>8.1f}{r['ratio']:>8.2f}×{r['sparse']:>5}/{r['kernels']:<2}"
            f"{r['accuracy']:>11.2%}{r['keras_accuracy']:>10.2%}{delta:>+7.2f}{note}")

    magnitude = [r for r in rows if r["name"].endswith("magnitude") and r["precision"] == "float32" and "us" in r]
    wins = [r for r in magnitude if r["sparse"] and r["ratio"] < 0.9]
    say("")
    if wins:
        first = min(wins, key=lambda r: r["sparsity"])
        say(f"The sparse kernel starts to win at {first['sparsity']:.0%} global magnitude here: {first['ratio']:.2f}× "
            f"the dense latency with {first['sparse']} of {first['kernels']} layers sparse "
            f"(the converter's rule: scattered zeros need > {deploy.scattered_threshold():.1%} in a layer).")
    else:
        say("No global-magnitude sparsity tried here made the sparse kernel win.")
    at98 = next((r for r in magnitude if abs(r["sparsity"] - 0.98) < 0.005), None)
    if at98:
        say(f"Goal 98%: latency {at98['ratio']:.2f}× dense (goal ≤ 0.40×); TFLite vs Keras accuracy "
            f"{(at98['accuracy'] - at98['keras_accuracy']) * 100:+.2f} points (goal within 0.1).")
    at90q = next((r for r in rows if r["name"] == "90% magnitude" and r["precision"] == "int8" and "bytes" in r), None)
    if at90q:
        say(f"Goal 90% + int8: file {at90q['size']:.3f}× the dense float32 file (goal ≤ 0.1×).")
    dense_acc = dense_row["accuracy"]
    fit = [r for r in rows if "us" in r and r["accuracy"] >= dense_acc - 0.01]
    best = min(fit, key=lambda r: (r["us"], r["bytes"]))
    say(f"Headline: the fastest file within 1 point of dense accuracy ({dense_acc:.2%}) is {best['name']} · "
        f"{best['precision']}: {1 / best['ratio']:.1f}× faster and {1 / best['size']:.1f}× smaller than dense, "
        f"{best['accuracy']:.2%} accuracy (goal ≥ 3× faster).")
    say(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
