"""The one table of layer kinds: what role each Keras layer class plays in a dependency group, which
weights each kind may carry, and why a known layer cannot carry removed channels in its configuration.

Imports nothing of Keras at module level (a layer is only looked at, never built).

>>> KINDS["Dense"], KINDS["Add"], KINDS["LayerNormalization"]
('prunable', 'couple', 'barrier')
>>> PRUNABLE_TYPES[:3]
('Dense', 'Conv1D', 'Conv2D')
"""

from __future__ import annotations

import numpy as np

_PRUNABLE = ("Dense", "Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D",
             "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_RECURRENT = ("SimpleRNN", "GRU", "LSTM")
GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
"""Gates per recurrent layer: its kernel, recurrent kernel and bias hold ``gates × units`` columns, gate by gate."""
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
    "BatchNormalization": "channel_params", "PReLU": "channel_params", "LayerScale": "channel_params",
    **{name: "couple" for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")},
    "Concatenate": "concat",
    **{name: "recurrent" for name in _RECURRENT},
    "Embedding": "embedding",
    "MultiHeadAttention": "attention",
    "GroupNormalization": "group_norm",
    "Flatten": "reshape", "Reshape": "reshape",
    "InputLayer": "input",
    # Known, but a removed channel would change the others: groups feeding them stay whole.
    "LayerNormalization": "barrier", "RMSNormalization": "barrier", "UnitNormalization": "barrier",
}
"""Keras class name → role. Roles:

- ``prunable``: a kernel whose output units can be removed and whose input rows/channels follow
  their input (SeparableConv: the pointwise kernel is the pruned one, its depthwise kernel follows). A
  grouped convolution (``groups`` > 1) removes whole groups: the walker unites group g's input channels
  with its output filters, so both sides go together and ``groups`` shrinks.
- ``follow``: the output channels are the input channels, one by one (activations, dropout, pooling,
  padding/cropping/upsampling, global pooling, DepthwiseConv with ``depth_multiplier=1``, whose
  kernel and bias are sliced with the channel).
- ``channel_params``: like follow, with per-channel parameters sliced (BatchNormalization on the
  channel axis, PReLU, ConvNeXt's LayerScale).
- ``couple``: all inputs share channel indices (Add, Subtract, Multiply, Average, Maximum, Minimum).
- ``concat``: each input's channels at their offset (Concatenate on the last axis; on another axis
  its inputs share channel indices, as in ``couple``).
- ``reshape``: Flatten and Reshape (a removed channel removes its block of flat features).
- ``recurrent``: SimpleRNN, GRU, LSTM: a unit is an output channel; it owns its column in every gate of
  ``kernel`` and ``recurrent_kernel``, its row of ``recurrent_kernel`` and its bias per gate; the kernel's
  rows read the input channels. A removed unit (all of that zeroed) stays exactly 0 at every step when the
  activation maps 0 to 0 and the initial state is 0, so the masked and the compact model agree.
- ``embedding``: an Embedding table's columns are its output channels (the width can be removed).
- ``attention``: MultiHeadAttention as channels (its heads are :mod:`prune_core.graph.heads`' business): the
  query/key/value kernels' rows read the query/key/value channels, the output projection's columns and bias are
  its output channels (``output_shape`` follows).
- ``group_norm``: GroupNormalization on the last axis: the channels of one of its groups are removed
  together (the walker unites them), with their gamma and beta; ``groups`` shrinks.
- ``barrier``: known layers that mix channels (LayerNormalization over the channels: its mean and
  variance include every channel, so the masked and the compact model would differ; RMSNormalization;
  UnitNormalization): what feeds them stays whole, what they output starts afresh. In *streams* mode
  (``STREAM_NORMS``, opt-in) LayerNormalization and RMSNormalization over the last axis act as
  ``channel_params`` instead: the residual stream they normalise becomes one prunable group, and the compact
  model (statistics over the kept channels) is the truth, not the masked one.
- ``input``: InputLayer.

Any other class (Bidirectional, Lambda, keras.ops in a graph other than ``x + y`` & co., custom layers) is unknown:
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
    "LayerScale": {"variable"},
    "MultiHeadAttention": {f"{part}/{w}" for part in ("query", "key", "value", "attention_output")
                           for w in ("kernel", "bias")},
    "LayerNormalization": {"gamma", "beta"}, "RMSNormalization": {"scale"},
    **{name: {"kernel", "recurrent_kernel", "bias"} for name in _RECURRENT},
    "Embedding": {"embeddings"},
    "GroupNormalization": {"gamma", "beta"},
}

_ELEMENTWISE = frozenset({
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu",
    "hard_swish", "mish", "sigmoid", "hard_sigmoid", "log_sigmoid", "sparse_sigmoid", "tanh", "hard_tanh",
    "tanh_shrink", "hard_shrink", "soft_shrink", "softplus", "softsign", "sparse_plus", "squareplus",
    "exponential", "threshold"})
_MIXING = frozenset({"softmax", "log_softmax", "glu", "sparsemax"})

WRAPPER_WHY = {
    "Bidirectional": "a wrapper whose forward and backward layers' units are concatenated; unit pruning does not go "
                     "inside wrappers (its kernels are still pruned weight by weight)",
    "TimeDistributed": "a wrapper; unit pruning does not go inside wrappers (its kernel is still pruned weight by "
                       "weight)",
}
"""Why a Keras wrapper stops unit pruning (its inner kernels are weight targets all the same)."""

# f(0) = 0: a removed recurrent unit (every weight zero) then stays exactly 0 at every step
_ZERO_AT_ZERO = frozenset({
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu",
    "hard_swish", "mish", "tanh", "hard_tanh", "tanh_shrink", "hard_shrink", "soft_shrink", "softsign"})

BARRIER_WHY = {
    "LayerNormalization": "whose mean and variance include every channel, so removing one changes the others",
    "RMSNormalization": "whose root mean square includes every channel, so removing one changes the others",
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
    found = weights_by_id(layer)
    extra = set(found) - _WEIGHTS.get(cls, set())
    if len(found) != len(layer.weights):
        extra |= {str(w.path) for w in layer.weights if not any(w is v for v in found.values())}
    if extra:
        return f"has weights the graph cannot slice ({', '.join(sorted(extra))})"
    if cls.startswith("DepthwiseConv") and config.get("depth_multiplier", 1) != 1:
        return f"has depth_multiplier={config['depth_multiplier']} (several outputs per input channel)"
    if cls == "Activation":
        return activation_rule(layer)
    if role == "recurrent":
        return recurrent_rule(config)
    if role == "attention" and len(tuple(layer._output_dense.kernel.shape)) != 3:
        return f"projects to an output of shape {config.get('output_shape')} (only one channel axis is handled)"
    if role == "group_norm" and rank and int(config.get("axis", -1)) % rank != rank - 1:
        return f"normalises groups along axis {config['axis']}, not the channels (last axis)"
    if cls in ("BatchNormalization", "Softmax") and rank:
        axes = config["axis"] if isinstance(config["axis"], (list, tuple)) else [config["axis"]]
        on_channels = [int(a) % rank == rank - 1 for a in axes]
        if cls == "BatchNormalization" and on_channels != [True]:
            return f"normalises over axis {config['axis']}, not the channels (last axis)"
        if cls == "Softmax" and any(on_channels):
            return "applies softmax across the channels"
    return None


STREAM_NORMS = ("LayerNormalization", "RMSNormalization")
"""Normalizations that streams mode lets channels pass (sliced per channel) instead of stopping them."""

CHANNEL_SIZE_KEY = {"LayerScale": "projection_dim"}
"""Channel-following layers whose config names their width (rebuilt with the kept count)."""


def stream_rule(layer, rank: int | None) -> str | None:
    """Why a LayerNormalization/RMSNormalization cannot carry removed channels in streams mode (None: it can):
    it must normalise over the last axis only."""
    axes = layer.get_config().get("axis", -1)
    axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    if rank and [int(a) % rank for a in axes] != [rank - 1]:
        return f"normalises over axis {layer.get_config()['axis']}, not the channels (last axis) alone"
    return None


def recurrent_rule(config: dict) -> str | None:
    """Why a SimpleRNN/GRU/LSTM (by its config) cannot lose units, or None."""
    if config.get("stateful"):
        return "is stateful (its state outlives a call)"
    activation = config.get("activation")
    if activation not in _ZERO_AT_ZERO:
        return (f"uses the activation {activation!r}, which does not map 0 to 0 (a removed unit would not stay "
                "zero)")
    return None


def kernel_variable(layer):
    """The prunable kernel variable: ``pointwise_kernel`` for SeparableConv, else ``kernel``."""
    if type(layer).__name__.startswith("SeparableConv"):
        return layer.pointwise_kernel
    return layer.kernel


COUPLE_OPS = ("Add", "Subtract", "Multiply", "Maximum", "Minimum")
"""keras.ops operations (``x + y`` in a Functional graph) that couple their two tensor inputs like the layers do."""


def couples_as_op(op, node) -> bool:
    """Whether a keras.ops operation in the graph is ``x + y`` & co. on two tensors (no constants, no options)."""
    return (type(op).__name__ in COUPLE_OPS and type(op).__module__.startswith("keras.")
            and len(node.input_tensors) == len(node.arguments.args) == 2 and not node.arguments.kwargs)


PRUNABLE_TYPES = tuple(name for name, role in KINDS.items() if role == "prunable")
"""The Keras class names whose kernel can be pruned, in table order."""

PRODUCER_ROLES = ("prunable", "recurrent", "embedding", "attention")
"""Roles whose layers make fresh output channels that can be removed (a dependency group's producers)."""

_SIZE_KEY = {"Dense": "units", "SimpleRNN": "units", "GRU": "units", "LSTM": "units", "Embedding": "output_dim"}


def size_key(layer) -> str:
    """The config key holding a producer's output width: ``units``, ``output_dim`` or ``filters``."""
    return _SIZE_KEY.get(type(layer).__name__, "filters")


def producer_weight(layer):
    """The variable whose columns are a producer's output units: the kernel (``pointwise_kernel`` for
    SeparableConv), an RNN's ``kernel`` (gate by gate), an Embedding's ``embeddings``."""
    if kind(layer) == "embedding":
        return layer.embeddings
    if kind(layer) == "attention":
        return layer._output_dense.kernel
    if kind(layer) == "recurrent":
        return layer.cell.kernel
    return kernel_variable(layer)


def producer_size(layer) -> int:
    """How many output units (channels) a producer has."""
    if kind(layer) == "recurrent":
        return int(layer.cell.units)
    return int(producer_weight(layer).shape[out_axis(layer)])


def producer_axes(layer, atoms):
    """(weight name, axis, atom of each index along it) for a producer's own weights: the output-unit axes.

    An RNN's kernel, recurrent kernel and bias hold one block of ``units`` columns per gate (the atoms are
    tiled); its recurrent kernel's rows are its units too.
    """
    role = kind(layer)
    if role == "attention":
        yield "attention_output/kernel", 2, atoms
        if layer._output_dense.bias is not None:
            yield "attention_output/bias", 0, atoms
        return
    for w in layer.weights:
        name, rank = short_name(w), len(w.shape)
        if role == "recurrent":
            gated = np.tile(atoms, GATES[type(layer).__name__])
            if name in ("kernel", "bias"):
                yield name, rank - 1, gated
            elif name == "recurrent_kernel":
                yield name, 0, atoms
                yield name, 1, gated
        elif role == "embedding":
            if name == "embeddings":
                yield name, 1, atoms
        elif name in ("kernel", "pointwise_kernel"):
            yield name, rank + out_axis(layer), atoms
        elif name == "bias":
            yield name, 0, atoms


def score_axes(layer) -> tuple[tuple[str, int], ...]:
    """(weight, axis) pairs whose scores make a producer's unit score: the columns of its output units (an
    RNN's in every gate of ``kernel`` and ``recurrent_kernel``)."""
    role = kind(layer)
    if role == "recurrent":
        return ("kernel", 1), ("recurrent_kernel", 1)
    if role == "attention":
        return ("attention_output/kernel", 2),
    weight = producer_weight(layer)
    return (short_name(weight), len(weight.shape) + out_axis(layer)),


_ATTENTION_PARTS = (("query", "_query_dense"), ("key", "_key_dense"), ("value", "_value_dense"),
                    ("gate", "_gate_dense"), ("attention_output", "_output_dense"))


def weights_by_id(layer) -> dict[str, object]:
    """{weight id: variable}: the variable's short name ("kernel", "bias", "gamma"), or for a MultiHeadAttention
    its projection and short name ("query/kernel", "attention_output/bias"), so every id is unique in the layer.

    >>> import keras
    >>> mha = keras.layers.MultiHeadAttention(2, 4)
    >>> _ = mha(keras.Input((5, 8)), keras.Input((5, 8)))
    >>> list(weights_by_id(mha))[:3]
    ['query/kernel', 'query/bias', 'key/kernel']
    """
    if type(layer).__name__ == "MultiHeadAttention":
        found = {}
        for part, attr in _ATTENTION_PARTS:
            for variable in getattr(getattr(layer, attr, None), "weights", []):
                found[f"{part}/{short_name(variable)}"] = variable
        return found
    if type(layer).__name__ == "LayerScale" and len(layer.weights) == 1:
        return {"variable": layer.weights[0]}  # its one unnamed weight: Keras numbers it variable, variable_1, ...
    return {short_name(variable): variable for variable in layer.weights}


def short_name(variable) -> str:
    """A Keras 3 variable's name within its layer ("kernel", "bias", "gamma", ...)."""
    return str(variable.name).rsplit("/", 1)[-1]


def out_axis(layer) -> int:
    """The kernel axis of the output units (negative): -2 for transposed convolutions, else -1."""
    return -2 if type(layer).__name__.endswith("Transpose") else -1


def in_axis(layer) -> int:
    """The kernel axis of the input rows/channels (negative): -1 for transposed convolutions, else -2."""
    return -1 if type(layer).__name__.endswith("Transpose") else -2


def concat_on_last(layer, out_shape) -> bool:
    """Whether a Concatenate joins its inputs on the last (channel) axis."""
    return int(layer.axis) % len(out_shape) == len(out_shape) - 1
