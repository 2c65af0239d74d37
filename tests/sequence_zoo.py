"""Models nobody here designed, built from stock Keras layers as issue 21 describes them: a ViT-tiny, an
Embedding → attention text model, recurrent nets (GRU, an LSTM stack, a Bidirectional GRU), a
GroupNormalization net, a grouped convolution, custom layers, a Sequential nested in a Functional model,
and keras.applications.ConvNeXtTiny (built lazily: it is the slow one).

Each builder returns a built ``keras.Model`` with fixed seeds and tiny inputs; the docstrings give the
parameter counts worked out by hand from the layer shapes (the tests check them against count_params).
"""

from __future__ import annotations

import numpy as np


def _seed(seed: int) -> None:
    import keras
    keras.utils.set_random_seed(seed)


def mha_params(d: int, heads: int, key_dim: int, value_dim: int | None = None) -> tuple[int, int]:
    """(kernel, bias) parameter counts of a self-attention MultiHeadAttention on width ``d``: q/k kernels
    (d, heads, key_dim), v kernel (d, heads, value_dim), output kernel (heads, value_dim, d); biases
    (heads, key_dim) ×2, (heads, value_dim), (d,)."""
    value_dim = key_dim if value_dim is None else value_dim
    kernels = 2 * d * heads * key_dim + d * heads * value_dim + heads * value_dim * d
    biases = 2 * heads * key_dim + heads * value_dim + d
    return kernels, biases


