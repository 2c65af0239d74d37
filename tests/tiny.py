"""Tiny Keras models and data shared by the masks, training and runs tests."""

import numpy as np


def dense_net(seed=0, activation="relu"):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,))
    x = keras.layers.Dense(4, activation=activation, name="h")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    model = keras.Model(inputs, outputs)
    for layer in model.layers[1:]:  # non-zero biases so that removing them matters
        layer.bias.assign(np.random.default_rng(seed).normal(size=layer.bias.shape).astype("float32"))
    return model


def tiny_net(seed=0, hidden=8):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,))
    x = keras.layers.Dense(hidden, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


def trained_tiny_net(data, epochs=4):
    """``tiny_net()`` trained on ``data``'s training split (seeded): the dense model the run tests prune."""
    from prune_core.train.fit import train

    model = tiny_net()
    train(model, data[0], data[1], epochs=epochs, seed=0, learning_rate=1e-2)
    return model


def tiny_data(n=384, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x[:256], y[:256], x[256:], y[256:]       # 256 train (8 batches of 32), 128 test


def same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


def plain_dense_net(seed=0):
    """6 → 4 (relu) → 3 (softmax), seeded, zero biases: the gradual and iterative loops' model."""
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,))
    x = keras.layers.Dense(4, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


def two_rule_data(n=256, seed=0):
    """(x, y): 6 normal features, the class from two thresholds on the first two."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")


def flaky_task(shared, payload):
    """An executor task (importable by a Ray worker) that fails for payload 1, every attempt, and squares the rest."""
    if payload == 1:
        raise RuntimeError("this point cannot be measured")
    return shared + payload * payload
