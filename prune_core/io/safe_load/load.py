"""The public loader: every check that needs no Keras model, then (optionally isolated) Keras' own load."""

from __future__ import annotations

import os
import re

from .allowlist import check_config
from .bounds import check_size, max_upload_bytes
from .containers import _sniff, check_keras_zip, check_weights_against_config, inspect_hdf5
from .errors import _not_a_model, _short, display_name, ModelFileError, SAVE_HINT
from .isolation import isolation_enabled, validate_isolated
from .loaded import _keras_load, check_loaded
from .params import check_bounds, ParamEstimate
from .tempfiles import _remove, _write_upload


MODEL_EXTENSIONS = (".keras", ".h5", ".hdf5")


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
