"""Parameter-count estimation from a model's configuration alone (no Keras, no allocation), and the check that
refuses a configuration declaring more parameters or input values than the upload limit can hold."""

from __future__ import annotations

import math
import re

from .bounds import _params_reason, BYTES_PER_PARAM, count_layers, MAX_CONFIG_DEPTH, MAX_UPLOAD_ENV, max_params, max_upload_bytes
from .errors import _human, _shape_text, _short, ModelFileError


# Layers without weights of their own (or with a few bookkeeping values: seed states), by class name.
WEIGHTLESS = frozenset("""
InputLayer Dropout SpatialDropout1D SpatialDropout2D SpatialDropout3D GaussianNoise GaussianDropout AlphaDropout
Activation ReLU LeakyReLU ELU Softmax Flatten Reshape Permute RepeatVector Identity Masking ActivityRegularization
MaxPooling1D MaxPooling2D MaxPooling3D AveragePooling1D AveragePooling2D AveragePooling3D
MaxPool1D MaxPool2D MaxPool3D AvgPool1D AvgPool2D AvgPool3D
GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GlobalAveragePooling1D GlobalAveragePooling2D
GlobalAveragePooling3D GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D GlobalAvgPool1D GlobalAvgPool2D GlobalAvgPool3D
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D Cropping1D Cropping2D Cropping3D
Add Subtract Multiply Average Maximum Minimum Concatenate Dot UnitNormalization Rescaling Resizing CenterCrop
Hashing CategoryEncoding Discretization StringLookup IntegerLookup TextVectorization AutoContrast Equalization
""".split())
MODEL_CLASSES = ("Sequential", "Functional", "Model")


def _int(value, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return default


def _ints(value, n: int, default: int = 1) -> tuple:
    if isinstance(value, (list, tuple)) and value and all(_int(v, -1) >= 0 for v in value):
        return tuple(_int(v) for v in value)
    return (_int(value, default),) * n


def _declared_shape(value):
    """A declared shape as a tuple of ints-or-None (a list of shapes: the first), or None."""
    if isinstance(value, dict):
        value = value.get("input_shape", next(iter(value.values()), None) if value else None)
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple, dict)):
        value = value[0]
    if not isinstance(value, (list, tuple)) or len(value) > 16:
        return None
    if any(d is not None and _int(d, -1) < 0 for d in value):
        return None
    return tuple(None if d is None else _int(d) for d in value)


def _channels(cfg: dict, shape) -> int:
    if not shape or len(shape) < 2:
        return 1
    dim = shape[1] if cfg.get("data_format") == "channels_first" else shape[-1]
    return dim if isinstance(dim, int) else 1


def _rank(kind: str) -> int:
    found = re.search(r"([123])D", kind)
    return int(found.group(1)) if found else 2


