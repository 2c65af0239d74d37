"""Safe loading of a user's model file (.keras or legacy .h5), with one clear message per refusal.

An uploaded file is untrusted. Nothing in it is ever run: before Keras sees the file we read its
architecture (``config.json`` in a .keras zip, the ``model_config`` attribute of an .h5) and refuse
anything that would run code or reach outside the file. Only then is it written to a private
temporary file (mode 0600, a name we choose) and loaded with ``safe_mode=True`` and ``compile=False``.

Checks, in order (each refusal raises :class:`ModelFileError`, a ValueError whose message says what is
wrong and what to do):

1. size: empty, or over the upload limit (``PRUNING_EXPLORER_MAX_UPLOAD_MB``, default 200) — before any parsing;
2. extension (.keras, .h5, .hdf5) and content sniffing (a PNG, a text file, random bytes, an .h5 named .keras …);
3. .keras: a readable zip, safe member names (no absolute paths, ``..``, links), sane declared sizes and
   compression ratios, a ``config.json`` and a weights file; the weights .h5 inside is checked like an .h5;
4. .h5: no external links, external raw storage or virtual datasets; a ``model_config`` attribute;
5. the config: no Lambda, TFSMLayer, TorchModuleWrapper, JaxLayer/FlaxLayer, no class or function that is
   not Keras' own (custom or registered classes are named);
6. after loading: one input and one output, finite weights, at least one Dense or Conv2D layer.

>>> load_model_file(b"", "model.keras")
Traceback (most recent call last):
...
prune_core.io.safe_load.ModelFileError: The file model.keras is empty (0 bytes). Upload the .keras or .h5 file that model.save(...) wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import threading
import time
import types
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...graph import layers, prunable_layers, PRUNABLE_TYPES

MAX_UPLOAD_ENV = "PRUNING_EXPLORER_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200
MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")
# Zip sanity: a .keras file written by Keras stores its members uncompressed (ratio ~1). Zeros from pruning
# compress well, so allow a generous ratio, but not a "bomb" that declares far more than it stores.
MAX_MEMBERS = 1000
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1 << 20  # small members may have any ratio (a 64-byte metadata.json of spaces …)
UNCOMPRESSED_FACTOR = 4  # all members together may declare at most 4 × the upload limit
MAX_CONFIG_BYTES = 32 << 20
MAX_H5_OBJECTS = 50_000
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5", "model.weights.npz")

# Keras' own classes that run code from the file or reach outside it: refused even though Keras ships them.
CODE_LAYERS = {
    "Lambda": "runs a Python function stored in the file",
    "TFSMLayer": "loads a TensorFlow SavedModel from a path outside the file",
    "TorchModuleWrapper": "unpickles a PyTorch module (arbitrary code)",
    "JaxLayer": "wraps an arbitrary JAX function",
    "FlaxLayer": "wraps an arbitrary Flax module",
}
# Data-only encodings used by Keras' serializer; "__lambda__" (bytecode) and anything else are refused.
DATA_TAGS = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__", "__slice__"}
# What the first bytes say a file is: the two model containers, then what people upload by mistake.
_SIGNATURES = ((b"\x89HDF\r\n\x1a\n", "hdf5"), ((b"PK\x03\x04", b"PK\x05\x06"), "zip"),
               (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"%PDF", "a PDF document"), (b"\x93NUMPY", "a NumPy .npy array"))
SAVE_HINT = "Save the model with model.save('model.keras') (Keras 3) or model.save('model.h5') and upload that file."


class ModelFileError(ValueError):
    """A model file was refused; the message is the user-facing explanation (what is wrong, what to do)."""


# --- limits --------------------------------------------------------------------------------------------

def max_upload_mb() -> int:
    """The upload limit in MB: env ``PRUNING_EXPLORER_MAX_UPLOAD_MB`` (a positive integer), else 200."""
    raw = os.environ.get(MAX_UPLOAD_ENV, "").strip()
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_MAX_UPLOAD_MB
    return value if value > 0 else DEFAULT_MAX_UPLOAD_MB


def max_upload_bytes() -> int:
    return max_upload_mb() * 1024 * 1024


def _mb(n: int) -> str:
    """Sizes as Streamlit's uploader counts them (1 MB = 1024² bytes); small ones in KB.

    >>> _mb(200 * 1024 * 1024), _mb(1536)
    ('200.0 MB', '1.5 KB')
    """
    return f"{n / (1024 * 1024):,.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:,.1f} KB"


def check_size(data: bytes, label: str, max_bytes: int | None = None) -> None:
    """Refuse an empty or too-large model upload (before anything looks inside it)."""
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    if len(data) == 0:
        raise ModelFileError(f"The file {label} is empty (0 bytes). Upload the .keras or .h5 file that "
                             "model.save(...) wrote.")
    if len(data) > limit:
        raise ModelFileError(too_large_message(f"The file {label}", len(data), limit, "model"))


def too_large_message(subject: str, size: int, limit: int, what: str) -> str:
    return (f"{subject} is {_mb(size)}, over the upload limit of {_mb(limit)}. Upload a smaller {what} "
            f"file, or raise the limit with the environment variable {MAX_UPLOAD_ENV} (in MB) when starting the app.")


# --- names -----------------------------------------------------------------------------------------------

def display_name(filename: str, limit: int = 60) -> str:
    """A safe label for a user's file name: the last path part, only plain characters, shortened.

    Used only for display; never as a path.

    >>> display_name("../../etc/my model[1].keras")
    'my model_1_.keras'
    """
    base = re.split(r"[\\/]", str(filename))[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip() or "upload"
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _sniff(data: bytes) -> str:
    head = data[:16]
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    sample = data[:4096]
    try:
        sample.decode("utf-8")
        if b"\x00" not in sample:
            return "a text file"
    except UnicodeDecodeError:
        pass
    return "unknown"


# --- bounds: what the configuration declares, checked before anything is built ---------------------------
#
# Limits, and where they come from:
# * parameters: a model's weights are stored in its file, 4 bytes per float32 parameter, so a file within the
#   upload limit holds at most limit / 4 parameters; a config declaring more is refused before Keras allocates
#   (raise the upload limit to load bigger models). The same count bounds any single HDF5 dataset and the
#   values per sample of a model input.
# * layers: MAX_LAYERS, fixed (build time grows with layers, not bytes; the largest keras.applications model,
#   NASNetLarge, has about 1,040).
# * nesting: MAX_CONFIG_DEPTH levels of JSON (Keras writes about 12, nested models add about 6 each).
# * HDF5: MAX_H5_OBJECTS links visited once each (hard links and cycles are not followed twice),
#   MAX_H5_DEPTH groups deep.

MAX_LAYERS = 2_000
MAX_CONFIG_DEPTH = 64
MAX_H5_DEPTH = 32
BYTES_PER_PARAM = 4
H5_SLACK_VALUES = 65_536  # stored values beyond the declared parameters that are not a refusal (seed states …)
SKIPPED_KEYS = ("compile_config", "training_config")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_STEP = np.zeros(256, np.int8)
_JSON_STEP[[ord("["), ord("{")]] = 1
_JSON_STEP[[ord("]"), ord("}")]] = -1


def max_params(max_bytes: int | None = None) -> int:
    """Parameters a file within the upload limit can hold: limit / 4 bytes (float32).

    >>> max_params(200 * 1024 * 1024)
    52428800
    """
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    return max(limit // BYTES_PER_PARAM, 1)


def _params_reason(max_bytes: int) -> str:
    return (f"the {max_params(max_bytes):,} parameters a file within the upload limit of {_mb(max_bytes)} can hold "
            f"(4 bytes each)")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of [ ] and { } in a JSON text, measured without parsing it (linear, no recursion);
    brackets inside strings do not count.

    >>> json_depth(b'{"a": [1, {"b": "]]]"}]}'), json_depth(b'[' * 5000)
    (3, 5000)
    """
    stripped = _JSON_STRING.sub(b'""', raw)
    steps = _JSON_STEP[np.frombuffer(stripped, np.uint8)]
    depth = peak = 0
    for start in range(0, len(steps), 1 << 22):
        levels = np.cumsum(steps[start:start + (1 << 22)], dtype=np.int64) + depth
        peak, depth = max(peak, int(levels.max())), int(levels[-1])
    return peak


