"""The model zoo: seeded architecture builders (what the app, the CLI and the tests train).

>>> build_model("mlp-128").count_params()
101770
"""

from __future__ import annotations

ARCHITECTURES = {
    "mlp-128": "MLP 784-128-10 (the classic one-hidden-layer net)",
    "lenet-300-100": "LeNet-300-100 (fully connected, 784-300-100-10)",
    "lenet-5": "LeNet-5 (conv-pool-conv-pool-dense-dense-dense)",
}
DEFAULT_ARCHITECTURE = "lenet-300-100"

def _dense(units: int, activation: str, seed: int, name: str):
    import keras
    return keras.layers.Dense(units, activation=activation, name=name,
                              kernel_initializer=keras.initializers.GlorotUniform(seed=seed))


def _conv(filters: int, kernel: int, seed: int, name: str, padding: str = "valid"):
    import keras
    return keras.layers.Conv2D(filters, kernel, activation="relu", padding=padding, name=name,
                               kernel_initializer=keras.initializers.GlorotUniform(seed=seed))


def build_model(name: str, input_shape: tuple[int, ...] = (28, 28), num_classes: int = 10, seed: int = 0):
    """A fresh, seeded Keras model for one of ARCHITECTURES (same seed → same initial weights)."""
    import keras
    from keras import layers

    if name not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}.")
    inputs = keras.Input(shape=input_shape, name="image")
    if name == "lenet-5":
        x = layers.Reshape((*input_shape[:2], 1) if len(input_shape) == 2 else input_shape, name="channels")(inputs)
        x = _conv(6, 5, seed + 1, "conv1", padding="same")(x)
        x = layers.MaxPooling2D(2, name="pool1")(x)
        x = _conv(16, 5, seed + 2, "conv2")(x)
        x = layers.MaxPooling2D(2, name="pool2")(x)
        x = layers.Flatten(name="flatten")(x)
        hidden = [120, 84]
    else:
        x = layers.Flatten(name="flatten")(inputs)
        hidden = [128] if name == "mlp-128" else [300, 100]
    for i, units in enumerate(hidden, start=1):
        x = _dense(units, "relu", seed + 10 + i, f"dense{i}")(x)
    outputs = _dense(num_classes, "softmax", seed + 99, "output")(x)
    return keras.Model(inputs, outputs, name=name)
