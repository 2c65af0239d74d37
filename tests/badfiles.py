"""A corpus of bad (and a few good) model and data files, built in code — no binary blobs in the repo.

Each bad case is ``Case(id, filename, data, expected, kwargs)``: loading ``data`` as ``filename`` must
raise with a message containing ``expected`` (a fragment of the specific explanation).
Models are tiny and built once per process (``models()``).
"""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class Case:
    id: str
    filename: str
    data: bytes
    expected: str
    kwargs: dict = field(default_factory=dict)


# --- building blocks -------------------------------------------------------------------------------------

def save_bytes(model, suffix: str) -> bytes:
    """model.save to a temporary file with this suffix (.keras or .h5) and return the bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model" + suffix)
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def mlp(input_shape=(4,), hidden: int = 5, classes: int = 3, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(hidden, activation="relu", name="hidden"),
                             keras.layers.Dense(classes, activation="softmax", name="out")], name="mlp")


def conv_net(seed: int = 0):
    """A small conv net with BatchNormalization and Dropout (28×28×1 → 10)."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.MaxPooling2D(name="pool"),
        keras.layers.Dropout(0.25, name="drop"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(12, activation="relu", name="fc"),
        keras.layers.Dropout(0.25, name="drop2"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ], name="small_conv")


def no_prunable_model():
    import keras

    return keras.Sequential([keras.Input((6,)), keras.layers.BatchNormalization(name="bn"),
                             keras.layers.Activation("softmax", name="act")], name="no_dense")