def layer_params(kind: str, cfg: dict, shape) -> int | None:
    """Parameters a layer of this class declares for this input shape (None: a class this estimate does not
    know). Conservative where it must guess: unknown input sizes count as 1.

    >>> layer_params("Dense", {"units": 10**6}, (None, 784)), layer_params("Embedding", {"input_dim": 10**5, "output_dim": 64}, None)
    (785000000, 6400000)
    """
    c = _channels(cfg, shape)
    bias = 1 if cfg.get("use_bias", True) else 0
    units, filters = _int(cfg.get("units")), _int(cfg.get("filters"))
    if kind in WEIGHTLESS:
        return 0
    if kind == "Dense":
        return units * (c + bias)
    if kind == "Embedding":
        return _int(cfg.get("input_dim")) * _int(cfg.get("output_dim"))
    if re.fullmatch(r"Conv[123]D(Transpose)?|Convolution[123]D(Transpose)?", kind):
        kernel = math.prod(_ints(cfg.get("kernel_size"), _rank(kind)))
        groups = max(_int(cfg.get("groups"), 1), 1)
        return kernel * (c // groups or 1) * filters + filters * bias
    if re.fullmatch(r"DepthwiseConv[12]D", kind):
        kernel = math.prod(_ints(cfg.get("kernel_size"), _rank(kind)))
        return (kernel + bias) * c * max(_int(cfg.get("depth_multiplier"), 1), 1)
    if re.fullmatch(r"SeparableConv(olution)?[12]D", kind):
        kernel = math.prod(_ints(cfg.get("kernel_size"), _rank(kind)))
        depth = c * max(_int(cfg.get("depth_multiplier"), 1), 1)
        return kernel * depth + depth * filters + filters * bias
    if kind in ("BatchNormalization", "SyncBatchNormalization"):
        return 4 * c
    if kind in ("LayerNormalization", "GroupNormalization", "RMSNormalization"):
        return 2 * c
    if kind == "Normalization":
        return 2 * c + 1
    if kind == "PReLU":
        return math.prod(d or 1 for d in (shape or (None, 1))[1:])
    if kind in ("SimpleRNN", "LSTM", "GRU"):
        gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
        return gates * units * (c + units + 2)
    if re.fullmatch(r"ConvLSTM[123]D", kind):
        kernel = math.prod(_ints(cfg.get("kernel_size"), _rank(kind)))
        return 4 * filters * (kernel * (c + filters) + 1)
    if kind == "MultiHeadAttention":
        heads, key_dim = _int(cfg.get("num_heads"), 1), _int(cfg.get("key_dim"), 1)
        value_dim = _int(cfg.get("value_dim"), key_dim) or key_dim
        return heads * (2 * key_dim * (c + 1) + 2 * value_dim * (c + 1))
    return None


def _generic_params(cfg: dict, shape) -> int:
    """For a class the estimate does not know: the sizes it names (units, filters, input/output_dim)."""
    c = _channels(cfg, shape)
    kernel = math.prod(_ints(cfg.get("kernel_size"), 1)) if "kernel_size" in cfg else 1
    return (_int(cfg.get("units")) * c + _int(cfg.get("filters")) * c * kernel
            + _int(cfg.get("input_dim")) * max(_int(cfg.get("output_dim")), 1))


def _conv_length(n, k: int, s: int, padding, dilation: int, transpose: bool):
    if n is None:
        return None
    if transpose:
        return n * s if padding == "same" else (n - 1) * s + max(k, s)
    if padding == "same":
        return -(-n // max(s, 1))
    return max((n - dilation * (k - 1) - 1) // max(s, 1) + 1, 0)


def _out_shape(kind: str, cfg: dict, shape, inputs=()):
    """The output shape a layer gives for this input shape, where that is easy to know; else the input shape
    (an upper bound for most layers) or None."""
    if shape is None:
        return None
    batch, rest = shape[:1], list(shape[1:])
    last = cfg.get("data_format") != "channels_first"
    if kind == "InputLayer":
        return _declared_shape(cfg.get("batch_shape") or cfg.get("batch_input_shape")) or shape
    if kind == "Dense" or kind in ("SimpleRNN", "LSTM", "GRU"):
        units = _int(cfg.get("units"))
        if kind != "Dense" and not cfg.get("return_sequences"):
            return (*batch, units)
        return (*shape[:-1], units)
    if kind == "Embedding":
        return (*shape, _int(cfg.get("output_dim")))
    if kind == "Flatten":
        return (*batch, None if None in rest else math.prod(rest))
    if kind == "Reshape":
        target = _declared_shape(cfg.get("target_shape"))
        if target is None:
            return None
        known = math.prod(d for d in target if d) if target else 1
        total = None if None in rest else math.prod(rest)
        return (*batch, *((total // known if total is not None and known else None) if d in (None, -1) else d
                          for d in target))
    if kind == "Concatenate" and inputs:
        axis = cfg.get("axis", -1)
        if all(s is not None and len(s) == len(shape) for s in inputs) and isinstance(axis, int):
            dims = [s[axis] for s in inputs]
            out = list(shape)
            out[axis] = None if None in dims else sum(dims)
            return tuple(out)
        return None
    spatial_kinds = ("Conv", "Convolution", "DepthwiseConv", "SeparableConv", "MaxPool", "AveragePool", "AvgPool")
    if kind.startswith(spatial_kinds) and len(shape) >= 3:
        rank = _rank(kind)
        spatial = rest[:-1] if last else rest[1:]
        channels = rest[-1] if last else rest[0]
        pool = "Pool" in kind
        sizes = _ints(cfg.get("pool_size" if pool else "kernel_size"), rank, 2 if pool else 1)
        strides = _ints(cfg.get("strides"), rank, sizes[0] if pool else 1) if cfg.get("strides") is not None \
            else (sizes if pool else (1,) * rank)
        dilation = _ints(cfg.get("dilation_rate"), rank, 1)
        padding = cfg.get("padding", "valid")
        new = [_conv_length(n, k, s, padding, d, "Transpose" in kind)
               for n, k, s, d in zip(spatial, sizes + (1,) * rank, strides + (1,) * rank, dilation + (1,) * rank)]
        if kind.startswith(("Conv", "Convolution", "SeparableConv")):
            channels = _int(cfg.get("filters"))
        elif kind.startswith("DepthwiseConv"):
            channels = None if channels is None else channels * max(_int(cfg.get("depth_multiplier"), 1), 1)
        return (*batch, *new, channels) if last else (*batch, channels, *new)
    if kind.startswith(("GlobalMax", "GlobalAverage", "GlobalAvg")):
        return (*batch, shape[-1] if last else shape[1])
    if kind.startswith("UpSampling") and len(shape) >= 3:
        size = _ints(cfg.get("size"), len(rest) - 1, 2)
        spatial = rest[:-1] if last else rest[1:]
        grown = [None if n is None else n * s for n, s in zip(spatial, size + (1,) * len(spatial))]
        return (*batch, *grown, rest[-1]) if last else (*batch, rest[0], *grown)
    return shape


class ParamEstimate:
    """What a config declares: parameters (conservative), the biggest layer, and kinds it could not size."""

    def __init__(self):
        self.params = 0
        self.biggest = (0, "", "")  # (params, layer name, class)
        self.unknown: set[str] = set()
        self.inputs: list[tuple[str, tuple]] = []

    def add(self, count: int, name: str, kind: str) -> None:
        self.params += count
        if count > self.biggest[0]:
            self.biggest = (count, name, kind)


def _inbound_shapes(layer: dict, shapes: dict) -> list:
    """Input shapes of a Functional layer: its inbound tensors' producers (or their declared shapes)."""
    found, stack = [], [(layer.get("inbound_nodes"), 0)]
    while stack:
        obj, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            continue
        if isinstance(obj, dict):
            if obj.get("class_name") == "__keras_tensor__" and isinstance(obj.get("config"), dict):
                history = obj["config"].get("keras_history")
                producer = history[0] if isinstance(history, list) and history else None
                found.append(shapes.get(producer) or _declared_shape(obj["config"].get("shape")))
            else:
                stack.extend((v, depth + 1) for v in reversed(list(obj.values())))
        elif isinstance(obj, list):
            if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int):  # legacy [name, node, index]
                found.append(shapes.get(obj[0]))
            else:
                stack.extend((v, depth + 1) for v in reversed(obj))
    return found


def _estimate_model(obj: dict, est: ParamEstimate, depth: int = 0):
    """Add a (Sequential or Functional) model's layers to ``est``; return its output shape (or None)."""
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    layers = [layer for layer in cfg.get("layers") or () if isinstance(layer, dict)]
    build = obj.get("build_config") if isinstance(obj.get("build_config"), dict) else {}
    functional = obj.get("class_name") != "Sequential"
    shape = _declared_shape(build.get("input_shape")) or _declared_shape(cfg.get("build_input_shape"))
    shapes: dict = {}
    for layer in layers:
        kind = layer.get("class_name") if isinstance(layer.get("class_name"), str) else "?"
        lcfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
        name = str(layer.get("name") or lcfg.get("name") or kind)
        inputs = _inbound_shapes(layer, shapes) if functional else []
        declared = _declared_shape((layer.get("build_config") or {}).get("input_shape")
                          if isinstance(layer.get("build_config"), dict) else None)
        own = _declared_shape(lcfg.get("batch_shape") or lcfg.get("batch_input_shape"))
        here = (inputs[0] if inputs else None) if functional else shape
        here = here or declared or own
        if kind == "InputLayer" or own is not None:
            if own is not None:
                est.inputs.append((name, own))
        if kind in MODEL_CLASSES and isinstance(lcfg.get("layers"), list):
            if depth < MAX_CONFIG_DEPTH:
                out = _estimate_model(layer, est, depth + 1)
            else:
                out = None
        elif kind in ("Bidirectional", "TimeDistributed") and isinstance(lcfg.get("layer"), dict):
            inner = lcfg["layer"]
            ikind, icfg = str(inner.get("class_name")), inner.get("config") if isinstance(inner.get("config"), dict) else {}
            ishape = (here[:1] + here[2:]) if kind == "TimeDistributed" and here else here
            count = layer_params(ikind, icfg, ishape)
            if count is None:
                est.unknown.add(ikind)
                count = _generic_params(icfg, ishape)
            est.add(count * (2 if kind == "Bidirectional" else 1), name, kind)
            out = _out_shape(ikind, icfg, ishape)
            if kind == "TimeDistributed" and out is not None and here:
                out = out[:1] + here[1:2] + out[1:]
            elif kind == "Bidirectional" and out is not None and out[-1] is not None:
                out = (*out[:-1], out[-1] * 2)
        else:
            candidates = [s for s in (here, declared) if s is not None] or [None]
            counts = [layer_params(kind, lcfg, s) for s in candidates]
            if counts[0] is None:
                if not (isinstance(layer.get("module"), str) and layer["module"].startswith("keras.src.ops")):
                    est.unknown.add(kind)
                counts = [_generic_params(lcfg, s) for s in candidates]
            est.add(max(counts), name, kind)
            out = _out_shape(kind, lcfg, here, inputs)
        shapes[name] = out
        shape = out
    if functional:
        outputs = cfg.get("output_layers")
        if isinstance(outputs, list) and outputs and isinstance(outputs[0], str):
            return shapes.get(outputs[0])
        if isinstance(outputs, list) and outputs and isinstance(outputs[0], list) and outputs[0]:
            return shapes.get(outputs[0][0]) if isinstance(outputs[0][0], str) else None
        return None
    return shape


def estimate_params(config) -> ParamEstimate:
    """Parameters a model config declares, from the config alone (no Keras, no allocation).

    >>> cfg = {"class_name": "Sequential", "config": {"layers": [
    ...     {"class_name": "InputLayer", "config": {"batch_shape": [None, 784]}},
    ...     {"class_name": "Dense", "config": {"name": "wide", "units": 1000000}},
    ...     {"class_name": "Dense", "config": {"name": "out", "units": 10}}]}}
    >>> est = estimate_params(cfg); est.params, est.biggest
    (795000010, (785000000, 'wide', 'Dense'))
    """
    est = ParamEstimate()
    if isinstance(config, dict) and isinstance(config.get("config"), dict) \
            and isinstance(config["config"].get("layers"), list):
        _estimate_model(config, est)
    else:  # a single layer saved as a model (rare): size it alone
        kind = str(config.get("class_name")) if isinstance(config, dict) else "?"
        cfg = config.get("config") if isinstance(config, dict) and isinstance(config.get("config"), dict) else {}
        count = layer_params(kind, cfg, None)
        if count is None:
            est.unknown.add(kind)
            count = _generic_params(cfg, None)
        est.add(count, str(cfg.get("name") or kind), kind)
    return est


def check_bounds(config, label: str, max_bytes: int | None = None) -> ParamEstimate:
    """Refuse a config that declares more layers, parameters or input values than the limits allow, from the
    config alone (before Keras builds or allocates anything). Returns the estimate.

    >>> check_bounds({"class_name": "Sequential", "config": {"layers": [
    ...     {"class_name": "Embedding", "config": {"name": "emb", "input_dim": 10**9, "output_dim": 512}}]}},
    ...     "big.keras", 200 * 1024 * 1024)
    Traceback (most recent call last):
    ...
    prune_core.io.safe_load.ModelFileError: The model in big.keras declares 512,000,000,000 parameters (1.9 TB as float32; the largest layer, 'emb' (Embedding), has 512,000,000,000), more than the 52,428,800 parameters a file within the upload limit of 200.0 MB can hold (4 bytes each). It is refused before anything is built. Upload a smaller model, or raise the limit with PRUNING_EXPLORER_MAX_UPLOAD_MB (in MB) when starting the app.
    """
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    count_layers(config, label)
    est = estimate_params(config)
    ceiling = max_params(limit)
    if est.params > ceiling:
        count, name, kind = est.biggest
        raise ModelFileError(
            f"The model in {label} declares {est.params:,} parameters ({_human(est.params * BYTES_PER_PARAM)} as "
            f"float32; the largest layer, '{_short(name, 40)}' ({_short(kind, 40)}), has {count:,}), more than "
            f"{_params_reason(limit)}. It is refused before anything is built. Upload a smaller model, or raise the "
            f"limit with {MAX_UPLOAD_ENV} (in MB) when starting the app.")
    for name, shape in est.inputs:
        values = math.prod(d for d in shape[1:] if d) if len(shape) > 1 else 0
        if values > ceiling:
            raise ModelFileError(
                f"The model in {label} declares an input '{_short(name, 40)}' of shape {_shape_text(shape)}: "
                f"{values:,} values per sample, more than {_params_reason(limit)}. It is refused before anything "
                "is built. Upload a model with a smaller input.")
    return est
