"""Physical neuron/filter removal: a new, smaller model instead of a masked one.

``units`` maps a prunable layer's name (Dense or Conv2D, see ``prune_core.layers``) to a boolean
vector over its output units, True = kept. For each pruned layer the new model drops

- the layer's kernel columns (Dense) / filters (Conv2D) and their biases,
- per-channel parameters of the layers in between (BatchNormalization on the channel axis),
- the next layer's matching inputs: rows of a Dense, input channels of a Conv2D, and, through a
  channels-last Flatten of an (H, W, C) tensor, the flattened positions ``(h*W + w)*C + c``.

Its predictions equal the masked model's (removed units' kernels and biases zeroed, the next layer's
incoming rows/channels zeroed) up to float rounding. Only single-chain models (Sequential, or
Functional with one input, one output and no branches) are supported; nested chain models are
inlined, so the result is always flat.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="hidden"),
...                           keras.layers.Dense(2, name="out")])
>>> small = compact_model(model, {"hidden": np.array([True, False, True])})
>>> small.get_layer("hidden").units, tuple(small.get_layer("out").kernel.shape)
(2, (2, 2))
"""

from __future__ import annotations

import numpy as np

from .layers import PRUNABLE_TYPES, output_layer_name, prunable_layers

# Layers without weights that act on each channel separately (or not at all at inference): a removed
# channel can simply be absent from their input. Anything else met while channels are removed is refused.
CHANNELWISE_TYPES = frozenset({
    "Activation", "ReLU", "LeakyReLU", "ELU", "Dropout", "SpatialDropout1D", "SpatialDropout2D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "UpSampling1D", "UpSampling2D",
})


def compact_model(model, units: dict[str, np.ndarray]):
    """A new Keras model with the units marked False in ``units`` physically removed.

    ``units``: {prunable layer name: bool vector of length ``units``/``filters``}, True = kept;
    layers not named keep everything. The original model is not modified. Raises ``ValueError``
    for unknown or non-prunable layer names, wrong vector lengths, removing every unit of a layer,
    shrinking the output layer, and models that are not a single chain of layers.
    """
    import keras

    chain, input_tensor = _chain(model)
    keep_units = _validated_units(model, units)
    sequential = isinstance(model, keras.Sequential)

    new_layers, new_weights = [], []
    keep = None          # bool over the last axis of the current tensor (None = nothing removed)
    shape = tuple(input_tensor.shape[1:])  # current per-sample shape in the ORIGINAL model
    for layer in chain:
        config, weights, keep, out_shape = _rebuild(layer, shape, keep, keep_units.get(layer.name))
        new_layers.append(type(layer).from_config(config))
        new_weights.append(weights)
        shape = out_shape
    if keep is not None:  # cannot happen while the output layer is never shrunk; guard anyway
        raise ValueError("The model's output would lose units; the output layer cannot be pruned.")

    new_input = keras.Input(batch_shape=tuple(input_tensor.shape), dtype=input_tensor.dtype,
                            name=_input_name(input_tensor))
    if sequential:
        compact = keras.Sequential([new_input, *new_layers], name=model.name)
    else:
        x = new_input
        for layer in new_layers:
            x = layer(x)
        compact = keras.Model(new_input, x, name=model.name)
    for layer, weights in zip(new_layers, new_weights):
        if weights:
            layer.set_weights(weights)
    return compact


