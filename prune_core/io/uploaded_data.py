"""A user's own data (.npz, bounded before and after decompression) and MNIST reshaped for an uploaded model."""

from __future__ import annotations

import numpy as np

from . import npz_bounds
from .dataset import Dataset, content_hash
from .safe_load.bounds import max_upload_bytes, too_large_message

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
MNIST_INPUT_SHAPES = ((28, 28), (28, 28, 1), (784,))
NPZ_UNCOMPRESSED_FACTOR = 5  # arrays (and the images' float32 copies) may take at most 5 × the upload limit in memory
NO_DATA_KEY = "none"


class DataFileError(ValueError):
    """A data file was refused; the message is the user-facing explanation (what is wrong, what to do)."""


def is_mnist_shaped(input_shape, output_units: int) -> bool:
    """True when a model takes MNIST digits as (28, 28), (28, 28, 1) or (784,) and has 10 outputs.

    >>> is_mnist_shaped((784,), 10), is_mnist_shaped((28, 28, 1), 10), is_mnist_shaped((32, 32, 3), 10)
    (True, True, False)
    """
    return tuple(int(d) for d in input_shape) in MNIST_INPUT_SHAPES and int(output_units) == 10


def reshape_for_input(ds: Dataset, input_shape) -> Dataset:
    """The same images reshaped to a model's input shape (e.g. (784,) or (28, 28, 1)); key says which.

    >>> small = Dataset("t", "s", np.zeros((2, 28, 28), np.float32), np.zeros(2, np.int64),
    ...                 np.zeros((1, 28, 28), np.float32), np.zeros(1, np.int64), key="k")
    >>> r = reshape_for_input(small, (784,)); r.x_train.shape, r.key
    ((2, 784), 'k@784')
    """
    shape = tuple(int(d) for d in input_shape)
    if shape == ds.input_shape:
        return ds
    if int(np.prod(shape)) != int(np.prod(ds.input_shape)):
        raise ValueError(f"{ds.name} images are {ds.input_shape}; they cannot be reshaped to {shape}.")
    return Dataset(name=ds.name, source=ds.source + f" · reshaped to {shape} for this model",
                   x_train=ds.x_train.reshape((-1,) + shape), y_train=ds.y_train,
                   x_test=ds.x_test.reshape((-1,) + shape), y_test=ds.y_test,
                   class_names=ds.class_names, key=f"{ds.key}@{'x'.join(map(str, shape))}")


def empty_dataset(input_shape=(0,), num_classes: int = 0) -> Dataset:
    """'No data': zero train/test samples shaped for the model, key ``NO_DATA_KEY``.

    Magnitude pruning and size metrics need no data; accuracy, sensitivity and Taylor do.
    """
    shape = tuple(int(d) for d in input_shape)
    empty = np.zeros((0,) + shape, np.float32)
    return Dataset(name="No data", source="No data for this model: accuracy, sensitivity and Taylor need data",
                   x_train=empty, y_train=np.zeros(0, np.int64), x_test=empty.copy(), y_test=np.zeros(0, np.int64),
                   class_names=tuple(str(i) for i in range(int(num_classes))), key=NO_DATA_KEY)


def has_samples(ds: Dataset | None) -> bool:
    return ds is not None and len(ds.y_test) > 0 and len(ds.y_train) > 0


def _max_data_bytes() -> int:
    return max_upload_bytes()


def load_npz(data: bytes, *, input_shape=None, num_classes: int | None = None, name: str = "Uploaded data",
             max_bytes: int | None = None) -> Dataset:
    """A Dataset from an uploaded .npz holding x_train, y_train, x_test, y_test; DataFileError if refused.

    Labels may be integers (N,) / (N, 1) or one-hot (N, classes). Images are used as given, as float32
    (no rescaling). With ``input_shape``/``num_classes`` (the model's), shapes and label range are
    checked against the model. Never unpickles (allow_pickle=False).
    """
    data = bytes(data)
    limit = _max_data_bytes() if max_bytes is None else int(max_bytes)
    if len(data) == 0:
        raise DataFileError("The data file is empty (0 bytes). Upload the .npz that "
                            "np.savez('data.npz', x_train=..., y_train=..., x_test=..., y_test=...) wrote.")
    if len(data) > limit:
        raise DataFileError(too_large_message("The data file", len(data), limit, "data"))
    import io

    if data[:6] == b"\x93NUMPY":
        raise DataFileError("This is a single NumPy array (.npy), not an .npz archive. Save the four arrays together "
                            "with np.savez('data.npz', x_train=..., y_train=..., x_test=..., y_test=...).")
    try:  # what decompressing would cost, from the zip directory and the .npy headers, before reading any array
        npz_bounds.inspect_npz(data, memory_limit=NPZ_UNCOMPRESSED_FACTOR * limit)
    except npz_bounds.NpzBoundsError as exc:
        raise DataFileError(str(exc)) from None
    arrays = {}
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            present = list(npz.files)
            missing = [k for k in NPZ_KEYS if k not in present]
            if missing:
                raise DataFileError(
                    f"The .npz is missing {', '.join(missing)} (it has: {', '.join(present[:12]) or 'no arrays'}). "
                    "It needs four arrays named x_train, y_train, x_test, y_test.")
            for key in NPZ_KEYS:
                arrays[key] = npz[key]
    except DataFileError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataFileError("The .npz holds Python objects (pickled arrays), which are never loaded here. Save "
                                "plain numeric arrays (e.g. float32 images, int64 labels).") from None
        raise DataFileError(f"The .npz could not be read ({exc}). Save it again with np.savez and upload it.") from None
    except Exception as exc:  # zlib / CRC / header errors from a damaged archive
        raise DataFileError(f"The .npz is damaged and could not be read ({type(exc).__name__}). "
                            "Save it again with np.savez and upload it.") from None
    return dataset_from_arrays(arrays, input_shape=input_shape, num_classes=num_classes, name=name)