def keras_zip(config: dict | bytes | None, weights: bytes | None = None, extra: dict | None = None,
              compression=zipfile.ZIP_STORED) -> bytes:
    """Write a .keras-style zip ourselves (for configs Keras would not save)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1", "date_saved": "2026-01-01"}))
        if config is not None:
            zf.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        if weights is not None:
            zf.writestr("model.weights.h5", weights)
        for name, payload in (extra or {}).items():
            if isinstance(name, zipfile.ZipInfo):
                zf.writestr(name, payload)
            else:
                zf.writestr(name, payload)
    return out.getvalue()


def read_keras(data: bytes) -> tuple[dict, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("config.json")), zf.read("model.weights.h5")


def h5_bytes(build) -> bytes:
    """An HDF5 file written in memory by ``build(h5py.File)``."""
    import h5py

    out = io.BytesIO()
    with h5py.File(out, "w") as f:
        build(f)
    return out.getvalue()


def with_weight(model, layer: str, value: float):
    """The model with one kernel entry of ``layer`` set to value (NaN, inf …)."""
    kernel, *rest = model.get_layer(layer).get_weights()
    kernel = kernel.copy()
    kernel.flat[3] = value
    model.get_layer(layer).set_weights([kernel, *rest])
    return model


def sentinel_lambda_config(base_config: dict, sentinel: str) -> dict:
    """The base Sequential config with a Lambda layer inserted whose function writes ``sentinel``."""
    from keras.src.utils import python_utils

    payload = lambda x, path=sentinel: (open(path, "w").write("ran"), x)[1]  # noqa: E731 — the point of the test
    code, defaults, closure = python_utils.func_dump(payload)
    config = json.loads(json.dumps(base_config))
    layer = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
             "config": {"name": "evil", "trainable": True, "dtype": "float32",
                        "function": {"class_name": "__lambda__",
                                     "config": {"code": code, "defaults": defaults, "closure": closure}},
                        "arguments": {}}}
    config["config"]["layers"].insert(1, layer)
    return config


def lambda_payload_runs(config: dict) -> None:
    """Control for the sentinel test: the stored function is live code (calling it writes the sentinel)."""
    from keras.src.utils import python_utils

    fn = config["config"]["layers"][1]["config"]["function"]["config"]
    python_utils.func_load(fn["code"], defaults=fn["defaults"], closure=fn["closure"])(0)


@lru_cache(maxsize=1)
def models() -> dict[str, bytes]:
    """Saved tiny models (bytes), built once."""
    import keras

    good_mlp = mlp()
    return {
        "mlp.keras": save_bytes(good_mlp, ".keras"),
        "mlp.h5": save_bytes(good_mlp, ".h5"),
        "conv.keras": save_bytes(conv_net(), ".keras"),
        "conv.h5": save_bytes(conv_net(), ".h5"),
        "nodense.keras": save_bytes(no_prunable_model(), ".keras"),
        "nan.keras": save_bytes(with_weight(mlp(), "hidden", float("nan")), ".keras"),
        "inf.h5": save_bytes(with_weight(mlp(), "out", float("inf")), ".h5"),
        "weights_only.h5": _weights_only(good_mlp),
        "keras_version": keras.__version__.encode(),
    }


def _weights_only(model) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "only.weights.h5")
        model.save_weights(path)
        with open(path, "rb") as f:
            return f.read()


# --- the model corpus ------------------------------------------------------------------------------------

def model_cases(sentinel: str = "/nonexistent/sentinel") -> list[Case]:
    built = models()
    good = built["mlp.keras"]
    config, weights = read_keras(good)
    rng = np.random.default_rng(0)
    cases: list[Case] = []

    def add(id, filename, data, expected, **kwargs):
        cases.append(Case(id, filename, data, expected, kwargs))

    add("empty", "model.keras", b"", "is empty (0 bytes)")
    add("random-bytes", "model.keras", bytes(rng.integers(0, 256, 4096, dtype=np.uint8)), "random or binary data")
    add("png-renamed", "digit.keras", b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 200, dtype=np.uint8)),
        "it is a PNG image")
    add("text-file", "notes.keras", b"this is my model, trust me\n" * 20, "it is a text file")
    add("text-as-h5", "notes.h5", b"layer sizes: 784 128 10\n", "it is a text file")
    add("truncated-zip", "model.keras", good[: len(good) // 2], "truncated or corrupt zip")
    add("zip-without-config", "model.keras", keras_zip(None, weights), "has no config.json")
    add("zip-without-weights", "model.keras", keras_zip(config), "no weights (model.weights.h5)")
    add("config-not-json", "model.keras", keras_zip(b"{not json", weights), "config.json in model.keras is not valid JSON")
    add("crc-corrupt", "model.keras", _corrupt_member(keras_zip(config, weights)), "fails its checksum")
    add("wrong-extension", "model.onnx", good, "has the extension '.onnx'")
    add("no-extension", "model", good, "has the extension '(none)'")
    add("h5-named-keras", "model.keras", built["mlp.h5"], "Rename it to end in .h5")
    add("keras-named-h5", "model.h5", good, "Rename it to end in .keras")
    add("lambda-layer", "lambda.keras", keras_zip(sentinel_lambda_config(config, sentinel), weights),
        "Lambda layer 'evil'")
    add("lambda-layer-h5", "lambda.h5", h5_bytes(lambda f: f.attrs.__setitem__("model_config", json.dumps(
        _legacy_config([{"class_name": "Lambda", "config": {"name": "sneaky", "function": ["AAAA", None, None],
                                                            "function_type": "lambda"}}])))),
        "Lambda layer 'sneaky'")
    add("custom-layer", "custom.keras", keras_zip(_custom_layer(config), weights),
        "'hidden' (FancyDense), a custom class from module my_package.layers")
    add("custom-layer-h5", "custom.h5", h5_bytes(lambda f: f.attrs.__setitem__("model_config", json.dumps(
        _legacy_config([{"class_name": "MyAttention", "config": {"name": "attn"}}])))),
        "'attn' (MyAttention), a custom class")
    add("custom-function", "fn.keras", keras_zip(_custom_activation(config), weights),
        "refers to the function system from module os")
    add("tfsm-layer", "tfsm.keras", keras_zip(_swap_class(config, "TFSMLayer", {"filepath": "/srv/saved"}), weights),
        "TFSMLayer layer 'hidden'")
    add("torch-wrapper", "torch.keras", keras_zip(_swap_class(config, "TorchModuleWrapper", {"module": "gASV"}),
                                                  weights), "TorchModuleWrapper layer 'hidden'")
    add("no-prunable-layer", "nodense.keras", built["nodense.keras"], "no Dense or Conv2D layer")
    add("nan-weights", "nan.keras", built["nan.keras"], "1 NaN value in layer 'hidden'")
    add("inf-weights", "inf.h5", built["inf.h5"], "1 infinite value in layer 'out'")
    add("path-traversal", "model.keras", keras_zip(config, weights, {"../../evil.txt": b"x"}),
        "'../../evil.txt' that points outside the archive")
    add("absolute-path", "model.keras", keras_zip(config, weights, {"/tmp/evil.txt": b"x"}),
        "points outside the archive")
    add("symlink-member", "model.keras", keras_zip(config, weights, {_symlink("assets/link"): b"/etc/passwd"}),
        "symbolic link")
    add("unexpected-member", "model.keras", keras_zip(config, weights, {"run_me.py": b"import os"}),
        "'run_me.py', which is not part of a Keras model file")
    add("zip-bomb-ratio", "model.keras", keras_zip(config, b"\0" * (20 << 20), compression=zipfile.ZIP_DEFLATED),
        "looks like a zip bomb")
    add("zip-too-big-uncompressed", "model.keras", keras_zip(config, weights, {"assets/pad.bin": b"\1" * 500_000},
                                                       compression=zipfile.ZIP_DEFLATED),
        "would expand to", max_bytes=100_000)
    add("h5-external-link", "ext.h5", h5_bytes(_external_link), "external link ('secrets' points into another file)")
    add("h5-virtual-dataset", "vds.h5", h5_bytes(_virtual_dataset), "virtual dataset ('weights/vds')")
    add("h5-external-storage", "raw.h5", h5_bytes(_external_storage), "external raw files")
    add("h5-truncated", "model.h5", built["mlp.h5"][:2000], "truncated or corrupt")
    add("h5-weights-only", "model.h5", built["weights_only.h5"], "holds weights only")
    add("keras-embedded-h5-external-link", "model.keras", keras_zip(config, h5_bytes(_external_link)),
        "(its weights file) contains an external link")
    add("too-large", "model.keras", good, "over the upload limit", max_bytes=1024)
    return cases


def _legacy_config(layers: list) -> dict:
    return {"class_name": "Sequential", "config": {"name": "legacy", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4], "dtype": "float32", "name": "in"}},
        *layers, {"class_name": "Dense", "config": {"name": "out", "units": 3}}]}}


def _layer(config: dict, name: str) -> dict:
    return next(layer for layer in config["config"]["layers"] if layer["config"].get("name") == name)


def _custom_layer(config: dict) -> dict:
    config = json.loads(json.dumps(config))
    layer = _layer(config, "hidden")
    layer.update(module="my_package.layers", class_name="FancyDense", registered_name="my_package>FancyDense")
    return config


def _custom_activation(config: dict) -> dict:
    config = json.loads(json.dumps(config))
    _layer(config, "hidden")["config"]["activation"] = {
        "module": "os", "class_name": "function", "config": "system", "registered_name": "system"}
    return config


def _swap_class(config: dict, class_name: str, extra: dict) -> dict:
    config = json.loads(json.dumps(config))
    layer = _layer(config, "hidden")
    layer["class_name"] = class_name
    layer["config"].update(extra)
    return config


def _symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _corrupt_member(data: bytes) -> bytes:
    """Flip bytes inside config.json's stored data (the CRC no longer matches)."""
    raw = bytearray(data)
    at = raw.find(b'"class_name"')
    raw[at + 1: at + 6] = b"XXXXX"
    return bytes(raw)


