"""The model zoo: seeded architecture builders (what the app, the CLI and the tests train).

>>> build_model("mlp-128").count_params()
101770
>>> build_model("vit-tiny").count_params(), build_model("gru-rows").count_params()
(71562, 18698)
"""

from __future__ import annotations

ARCHITECTURES = {
    "mlp-128": "MLP 784-128-10 (the classic one-hidden-layer net)",
    "lenet-300-100": "LeNet-300-100 (fully connected, 784-300-100-10)",
    "lenet-5": "LeNet-5 (conv-pool-conv-pool-dense-dense-dense)",
    "vit-tiny": "ViT-tiny (7×7 patches, a position conv, 2 attention blocks of 4 heads, width 64)",
    "gru-rows": "GRU over image rows (28 steps of 28 pixels, 64 units)",
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
    if name == "vit-tiny":
        return keras.Model(inputs, _vit_tiny(inputs, input_shape, num_classes, seed), name=name)
    if name == "gru-rows":
        steps = layers.Reshape((input_shape[0], -1), name="rows")(inputs)
        x = layers.GRU(64, name="gru", kernel_initializer=keras.initializers.GlorotUniform(seed=seed + 1),
                       recurrent_initializer=keras.initializers.Orthogonal(seed=seed + 2))(steps)
        return keras.Model(inputs, _dense(num_classes, "softmax", seed + 99, "output")(x), name=name)
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


def _vit_tiny(inputs, input_shape, num_classes: int, seed: int, width: int = 64, patch: int = 7):
    """Conv2D patchify → + DepthwiseConv2D(3×3, same) → 2 × [LayerNorm → MultiHeadAttention(4 heads, key_dim 16)
    → Add → LayerNorm → Dense(128, gelu) → Dense(width) → Add] → LayerNorm → GlobalAveragePooling1D →
    Dense(classes, softmax).

    The depthwise 3×3 conv added to the patch grid is a conditional position encoding (Chu et al. 2021,
    "Conditional Positional Encodings for Vision Transformers"): without it attention sees the 16 patches as a
    set. Measured on the bundled digits, 5 epochs, batch 64, Adam 2e-3: 82.80% without, 93.85% with (640 more
    parameters); stock layers only, so the model loads in safe mode and its stream prunes as one group."""
    import keras
    from keras import layers

    init = lambda k: keras.initializers.GlorotUniform(seed=seed + k)  # noqa: E731 - one seed per layer
    x = layers.Reshape((*input_shape[:2], 1) if len(input_shape) == 2 else input_shape, name="channels")(inputs)
    x = layers.Conv2D(width, patch, strides=patch, name="patchify", kernel_initializer=init(1))(x)
    position = layers.DepthwiseConv2D(3, padding="same", name="position", depthwise_initializer=init(2))(x)
    x = layers.Add(name="with_position")([x, position])
    x = layers.Reshape((-1, width), name="tokens")(x)
    for i in range(2):
        h = layers.LayerNormalization(name=f"ln{i}_attn")(x)
        h = layers.MultiHeadAttention(num_heads=4, key_dim=16, name=f"mha{i}", kernel_initializer=init(10 + i))(h, h)
        x = layers.Add(name=f"res{i}_attn")([x, h])
        h = layers.LayerNormalization(name=f"ln{i}_ffn")(x)
        h = layers.Dense(2 * width, activation="gelu", name=f"ffn{i}_up", kernel_initializer=init(20 + i))(h)
        h = layers.Dense(width, name=f"ffn{i}_down", kernel_initializer=init(30 + i))(h)
        x = layers.Add(name=f"res{i}_ffn")([x, h])
    x = layers.LayerNormalization(name="ln_out")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    return _dense(num_classes, "softmax", seed + 99, "output")(x)