def vit_tiny(seed: int = 0):
    """ViT-tiny of issue 21 on 28×28×1: Conv2D(64, 7, strides 7) patchify (16 tokens) → 2 × [LayerNorm →
    MultiHeadAttention(4 heads, key_dim 16) → Add → LayerNorm → Dense(128, gelu) → Dense(64) → Add] →
    LayerNorm → GlobalAveragePooling1D → Dense(10).

    70,922 parameters: patchify 3,136 + 64; per block LN 128, MHA 16,384 + 256, LN 128, Dense 8,192 + 128,
    Dense 8,192 + 64 (33,472); final LN 128; head 640 + 10. Kernels of Dense/Conv: 36,544.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(64, 7, strides=7, name="patchify")(inputs)
    x = layers.Reshape((16, 64), name="tokens")(x)
    for i in range(2):
        h = layers.LayerNormalization(name=f"ln{i}_attn")(x)
        h = layers.MultiHeadAttention(num_heads=4, key_dim=16, name=f"mha{i}")(h, h)
        x = layers.Add(name=f"res{i}_attn")([x, h])
        h = layers.LayerNormalization(name=f"ln{i}_ffn")(x)
        h = layers.Dense(128, activation="gelu", name=f"ffn{i}_up")(h)
        h = layers.Dense(64, name=f"ffn{i}_down")(h)
        x = layers.Add(name=f"res{i}_ffn")([x, h])
    x = layers.LayerNormalization(name="ln_out")(x)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(10, name="head")(x)
    return keras.Model(inputs, outputs, name="vit_tiny")


def text_model(seed: int = 0, seq_len: int = 16):
    """Token ids (16) → Embedding(1000, 64) → MultiHeadAttention(4, 16) → Add → LayerNorm → Dense(128, relu)
    → Dense(64) → Add → LayerNorm → GlobalAveragePooling1D → Dense(2).

    97,602 parameters: embeddings 64,000; MHA 16,384 + 256; LN 128; Dense 8,192 + 128; Dense 8,192 + 64;
    LN 128; head 128 + 2. Kernels of Dense: 16,512.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((seq_len,), dtype="int32", name="tokens")
    x = layers.Embedding(1000, 64, name="embed")(inputs)
    h = layers.MultiHeadAttention(num_heads=4, key_dim=16, name="mha")(x, x)
    x = layers.LayerNormalization(name="ln_attn")(layers.Add(name="res_attn")([x, h]))
    h = layers.Dense(128, activation="relu", name="ffn_up")(x)
    h = layers.Dense(64, name="ffn_down")(h)
    x = layers.LayerNormalization(name="ln_ffn")(layers.Add(name="res_ffn")([x, h]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="text_model")


def gru_rows(seed: int = 0):
    """A GRU over image rows: 28 steps of 28 pixels → GRU(32) → Dense(10).

    6,282 parameters: GRU kernel 28×96 = 2,688, recurrent kernel 32×96 = 3,072, bias 2×96 = 192 (reset_after);
    head 320 + 10.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((28, 28), name="rows")
    x = layers.GRU(32, name="gru")(inputs)
    outputs = layers.Dense(10, name="head")(x)
    return keras.Model(inputs, outputs, name="gru_rows")


def lstm_stack(seed: int = 0):
    """(10 steps, 8 features) → LSTM(16, return_sequences) → LSTM(16) → Dense(3).

    3,763 parameters: LSTM 1 kernel 8×64 = 512, recurrent 16×64 = 1,024, bias 64; LSTM 2 kernel 16×64 = 1,024,
    recurrent 1,024, bias 64; head 48 + 3.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((10, 8), name="steps")
    x = layers.LSTM(16, return_sequences=True, name="lstm1")(inputs)
    x = layers.LSTM(16, name="lstm2")(x)
    outputs = layers.Dense(3, name="head")(x)
    return keras.Model(inputs, outputs, name="lstm_stack")


def bidirectional_gru(seed: int = 0):
    """(10, 8) → Bidirectional(GRU(8, return_sequences)) → GlobalAveragePooling1D → Dense(4).

    932 parameters: each direction kernel 8×24 = 192, recurrent 8×24 = 192, bias 2×24 = 48; head 16×4 + 4.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((10, 8), name="steps")
    x = layers.Bidirectional(layers.GRU(8, return_sequences=True), name="bigru")(inputs)
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = layers.Dense(4, name="head")(x)
    return keras.Model(inputs, outputs, name="bidirectional_gru")


def groupnorm_net(seed: int = 0):
    """8×8×3 → Conv2D(8, 3) → GroupNormalization(4) → ReLU → Conv2D(16, 3) → GroupNormalization(4) →
    ReLU → GlobalAveragePooling2D → Dense(5).

    1,525 parameters: conv 216 + 8, GN 16, conv 1,152 + 16, GN 32, head 80 + 5.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(8, 3, name="conv1")(inputs)
    x = layers.ReLU(name="relu1")(layers.GroupNormalization(groups=4, name="gn1")(x))
    x = layers.Conv2D(16, 3, name="conv2")(x)
    x = layers.ReLU(name="relu2")(layers.GroupNormalization(groups=4, name="gn2")(x))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(5, name="head")(x)
    return keras.Model(inputs, outputs, name="groupnorm_net")


def grouped_conv_net(seed: int = 0):
    """8×8×4 → Conv2D(8, 3, same) → Conv2D(8, 3, groups=4) → GlobalAveragePooling2D → Dense(3).

    475 parameters: conv 288 + 8, grouped conv 3×3×2×8 = 144 + 8, head 24 + 3.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((8, 8, 4), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inputs)
    x = layers.Conv2D(8, 3, groups=4, activation="relu", name="grouped")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(3, name="head")(x)
    return keras.Model(inputs, outputs, name="grouped_conv_net")


def _custom_classes():
    import keras

    class Scale(keras.layers.Layer):
        """x · s, one learned scale per channel (a layer kind nobody's table knows)."""

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

        def call(self, x):
            return x * self.scale

    class MyBlock(keras.layers.Layer):
        """Dense(units, relu) inside, times a learned gain per unit: a subclassed block."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.inner = keras.layers.Dense(units, activation="relu", name="inner")
            self.units = units

        def build(self, input_shape):
            self.inner.build(input_shape)
            self.gain = self.add_weight(shape=(self.units,), initializer="ones", name="gain")

        def call(self, x):
            return self.inner(x) * self.gain

    return Scale, MyBlock


def custom_layer_model(seed: int = 0):
    """6 → Dense d1(8) → Scale `scale` (custom, 8) → MyBlock `block` (custom: Dense inner 8×8 + 8, gain 8) →
    Dense out(3).

    171 parameters: d1 48 + 8; scale 8; block 64 + 8 + 8; out 24 + 3. Kernels the graph reaches: 72.
    """
    import keras
    from keras import layers
    _seed(seed)
    Scale, MyBlock = _custom_classes()
    inputs = keras.Input((6,), name="features")
    x = layers.Dense(8, activation="relu", name="d1")(inputs)
    x = Scale(name="scale")(x)
    x = MyBlock(8, name="block")(x)
    outputs = layers.Dense(3, name="out")(x)
    return keras.Model(inputs, outputs, name="custom_layer_model")


def nested_sequential(seed: int = 0):
    """6 → Sequential `inner` [Dense a(8), Dense b(8)] → Dense out(3), a Sequential inside a Functional model.

    155 parameters: a 48 + 8, b 64 + 8, out 24 + 3.
    """
    import keras
    from keras import layers
    _seed(seed)
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu", name="a"),
                              layers.Dense(8, activation="relu", name="b")], name="inner")
    inputs = keras.Input((6,), name="features")
    outputs = layers.Dense(3, name="out")(inner(inputs))
    return keras.Model(inputs, outputs, name="nested_sequential")


def mlp(seed: int = 0):
    """10 → Dense(16, relu) → Dense(8, relu) → Dense(3): 339 parameters, 27 of them biases."""
    import keras
    from keras import layers
    _seed(seed)
    return keras.Sequential([keras.Input((10,)), layers.Dense(16, activation="relu", name="h1"),
                             layers.Dense(8, activation="relu", name="h2"), layers.Dense(3, name="out")],
                            name="mlp")


def mobile_block(seed: int = 0):
    """8×8×3 → Conv2D(8, 3, same, no bias) → BatchNormalization → ReLU → DepthwiseConv2D(3) →
    SeparableConv2D(16, 3, same) → GlobalAveragePooling2D → Dense(4) (MobileNet's pieces).

    612 parameters: conv 216; BN 4×8 = 32 (16 of them non-trainable moving statistics); depthwise 72 + 8;
    separable depthwise 72, pointwise 128, bias 16; head 64 + 4.
    """
    import keras
    from keras import layers
    _seed(seed)
    inputs = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = layers.ReLU(name="relu")(layers.BatchNormalization(name="bn")(x))
    x = layers.DepthwiseConv2D(3, name="dw")(x)
    x = layers.SeparableConv2D(16, 3, padding="same", name="sep")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(4, name="head")(x)
    return keras.Model(inputs, outputs, name="mobile_block")


def subclassed_model(seed: int = 0):
    """A top-level subclassed keras.Model (Dense 4→5, Dense 5→2): 37 parameters, no layer graph."""
    import keras
    _seed(seed)

    class TwoDense(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d1 = keras.layers.Dense(5, activation="relu", name="d1")
            self.d2 = keras.layers.Dense(2, name="d2")

        def call(self, x):
            return self.d2(self.d1(x))

    model = TwoDense(name="two_dense")
    model(np.zeros((1, 4), dtype=np.float32))
    return model


def convnext_tiny(seed: int = 0):
    """keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10) (slow to build)."""
    import keras
    _seed(seed)
    return keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=10)


def convnext_tiny_params(classes: int = 10) -> tuple[int, int, int]:
    """(total, Dense/Conv kernels, depthwise kernels) of ConvNeXtTiny worked out by hand (Keras builds its
    depthwise 7×7 as a Conv2D with groups = width, so the graph counts it as a prunable kernel): depths 3, 3, 9, 3,
    widths 96, 192, 384, 768. Stem Conv2D 4×4 (3 → 96) + LN; each block: depthwise 7×7 (49d + d), LN 2d,
    Dense d → 4d (4d² + 4d), Dense 4d → d (4d² + d), LayerScale d; between stages LN 2p + Conv2D 2×2 (4pd + d);
    head LN 2·768 + Dense 768 → classes."""
    depths, dims = (3, 3, 9, 3), (96, 192, 384, 768)
    total = 4 * 4 * 3 * 96 + 96 + 2 * 96
    kernels = 4 * 4 * 3 * 96
    depthwise = 0
    for stage, (depth, d) in enumerate(zip(depths, dims)):
        if stage:
            p = dims[stage - 1]
            total += 2 * p + 4 * p * d + d
            kernels += 4 * p * d
        total += depth * (8 * d * d + 58 * d)
        kernels += depth * 8 * d * d
        depthwise += depth * 49 * d
    total += 2 * 768 + 768 * classes + classes
    kernels += 768 * classes
    return total, kernels, depthwise


ZOO = {"vit_tiny": vit_tiny, "text_model": text_model, "gru_rows": gru_rows, "lstm_stack": lstm_stack,
       "bidirectional_gru": bidirectional_gru, "groupnorm_net": groupnorm_net,
       "grouped_conv_net": grouped_conv_net, "custom_layer_model": custom_layer_model,
       "nested_sequential": nested_sequential, "mlp": mlp, "mobile_block": mobile_block,
       "subclassed_model": subclassed_model}
"""The quick builders by name (ConvNeXtTiny is left out: build it on its own, once)."""