def _external_link(f) -> None:
    import h5py

    f["secrets"] = h5py.ExternalLink("/etc/passwd", "/")


def _virtual_dataset(f) -> None:
    import h5py

    layout = h5py.VirtualLayout(shape=(4,), dtype="f4")
    layout[:] = h5py.VirtualSource("elsewhere.h5", "data", shape=(4,))
    f.create_group("weights").create_virtual_dataset("vds", layout, fillvalue=0)


def _external_storage(f) -> None:
    f.create_dataset("kernel", shape=(4,), dtype="f4", external=[("raw.bin", 0, 16)])


# --- the data corpus -------------------------------------------------------------------------------------

def npz_bytes(raw: dict | None = None, **arrays) -> bytes:
    """np.savez of ``arrays`` (None values left out), plus ``raw`` members written byte for byte (name.npy)."""
    out = io.BytesIO()
    np.savez(out, **{k: v for k, v in arrays.items() if v is not None})
    if raw:
        with zipfile.ZipFile(out, "a") as archive:
            for name, content in raw.items():
                archive.writestr(f"{name}.npy", content)
    return out.getvalue()


def good_arrays(n_train: int = 12, n_test: int = 6, shape=(4,), classes: int = 3, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"x_train": rng.random((n_train, *shape), dtype=np.float32),
            "y_train": np.arange(n_train) % classes,
            "x_test": rng.random((n_test, *shape), dtype=np.float32),
            "y_test": np.arange(n_test) % classes}


