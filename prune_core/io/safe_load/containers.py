"""The two containers, checked without extracting or reading any weight: what the first bytes say a file is,
an HDF5 file walked once per object (links, external storage, declared dataset shapes), and a .keras zip
(member names, links, declared sizes and compression ratios)."""

from __future__ import annotations

import io
import math
import re
import stat
import zipfile

import numpy as np

from .bounds import (_params_reason, MAX_CONFIG_BYTES, MAX_H5_DEPTH, MAX_H5_OBJECTS, MAX_MEMBERS, MAX_RATIO,
                     max_params, max_upload_bytes, parse_config, RATIO_FLOOR_BYTES, UNCOMPRESSED_FACTOR, H5_SLACK_VALUES)
from .errors import _human, _mb, _shape_text, _short, ModelFileError, SAVE_HINT
from .params import ParamEstimate


KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5", "model.weights.npz")
# What the first bytes say a file is: the two model containers, then what people upload by mistake.
_SIGNATURES = ((b"\x89HDF\r\n\x1a\n", "hdf5"), ((b"PK\x03\x04", b"PK\x05\x06"), "zip"),
               (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
               (b"%PDF", "a PDF document"), (b"\x93NUMPY", "a NumPy .npy array"))


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
