"""Kernels straight from a .keras file, without importing Keras or TensorFlow (h5py and numpy only).

A Keras 3 ``.keras`` file is a zip holding ``config.json`` (the architecture) and ``model.weights.h5``.
In the .h5 each layer of the model's layer list has a group ``layers/<key>/vars`` whose datasets
``0, 1, …`` are its variables in creation order (a Dense or Conv kernel is ``0``, its bias ``1``). The key
is not the layer's name but its class name in snake case, numbered in list order
(``dense``, ``dense_1``, …; Keras' ``saving_lib._save_container_state``); a Functional model's list starts
with its InputLayers, a Sequential model's does not.

The app uses this to draw the default model's weight histograms while TensorFlow is still importing
(``ui.quickstart``). It reads only files it was given by the app, but bounds them anyway: the file size,
the members and their declared sizes, the config's size and nesting (``loading.parse_config``) and every
kernel's shape are checked before anything large is read. Only flat models of Dense and Conv1D/2D/3D
layers (plus weightless or non-prunable layers) are read; anything else raises :class:`WeightsFileError`
and the caller loads the model with Keras instead.

>>> kernels_from_keras_file("no-such-file.keras")
Traceback (most recent call last):
...
prune_core.io.weights_file.WeightsFileError: no-such-file.keras does not exist.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np

from ..graph import PRUNABLE_TYPES
from . import safe_load as loading

MAX_FILE_BYTES = 64 << 20        # the shipped baseline is 1.1 MB; this reader is for small default models
MAX_MEMBERS = 16                 # a .keras file has 3 (metadata.json, config.json, model.weights.h5)
MAX_PARAMS = 16_000_000          # all kernels together, float32: 64 MB
KERNEL_RANK = {"Dense": 2, "Conv1D": 3, "Conv2D": 4, "Conv3D": 5}
MODEL_CLASSES = ("Functional", "Sequential")


class WeightsFileError(ValueError):
    """The file cannot be read here (missing, not a .keras zip, too large, or a model this reader does not
    cover); the message says which."""


def snake_case(name: str) -> str:
    """Keras' ``naming.to_snake_case`` (the .h5 group name of a layer class).

    >>> snake_case("Dense"), snake_case("Conv2D"), snake_case("BatchNormalization"), snake_case("InputLayer")
    ('dense', 'conv2d', 'batch_normalization', 'input_layer')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def weight_keys(config: dict) -> list[tuple[str, str, str]]:
    """(layer name, class name, .h5 group key) for every layer of a flat Functional/Sequential config, in
    the model's layer order.

    >>> weight_keys({"class_name": "Sequential", "config": {"layers": [
    ...     {"class_name": "InputLayer", "config": {"name": "in"}},
    ...     {"class_name": "Dense", "config": {"name": "a"}}, {"class_name": "Dense", "config": {"name": "b"}}]}})
    [('a', 'Dense', 'dense'), ('b', 'Dense', 'dense_1')]
    """
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES:
        raise WeightsFileError("only Functional and Sequential models are read without Keras")
    layers = (config.get("config") or {}).get("layers")
    if not isinstance(layers, list):
        raise WeightsFileError("the model configuration has no layer list")
    used: dict[str, int] = {}
    result = []
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str):
            raise WeightsFileError("the model configuration has a layer without a class name")
        kind = layer["class_name"]
        if config["class_name"] == "Sequential" and kind == "InputLayer":
            continue  # not in a Sequential model's layer list
        if kind in MODEL_CLASSES or kind == "Model":
            raise WeightsFileError("nested models are not read without Keras")
        key = snake_case(kind)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        result.append((str((layer.get("config") or {}).get("name", key)), kind, key))
    return result


def kernels_from_keras_file(path, *, max_bytes: int = MAX_FILE_BYTES,
                            max_params: int = MAX_PARAMS) -> dict[str, np.ndarray]:
    """{layer name: kernel as float32} for every Dense and Conv1D/2D/3D layer of a .keras file, in the
    model's layer order — the same arrays as ``prune_core.graph.kernels(keras.saving.load_model(path))``.

    Raises :class:`WeightsFileError` (with what is wrong) for a missing file, one over ``max_bytes``, one that
    is not a zip with a config.json and model.weights.h5, kernels over ``max_params`` in all, a kernel of the
    wrong rank, or a model kind this reader does not cover (nested models, other prunable layers).
    """
    import h5py  # ~20 ms; only here, so that importing prune_core stays numpy-only

    path = Path(path)
    label = path.name
    if not path.is_file():
        raise WeightsFileError(f"{label} does not exist.")
    size = path.stat().st_size
    if size > max_bytes:
        raise WeightsFileError(f"{label} is {size:,} bytes, over the {max_bytes:,} bytes read without Keras.")
    if not zipfile.is_zipfile(path):
        raise WeightsFileError(f"{label} is not a .keras file (not a zip archive).")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise WeightsFileError(f"{label} holds {len(members):,} members; a .keras file has 3.")
            by_name = {m.filename: m for m in members}
            for needed in ("config.json", "model.weights.h5"):
                if needed not in by_name:
                    raise WeightsFileError(f"{label} has no {needed}: it is not a Keras 3 .keras file.")
            declared = sum(m.file_size for m in members)
            if declared > max_bytes:
                raise WeightsFileError(f"{label} declares {declared:,} bytes uncompressed, over the "
                                       f"{max_bytes:,} bytes read without Keras.")
            try:
                config = loading.parse_config(archive.read("config.json"), f"The config.json in {label}")
            except loading.ModelFileError as exc:
                raise WeightsFileError(str(exc)) from None
            wanted = [(name, kind, key) for name, kind, key in weight_keys(config)]
            others = set(PRUNABLE_TYPES) - set(KERNEL_RANK)
            unread = sorted({kind for _, kind, _ in wanted if kind in others})
            if unread:
                raise WeightsFileError(f"{label} has {', '.join(unread)} layers, which are not read without Keras.")
            weights = archive.read("model.weights.h5")
    except zipfile.BadZipFile as exc:
        raise WeightsFileError(f"{label} is a damaged zip archive ({exc}).") from None
    return _kernels(h5py, weights, [(n, kind, key) for n, kind, key in wanted if kind in KERNEL_RANK], label,
                    max_params)


def _kernels(h5py, weights: bytes, layers: list, label: str, max_params: int) -> dict[str, np.ndarray]:
    result: dict[str, np.ndarray] = {}
    total = 0
    try:
        with h5py.File(io.BytesIO(weights), "r") as h5:
            for name, kind, key in layers:
                dataset = h5.get(f"layers/{key}/vars/0")
                if not isinstance(dataset, h5py.Dataset):
                    raise WeightsFileError(f"{label} has no kernel for layer {name} ({kind}) in model.weights.h5.")
                if len(dataset.shape) != KERNEL_RANK[kind] or dataset.dtype.kind != "f":
                    raise WeightsFileError(f"{label}: the kernel of layer {name} has shape {dataset.shape} and type "
                                           f"{dataset.dtype}, not a {KERNEL_RANK[kind]}-d float array.")
                total += int(np.prod(dataset.shape, dtype=np.int64))
                if total > max_params:
                    raise WeightsFileError(f"{label} has over {max_params:,} kernel weights, more than is read "
                                           "without Keras.")
                result[name] = np.asarray(dataset[()], dtype=np.float32)
    except OSError as exc:  # h5py's error for a file that is not HDF5
        raise WeightsFileError(f"{label}: model.weights.h5 cannot be read ({exc}).") from None
    return result