def parse_config(raw, subject: str):
    """Parse a model configuration (bytes or str) after bounding its size and nesting; ``subject`` starts the
    messages ("The config.json in model.keras")."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{subject} is {_mb(len(raw))}, over {_mb(MAX_CONFIG_BYTES)}; "
                             "that is not a model configuration. " + SAVE_HINT)
    depth = json_depth(raw)
    if depth > MAX_CONFIG_DEPTH:
        raise ModelFileError(f"{subject} is nested {depth:,} levels deep, more than the "
                             f"{MAX_CONFIG_DEPTH} this app reads (Keras writes about 12). It does not look like a "
                             "Keras model and is refused before it is parsed. " + SAVE_HINT)
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:  # cannot happen below MAX_CONFIG_DEPTH; kept so that it can never escape
        raise ModelFileError(f"{subject} is nested too deeply. " + SAVE_HINT) from None
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{subject} is not valid JSON: the file is corrupt. "
                             "Save the model again and upload the new file.") from None


def _walk(config):
    """Every dict with a ``class_name`` in a config, in document order, with the name of the nearest named
    object above it. Iterative (an explicit stack: no recursion), depth-bounded, compile/training configs
    skipped."""
    stack = [(config, None, 0)]
    while stack:
        obj, parent, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise ModelFileError(f"The model's configuration is nested more than {MAX_CONFIG_DEPTH} levels deep; "
                                 "it does not look like a Keras model. " + SAVE_HINT)
        if isinstance(obj, list):
            stack.extend((item, parent, depth + 1) for item in reversed(obj) if isinstance(item, (dict, list)))
            continue
        if "class_name" in obj:
            yield obj, parent
            cfg = obj.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
                parent = _short(cfg["name"], 40)
        stack.extend((value, parent, depth + 1) for key, value in reversed(list(obj.items()))
                     if key not in SKIPPED_KEYS and isinstance(value, (dict, list)))


def count_layers(config, label: str = "this file") -> int:
    """Layers in a config, nested models included; stops counting (and refuses) past MAX_LAYERS."""
    total = 0
    for obj, _ in _walk(config):
        cfg = obj.get("config")
        layers = cfg.get("layers") if isinstance(cfg, dict) else None
        if isinstance(layers, list):
            total += len(layers)
            if total > MAX_LAYERS:
                raise ModelFileError(
                    f"The model in {label} declares more than {MAX_LAYERS:,} layers (at least {total:,}); this "
                    f"app loads models of up to {MAX_LAYERS:,} layers (the largest keras.applications model has "
                    "about 1,040). It is refused before anything is built. Upload a smaller model.")
    return total


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


def _human(n: int) -> str:
    """Bytes for a message: KB … TB (1 KB = 1024 bytes).

    >>> _human(4 * 10**9), _human(2048)
    ('3.7 GB', '2.0 KB')
    """
    value = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if value < 1024 or unit == "PB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


# --- the config check ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def builtin_names() -> frozenset[str]:
    """Class names Keras itself ships and can deserialize: its layers and ops (every Operation subclass
    defined inside keras.src), models, initializers, regularizers, constraints and dtype policies.
    Classes a user defined (in any other module) are not in it."""
    return frozenset(name for _, name in allowed_classes())


def _keras_classes() -> list[type]:
    import keras
    from keras.src.ops.operation import Operation

    found: list[type] = []
    stack, seen = [Operation], set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__module__.startswith("keras.src.") and not cls.__name__.startswith("_"):
            found.append(cls)
        stack.extend(cls.__subclasses__())
    for module in (keras.layers, keras.models, keras.initializers, keras.regularizers, keras.constraints,
                   keras.dtype_policies):
        found.extend(v for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
    return found


@lru_cache(maxsize=1)
def allowed_classes() -> frozenset[tuple[str, str]]:
    """(module, class name) pairs Keras writes for its own classes: the defining module and the public
    path it exports the class under (``keras.layers`` + ``Dense``, ``keras.src.ops.numpy`` + ``Add`` …)."""
    from keras.src import api_export

    pairs: set[tuple[str, str]] = set()
    classes = set(_keras_classes())
    for cls in classes:
        pairs.add((cls.__module__, cls.__name__))
    for path, obj in api_export.REGISTERED_NAMES_TO_OBJS.items():
        if isinstance(obj, type) and obj in classes and "." in path:
            module, name = path.rsplit(".", 1)
            pairs.add((module, name))
            pairs.add((module, obj.__name__))
    for name in ("Functional", "Sequential", "Model"):
        pairs.add(("keras", name))
    return frozenset(pairs)


@lru_cache(maxsize=1)
def allowed_functions() -> frozenset[tuple[str, str]]:
    """(module, function name) pairs for Keras' activation functions, the only functions a model config
    (outside its compile config) names: ``keras.activations`` + ``relu`` … Nothing else — not
    ``keras.activations.deserialize``, not ``keras.src.layers`` + ``deserialize``."""
    from keras.src import activations, api_export

    pairs: set[tuple[str, str]] = set()
    for name, fn in activations.ALL_OBJECTS_DICT.items():
        if not callable(fn) or isinstance(fn, type):
            continue
        pairs.add((fn.__module__, name))
        pairs.add(("keras.activations", name))
        pairs.add(("builtins", name))  # how Keras names a built-in function it finds by name alone
        exported = api_export.get_name_from_symbol(fn)
        if exported and "." in exported:
            pairs.add((exported.rsplit(".", 1)[0], name))
    return frozenset(pairs)


def _name_of(obj: dict, parent: str | None) -> str:
    cfg = obj.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    if isinstance(name, str) and name:
        return f"'{_short(name, 40)}'"
    return f"inside '{parent}'" if parent else "(unnamed)"


def _layer_label(obj: dict, parent: str | None) -> str:
    cfg = obj.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    if isinstance(name, str) and name:
        return f"'{_short(name, 40)}' ({_short(str(obj.get('class_name')), 40)})"
    return f"a {_short(str(obj.get('class_name')), 40)} object" + (f" inside layer '{parent}'" if parent else "")


# Layers whose config may name a file to read (a vocabulary): only lists stored in the config are accepted.
PATH_KEYS = {"StringLookup": ("vocabulary", "idf_weights"), "IntegerLookup": ("vocabulary", "idf_weights"),
             "TextVectorization": ("vocabulary", "idf_weights", "stop_words")}


def check_config(config) -> None:
    """Walk a serialized Keras model config (iteratively, depth-bounded) and refuse, naming the layer,
    anything that would run code or read outside the file. Classes and functions are checked by
    (module, name) against Keras' own.

    ``compile_config``/``training_config`` are skipped: the app loads with compile=False, so the optimizer
    and loss in them are never built.

    >>> check_config({"class_name": "Sequential", "module": "keras", "config": {"layers": [
    ...     {"class_name": "Lambda", "module": "keras.layers", "config": {"name": "lam"}}]}})
    Traceback (most recent call last):
    ...
    prune_core.io.safe_load.ModelFileError: This model contains a Lambda layer 'lam', which runs a Python function stored in the file. It is refused because loading it could run code from the file. Replace the Lambda with built-in Keras layers (or keras.ops in a Functional model), save again, and upload that file.
    """
    classes, functions = allowed_classes(), allowed_functions()
    for obj, parent in _walk(config):
        _check_object(obj, parent, classes, functions)


def _check_object(obj: dict, parent: str | None, classes, functions) -> None:
    class_name = obj.get("class_name")
    module = obj.get("module")
    registered = obj.get("registered_name")
    if not isinstance(class_name, str):
        raise ModelFileError("The model's configuration has an object without a proper class name; it does not "
                             "look like a Keras model. " + SAVE_HINT)
    label = _layer_label(obj, parent)
    if class_name in CODE_LAYERS:
        raise ModelFileError(
            f"This model contains a {class_name} layer {_name_of(obj, parent)}, which {CODE_LAYERS[class_name]}. It is refused "
            "because loading it could run code from the file. Replace the "
            f"{class_name} with built-in Keras layers (or keras.ops in a Functional model), save again, "
            "and upload that file.")
    if class_name == "__lambda__":
        raise ModelFileError(
            f"This model stores a Python lambda function (in {parent and repr(parent) or 'its configuration'}). "
            "It is refused because loading it would run code from the file. Use built-in Keras activations "
            "and layers, save again, and upload that file.")
    if class_name in DATA_TAGS:
        return
    if class_name == "function":
        fn = obj.get("config")
        if isinstance(fn, str) and isinstance(module, str) and (module, fn) in functions \
                and registered in (None, fn):
            return
        raise ModelFileError(
            f"This model refers to the function {_short(str(fn), 40)!s} from module "
            f"{_short(str(module), 60)} (in {repr(parent) if parent else 'its configuration'}), which is not "
            "one of Keras' activation functions. It is refused because loading it could run code outside Keras' "
            "layers. Use a built-in activation (e.g. 'relu', 'softmax'), save again, and upload that file.")
    known = module is None and class_name in builtin_names()  # legacy .h5 configs name no module
    custom = (not (known or (isinstance(module, str) and (module, class_name) in classes))
              or (isinstance(registered, str) and registered != class_name))
    if custom:
        where = f" from module {_short(str(module), 60)}" if module else ""
        reg = f" (registered as {_short(registered, 60)})" if isinstance(registered, str) and registered != class_name else ""
        raise ModelFileError(
            f"This model uses {label}, a custom class{where}{reg} that is not part of Keras. Custom classes are "
            "refused because loading them means running their code. Rebuild the model from built-in Keras layers "
            "(Dense, Conv2D, BatchNormalization, Dropout, pooling …), save again, and upload that file.")
    cfg = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    for key in PATH_KEYS.get(class_name, ()):
        if isinstance(cfg.get(key), str):
            raise ModelFileError(
                f"This model's layer {label} reads its {key} from the path '{_short(cfg[key], 120)}', outside the "
                "model file. Files that reach outside themselves are refused (the path would be read on this "
                f"server). Give the {key} as a list (layer.set_vocabulary([...]) or vocabulary=[...]), save again, "
                "and upload that file.")


# --- HDF5 ------------------------------------------------------------------------------------------------

class H5Facts:
    """What an HDF5 file declares, found without reading any dataset: its model config, how many datasets
    and values, and the largest dataset (path, shape, values)."""

    def __init__(self, config=None):
        self.config = config
        self.datasets = 0
        self.values = 0
        self.bytes = 0
        self.largest: tuple[int, str, tuple] = (0, "", ())


def inspect_hdf5(data: bytes, label: str, max_bytes: int | None = None) -> H5Facts:
    """Open an .h5 from memory and walk it once per object (a visited set: hard links and link cycles are not
    followed twice; MAX_H5_OBJECTS links and MAX_H5_DEPTH levels at most). Refuse external links, external
    raw storage, virtual datasets, and datasets whose declared shape exceeds the limits — from the shape
    alone, before any read. Return the parsed ``model_config`` (or None) and the declared sizes."""
    import h5py

    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    ceiling = max_params(limit)
    try:
        handle = h5py.File(io.BytesIO(data), "r")
    except Exception:
        raise ModelFileError(f"The file {label} starts like an HDF5 file but cannot be opened: it is truncated or "
                             f"corrupt. Save the model again and upload the new file.") from None
    facts = H5Facts()
    with handle:
        root = handle["/"]
        visited = {root.id: "/"}
        seen = 0
        stack = [("", root, 0)]
        while stack:
            path, group, depth = stack.pop()
            for name in group:
                seen += 1
                if seen > MAX_H5_OBJECTS:
                    raise ModelFileError(f"The file {label} holds more than {MAX_H5_OBJECTS:,} HDF5 objects; that "
                                         "is not a model this app can use. It is refused before anything is read.")
                where = _short(f"{path}/{name}".lstrip("/"), 80)
                link = group.get(name, getlink=True)
                if isinstance(link, h5py.ExternalLink):
                    raise ModelFileError(
                        f"The file {label} contains an external link ('{where}' points into another file). Files "
                        "that reach outside themselves are refused. Save the model again with model.save(...) "
                        "so that all weights are inside one file.")
                if isinstance(link, h5py.SoftLink):
                    continue  # points inside the file; not followed (no loops)
                try:
                    obj = group.get(name)
                except Exception:
                    raise ModelFileError(f"The file {label} has an HDF5 object ('{where}') that cannot be opened: "
                                         "the file is corrupt. Save the model again and upload the new file.") from None
                if obj is None:
                    continue
                if obj.id in visited:
                    if isinstance(obj, h5py.Group):  # Keras never links a group twice: a cycle or a crafted file
                        raise ModelFileError(
                            f"The file {label} links the HDF5 group '{_short(visited[obj.id], 60)}' a second time "
                            f"(as '{where}'), a hard-link cycle or shared group that Keras never writes. It is refused "
                            "(each object is visited once, so this is found at once). " + SAVE_HINT)
                    continue  # a dataset linked twice: checked once
                visited[obj.id] = where or "/"
                if isinstance(obj, h5py.Dataset):
                    _check_dataset(obj, where, label, limit, ceiling, facts)
                elif isinstance(obj, h5py.Group):
                    if depth + 1 > MAX_H5_DEPTH:
                        raise ModelFileError(
                            f"The file {label} nests HDF5 groups more than {MAX_H5_DEPTH} levels deep (at "
                            f"'{_short(where, 60)}'); a Keras model file nests fewer than 10. It is refused.")
                    stack.append((f"{path}/{name}", obj, depth + 1))
        if "model_config" in handle.attrs:
            size = handle.attrs.get_id("model_config").get_storage_size()
            if size > MAX_CONFIG_BYTES:
                raise ModelFileError(f"The model configuration in {label} is {_mb(size)}, over "
                                     f"{_mb(MAX_CONFIG_BYTES)}; that is not a model configuration. " + SAVE_HINT)
            raw = handle.attrs.get("model_config")
        else:
            raw = None
    if raw is not None:
        if isinstance(raw, np.ndarray) and raw.shape == ():
            raw = raw[()]
        if not isinstance(raw, (bytes, str)):
            raise ModelFileError(f"The model configuration in {label} is not text: the file is corrupt. "
                                 "Save the model again and upload the new file.")
        facts.config = parse_config(raw, f"The model configuration in {label}")
    return facts


def _check_dataset(obj, where: str, label: str, limit: int, ceiling: int, facts: H5Facts) -> None:
    if obj.is_virtual:
        raise ModelFileError(
            f"The file {label} contains a virtual dataset ('{where}'), which reads data from other "
            "files. It is refused. Save the model again with model.save(...) so that all weights "
            "are inside one file.")
    if obj.external:
        raise ModelFileError(
            f"The file {label} stores the dataset '{where}' in external raw files. It is refused. "
            "Save the model again with model.save(...) so that all weights are inside one file.")
    shape = tuple(obj.shape) if obj.shape is not None else ()
    values = math.prod(shape)
    nbytes = values * max(int(obj.dtype.itemsize), 1)
    facts.datasets += 1
    facts.values += values
    facts.bytes += nbytes
    if values > facts.largest[0]:
        facts.largest = (values, where, shape)
    if values > ceiling:
        raise ModelFileError(
            f"The file {label} declares a dataset '{where}' of shape {_shape_text(shape)}: {values:,} values, "
            f"more than {_params_reason(limit)}. It is refused before anything is read. Upload a smaller model.")
    if facts.bytes > UNCOMPRESSED_FACTOR * limit:
        raise ModelFileError(
            f"The datasets in {label} declare {_human(facts.bytes)} in all, more than {UNCOMPRESSED_FACTOR} × the "
            f"upload limit ({_mb(UNCOMPRESSED_FACTOR * limit)}). It is refused before anything is read.")


def check_hdf5(data: bytes, label: str) -> dict | None:
    """The ``model_config`` of an .h5 (parsed JSON) or None, after :func:`inspect_hdf5`'s checks."""
    return inspect_hdf5(data, label).config