def npz_cases() -> list[Case]:
    """Bad .npz files for a model taking (4,) inputs with 3 outputs."""
    good = good_arrays()
    model = {"input_shape": (4,), "num_classes": 3}
    cases: list[Case] = []

    def add(id, data, expected, **kwargs):
        cases.append(Case(id, "data.npz", data, expected, {**model, **kwargs}))

    def changed(**over):
        return npz_bytes(**{**good, **over})

    add("npz-empty", b"", "is empty (0 bytes)")
    add("npz-not-npz", b"x_train,y_train\n1,2\n", "not an .npz archive")
    add("npz-is-npy", _npy(good["x_train"]), "single NumPy array (.npy)")
    add("npz-truncated", npz_bytes(**good)[:300], "not an .npz archive")
    add("npz-missing-key", npz_bytes(x_train=good["x_train"], y_train=good["y_train"], x_test=good["x_test"]),
        "missing y_test")
    add("npz-wrong-shape", changed(x_train=np.zeros((12, 5), np.float32), x_test=np.zeros((6, 5), np.float32)),
        "the model expects (4,)")
    add("npz-split-shapes-differ", changed(x_test=np.zeros((6, 2, 2), np.float32)), "both splits need the same")
    add("npz-nan", changed(x_train=np.where(np.arange(48).reshape(12, 4) == 5, np.nan, 0.5).astype(np.float32)),
        "x_train contains 1 NaN or infinite value")
    add("npz-inf-test", changed(x_test=np.full((6, 4), np.inf, np.float32)), "x_test contains 24 NaN or infinite")
    add("npz-labels-out-of-range", changed(y_train=np.arange(12) % 5), "labels from 0 to 4, outside the model's output range 0–2")
    add("npz-negative-labels", changed(y_test=np.full(6, -1)), "labels from -1 to -1")
    add("npz-length-mismatch", changed(y_train=np.zeros(11, np.int64)), "x_train has 12 samples but y_train has 11")
    add("npz-test-length-mismatch", changed(y_test=np.zeros(7, np.int64)), "x_test has 6 samples but y_test has 7")
    add("npz-one-hot-wrong-width", changed(y_train=np.eye(4)[np.arange(12) % 4]), "one-hot with 4 columns")
    add("npz-not-one-hot", changed(y_train=np.full((12, 3), 1 / 3)), "not one-hot")
    add("npz-float-labels", changed(y_test=np.full(6, 0.5)), "non-integer values")
    add("npz-pickled", npz_bytes(**{**good, "x_train": np.array([{"a": 1}] * 12, dtype=object)}),
        "Python objects (pickled arrays)")
    add("npz-strings", changed(x_train=np.array([["a"] * 4] * 12)), "must be numeric arrays")
    add("npz-empty-split", changed(x_test=np.zeros((0, 4), np.float32), y_test=np.zeros(0, np.int64)),
        "split is empty")
    add("npz-too-large", npz_bytes(**good), "over the upload limit", max_bytes=100)
    add("npz-scalar-y", changed(y_train=np.array(3)), "y_train is a single number (a 0-d array)")
    add("npz-scalar-x", changed(x_test=np.array(0.5, np.float32)), "x_test has shape ()")
    add("npz-float64-overflow", changed(x_train=np.where(np.arange(48).reshape(12, 4) == 7, 1e308, 0.5)),
        "x_train contains 1 NaN or infinite value as float32")
    add("npz-uint64-huge-labels", changed(y_train=np.array([0] * 11 + [2**63 + 5], np.uint64)),
        "y_train has labels from 0 to 9223372036854775813, outside the model's output range 0–2")
    add("npz-float-huge-labels", changed(y_test=np.array([0.0] * 5 + [1e300])), "y_test has labels from 0 to 1e+300")
    add("npz-bomb", _zip_declaring(npz_bytes(x_train=np.zeros((4000, 4000), np.uint8))),
        "x_train in the .npz expands from 15.3 KB to 15.3 MB (over 200:1, where real data compresses about 2–10:1): "
        "refused as a decompression bomb.", max_bytes=200_000)
    add("npz-lying-header", npz_bytes(**{**good, "x_train": None}, raw={"x_train": _npy_header((10**11, 4))}),
        "x_train's header declares 100,000,000,000 rows × 4 float32 values (1,490.1 GB), but the member holds "
        "0 bytes of data: the file is damaged or crafted.")
    add("npz-too-large-decompressed", npz_compressed(**{**good, "x_train": np.ones((12, 4), np.float32),
                                                        "x_test": np.ones((20_000, 4), np.float32)}),
        "The .npz is too large once decompressed: it declares 312.8 KB (the largest, x_test, 20,000 rows × 4 float32 "
        "values), 625.5 KB in memory with the float32 copy of the images; the limit is 488.3 KB.", max_bytes=100_000)
    add("npz-many-members", npz_bytes(**good, **{f"extra{i}": np.zeros(1) for i in range(20)}),
        "The .npz holds 24 files; at most 16 are read.")
    return cases


