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
prune_core.loading.ModelFileError: The file model.keras is empty (0 bytes). Upload the .keras or .h5 file that model.save(...) wrote.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import tempfile
import zipfile
from functools import lru_cache

import numpy as np

from .layers import PRUNABLE_TYPES, prunable_layers

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
MAX_H5_OBJECTS = 100_000
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


# --- the config check ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def builtin_names() -> frozenset[str]:
    """Class names Keras itself ships and can deserialize: its layers and ops (every Operation subclass
    defined inside keras.src), models, initializers, regularizers, constraints and dtype policies.
    Classes a user defined (in any other module) are not in it."""
    import keras
    from keras.src.ops.operation import Operation

    names: set[str] = set()
    stack, seen = [Operation], set()
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__module__.startswith("keras.src.") and not cls.__name__.startswith("_"):
            names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    for module in (keras.layers, keras.models, keras.initializers, keras.regularizers, keras.constraints,
                   keras.dtype_policies):
        names.update(n for n, v in vars(module).items() if isinstance(v, type) and not n.startswith("_"))
    names.update({"Functional", "Sequential", "Model"})
    return frozenset(names)


def _keras_module(module) -> bool:
    return module is None or module == "keras" or (isinstance(module, str) and module.startswith("keras."))


def _public_keras_function(name) -> bool:
    import keras

    return isinstance(name, str) and any(callable(getattr(m, name, None)) and not name.startswith("_")
                                         for m in (keras.activations, keras.losses, keras.metrics))


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


def check_config(config) -> None:
    """Walk a serialized Keras model config and refuse, naming the layer, anything that would run code.

    ``compile_config``/``training_config`` are skipped: the app loads with compile=False, so the optimizer
    and loss in them are never built.

    >>> check_config({"class_name": "Sequential", "module": "keras", "config": {"layers": [
    ...     {"class_name": "Lambda", "module": "keras.layers", "config": {"name": "lam"}}]}})
    Traceback (most recent call last):
    ...
    prune_core.loading.ModelFileError: This model contains a Lambda layer 'lam', which runs a Python function stored in the file. It is refused because loading it could run code from the file. Replace the Lambda with built-in Keras layers (or keras.ops in a Functional model), save again, and upload that file.
    """
    known = builtin_names()

    def walk(obj, parent: str | None, depth: int) -> None:
        if depth > 200:
            raise ModelFileError("The model's configuration is nested absurdly deep; it does not look like a "
                                 "Keras model. " + SAVE_HINT)
        if isinstance(obj, list):
            for item in obj:
                walk(item, parent, depth + 1)
            return
        if not isinstance(obj, dict):
            return
        if "class_name" in obj:
            _check_object(obj, parent, known)
            cfg = obj.get("config")
            if isinstance(cfg, dict) and isinstance(cfg.get("name"), str):
                parent = _short(cfg["name"], 40)
        for key, value in obj.items():
            if key in ("compile_config", "training_config"):
                continue
            walk(value, parent, depth + 1)

    walk(config, None, 0)


def _check_object(obj: dict, parent: str | None, known: frozenset[str]) -> None:
    class_name = obj.get("class_name")
    module = obj.get("module")
    registered = obj.get("registered_name")
    label = _layer_label(obj, parent)
    if not isinstance(class_name, str):
        raise ModelFileError("The model's configuration has an object without a proper class name; it does not "
                             "look like a Keras model. " + SAVE_HINT)
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
        if _keras_module(module) and module is not None and _public_keras_function(fn):
            return
        raise ModelFileError(
            f"This model refers to the function {_short(str(fn), 40)!s} from module "
            f"{_short(str(module), 60)} (in {repr(parent) if parent else 'its configuration'}), which is not "
            "one of Keras' own. It is refused because loading it could run code outside Keras. Use a built-in "
            "activation (e.g. 'relu', 'softmax'), save again, and upload that file.")
    custom = (not _keras_module(module)
              or (isinstance(registered, str) and registered != class_name)
              or class_name not in known)
    if custom:
        where = f" from module {_short(str(module), 60)}" if module else ""
        reg = f" (registered as {_short(registered, 60)})" if isinstance(registered, str) and registered != class_name else ""
        raise ModelFileError(
            f"This model uses {label}, a custom class{where}{reg} that is not part of Keras. Custom classes are "
            "refused because loading them means running their code. Rebuild the model from built-in Keras layers "
            "(Dense, Conv2D, BatchNormalization, Dropout, pooling …), save again, and upload that file.")


# --- HDF5 ------------------------------------------------------------------------------------------------

