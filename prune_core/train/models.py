"""Architecture builders and seeded training with a progress callback.

>>> build_model("mlp-128").count_params()
101770
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

ARCHITECTURES = {
    "mlp-128": "MLP 784-128-10 (the classic one-hidden-layer net)",
    "lenet-300-100": "LeNet-300-100 (fully connected, 784-300-100-10)",
    "lenet-5": "LeNet-5 (conv-pool-conv-pool-dense-dense-dense)",
}
DEFAULT_ARCHITECTURE = "lenet-300-100"

# progress(fraction_done in [0, 1], message) — the one progress signature used across prune_core.
Progress = Callable[[float, str], None]


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


def compile_model(model, learning_rate: float = 1e-3) -> None:
    """Adam + sparse categorical cross-entropy + accuracy (labels are class indices)."""
    import keras
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


@dataclass
class TrainResult:
    """What a training run produced: per-epoch history and how long it took."""

    history: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    epochs: int = 0


def progress_callback(progress: Progress | None, epochs: int, steps_per_epoch: int, label: str = "Epoch"):
    """A Keras callback that reports progress about 20 times per epoch and at each epoch end."""
    import keras

    class _Report(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.every = max(1, steps_per_epoch // 20)
            self.epoch = 0

        def on_train_begin(self, logs=None):
            if progress:  # Keras builds the training step first: a few seconds with nothing else to say
                progress(0.0, f"{label} 1/{epochs} · preparing the training step (the first batches take longest)…")

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if progress and (batch + 1) % self.every == 0:
                done = (self.epoch + (batch + 1) / steps_per_epoch) / epochs
                logs = logs or {}
                progress(min(done, 1.0), f"{label} {self.epoch + 1}/{epochs} · batch {batch + 1}/{steps_per_epoch}"
                         f" · loss {logs.get('loss', float('nan')):.4f} · accuracy {logs.get('accuracy', float('nan')):.2%}")

        def on_epoch_end(self, epoch, logs=None):
            if progress:
                logs = logs or {}
                text = f"{label} {epoch + 1}/{epochs} done · loss {logs.get('loss', float('nan')):.4f}" \
                       f" · accuracy {logs.get('accuracy', float('nan')):.2%}"
                if "val_accuracy" in logs:
                    text += f" · test accuracy {logs['val_accuracy']:.2%}"
                progress((epoch + 1) / epochs, text)

    return _Report()


def train(model, x_train: np.ndarray, y_train: np.ndarray, *, epochs: int = 1, batch_size: int = 32,
          learning_rate: float = 1e-3, seed: int = 0, validation: tuple[np.ndarray, np.ndarray] | None = None,
          progress: Progress | None = None, callbacks: list | None = None) -> TrainResult:
    """Train in place with Adam; seeded (same seed, same data → same weights and accuracy).

    ``callbacks`` are extra Keras callbacks (e.g. one that re-applies pruning masks after each batch).
    """
    import keras

    if epochs < 1 or batch_size < 1 or not learning_rate > 0:
        raise ValueError("epochs and batch size must be at least 1 and the learning rate positive.")
    keras.utils.set_random_seed(seed)
    compile_model(model, learning_rate)
    steps = int(np.ceil(len(x_train) / batch_size))
    started = time.perf_counter()
    fit = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                    validation_data=validation,
                    callbacks=[*(callbacks or []), progress_callback(progress, epochs, steps)])
    return TrainResult(history={k: [float(v) for v in vs] for k, vs in fit.history.items()},
                       seconds=time.perf_counter() - started, epochs=epochs)


def without_optimizer(model):
    """An uncompiled copy with the same weights: what to save or ship (no optimizer state)."""
    clone = type(model).from_config(model.get_config())  # clone_model would copy the compile state
    clone.set_weights(model.get_weights())
    return clone
