"""Tiny models and scores shared by the guidance tests (numbers in tests/measure, words and figures in
tests/viz): exact answers by hand."""

from __future__ import annotations

import numpy as np


def one_layer_model():
    """Input(2) → Dense(2, softmax) with kernel [[3, 0.5], [0.2, 1]], no bias: x=(1,0) → class 0, (0,1) → class 1."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax", use_bias=False,
                                                                    name="out")])
    model.get_layer("out").set_weights([np.array([[3.0, 0.5], [0.2, 1.0]], dtype=np.float32)])
    return model


def chain_model(seed: int = 0):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="h"),
                              keras.layers.Dense(3, activation="relu", name="g"), keras.layers.Dense(2, name="out")])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
Y = np.array([0, 1])

TEN = {"d": np.arange(1.0, 11.0).reshape(2, 5)}  # scores 1..10: at c, the scores below 10c are pruned
KERNELS = {"d": np.ones((2, 5))}