def check_weights_against_config(facts: H5Facts, est: ParamEstimate, label: str) -> None:
    """Refuse a weights file holding a dataset larger than every parameter the config declares together
    (when the estimate knows every layer kind in it)."""
    values, where, shape = facts.largest
    if not est.unknown and values > est.params + H5_SLACK_VALUES:
        raise ModelFileError(
            f"The weights in {label} declare a dataset '{where}' of shape {_shape_text(shape)} ({values:,} values), "
            f"but the model's configuration declares only {est.params:,} parameters in all. The weights do not "
            "belong to this architecture; the file is refused before anything is read. " + SAVE_HINT)


# --- .keras zip ------------------------------------------------------------------------------------------

def _unsafe_member(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part == ".." for part in name.split("/"))


def check_keras_zip(data: bytes, label: str, max_bytes: int) -> tuple[dict, bytes | None]:
    """Check a .keras zip without extracting it; return (config, the weights .h5 bytes or None for .npz)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ModelFileError(f"The file {label} is a truncated or corrupt zip archive (a .keras file is a zip). "
                             "Download or copy it again, or save the model again, and upload the new file.") from None
    with archive:
        if len(infos) > MAX_MEMBERS:
            raise ModelFileError(f"The archive {label} holds {len(infos):,} files; a .keras model holds 3 or 4. "
                                 "It is refused. " + SAVE_HINT)
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise ModelFileError(
                f"The archive {label} contains two or more files named '{_short(twice[0], 80)}'. Which copy a "
                "reader takes is up to the reader, so what is checked might not be what is loaded: it is refused. "
                + SAVE_HINT)
        total = 0
        for info in infos:
            name = info.filename
            if _unsafe_member(name):
                raise ModelFileError(
                    f"The archive {label} contains a file named '{_short(name, 80)}' that points outside the "
                    "archive (an absolute path or '..'). Such archives are refused before anything is extracted. "
                    + SAVE_HINT)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ModelFileError(f"The archive {label} contains a symbolic link ('{_short(name, 80)}'). "
                                     "It is refused before anything is extracted. " + SAVE_HINT)
            if name not in KERAS_MEMBERS and not name.startswith("assets/"):
                raise ModelFileError(
                    f"The archive {label} contains '{_short(name, 80)}', which is not part of a Keras model "
                    "file (config.json, metadata.json, model.weights.h5, assets/). It is refused. " + SAVE_HINT)
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
                raise ModelFileError(
                    f"The archive {label} is refused: its member '{_short(name, 80)}' would expand from "
                    f"{_mb(info.compress_size)} to {_mb(info.file_size)} (×{ratio:,.0f}), which looks like a "
                    "zip bomb. " + SAVE_HINT)
        if total > UNCOMPRESSED_FACTOR * max_bytes:
            raise ModelFileError(
                f"The archive {label} would expand to {_mb(total)}, more than {UNCOMPRESSED_FACTOR} × the upload "
                f"limit ({_mb(UNCOMPRESSED_FACTOR * max_bytes)}). It is refused before anything is extracted.")
        names = set(names)
        if "config.json" not in names:
            raise ModelFileError(
                f"The archive {label} has no config.json, so it is not a Keras model file (it may be a zip of "
                "something else, or weights only). " + SAVE_HINT)
        if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
            raise ModelFileError(f"The config.json in {label} is over {_mb(MAX_CONFIG_BYTES)}; that is not a "
                                 "model configuration. " + SAVE_HINT)
        if "model.weights.h5" not in names and "model.weights.npz" not in names:
            raise ModelFileError(
                f"The archive {label} has a config.json but no weights (model.weights.h5). Save the whole model "
                "with model.save('model.keras'), not only its architecture, and upload that file.")
        try:
            raw_config = archive.read("config.json")
            weights = archive.read("model.weights.h5") if "model.weights.h5" in names else None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise ModelFileError(f"The archive {label} is corrupt (a member fails its checksum or cannot be "
                                 "decompressed). Save the model again and upload the new file.") from None
    config = parse_config(raw_config, f"The config.json in {label}")
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelFileError(f"The config.json in {label} does not describe a Keras model. " + SAVE_HINT)
    return config, weights


# --- after loading ---------------------------------------------------------------------------------------

def check_loaded(model, label: str) -> None:
    """Refuse models the app cannot use: several inputs/outputs, non-finite weights, nothing to prune."""
    inputs = getattr(model, "inputs", None)
    outputs = getattr(model, "outputs", None)
    if not inputs or not outputs:
        raise ModelFileError(f"The model in {label} has no defined input shape (it was saved before being built). "
                             "Build it (e.g. start it with keras.Input(shape=...)), save again and upload that file.")
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelFileError(f"The model in {label} has {len(inputs)} inputs and {len(outputs)} outputs; this app "
                             "works with one input and one output (a classifier).")
    for layer in _all_layers(model):
        for weight in layer.weights:
            values = np.asarray(weight)
            if not np.issubdtype(values.dtype, np.floating):
                continue
            nan, inf = int(np.isnan(values).sum()), int(np.isinf(values).sum())
            if nan or inf:
                what = " and ".join(x for x in (f"{nan:,} NaN" if nan else "", f"{inf:,} infinite" if inf else "") if x)
                part = _short(getattr(weight, "path", weight.name), 80)
                raise ModelFileError(
                    f"The model in {label} has {what} value{'s' * (nan + inf > 1)} in layer "
                    f"'{_short(layer.name, 40)}' (weight {part}). Training diverged or the file is damaged; "
                    "pruning needs finite weights. Retrain (e.g. with a lower learning rate) and upload again.")
    if not prunable_layers(model):
        kinds = sorted({type(layer).__name__ for layer in _all_layers(model)})
        raise ModelFileError(
            f"The model in {label} has no Dense or Conv2D layer, so there is nothing to prune (it has: "
            f"{', '.join(kinds) or 'no layers'}). Upload a model with Dense, Conv1D/2D/3D or SeparableConv layers.")


def _all_layers(model) -> list:
    """Every layer, nested models walked into (the one walker, ``graph.layers``)."""
    return layers(model)


# --- the loader ------------------------------------------------------------------------------------------

def file_extension(filename: str) -> str:
    """The extension of the real file name (its last path part), lower case — never of the shortened label.

    >>> file_extension("a" * 80 + ".KERAS"), file_extension("../x/model"), file_extension("C:\\\\m.h5")
    ('.keras', '', '.h5')
    """
    base = re.split(r"[\\/]", str(filename))[-1]
    return os.path.splitext(base.lower())[1]


def check_model_bytes(data: bytes, filename: str, *, max_bytes: int | None = None) -> tuple[str, ParamEstimate]:
    """Every check that needs no Keras model: size, extension, sniffing, the container (zip / HDF5), the
    config's nesting, layers, declared parameters and dataset shapes, and the (module, name) allow-lists.
    Returns (the suffix to load with, the parameter estimate); raises ModelFileError.

    >>> check_model_bytes(b"PK\\x05\\x06" + bytes(18), "a" * 70 + ".keras")
    Traceback (most recent call last):
    ...
    prune_core.io.safe_load.ModelFileError: The archive aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa… has no config.json, so it is not a Keras model file (it may be a zip of something else, or weights only). Save the model with model.save('model.keras') (Keras 3) or model.save('model.h5') and upload that file.
    """
    data = bytes(data)
    label = display_name(filename)
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    check_size(data, label, limit)
    ext = file_extension(filename)
    if ext not in MODEL_EXTENSIONS:
        raise ModelFileError(
            f"The file {label} has the extension '{_short(ext, 20) or '(none)'}'; this app loads Keras models saved as "
            ".keras (Keras 3) or .h5 (legacy). " + SAVE_HINT + " Other formats (SavedModel folders, .pb, .onnx, "
            ".pt, .tflite) are not supported.")
    kind = _sniff(data)
    if ext == ".keras" and kind != "zip":
        if kind == "hdf5":
            raise ModelFileError(f"The file {label} is an HDF5 (legacy .h5) model with a .keras name. Rename it to "
                                 "end in .h5 and upload it again.")
        if data[:2] == b"PK":
            raise ModelFileError(f"The file {label} is a truncated or corrupt zip archive (a .keras file is a zip). "
                                 "Download or copy it again, or save the model again, and upload the new file.")
        raise ModelFileError(_not_a_model(label, kind))
    if ext in (".h5", ".hdf5") and kind != "hdf5":
        if kind == "zip":
            raise ModelFileError(f"The file {label} is a Keras 3 (.keras zip) model with an .h5 name. Rename it to "
                                 "end in .keras and upload it again.")
        raise ModelFileError(_not_a_model(label, kind))

    if kind == "zip":
        config, weights = check_keras_zip(data, label, limit)
        if weights is not None and _sniff(weights) != "hdf5":
            raise ModelFileError(f"The weights file inside {label} is not an HDF5 file: the archive is corrupt. "
                                 "Save the model again and upload the new file.")
        facts = inspect_hdf5(weights, f"{label} (its weights file)", limit) if weights is not None else None
        suffix = ".keras"
    else:
        facts = inspect_hdf5(data, label, limit)
        config = facts.config
        if config is None:
            raise ModelFileError(
                f"The file {label} holds weights only (no model architecture). Save the whole model with "
                "model.save('model.h5') or model.save('model.keras'), not model.save_weights(...), and upload that.")
        suffix = ".h5"
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelFileError(f"The configuration in {label} does not describe a Keras model. " + SAVE_HINT)
    est = check_bounds(config, label, limit)
    if facts is not None:
        check_weights_against_config(facts, est, label)
    check_config(config)
    return suffix, est


def load_model_file(data: bytes, filename: str, *, max_bytes: int | None = None, isolate: bool | None = None):
    """Load an uploaded model file safely; raise ModelFileError with the user-facing reason if refused.

    ``filename`` is used for its extension and in messages only (never as a path). ``max_bytes``
    overrides the upload limit (default: :func:`max_upload_bytes`). With ``isolate`` (default: on, unless
    ``PRUNING_EXPLORER_ISOLATE=0``) the file is first opened, built and run on one batch in a child
    process with a memory and time limit; only a file that passed there is loaded here.
    """
    data = bytes(data)
    label = display_name(filename)
    suffix, _ = check_model_bytes(data, filename, max_bytes=max_bytes)
    path = _write_upload(data, suffix)
    try:
        if isolation_enabled() if isolate is None else isolate:
            validate_isolated(path, label, len(data))
        model = _keras_load(path, label)
    except MemoryError:
        raise ModelFileError(f"Loading {label} ran out of memory. It is refused. Upload a smaller model.") from None
    finally:
        _remove(path)
    check_loaded(model, label)
    return model


def _keras_load(path: str, label: str):
    """keras.saving.load_model with safe_mode=True, compile=False; any failure becomes a ModelFileError."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except ModelFileError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # Keras raises many types for a bad file; the message is what matters
        if type(exc).__name__ == "ResourceExhaustedError" or "OOM when allocating" in str(exc):
            raise MemoryError(_detail(exc)) from None
        raise ModelFileError(
            f"Keras could not build the model in {label} ({_detail(exc)}). The file passed the safety checks but "
            "does not load with this Keras version (3.x); save it again with Keras 3 and upload the new file."
        ) from None