def npz_compressed(**arrays) -> bytes:
    out = io.BytesIO()
    np.savez_compressed(out, **arrays)
    return out.getvalue()


def _npy_header(shape, dtype="<f4") -> bytes:
    """Only the .npy header of an array of ``shape``: the member declares it and holds no data."""
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
    return out.getvalue()


def _npy(array) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


def _zip_declaring(data: bytes) -> bytes:
    """Recompress an npz with DEFLATE (zeros shrink ~1000×: small file, big declared size)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


# --- hostile files: resource exhaustion and look-alikes (issue 15) ---------------------------------------
#
# Each is small (kilobytes) and built here; each declares something huge or pathological. None holds code
# that could run. ``hostile_cases()`` are refused by the static checks (loading.check_model_bytes: no Keras
# model is built); ``last_line_cases()`` pass them and are stopped by the isolated child.

EVIL_NAME = "# ![x](https:evil.example) <img src=x onerror=alert(1)> [click](javascript:alert(1)) *b* :red[r] $x$"


def _mlp_config_and_weights() -> tuple[dict, bytes]:
    return read_keras(models()["mlp.keras"])


def _copy(config: dict) -> dict:
    return json.loads(json.dumps(config))


def _input_layer(shape) -> dict:
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": [None, *shape], "dtype": "float32", "name": "input_layer"}}


def _dense(name: str, units: int) -> dict:
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": name, "units": units, "activation": "relu", "use_bias": True}}


def _sequential(layers: list, name: str = "hostile") -> dict:
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": name, "layers": layers}}


def wide_dense_config() -> dict:
    """784 inputs → Dense(10⁶) → Dense(10): 795,000,010 parameters declared (3 GB as float32)."""
    return _sequential([_input_layer((784,)), _dense("wide", 10**6), _dense("out", 10)])


def huge_embedding_config() -> dict:
    """Embedding 10⁶ × 10⁵ = 10¹¹ parameters declared."""
    return _sequential([_input_layer((8,)), {"module": "keras.layers", "class_name": "Embedding",
                                             "registered_name": None,
                                             "config": {"name": "vocab", "input_dim": 10**6, "output_dim": 10**5}},
                        _dense("out", 3)])


def h5_declaring(values: int, config: dict | None = None, path: str = "model_weights/hidden/mlp/hidden/kernel") -> bytes:
    """An .h5 (legacy layout) whose one dataset declares ``values`` float32 values but stores none (chunked,
    never written: the file stays a few KB)."""
    def build(f):
        if config is not None:
            f.attrs["model_config"] = json.dumps(config)
        f.create_dataset(path, shape=(values,), dtype="f4", chunks=(min(values, 1024),))
    return h5_bytes(build)


def h5_hardlink_cycle(config: dict | None) -> bytes:
    """An .h5 whose group links to itself and to the root (a walker following paths never ends)."""
    def build(f):
        if config is not None:
            f.attrs["model_config"] = json.dumps(config)
        group = f.create_group("model_weights/hidden")
        group["again"] = group
        group["root"] = f["/"]
    return h5_bytes(build)


def h5_deep_groups(levels: int = 40) -> bytes:
    return h5_bytes(lambda f: f.create_group("/".join(f"g{i}" for i in range(levels))))


def many_layers_config(n: int = 20_000) -> dict:
    """A Sequential of ``n`` Dense(1) layers (about 3 MB of JSON)."""
    return _sequential([_input_layer((4,))] + [_dense(f"d{i}", 1) for i in range(n)])


def deep_config_bytes(levels: int = 10_000) -> bytes:
    """A config nested ``levels`` deep (a list in a list in …): json.loads alone would raise RecursionError."""
    inner = "[" * levels + "]" * levels
    return ('{"module": "keras", "class_name": "Sequential", "config": {"name": "deep", "layers": %s}}' % inner).encode()


def _activation(config: dict, module: str, function: str) -> dict:
    config = _copy(config)
    _layer(config, "hidden")["config"]["activation"] = {"module": module, "class_name": "function",
                                                         "config": function, "registered_name": function}
    return config


def _vocabulary_path(config: dict, path: str = "/etc/passwd") -> dict:
    config = _copy(config)
    config["config"]["layers"].insert(1, {"module": "keras.layers", "class_name": "StringLookup",
                                          "registered_name": None,
                                          "config": {"name": "lookup", "vocabulary": path, "output_mode": "int"}})
    return config


def _duplicate_config(config: dict, weights: bytes) -> bytes:
    """Two members named config.json: a harmless first copy and another one after it."""
    import warnings

    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as zf:
        warnings.simplefilter("ignore")  # "Duplicate name" — the point of the file
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("config.json", json.dumps(_swap_class(config, "TFSMLayer", {"filepath": "/srv"})))
        zf.writestr("model.weights.h5", weights)
    return out.getvalue()


def einsum_config() -> dict:
    """An EinsumDense (a layer kind the static estimate does not size) building a 784 × 10⁶ kernel (3 GB):
    it passes the static checks, and only the isolated child's memory limit stops it."""
    layer = {"module": "keras.layers", "class_name": "EinsumDense", "registered_name": None,
             "config": {"name": "ein", "equation": "ab,bc->ac", "output_shape": [1_000_000]},
             "build_config": {"input_shape": [None, 784]}}
    return _sequential([_input_layer((784,)), layer, _dense("out", 10)], name="einsum")


