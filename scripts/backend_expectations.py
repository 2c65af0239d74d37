"""Print the TensorFlow numbers tests/test_backends_agree.py holds as its expected values.

Run under TensorFlow (the reference backend): ``KERAS_BACKEND=tensorflow PYTHONPATH=. .venv/bin/python
scripts/backend_expectations.py``; paste its output into the test when the fixtures there change.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def small_model():
    """6 → Dense(5, relu) "h" → Dense(3, softmax) "out", weights and 48 examples from seed 0."""
    import keras

    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(5, activation="relu", name="h")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(hidden), name="small")
    rng = np.random.default_rng(0)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    x = rng.standard_normal((48, 6)).astype(np.float32)
    y = rng.integers(0, 3, 48)
    return model, x, y


def lenet():
    """The bundled LeNet-300-100 baseline and the first 512 bundled training digits."""
    import keras
    from prune_core.io import data

    ds = data.load_bundled()
    return keras.saving.load_model(data.BASELINE_PATH, compile=False), ds.x_train[:512], ds.y_train[:512]


SMALL = dict(batches=2, batch_size=16, seed=0)
LENET = dict(batches=2, batch_size=128, seed=0)
CRITERIA = ("sensitivity", "taylor", "obd")


def small_scores():
    from prune_core.methods.criteria import all_weight_scores

    model, x, y = small_model()
    return all_weight_scores(model, x, y, criteria=CRITERIA, **SMALL)


def lenet_scores():
    from prune_core.methods.criteria import all_weight_scores

    model, x, y = lenet()
    return all_weight_scores(model, x, y, criteria=("sensitivity", "obd"), **LENET)


def mask_digest(kernels) -> str:
    h = hashlib.sha256()
    for name in sorted(kernels):
        h.update(name.encode() + np.packbits(np.asarray(kernels[name], dtype=bool)).tobytes())
    return h.hexdigest()[:16]


def lenet_masks():
    import prune_core as pc

    model, _, _ = lenet()
    return {f"{g}-{s}": mask_digest(pc.prune(model, pc.PruneSpec(granularity=g, rule="sparsity", scope=s,
                                                                    value=0.7)).masks.kernels)
            for g in ("weight", "unit") for s in ("layer", "global")}


if __name__ == "__main__":
    np.set_printoptions(floatmode="unique", threshold=10**6)
    print("SMALL =", {c: {n: np.asarray(s).tolist() for n, s in per.items()} for c, per in small_scores().items()})
    summary = {}
    for c, per in lenet_scores().items():
        for n, s in per.items():
            flat = np.asarray(s, dtype=np.float64).ravel()
            top = np.argsort(-flat, kind="stable")[:8]
            summary[f"{c}/{n}"] = {"sum": float(flat.sum()), "top": [[int(i), float(flat[i])] for i in top]}
    print("LENET =", summary)
    print("MASKS =", lenet_masks())
