"""Small Keras models for the graph and surgery tests, with random non-trivial weights.

Each builder returns (model, sample input). ``randomize`` gives every weight random values (biases
and BatchNormalization statistics included), so a forgotten or misplaced slice shows in the outputs.
"""

from __future__ import annotations

import numpy as np


def randomize(model, seed: int = 0):
    """Every weight random and non-zero: kernels N(0, 1/fan_in), other weights N(0, 0.2) (biases, BN
    beta/mean, PReLU alpha), BN moving variance U(0.5, 2), gamma U(0.5, 1.5)."""
    rng = np.random.default_rng(seed)
    for layer in _all_layers(model):
        for w in layer.weights:
            shape = tuple(w.shape)
            if not np.issubdtype(np.dtype(w.dtype), np.floating):
                continue
            if w.name in ("moving_variance", "gamma"):
                value = rng.uniform(0.5, 2.0 if w.name == "moving_variance" else 1.5, shape)
            elif len(shape) >= 2 and w.name != "alpha":
                value = rng.normal(0, 1 / np.sqrt(np.prod(shape[:-1])), shape)
            else:
                value = rng.normal(0, 0.2, shape)
            w.assign(value.astype(w.dtype))
    return model


def _all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _all_layers(layer)
        yield layer


def _rng(seed):
    return np.random.default_rng(seed)


def mnist_convnet():
    """The Keras example ``mnist_convnet`` (34,826 parameters; the layers named as a fresh session names them)."""
    import keras
    from keras import layers
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu", name="conv2d"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu", name="conv2d_1"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax", name="dense"),
    ], name="mnist_convnet")
    return randomize(model, 1), _rng(1).random((4, 28, 28, 1), dtype=np.float32)


def concat_branches():
    """input(6) → Dense a(8), Dense b(8) → Concatenate → Dense out(3): 163 parameters."""
    import keras
    inputs = keras.Input((6,), name="x")
    a = keras.layers.Dense(8, activation="relu", name="a")(inputs)
    b = keras.layers.Dense(8, activation="relu", name="b")(inputs)
    out = keras.layers.Dense(3, name="out")(keras.layers.Concatenate(name="cat")([a, b]))
    return randomize(keras.Model(inputs, out, name="branches"), 2), _rng(2).random((8, 6), dtype=np.float32)


def residual_dense():
    """stem(8) → fc1(12, relu) → fc2(8) → Add(stem, fc2) → out(3): 295 parameters."""
    import keras
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, name="stem")(inputs)
    h = keras.layers.Dense(12, activation="relu", name="fc1")(x)
    h = keras.layers.Dense(8, name="fc2")(h)
    y = keras.layers.Add(name="add")([x, h])
    out = keras.layers.Dense(3, name="out")(keras.layers.Activation("relu")(y))
    return randomize(keras.Model(inputs, out, name="residual_dense"), 3), _rng(3).random((8, 6), dtype=np.float32)


def _conv_bn(x, filters, name, strides=1, kernel=3, relu=True):
    import keras
    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", name=name)(x)
    x = keras.layers.BatchNormalization(name=name + "_bn")(x)
    return keras.layers.ReLU(name=name + "_relu")(x) if relu else x