MAX_CLASSES_WITHOUT_MODEL = 100_000  # labels read without a model: more classes than this is not a classifier


def _number(value) -> str:
    """A label or value for a message, exactly as it is (no wrap-around, no rounding to float).

    >>> _number(np.uint64(2**63 + 5)), _number(np.float64(3.0)), _number(np.float64(1e308)), _number(np.int8(-1))
    ('9223372036854775813', '3', '1e+308', '-1')
    """
    if isinstance(value, (np.integer, int, bool, np.bool_)):
        return str(int(value))
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def _labels(y: np.ndarray, key: str, num_classes: int | None) -> np.ndarray:
    """Labels as a 1-D array of class indices, in their own dtype (range-checked later, then cast)."""
    if y.ndim == 0:
        raise DataFileError(f"{key} is a single number (a 0-d array), not one label per sample. Save labels of "
                            "shape (N,) (integers) or (N, classes) (one-hot).")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        if num_classes is not None and y.shape[1] != num_classes:
            raise DataFileError(f"{key} is one-hot with {y.shape[1]:,} columns, but the model has {num_classes} "
                                f"outputs. Use {num_classes} columns (or integer labels 0–{num_classes - 1}).")
        if not (np.issubdtype(y.dtype, np.number) or y.dtype == np.bool_) or np.iscomplexobj(y):
            raise DataFileError(f"{key} has dtype {y.dtype}; labels must be integers (or one-hot rows).")
        values = y.astype(np.float64)
        if not np.all(np.isfinite(values)) or not np.all((values == 0) | (values == 1)) \
                or not np.all(values.sum(axis=1) == 1):
            raise DataFileError(f"{key} has 2 dimensions but is not one-hot (each row must hold a single 1 and "
                                "otherwise 0). Save integer class labels or one-hot rows.")
        return np.argmax(values, axis=1).astype(np.int64)
    if y.ndim != 1:
        raise DataFileError(f"{key} has shape {y.shape}; labels must be integers of shape (N,) or one-hot (N, classes).")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataFileError(f"{key} holds non-integer values; labels must be class indices 0, 1, 2 … "
                                "(or one-hot rows).")
    elif not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        raise DataFileError(f"{key} has dtype {y.dtype}; labels must be integers (or one-hot rows).")
    return y