def kept_counts(units: dict[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    """{layer: (kept, total)} for a unit-mask dict, e.g. for a 'removed 12 of 32 neurons' line.

    >>> kept_counts({"dense1": np.array([True, False, True])})
    {'dense1': (2, 3)}
    """
    return {name: (int(np.count_nonzero(m)), int(np.size(m))) for name, m in units.items()}


# --- validation --------------------------------------------------------------------------------

def _validated_units(model, units: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Unit masks as bool vectors, checked against the model; all-True entries are dropped."""
    prunable = {layer.name: layer for layer in prunable_layers(model)}
    output = output_layer_name(model)
    checked = {}
    for name, mask in units.items():
        if name not in prunable:
            raise ValueError(f"Layer {name!r} is not a prunable (Dense or Conv2D) layer of this model; "
                             f"prunable layers: {', '.join(prunable) or 'none'}.")
        mask = np.asarray(mask)
        n_units = int(prunable[name].kernel.shape[-1])
        if mask.shape != (n_units,):
            raise ValueError(f"The unit mask for {name!r} has shape {mask.shape}; expected ({n_units},).")
        if mask.dtype != bool:
            if not np.isin(mask, (0, 1)).all():
                raise ValueError(f"The unit mask for {name!r} must be boolean (True = kept).")
            mask = mask.astype(bool)
        if mask.all():
            continue
        if name == output:
            raise ValueError(f"Layer {name!r} is the output layer: its units are the model's outputs "
                             "and cannot be removed.")
        if not mask.any():
            raise ValueError(f"Removing all {n_units} units of layer {name!r} would disconnect the model; "
                             "keep at least one.")
        checked[name] = mask
    return checked


def _chain(model):
    """(layers in order without InputLayers, nested chains inlined; the model's input tensor)."""
    import keras

    if not getattr(model, "built", False) or not _has_inputs(model):
        raise ValueError("The model has no defined input yet; build or call it once before compacting.")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(f"Only single-input, single-output models can be compacted; this one has "
                         f"{len(model.inputs)} inputs and {len(model.outputs)} outputs.")
    if isinstance(model, keras.Sequential):
        ordered = list(model.layers)
    else:
        ordered = _functional_chain(model)
    chain = []
    for layer in ordered:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):  # nested model: inline it if it is a chain too
            chain.extend(_chain(layer)[0])
        else:
            chain.append(layer)
    return chain, model.inputs[0]


def _has_inputs(model) -> bool:
    try:
        return bool(model.inputs)
    except (AttributeError, ValueError):
        return False


def _functional_chain(model) -> list:
    """The layers from input to output of a Functional model, refusing branches and merges."""
    path = []
    tensor = model.outputs[0]
    while True:
        layer, node_index, _ = tensor._keras_history
        path.append(layer)
        inputs = layer._inbound_nodes[node_index].input_tensors
        if not inputs:  # an InputLayer
            break
        if len(inputs) != 1:
            raise ValueError(f"Layer {layer.name!r} takes {len(inputs)} inputs; only single-chain models "
                             "(each layer feeding the next) can be compacted.")
        tensor = inputs[0]
    path.reverse()
    on_path = {id(layer) for layer in path}
    off_path = [layer.name for layer in model.layers if id(layer) not in on_path]
    if off_path or len(on_path) != len(path):
        raise ValueError("Only single-chain models can be compacted; layers off the input→output chain or "
                         f"used twice: {', '.join(off_path) or 'a shared layer'}.")
    return path


def _input_name(tensor) -> str:
    """The name of the InputLayer that produced ``tensor``."""
    return tensor._keras_history[0].name


# --- per-layer rebuild ---------------------------------------------------------------------------

def _rebuild(layer, shape: tuple, keep: np.ndarray | None, own: np.ndarray | None):
    """(new config, new weights, keep after this layer, original output shape) for one layer.

    ``keep`` is the kept-channel mask of this layer's input (last axis), ``own`` this layer's
    kept-unit mask (prunable layers only).
    """
    kind = type(layer).__name__
    config = layer.get_config()
    weights = [np.asarray(w) for w in layer.get_weights()]
    out_shape = tuple(layer.compute_output_shape((None, *shape))[1:])

    if kind in PRUNABLE_TYPES:
        return (*_rebuild_prunable(layer, kind, config, weights, keep, own), out_shape)
    if keep is None:
        return config, weights, None, out_shape
    if kind == "BatchNormalization":
        axes = [config["axis"]] if isinstance(config["axis"], int) else list(config["axis"])
        if [a % (len(shape) + 1) for a in axes] != [len(shape)]:
            raise _mixes(layer, "normalises over an axis other than the channels")
        return config, [w[keep] for w in weights], keep, out_shape
    if weights:
        raise _mixes(layer, "has weights that compact_model does not know how to slice")
    if config.get("data_format", "channels_last") != "channels_last":
        raise _mixes(layer, "uses data_format='channels_first'")
    if kind == "Flatten" or (kind == "Reshape" and len(out_shape) == 1):
        positions = int(np.prod(shape[:-1], dtype=np.int64))
        new_keep = np.tile(keep, positions)  # channels-last: flat index = position * C + c
        if kind == "Reshape":
            config = {**config, "target_shape": (int(new_keep.sum()),)}
        return config, [], new_keep, out_shape
    if kind == "Reshape" and out_shape[-1] == shape[-1]:
        config = {**config, "target_shape": (*out_shape[:-1], int(keep.sum()))}
        return config, [], keep, out_shape
    if kind in CHANNELWISE_TYPES and out_shape[-1] == shape[-1]:
        return config, [], keep, out_shape
    raise _mixes(layer, "mixes channels or changes the channel axis")


def _rebuild_prunable(layer, kind, config, weights, keep, own):
    if len(weights) not in (1, 2):
        raise ValueError(f"Layer {layer.name!r} has {len(weights)} weight arrays (quantized or LoRA?); "
                         "only a plain kernel and bias can be compacted.")
    kernel, bias = weights[0], (weights[1] if len(weights) == 2 else None)
    if kind == "Conv2D" and (keep is not None or own is not None):
        if config.get("data_format", "channels_last") != "channels_last":
            raise ValueError(f"Conv2D {layer.name!r} uses data_format='channels_first'; only channels_last "
                             "models can be compacted.")
        if config.get("groups", 1) != 1:
            raise ValueError(f"Conv2D {layer.name!r} is a grouped convolution; it cannot be compacted.")
    if keep is not None:
        kernel = kernel[..., keep, :]  # input rows (Dense) / input channels (Conv2D)
    if own is not None:
        kernel = kernel[..., own]
        bias = bias[own] if bias is not None else None
        config = {**config, ("units" if kind == "Dense" else "filters"): int(own.sum())}
    new_weights = [kernel] if bias is None else [kernel, bias]
    return config, new_weights, own


def _mixes(layer, why: str) -> ValueError:
    return ValueError(f"Cannot remove channels through layer {layer.name!r} ({type(layer).__name__}): it {why}. "
                      "compact_model supports Dense/Conv2D chains with BatchNormalization, pooling, dropout, "
                      "activations, Flatten and Reshape in between.")