# --- temporary files -------------------------------------------------------------------------------------

UPLOAD_PREFIX = "upload-"
STALE_UPLOAD_SECONDS = 15 * 60  # older than any load (the child's timeout is far below this)
_SWEPT: set[str] = set()
_SWEEP_LOCK = threading.Lock()


def upload_dir() -> Path:
    """The app's own temporary folder (mode 0700, ours), where uploads are written while they load. Stale
    ``upload-*`` files in it (from a server that was killed mid-load) are swept the first time it is used
    in a process; :func:`sweep_stale_uploads` does it on demand (e.g. at start-up)."""
    base = Path(tempfile.gettempdir()) / f"pruning-explorer-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(base)
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()) \
                or stat.S_IMODE(info.st_mode) & 0o077:
            return Path(tempfile.gettempdir())  # not ours: fall back to the system's (mkstemp is still private)
    except OSError:
        return Path(tempfile.gettempdir())
    with _SWEEP_LOCK:
        if str(base) not in _SWEPT:
            _SWEPT.add(str(base))
            sweep_stale_uploads(base)
    return base


def sweep_stale_uploads(folder: Path | None = None, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove ``upload-*`` files older than ``older_than`` seconds from the app's temp folder; return how many."""
    folder = Path(folder) if folder is not None else upload_dir()
    removed, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.name.startswith(UPLOAD_PREFIX) and entry.is_file(follow_symlinks=False) \
                    and now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _write_upload(data: bytes, suffix: str) -> str:
    """Write to a private temp file (mode 0600, a unique name we choose) in the app's temp folder."""
    fd, path = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=suffix, dir=str(upload_dir()))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        _remove(path)
        raise
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# --- isolation: the last line ----------------------------------------------------------------------------
#
# Whatever passes the checks above is opened, built and run on one batch in a child process first, with an
# address-space limit (RLIMIT_AS) and a wall-clock timeout; the server loads the file only if that child
# reported success. Children come from a fork server that has imported Keras once (multiprocessing
# "forkserver", started on first use or by warm_isolation()), so a check costs a fork and a load, not a
# TensorFlow import; the fork server never sees an upload and is not forked from the (threaded) app server.