def dataset_from_arrays(arrays: dict, *, input_shape=None, num_classes: int | None = None,
                        name: str = "Uploaded data") -> Dataset:
    """Validate four arrays (see :func:`load_npz`) and build a Dataset keyed by their content hash.

    Refused, each with its own message: 0-d arrays, non-numeric or complex images, mismatched lengths or
    sample shapes, values that are not finite once cast to float32 (1e308 becomes inf), labels outside the
    model's outputs (compared in their own dtype, so uint64 2**63 + 5 is reported as it is).

    >>> dataset_from_arrays({"x_train": np.zeros((2, 3)), "y_train": np.array(1), "x_test": np.zeros((1, 3)),
    ...                      "y_test": np.zeros(1, np.int64)})
    Traceback (most recent call last):
    ...
    prune_core.io.uploaded_data.DataFileError: y_train is a single number (a 0-d array), not one label per sample. Save labels of shape (N,) (integers) or (N, classes) (one-hot).
    """
    x_train, y_train, x_test, y_test = (np.asarray(arrays[k]) for k in NPZ_KEYS)
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.iscomplexobj(x):
            raise DataFileError(f"{key} has dtype {x.dtype}, not numbers; images/features must be numeric arrays.")
        if x.ndim < 2:
            raise DataFileError(f"{key} has shape {x.shape}; it needs one row per sample, e.g. (N, 28, 28) or (N, 784).")
    for key, y in (("y_train", y_train), ("y_test", y_test)):
        if y.ndim == 0:
            raise DataFileError(f"{key} is a single number (a 0-d array), not one label per sample. Save labels of "
                                "shape (N,) (integers) or (N, classes) (one-hot).")
    if len(x_train) != len(y_train):
        raise DataFileError(f"x_train has {len(x_train):,} samples but y_train has {len(y_train):,} labels; "
                            "they must have the same length.")
    if len(x_test) != len(y_test):
        raise DataFileError(f"x_test has {len(x_test):,} samples but y_test has {len(y_test):,} labels; "
                            "they must have the same length.")
    if len(x_train) == 0 or len(x_test) == 0:
        raise DataFileError("The train or test split is empty; both need at least one sample.")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataFileError(f"x_train samples are {x_train.shape[1:]} but x_test samples are {x_test.shape[1:]}; "
                            "both splits need the same sample shape.")
    if input_shape is not None:
        want = tuple(int(d) for d in input_shape)
        if tuple(x_train.shape[1:]) != want:
            hint = (f" The number of values matches: reshape with x.reshape(-1, {', '.join(map(str, want))})."
                    if int(np.prod(x_train.shape[1:])) == int(np.prod(want)) else "")
            raise DataFileError(f"The data's samples have shape {tuple(x_train.shape[1:])}, but the model expects "
                                f"{want} (x_train is {x_train.shape}).{hint}")
    y_train, y_test = _labels(y_train, "y_train", num_classes), _labels(y_test, "y_test", num_classes)
    if num_classes is not None:
        classes = int(num_classes)
    else:
        top = max(y_train.max(), y_test.max())
        if top >= MAX_CLASSES_WITHOUT_MODEL:
            raise DataFileError(f"The labels go up to {_number(top)}; without a model to compare with, at most "
                                f"{MAX_CLASSES_WITHOUT_MODEL:,} classes are read. Use class indices 0, 1, 2 …")
        classes = int(top) + 1
    for key, y in (("y_train", y_train), ("y_test", y_test)):
        low, high = y.min(), y.max()  # in the labels' own dtype: no wrap-around before the comparison
        if low < 0 or high >= classes:
            raise DataFileError(f"{key} has labels from {_number(low)} to {_number(high)}, outside the model's "
                                f"output range 0–{classes - 1} ({classes} outputs). Use class indices 0–{classes - 1}.")
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    with np.errstate(over="ignore"):  # overflow to inf is what the next check reports
        x_train, x_test = x_train.astype(np.float32, copy=False), x_test.astype(np.float32, copy=False)
    for key, x in (("x_train", x_train), ("x_test", x_test)):
        bad = int(np.count_nonzero(~np.isfinite(x)))  # after the cast: 1e308 (float64) is inf as float32
        if bad:
            raise DataFileError(f"{key} contains {bad:,} NaN or infinite value{'s' * (bad > 1)} as float32 (the "
                                "model's input type; values beyond ±3.4e38 become infinite). Clean or drop those "
                                "samples and upload again.")
    key = "npz-" + content_hash(x_train, y_train, x_test, y_test)
    return Dataset(name=name, source="Your uploaded .npz (values used as given, no rescaling)",
                   x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
                   class_names=tuple(str(i) for i in range(classes)), key=key)


def _embeddings_on_input(model) -> list:
    """Embedding layers that read the model's input directly (their token ids are the data's values)."""
    found = []
    inputs = list(getattr(model, "inputs", None) or [])

    def visit(container, feeds):
        for layer in getattr(container, "layers", []):
            try:
                reads_input = any(layer.input is t for t in feeds)
            except Exception:  # a layer without a single input (never called, shared): not a direct reader
                reads_input = False
            if type(layer).__name__ == "Embedding" and reads_input:
                found.append(layer)
            elif reads_input and hasattr(layer, "layers") and getattr(layer, "inputs", None):
                visit(layer, list(layer.inputs))  # a nested model fed by the input

    visit(model, inputs)
    return found


def check_data_for_model(ds: Dataset, model) -> None:
    """Refuse data this model cannot run on, beyond shapes and labels (which :func:`load_npz` checks):
    token ids outside an input Embedding's vocabulary (they would fail every later evaluation).

    >>> import keras
    >>> m = keras.Sequential([keras.Input((3,)), keras.layers.Embedding(5, 2, name="tokens"),
    ...                       keras.layers.Flatten(), keras.layers.Dense(2)])
    >>> ds = Dataset("d", "s", np.array([[0, 1, 7.0]], np.float32), np.zeros(1, np.int64),
    ...              np.zeros((1, 3), np.float32), np.zeros(1, np.int64), class_names=("0", "1"))
    >>> check_data_for_model(ds, m)
    Traceback (most recent call last):
    ...
    prune_core.io.uploaded_data.DataFileError: x_train holds token ids from 0 to 7, but the model's Embedding layer 'tokens' has a vocabulary of 5 (ids 0–4). Map the ids into 0–4 (or rebuild the Embedding with input_dim of at least 8) and upload again.
    """
    for layer in _embeddings_on_input(model):
        size = int(layer.input_dim)
        for key, x in (("x_train", ds.x_train), ("x_test", ds.x_test)):
            if x.size == 0:
                continue
            low, high = x.min(), x.max()
            if low < 0 or high >= size or not np.all(np.isfinite(x)):
                raise DataFileError(
                    f"{key} holds token ids from {_number(low)} to {_number(high)}, but the model's Embedding layer "
                    f"'{layer.name}' has a vocabulary of {size:,} (ids 0–{size - 1}). Map the ids into 0–{size - 1} "
                    f"(or rebuild the Embedding with input_dim of at least {_number(np.floor(high) + 1) if high >= size else size}) "
                    "and upload again.")
