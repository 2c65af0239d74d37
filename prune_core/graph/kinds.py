"""The one table of layer kinds: what role each Keras layer class plays in a dependency group, which
weights each kind may carry, and why a known layer cannot carry removed channels in its configuration.

Imports nothing of Keras at module level (a layer is only looked at, never built).

>>> KINDS["Dense"], KINDS["Add"], KINDS["LayerNormalization"]
('prunable', 'couple', 'barrier')
>>> PRUNABLE_TYPES[:3]
('Dense', 'Conv1D', 'Conv2D')
"""

from __future__ import annotations

_PRUNABLE = ("Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
             "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_FOLLOW = ("Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
           "ActivityRegularization", "Identity", "RepeatVector",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
           "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
           "UpSampling1D", "UpSampling2D", "UpSampling3D", "DepthwiseConv1D", "DepthwiseConv2D")

KINDS: dict[str, str] = {
    **{name: "prunable" for name in _PRUNABLE},
    **{name: "follow" for name in _FOLLOW},
    "BatchNormalization": "channel_params", "PReLU": "channel_params",
    **{name: "couple" for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
    "Concatenate": "concat",
    "Flatten": "reshape", "Reshape": "reshape",
    "InputLayer": "input",
    # Known, but a removed channel would change the others: groups feeding them stay whole.
    "LayerNormalization": "barrier", "GroupNormalization": "barrier", "UnitNormalization": "barrier",
}
"""Keras class name → role. Roles:

- ``prunable``: a kernel whose output units can be removed and whose input rows/channels follow
  their input (SeparableConv: the pointwise kernel is the pruned one, its depthwise kernel follows).
- ``follow``: the output channels are the input channels, one by one (activations, dropout, pooling,
  padding/cropping/upsampling, global pooling, DepthwiseConv with ``depth_multiplier=1``, whose
  kernel and bias are sliced with the channel).
- ``channel_params``: like follow, with per-channel parameters sliced (BatchNormalization on the
  channel axis, PReLU).
- ``couple``: all inputs share channel indices (Add, Subtract, Multiply, Average, Maximum, Minimum).
- ``concat``: each input's channels at their offset (Concatenate on the last axis; on another axis
  its inputs share channel indices, as in ``couple``).
- ``reshape``: Flatten and Reshape (a removed channel removes its block of flat features).
- ``barrier``: known layers that mix channels (LayerNormalization over the channels: its mean and
  variance include every channel, so the masked and the compact model would differ; GroupNormalization;
  UnitNormalization): what feeds them stays whole, what they output starts afresh.
- ``input``: InputLayer.

Any other class (GRU, attention, Lambda, Embedding, keras.ops in a graph, custom layers) is unknown:
the channels it reads stay whole and its outputs cannot be removed.
"""

# The weights each kind may carry; anything more (LoRA, quantized kernels) cannot be sliced.
_WEIGHTS = {
    **{name: {"kernel", "bias"} for name in _PRUNABLE},
    "SeparableConv1D": {"depthwise_kernel", "pointwise_kernel", "bias"},
    "SeparableConv2D": {"depthwise_kernel", "pointwise_kernel", "bias"},
    "DepthwiseConv1D": {"kernel", "bias"}, "DepthwiseConv2D": {"kernel", "bias"},
    "BatchNormalization": {"gamma", "beta", "moving_mean", "moving_variance"},
    "PReLU": {"alpha"},
}

_ELEMENTWISE = frozenset({
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu",
    "hard_swish", "mish", "sigmoid", "hard_sigmoid", "log_sigmoid", "sparse_sigmoid", "tanh", "hard_tanh",
    "tanh_shrink", "hard_shrink", "soft_shrink", "softplus", "softsign", "sparse_plus", "squareplus",
    "exponential", "threshold"})
_MIXING = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})

BARRIER_WHY = {
    "LayerNormalization": "whose mean and variance include every channel, so removing one changes the others",
    "GroupNormalization": "which normalises channels in groups, so removing one changes its group's statistics",
    "UnitNormalization": "which divides by the norm over the channels, so removing one changes the others",
}


def kind(layer) -> str | None:
    """The layer's role in ``KINDS`` (Keras' own classes only; a subclass is unknown), or None."""
    cls = type(layer)
    if not cls.__module__.startswith("keras."):
        return None
    return KINDS.get(cls.__name__)


def activation_rule(layer) -> str | None:
    """Why the layer's own activation mixes its output channels (softmax & co.), or None."""
    activation = layer.get_config().get("activation")
    if activation is None or activation in _ELEMENTWISE:
        return None
    if activation in _MIXING:
        return f"applies {activation} across the channels"
    return f"uses an activation the graph does not know ({activation!r})"


def describe(op) -> str:
    """How a layer or operation is named in a reason: its class and name."""
    return f"{type(op).__name__} {op.name!r}"


def unit_rule(layer, role: str, rank: int | None) -> str | None:
    """Why a layer of a known kind cannot carry removed channels in its configuration (None: it can)."""
    cls = type(layer).__name__
    config = layer.get_config()
    if config.get("data_format") == "channels_first":
        return "uses data_format='channels_first' (only channels-last tensors are handled)"
    extra = {w.name for w in layer.weights} - _WEIGHTS.get(cls, set())
    if extra:
        return f"has weights the graph cannot slice ({', '.join(sorted(extra))})"
    if role == "prunable" and config.get("groups", 1) != 1:
        return f"is a grouped convolution (groups={config['groups']})"
    if cls.startswith("DepthwiseConv") and config.get("depth_multiplier", 1) != 1:
        return f"has depth_multiplier={config['depth_multiplier']} (several outputs per input channel)"
    if cls == "Activation":
        return activation_rule(layer)
    if cls in ("BatchNormalization", "Softmax") and rank:
        axes = config["axis"] if isinstance(config["axis"], (list, tuple)) else [config["axis"]]
        on_channels = [int(a) % rank == rank - 1 for a in axes]
        if cls == "BatchNormalization" and on_channels != [True]:
            return f"normalises over axis {config['axis']}, not the channels (last axis)"
        if cls == "Softmax" and any(on_channels):
            return "applies softmax across the channels"
    return None


def kernel_variable(layer):
    """The prunable kernel variable: ``pointwise_kernel`` for SeparableConv, else ``kernel``."""
    if type(layer).__name__.startswith("SeparableConv"):
        return layer.pointwise_kernel
    return layer.kernel


PRUNABLE_TYPES = tuple(name for name, role in KINDS.items() if role == "prunable")
"""The Keras class names whose kernel can be pruned, in table order."""


def out_axis(layer) -> int:
    """The kernel axis of the output units (negative): -2 for transposed convolutions, else -1."""
    return -2 if type(layer).__name__.endswith("Transpose") else -1


def in_axis(layer) -> int:
    """The kernel axis of the input rows/channels (negative): -1 for transposed convolutions, else -2."""
    return -1 if type(layer).__name__.endswith("Transpose") else -2


def concat_on_last(layer, out_shape) -> bool:
    """Whether a Concatenate joins its inputs on the last (channel) axis."""
    return int(layer.axis) % len(out_shape) == len(out_shape) - 1