ISOLATE_ENV = "PRUNING_EXPLORER_ISOLATE"
LOAD_TIMEOUT_ENV = "PRUNING_EXPLORER_LOAD_TIMEOUT_S"
LOAD_MEMORY_ENV = "PRUNING_EXPLORER_LOAD_MEMORY_MB"
DEFAULT_LOAD_TIMEOUT_S = 60
BASE_LOAD_MEMORY_MB = 1024  # the child's own budget on top of what TensorFlow had mapped when it started
LOAD_MEMORY_PER_FILE_BYTE = 8  # … plus 8 bytes per byte of the file (weights, a copy, one batch, slack)
ROOT = Path(__file__).resolve().parents[3]  # the folder holding prune_core/
_CONTEXT = None
_CONTEXT_LOCK = threading.Lock()


def isolation_enabled() -> bool:
    return os.environ.get(ISOLATE_ENV, "1").strip() != "0" and hasattr(os, "fork")


def load_timeout_s() -> float:
    try:
        value = float(os.environ.get(LOAD_TIMEOUT_ENV, ""))
    except ValueError:
        return float(DEFAULT_LOAD_TIMEOUT_S)
    return value if value > 0 else float(DEFAULT_LOAD_TIMEOUT_S)


def load_memory_bytes(file_bytes: int) -> int:
    """The child's memory budget for a file of this size: env PRUNING_EXPLORER_LOAD_MEMORY_MB if set, else
    1 GB + 8 × the file size.

    >>> load_memory_bytes(10 * 1024 * 1024) // (1024 * 1024)
    1104
    """
    raw = os.environ.get(LOAD_MEMORY_ENV, "").strip()
    try:
        value = int(raw)
        if value > 0:
            return value * 1024 * 1024
    except ValueError:
        pass
    return BASE_LOAD_MEMORY_MB * 1024 * 1024 + LOAD_MEMORY_PER_FILE_BYTE * int(file_bytes)