def resnet_blocks():
    """stem(8) → block1 (identity shortcut) → block2 (16, stride 2, projection shortcut) → GAP → out(4)."""
    import keras
    inputs = keras.Input((12, 12, 3))
    x = _conv_bn(inputs, 8, "stem")
    h = _conv_bn(x, 8, "b1c1")
    h = _conv_bn(h, 8, "b1c2", relu=False)
    x = keras.layers.ReLU(name="b1_out")(keras.layers.Add(name="b1_add")([x, h]))
    h = _conv_bn(x, 16, "b2c1", strides=2)
    h = _conv_bn(h, 16, "b2c2", relu=False)
    s = _conv_bn(x, 16, "b2proj", strides=2, kernel=1, relu=False)
    x = keras.layers.ReLU(name="b2_out")(keras.layers.Add(name="b2_add")([s, h]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(4, activation="softmax", name="out")(x)
    return randomize(keras.Model(inputs, out, name="resnet_blocks"), 4), _rng(4).random((4, 12, 12, 3), dtype=np.float32)


def mobilenet_v2():
    import keras
    # classifier_activation=None: compare logits, which a saturated softmax could hide
    model = keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10,
                                           classifier_activation=None)
    return randomize(model, 5), _rng(5).random((2, 32, 32, 3), dtype=np.float32)


def dense_bn_layernorm():
    """h(16) → BN → LayerNorm → mid(12, relu) → out(3): h's group stays whole (LayerNorm)."""
    import keras
    inputs = keras.Input((10,))
    x = keras.layers.Dense(16, name="h")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.LayerNormalization(name="ln")(x)
    x = keras.layers.Dense(12, activation="relu", name="mid")(x)
    out = keras.layers.Dense(3, name="out")(x)
    return randomize(keras.Model(inputs, out, name="dense_bn_ln"), 6), _rng(6).random((8, 10), dtype=np.float32)


def conv1d_text():
    """Embedding(50, 16) → Conv1D(32, 3) → GlobalMaxPool1D → Dense(16) → Dense out(2)."""
    import keras
    inputs = keras.Input((20,), dtype="int32")
    x = keras.layers.Embedding(50, 16, name="emb")(inputs)
    x = keras.layers.Conv1D(32, 3, activation="relu", name="conv")(x)
    x = keras.layers.GlobalMaxPooling1D()(x)
    x = keras.layers.Dense(16, activation="relu", name="fc")(x)
    out = keras.layers.Dense(2, activation="softmax", name="out")(x)
    x_sample = _rng(7).integers(0, 50, (6, 20)).astype("int32")
    return randomize(keras.Model(inputs, out, name="conv1d_text"), 7), x_sample


def gru_model():
    """Embedding → Dense pre(12) → GRU(6) → Dense post(16) → Dense out(3): 'pre' feeds the GRU."""
    import keras
    inputs = keras.Input((9,), dtype="int32")
    x = keras.layers.Embedding(40, 8, name="emb")(inputs)
    x = keras.layers.Dense(12, activation="tanh", name="pre")(x)
    x = keras.layers.GRU(6, name="gru")(x)
    x = keras.layers.Dense(16, activation="relu", name="post")(x)
    out = keras.layers.Dense(3, name="out")(x)
    x_sample = _rng(8).integers(0, 40, (5, 9)).astype("int32")
    return randomize(keras.Model(inputs, out, name="gru_model"), 8), x_sample


def separable():
    """Conv2D(8) → SeparableConv2D(16, depth_multiplier=2) → BN → ReLU → SeparableConv2D(12) → GAP → out(5)."""
    import keras
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    x = keras.layers.SeparableConv2D(16, 3, depth_multiplier=2, padding="same", name="sep1")(x)
    x = keras.layers.BatchNormalization(name="sep1_bn")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.SeparableConv2D(12, 3, activation="relu", name="sep2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(5, name="out")(x)
    return randomize(keras.Model(inputs, out, name="separable"), 9), _rng(9).random((3, 10, 10, 3), dtype=np.float32)


def nested_backbone():
    """A Functional backbone (conv → BN → ReLU → conv → GAP) inside a classifier (Dense 8 → Dropout → out 3)."""
    import keras
    b_in = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(8, 3, name="b_conv1")(b_in)
    x = keras.layers.BatchNormalization(name="b_bn1")(x)
    x = keras.layers.ReLU(name="b_relu1")(x)
    x = keras.layers.Conv2D(16, 3, activation="relu", name="b_conv2")(x)
    backbone = keras.Model(b_in, keras.layers.GlobalAveragePooling2D(name="b_gap")(x), name="backbone")
    inputs = keras.Input((10, 10, 3), name="image")
    x = backbone(inputs)
    x = keras.layers.Dense(8, activation="relu", name="head")(x)
    x = keras.layers.Dropout(0.2, name="drop")(x)
    out = keras.layers.Dense(3, name="out")(x)
    model = keras.Model(inputs, out, name="classifier")
    return randomize(model, 10), _rng(10).random((3, 10, 10, 3), dtype=np.float32)


def conv_transpose():
    """Conv2D(6) → Conv2DTranspose(5, stride 2) → Conv2D(4) → GAP → out(3)."""
    import keras
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="down")(inputs)
    x = keras.layers.Conv2DTranspose(5, 3, strides=2, activation="relu", name="up")(x)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    out = keras.layers.Dense(3, name="out")(keras.layers.GlobalAveragePooling2D()(x))
    return randomize(keras.Model(inputs, out, name="conv_transpose"), 11), _rng(11).random((2, 6, 6, 2), dtype=np.float32)


def conv3d_prelu_reshape():
    """Conv3D(4) → PReLU → Conv3D(6) → Reshape((-1, 6)) → Dense(5) → Flatten → out(2)."""
    import keras
    inputs = keras.Input((4, 4, 4, 1))
    x = keras.layers.Conv3D(4, 2, name="c3a")(inputs)
    x = keras.layers.PReLU(shared_axes=[1, 2, 3], name="prelu")(x)
    x = keras.layers.Conv3D(6, 2, name="c3b")(x)
    x = keras.layers.Reshape((-1, 6), name="rows")(x)
    x = keras.layers.Dense(5, activation="relu", name="fc")(x)
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(2, name="out")(x)
    return randomize(keras.Model(inputs, out, name="conv3d"), 12), _rng(12).random((2, 4, 4, 4, 1), dtype=np.float32)


def squeeze_excite():
    """conv(16) → SE (GAP → Dense 4 → Dense 16 sigmoid → Reshape (1, 1, 16)) → Multiply → conv(8) → GAP → out(3)."""
    import keras
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv")(inputs)
    se = keras.layers.GlobalAveragePooling2D(name="squeeze")(x)
    se = keras.layers.Dense(4, activation="relu", name="se_reduce")(se)
    se = keras.layers.Dense(16, activation="sigmoid", name="se_expand")(se)
    se = keras.layers.Reshape((1, 1, 16), name="se_reshape")(se)
    x = keras.layers.Multiply(name="excite")([x, se])
    x = keras.layers.Conv2D(8, 1, activation="relu", name="conv2")(x)
    out = keras.layers.Dense(3, name="out")(keras.layers.GlobalAveragePooling2D()(x))
    return randomize(keras.Model(inputs, out, name="squeeze_excite"), 13), _rng(13).random((2, 8, 8, 3), dtype=np.float32)


def shared_dense():
    """One Dense 'shared'(8) applied to two inputs' projections pa(6), pb(6) → Add → out(2)."""
    import keras
    xa, xb = keras.Input((5,), name="xa"), keras.Input((5,), name="xb")
    pa = keras.layers.Dense(6, activation="relu", name="pa")(xa)
    pb = keras.layers.Dense(6, activation="relu", name="pb")(xb)
    shared = keras.layers.Dense(8, activation="relu", name="shared")
    y = keras.layers.Add(name="add")([shared(pa), shared(pb)])
    out = keras.layers.Dense(2, name="out")(y)
    rng = _rng(14)
    sample = [rng.random((4, 5), dtype=np.float32), rng.random((4, 5), dtype=np.float32)]
    return randomize(keras.Model([xa, xb], out, name="shared_dense"), 14), sample


# name → builder; every one is pruned 30% globally in the tests
ZOO = {
    "mnist_convnet": mnist_convnet,
    "concat_branches": concat_branches,
    "residual_dense": residual_dense,
    "resnet_blocks": resnet_blocks,
    "mobilenet_v2": mobilenet_v2,
    "dense_bn_layernorm": dense_bn_layernorm,
    "conv1d_text": conv1d_text,
    "gru_model": gru_model,
    "separable": separable,
    "nested_backbone": nested_backbone,
    "conv_transpose": conv_transpose,
    "conv3d_prelu_reshape": conv3d_prelu_reshape,
    "squeeze_excite": squeeze_excite,
    "shared_dense": shared_dense,
}