def evil_name_model():
    """A tiny working model whose layer and model names are Markdown/HTML (Keras allows all but '/')."""
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="relu", name=EVIL_NAME),
                             keras.layers.Dense(3, activation="softmax", name="out")], name="evil_" + "x" * 3)


def hostile_cases() -> list[Case]:
    """Refused by the static checks alone, each with its own message."""
    config, weights = _mlp_config_and_weights()
    cases: list[Case] = []

    def add(id, filename, data, expected, **kwargs):
        cases.append(Case(id, filename, data, expected, kwargs))

    add("dense-1e6-units", "wide.keras", keras_zip(wide_dense_config(), weights),
        "declares 795,000,010 parameters (3.0 GB as float32; the largest layer, 'wide' (Dense), has 785,000,000)")
    add("dense-1e6-units-h5", "wide.h5", h5_declaring(10, wide_dense_config()), "declares 795,000,010 parameters")
    add("embedding-1e11", "emb.keras", keras_zip(huge_embedding_config(), weights),
        "'vocab' (Embedding), has 100,000,000,000")
    add("h5-dataset-1e9", "big.h5", h5_declaring(10**9, config),
        "declares a dataset 'model_weights/hidden/mlp/hidden/kernel' of shape (1000000000,): 1,000,000,000 values")
    add("keras-weights-dataset-1e9", "big.keras", keras_zip(config, h5_declaring(10**9, path="layers/dense/vars/0")),
        "(its weights file) declares a dataset 'layers/dense/vars/0' of shape (1000000000,)")
    add("weights-bigger-than-config", "mismatch.h5", h5_declaring(1_000_000, config),
        "(1,000,000 values), but the model's configuration declares only 43 parameters in all")
    add("h5-hardlink-cycle", "cycle.h5", h5_hardlink_cycle(config), "links the HDF5 group")
    add("keras-weights-hardlink-cycle", "cycle.keras", keras_zip(config, h5_hardlink_cycle(None)),
        "(its weights file) links the HDF5 group")
    add("h5-deep-groups", "deep.h5", h5_deep_groups(), "nests HDF5 groups more than 32 levels deep")
    add("layers-20000", "many.keras", keras_zip(many_layers_config(), weights),
        "The model in many.keras declares more than 2,000 layers (at least 20,001)")
    add("config-nested-10000", "deep.keras", keras_zip(deep_config_bytes(), weights),
        "The config.json in deep.keras is nested 10,002 levels deep, more than the 64")
    add("h5-config-nested-10000", "deep.h5",
        h5_bytes(lambda f: f.attrs.__setitem__("model_config", deep_config_bytes().decode())),
        "The model configuration in deep.h5 is nested 10,002 levels deep")
    add("input-1e12-values", "input.keras", keras_zip(_sequential([_input_layer((10**6, 10**6)), _dense("out", 3)]),
                                                      weights),
        "declares an input 'input_layer' of shape (None, 1000000, 1000000): 1,000,000,000,000 values per sample")
    add("function-keras-src-layers-deserialize", "fn.keras",
        keras_zip(_activation(config, "keras.src.layers", "deserialize"), weights),
        "refers to the function deserialize from module keras.src.layers")
    add("function-activations-deserialize", "fn2.keras",
        keras_zip(_activation(config, "keras.activations", "deserialize"), weights),
        "refers to the function deserialize from module keras.activations")
    add("class-right-name-wrong-module", "mod.keras",
        keras_zip(_copy_with(config, "hidden", module="keras.src.saving.serialization_lib"), weights),
        "'hidden' (Dense), a custom class from module keras.src.saving.serialization_lib")
    add("stringlookup-vocabulary-path", "lookup.keras", keras_zip(_vocabulary_path(config), weights),
        "reads its vocabulary from the path '/etc/passwd', outside the model file")
    add("stringlookup-vocabulary-url", "lookup2.keras",
        keras_zip(_vocabulary_path(config, "gs://bucket/vocab.txt"), weights), "from the path 'gs://bucket/vocab.txt'")
    add("two-config-json", "twice.keras", _duplicate_config(config, weights),
        "contains two or more files named 'config.json'")
    return cases