def _context():
    """The forkserver context, started once with Keras preloaded (CPU only, quiet)."""
    global _CONTEXT
    import multiprocessing
    from multiprocessing import forkserver

    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["prune_core.io.safe_load", "keras"])
            # The fork server inherits the environment when it starts (Python 3.11 ignores the parent's
            # sys.path there): make this package importable and keep the child off any GPU.
            saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "CUDA_VISIBLE_DEVICES", "TF_CPP_MIN_LOG_LEVEL")}
            os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([saved["PYTHONPATH"]] if saved["PYTHONPATH"] else []))
            os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
            try:
                forkserver.ensure_running()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
            _CONTEXT = ctx
        return _CONTEXT


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _bare_main():
    """While a child starts: an empty ``__main__``, so multiprocessing does not re-run the parent's main script
    in the child (under Streamlit, ``__main__`` is the app script — or an AppTest's — and the child would run it
    before its check; seen as ``NameError: __args`` from an AppTest script under pytest-xdist)."""
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def warm_isolation() -> None:
    """Start the fork server now (it imports Keras in its own process), so the first upload does not wait."""
    if isolation_enabled():
        _context()


def validate_isolated(path: str, label: str, file_bytes: int, *, timeout_s: float | None = None,
                      memory_bytes: int | None = None) -> dict:
    """Open, build and run one batch of the model at ``path`` in a child process with an address-space limit
    and a wall-clock timeout. Returns the child's report (seconds, peak memory) or raises ModelFileError."""
    timeout = load_timeout_s() if timeout_s is None else float(timeout_s)
    budget = load_memory_bytes(file_bytes) if memory_bytes is None else int(memory_bytes)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_check, args=(path, label, budget, send), daemon=True,
                       name="pruning-explorer-load-check")
    with _bare_main():
        proc.start()
    send.close()
    try:
        if receive.poll(timeout):
            try:
                status, payload = receive.recv()
            except (EOFError, OSError):
                status, payload = "died", None
        else:
            status, payload = "timeout", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(10)
        receive.close()
    if status == "ok":
        return payload
    if status == "refused":
        raise ModelFileError(payload)
    if status == "timeout":
        raise ModelFileError(
            f"Checking {label} took longer than {timeout:g} s (opening, building and running it on one batch, in a "
            "separate process that was then stopped). It is refused. If it is a genuine, very large model, raise "
            f"the limit with {LOAD_TIMEOUT_ENV} (in seconds) when starting the app.")
    if status == "memory" or (status == "died" and proc.exitcode in (-9, -6, -11)):
        raise ModelFileError(
            f"Checking {label} needed more than {_mb(budget)} of memory (the limit for a file of "
            f"{_mb(file_bytes)}: 1 GB + 8 × its size), so the separate process that opened it was stopped. It is "
            f"refused. If it is a genuine model, raise the limit with {LOAD_MEMORY_ENV} (in MB) when starting the app.")
    raise ModelFileError(
        f"Checking {label} in a separate process failed ({_short(str(payload) if payload else f'exit code {proc.exitcode}', 400)}). "
        "It is refused. " + SAVE_HINT)


