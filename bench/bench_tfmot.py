"""tensorflow-model-optimization's prune_low_magnitude on the same task as bench/bench_methods.py.

LeNet-300-100 (tf-keras), bundled MNIST split, trained 5 epochs (batch 32, Adam 1e-3); then for each
target sparsity 2 epochs of training under prune_low_magnitude with
- ConstantSparsity(target, begin_step=0, frequency=f), and
- PolynomialDecay(0 → target, begin_step=0, end_step ≈ 75% of the 2 epochs' steps, frequency=f: the ramp of ours),
with f ≈ end_step / 10 (37 steps for 2 epochs of 8,000 digits). tfmot counts steps from 1 inside its
wrappers, so the first mask comes at step f (with its default frequency=100, a run shorter than
100 steps would never prune), and end_step is rounded down to a multiple of f so the target is reached.
tfmot prunes every Dense kernel, the output layer included, to the target. The stripped model's test
accuracy and real kernel sparsity go to bench/results/tfmot.json, which bench_methods.py folds into
its table.

tfmot needs tf-keras, so this runs in its own venv, never the app's (see bench/README.md):

    python3 -m venv /tmp/bench-tfmot
    /tmp/bench-tfmot/bin/pip install tensorflow==2.21.0
    /tmp/bench-tfmot/bin/pip install --no-deps tf-keras tensorflow-model-optimization dm-tree scipy
    /tmp/bench-tfmot/bin/python bench/bench_tfmot.py [--sparsities 0.9,0.98 --train-epochs 1 ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tfmot wraps tf-keras layers, not Keras 3 ones
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sparsities", default="0.9,0.95,0.98,0.99")
    p.add_argument("--train-epochs", type=int, default=5)
    p.add_argument("--fine-tune-epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--train-subset", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=os.path.join(RESULTS, "tfmot.json"))
    return p.parse_args(argv)


def lenet(keras, seed: int):
    init = lambda s: keras.initializers.GlorotUniform(seed=seed + s)  # noqa: E731
    return keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28), name="flatten"),
        keras.layers.Dense(300, activation="relu", kernel_initializer=init(11), name="dense1"),
        keras.layers.Dense(100, activation="relu", kernel_initializer=init(12), name="dense2"),
        keras.layers.Dense(10, activation="softmax", kernel_initializer=init(99), name="output"),
    ])


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, batch_size=1024, verbose=0), axis=1) == y))


def kernel_sparsity(model) -> float:
    kernels = [w for layer in model.layers for w in layer.get_weights()[:1] if w.ndim == 2]
    return 1.0 - sum(int(np.count_nonzero(k)) for k in kernels) / sum(k.size for k in kernels)


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    from prune_core.io.data import load_bundled

    ds = load_bundled()
    index = np.arange(len(ds.x_train))  # the same seeded subset as bench_methods.subset_index
    if args.train_subset and args.train_subset < len(index):
        index = np.sort(np.random.default_rng(0).permutation(len(index))[:args.train_subset])
    n = len(index)
    x, y, xt, yt = ds.x_train[index], ds.y_train[index], ds.x_test, ds.y_test
    print(f"tf {tf.__version__} · tf-keras {keras.__version__} · tfmot {tfmot.__version__} · {n:,} training digits",
          flush=True)

    started = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    dense = lenet(keras, args.seed)
    dense.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    dense.fit(x, y, epochs=args.train_epochs, batch_size=args.batch_size, shuffle=True, verbose=0)
    dense_accuracy = accuracy(dense, xt, yt)
    print(f"dense: {time.perf_counter() - started:.1f} s, test accuracy {dense_accuracy:.2%}", flush=True)

    steps = int(math.ceil(n / args.batch_size)) * args.fine_tune_epochs
    end = max(1, int(round(0.75 * steps)) - 1)           # the ramp of ours (runs.default_schedule)
    frequency = max(1, end // 10)
    end = frequency * (end // frequency)                 # tfmot only updates on multiples of frequency
    sk = tfmot.sparsity.keras
    schedules = {
        "tfmot ConstantSparsity": lambda s: sk.ConstantSparsity(s, begin_step=0, frequency=frequency),
        "tfmot PolynomialDecay": lambda s: sk.PolynomialDecay(0.0, s, begin_step=0, end_step=end, frequency=frequency),
    }
    results, held = {name: {} for name in schedules}, {name: {} for name in schedules}
    for s in [float(v) for v in args.sparsities.split(",")]:
        for name, make in schedules.items():
            t = time.perf_counter()
            keras.utils.set_random_seed(args.seed)
            model = keras.models.clone_model(dense)
            model.set_weights(dense.get_weights())
            pruned = sk.prune_low_magnitude(model, pruning_schedule=make(s))
            pruned.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                           metrics=["accuracy"])
            pruned.fit(x, y, epochs=args.fine_tune_epochs, batch_size=args.batch_size, shuffle=True, verbose=0,
                       callbacks=[sk.UpdatePruningStep()])
            final = sk.strip_pruning(pruned)
            results[name][str(s)], held[name][str(s)] = accuracy(final, xt, yt), kernel_sparsity(final)
            print(f"  {name:<24} {s:.0%}: held {held[name][str(s)]:.2%} → final {results[name][str(s)]:.2%}"
                  f"  ({time.perf_counter() - t:.1f} s)", flush=True)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"dense_accuracy": dense_accuracy, "tf_version": tf.__version__, "tfmot_version": tfmot.__version__,
                   "args": vars(args), "polynomial_end_step": end, "polynomial_frequency": frequency,
                   "results": results, "held_sparsity": held}, f, indent=1)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
