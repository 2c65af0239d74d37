"""Bounds checked before anything is parsed or built: the upload limit (bytes), the archive's declared sizes,
the configuration's size, nesting and layer count.

Limits, and where they come from:
* parameters: a model's weights are stored in its file, 4 bytes per float32 parameter, so a file within the
  upload limit holds at most limit / 4 parameters; a config declaring more is refused before Keras allocates
  (raise the upload limit to load bigger models). The same count bounds any single HDF5 dataset and the
  values per sample of a model input.
* layers: MAX_LAYERS, fixed (build time grows with layers, not bytes; the largest keras.applications model,
  NASNetLarge, has about 1,040).
* nesting: MAX_CONFIG_DEPTH levels of JSON (Keras writes about 12, nested models add about 6 each).
* HDF5: MAX_H5_OBJECTS links visited once each (hard links and cycles are not followed twice),
  MAX_H5_DEPTH groups deep.
"""

from __future__ import annotations

import json
import os
import re

import numpy as np

from .errors import _mb, _short, ModelFileError, SAVE_HINT


MAX_UPLOAD_ENV = "PRUNING_EXPLORER_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200
# Zip sanity: a .keras file written by Keras stores its members uncompressed (ratio ~1). Zeros from pruning
# compress well, so allow a generous ratio, but not a "bomb" that declares far more than it stores.
MAX_MEMBERS = 1000
MAX_RATIO = 200
RATIO_FLOOR_BYTES = 1 << 20  # small members may have any ratio (a 64-byte metadata.json of spaces …)
UNCOMPRESSED_FACTOR = 4  # all members together may declare at most 4 × the upload limit
MAX_CONFIG_BYTES = 32 << 20
MAX_H5_OBJECTS = 50_000


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