def _child_check(path: str, label: str, budget: int, conn) -> None:
    """In the child: limit memory, load, check, run one batch of zeros; report over ``conn``."""
    started = time.perf_counter()
    try:
        _limit_memory(budget)
        try:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(2)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except Exception:  # already initialised, or another backend: keep its defaults
            pass
        model = _keras_load(path, label)
        check_loaded(model, label)
        _one_batch(model)
        conn.send(("ok", {"seconds": time.perf_counter() - started, "peak_mb": _status_kb("VmHWM") / 1024}))
    except ModelFileError as exc:
        conn.send(("refused", str(exc)))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # report, never raise: the parent turns it into a message
        try:
            conn.send(("error", f"{type(exc).__name__}: {_detail(exc)}"))
        except Exception:
            pass
    finally:
        conn.close()


def _status_kb(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _limit_memory(budget: int) -> None:
    """RLIMIT_AS = what is mapped now + the budget (thread stacks and malloc arenas count against it, so the
    child keeps TensorFlow to 3 threads and malloc to 2 arenas)."""
    import resource

    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX = 2: arenas reserve 64 MB of address space each
    except (OSError, AttributeError):
        pass
    mapped = _status_kb("VmSize") * 1024
    if mapped:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        want = mapped + budget
        resource.setrlimit(resource.RLIMIT_AS, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def _one_batch(model) -> None:
    """Run the model once on a batch of one zero sample (unknown dimensions as 1)."""
    tensor = model.inputs[0]
    shape = tuple(1 if d is None else int(d) for d in tensor.shape)
    dtype = getattr(tensor, "dtype", "float32") or "float32"
    try:
        model(np.zeros(shape, dtype=str(dtype)), training=False)
    except MemoryError:
        raise
    except Exception as exc:
        raise ModelFileError(
            f"The model in {_short(getattr(model, 'name', 'the file'), 40)} loads but fails on a sample of its own "
            f"input shape {_shape_text(shape)} ({_detail(exc)}). It is refused. " + SAVE_HINT) from None


def _short(text: str, limit: int = 240) -> str:
    """One line of an exception's text, plain characters only, shortened (for a message, never a path)."""
    line = " ".join(str(text).split())
    line = re.sub(r"[^\w\s.,:;'()=/+<>-]", "", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _detail(exc: BaseException, limit: int = 480) -> str:
    """An exception as ``Type: text`` for a message: one line, and when long its start and its end (where
    Keras usually says the reason), so the real cause is never cut off.

    >>> _detail(ValueError("x" * 300 + " the file /etc/passwd does not exist"), 120)[-40:]
    'xxxx the file /etc/passwd does not exist'
    """
    line = " ".join(f"{type(exc).__name__}: {exc}".split())
    line = re.sub(r"[^\w\s.,:;'()\[\]=/+<>-]", "", line)
    if len(line) <= limit:
        return line
    head = limit // 3
    return line[:head] + " … " + line[-(limit - head - 3):]


def _not_a_model(label: str, kind: str) -> str:
    if kind == "unknown":
        return (f"The file {label} is not a Keras model: its content is neither a .keras zip nor an HDF5 file "
                "(it looks like random or binary data). " + SAVE_HINT)
    return f"The file {label} is not a Keras model: it is {kind}. " + SAVE_HINT


# --- summary ---------------------------------------------------------------------------------------------

SUMMARY_COLUMNS = ("layer", "type", "output shape", "params", "prunable", "what pruning does")


def _shape(shape) -> str:
    if shape is None:
        return ""
    try:
        return "(" + ", ".join("None" if d is None else str(int(d)) for d in shape) + ")"
    except TypeError:
        return str(shape)


def model_summary(model):
    """One row per layer: layer, type, output shape, params, prunable, and what pruning does to it.

    Dense and Conv2D kernels are prunable; every other layer (and every bias) is kept as is.
    """
    import pandas as pd

    prunable = {layer.name for layer in prunable_layers(model)}
    rows = []
    for layer in _all_layers(model):
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            out = _shape(layer.output.shape)
        except Exception:  # layers inside a nested model may have no single symbolic output
            out = ""
        params = int(sum(int(np.prod(w.shape)) for w in layer.weights))
        is_prunable = layer.name in prunable
        action = "kernel weights pruned (bias kept)" if is_prunable else "kept as is"
        rows.append({"layer": layer.name, "type": type(layer).__name__, "output shape": out, "params": params,
                     "prunable": is_prunable, "what pruning does": action})
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def model_facts(model) -> dict:
    """Headline facts: input shape (without batch), output units, total params, prunable layer names,
    the final activation if it is a known one."""
    in_shape = tuple(int(d) for d in model.inputs[0].shape[1:] if d is not None)
    out_shape = model.outputs[0].shape
    units = int(out_shape[-1]) if len(out_shape) >= 2 and out_shape[-1] is not None else 0
    last = prunable_layers(model)[-1] if prunable_layers(model) else None
    activation = getattr(getattr(last, "activation", None), "__name__", None) if last is not None else None
    return {"input_shape": in_shape, "output_units": units,
            "params": int(sum(int(np.prod(w.shape)) for w in model.weights)),
            "prunable": [layer.name for layer in prunable_layers(model)],
            "prunable_types": PRUNABLE_TYPES, "final_activation": activation}