def _copy_with(config: dict, layer: str, **fields) -> dict:
    config = _copy(config)
    _layer(config, layer).update(fields)
    return config


def last_line_cases() -> list[Case]:
    """Pass every static check; refused by the isolated child (memory limit)."""
    _, weights = _mlp_config_and_weights()
    return [Case("einsum-3gb-kernel", "einsum.keras", keras_zip(einsum_config(), weights), "needed more than")]


# --- measuring refusals (run in a process of its own: tests/test_loading_bounds.py, bench/bench_uploads.py) ---

def _rss_kb(field: str = "VmRSS") -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure_refusals(cases: list[Case]) -> list[dict]:
    """Load each case with loading.load_model_file (isolation on) and report its message, seconds, and this
    process's peak RSS growth in MB (VmHWM reset before each case)."""
    import time

    from prune_core.io import safe_load as loading

    loading.warm_isolation()
    rows = []
    for case in cases:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
        except OSError:
            pass
        before = _rss_kb()
        started = time.perf_counter()
        try:
            loading.load_model_file(case.data, case.filename, **case.kwargs)
            message = None
        except loading.ModelFileError as exc:
            message = str(exc)
        seconds = time.perf_counter() - started
        rows.append({"id": case.id, "file_kb": len(case.data) / 1024, "expected": case.expected, "message": message,
                     "seconds": seconds, "rss_growth_mb": max(_rss_kb("VmHWM") - before, 0) / 1024})
    return rows


if __name__ == "__main__":
    import sys

    wanted = set(sys.argv[1:])
    chosen = [c for c in hostile_cases() + last_line_cases() if not wanted or c.id in wanted]
    print("RESULT " + json.dumps(measure_refusals(chosen)))