def check_hdf5(data: bytes, label: str) -> dict | None:
    """Open an .h5 from memory, refuse external links, external raw storage and virtual datasets, and
    return its ``model_config`` (parsed JSON) or None when it has none."""
    import h5py

    try:
        handle = h5py.File(io.BytesIO(data), "r")
    except Exception:
        raise ModelFileError(f"The file {label} starts like an HDF5 file but cannot be opened: it is truncated or "
                             f"corrupt. Save the model again and upload the new file.") from None
    with handle:
        seen = 0
        stack = [("/", handle["/"])]
        while stack:
            path, group = stack.pop()
            for name in group.keys():
                seen += 1
                if seen > MAX_H5_OBJECTS:
                    raise ModelFileError(f"The file {label} holds more than {MAX_H5_OBJECTS:,} HDF5 objects; that "
                                         "is not a model this app can use.")
                link = group.get(name, getlink=True)
                where = _short(f"{path.rstrip('/')}/{name}".lstrip("/"), 80)
                if isinstance(link, h5py.ExternalLink):
                    raise ModelFileError(
                        f"The file {label} contains an external link ('{where}' points into another file). Files "
                        "that reach outside themselves are refused. Save the model again with model.save(...) "
                        "so that all weights are inside one file.")
                if isinstance(link, h5py.SoftLink):
                    continue  # points inside the file; not followed (no loops)
                obj = group.get(name)
                if isinstance(obj, h5py.Dataset):
                    if obj.is_virtual:
                        raise ModelFileError(
                            f"The file {label} contains a virtual dataset ('{where}'), which reads data from other "
                            "files. It is refused. Save the model again with model.save(...) so that all weights "
                            "are inside one file.")
                    if obj.external:
                        raise ModelFileError(
                            f"The file {label} stores the dataset '{where}' in external raw files. It is refused. "
                            "Save the model again with model.save(...) so that all weights are inside one file.")
                elif isinstance(obj, h5py.Group):
                    stack.append((f"{path.rstrip('/')}/{name}", obj))
        raw = handle.attrs.get("model_config")
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    try:
        return json.loads(str(raw))
    except (ValueError, TypeError):
        raise ModelFileError(f"The model configuration in {label} is not valid JSON: the file is corrupt. "
                             "Save the model again and upload the new file.") from None


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
        names = {info.filename for info in infos}
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
    try:
        config = json.loads(raw_config.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"The config.json in {label} is not valid JSON: the file is corrupt. Save the model "
                             "again and upload the new file.") from None
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
            f"{', '.join(kinds) or 'no layers'}). Upload a model with Dense or Conv2D layers.")


def _all_layers(model) -> list:
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers") and layer.layers and layer is not model:
            found.extend(_all_layers(layer))
    return found


# --- the loader ------------------------------------------------------------------------------------------

def load_model_file(data: bytes, filename: str, *, max_bytes: int | None = None):
    """Load an uploaded model file safely; raise ModelFileError with the user-facing reason if refused.

    ``filename`` is used for its extension and in messages only (never as a path). ``max_bytes``
    overrides the upload limit (default: :func:`max_upload_bytes`).
    """
    data = bytes(data)
    label = display_name(filename)
    limit = max_upload_bytes() if max_bytes is None else int(max_bytes)
    check_size(data, label, limit)
    ext = os.path.splitext(label.lower())[1]
    if ext not in MODEL_EXTENSIONS:
        raise ModelFileError(
            f"The file {label} has the extension '{ext or '(none)'}'; this app loads Keras models saved as "
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
        if weights is not None and _sniff(weights) == "hdf5":
            check_hdf5(weights, f"{label} (its weights file)")
        elif weights is not None:
            raise ModelFileError(f"The weights file inside {label} is not an HDF5 file: the archive is corrupt. "
                                 "Save the model again and upload the new file.")
        suffix = ".keras"
    else:
        config = check_hdf5(data, label)
        if config is None:
            raise ModelFileError(
                f"The file {label} holds weights only (no model architecture). Save the whole model with "
                "model.save('model.h5') or model.save('model.keras'), not model.save_weights(...), and upload that.")
        suffix = ".h5"
    check_config(config)
    model = _load_checked(data, suffix, label)
    check_loaded(model, label)
    return model


def _load_checked(data: bytes, suffix: str, label: str):
    """Write to a private temp file (0600, our own name) and load with safe_mode=True, compile=False."""
    import keras

    fd, path = tempfile.mkstemp(prefix="upload-", suffix=suffix)  # mode 0600, unique name we choose
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except ModelFileError:
            raise
        except Exception as exc:  # Keras raises many types for a bad file; the message is what matters
            detail = _short(f"{type(exc).__name__}: {exc}")
            raise ModelFileError(
                f"Keras could not build the model in {label} ({detail}). The file passed the safety checks but "
                "does not load with this Keras version (3.x); save it again with Keras 3 and upload the new file."
            ) from None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def _short(text: str, limit: int = 240) -> str:
    """One line of an exception's text, plain characters only, shortened (for a message, never a path)."""
    line = " ".join(str(text).split())
    line = re.sub(r"[^\w\s.,:;'()=/+<>-]", "", line)
    return line if len(line) <= limit else line[: limit - 1] + "…"


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
        nested = hasattr(layer, "layers") and bool(layer.layers)
        if is_prunable:
            action = "kernel weights pruned (bias kept)"
        elif nested:
            action = "nested model: its layers are listed below"
        else:
            action = "kept as is"
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
