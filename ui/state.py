"""Per-session state (the model being pruned lives here, never in a shared cache) and cached data."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from prune_core.io import data
from prune_core.measure.headline import headline_numbers

from . import default_load, memory

DATA_SOURCES = {
    "auto": "Auto — full MNIST when available, else the bundled digits",
    "bundled": "Bundled subset — 10,000 real digits, offline",
    "full": "Full MNIST — 70,000 digits (Keras cache or download)",
    "fashion": "Fashion-MNIST — 10,000 real clothing images, bundled, offline",
}
MNIST_SOURCES = ("auto", "bundled", "full")  # what "data_source" (MNIST for default and uploaded models) may hold
TRAIN_DATA_KEY = "train_data"  # the Model page's data choice for training (any of DATA_SOURCES)


@st.cache_resource(show_spinner="Loading the dataset…")
def load_dataset(source: str) -> data.Dataset:
    """A dataset by source (MNIST's auto/bundled/full, or "fashion"). Immutable, so shared between sessions
    is fine (and saves memory)."""
    return data.load_dataset(source)


MEMORY_SESSION_KEY = "memory_session_id"
SWEEP_EVERY_S = 30.0  # the idle sweep runs at most this often (any session's script run may start it)


def memory_session_id() -> str:
    """This session's id in ``ui.memory.SESSIONS`` (a random one of our own, kept in its state)."""
    return st.session_state.setdefault(MEMORY_SESSION_KEY, uuid.uuid4().hex)


def touch_memory() -> None:
    """This session ran a script: mark it active, and release the runs of sessions idle for longer than
    ``PRUNING_EXPLORER_IDLE_MINUTES`` (``ui.memory``; at most every ``SWEEP_EVERY_S`` seconds)."""
    memory.SESSIONS.touch(memory_session_id())
    memory.SESSIONS.sweep(memory.idle_minutes() * 60, every_s=SWEEP_EVERY_S)


def train_data_choice() -> str:
    """The Model page's data choice for training: the last one used, else the MNIST source in use."""
    return st.session_state.get(TRAIN_DATA_KEY) or st.session_state.get("data_source", "auto")


def set_train_data(source: str) -> None:
    """Remember the training data choice; an MNIST choice also becomes the session's MNIST source."""
    st.session_state[TRAIN_DATA_KEY] = source
    if source in MNIST_SOURCES:
        st.session_state["data_source"] = source


def mnist_dataset() -> data.Dataset:
    """MNIST as chosen on the Model page ("auto" by default), as (N, 28, 28) images."""
    source = st.session_state.setdefault("data_source", "auto")
    if source not in MNIST_SOURCES:
        source = st.session_state["data_source"] = "auto"
    try:
        return load_dataset(source)
    except data.DataUnavailableError:
        st.session_state["data_source"] = "bundled"
        return load_dataset("bundled")


@st.cache_resource(show_spinner="Reshaping MNIST for this model…")
def reshaped_mnist(source: str, shape: tuple[int, ...]) -> data.Dataset:
    """MNIST reshaped for a model's input (immutable, shared like the dataset itself)."""
    return data.reshape_for_input(load_dataset(source), shape)


def dataset() -> data.Dataset:
    """The dataset for the session's current model.

    Trained and default models: MNIST as chosen on the Model page. An uploaded model carries its own
    choice in ``ModelEntry.data_key``: ``"mnist@<shape>"`` (MNIST reshaped, e.g. ``mnist@784``), an
    uploaded .npz (``"npz-…"``, kept in this session), or ``data.NO_DATA_KEY`` — then this returns an
    empty Dataset shaped for the model (see :func:`has_data`). Models derived from it (pruned,
    retrained) that copy ``data_key`` keep the same data.
    """
    touch_memory()  # every page asks (the sidebar does): this session is active, idle ones are swept
    entry = st.session_state.get("model_entry")
    key = getattr(entry, "data_key", "") or ""
    if key == data.NO_DATA_KEY:
        return data.empty_dataset(_input_shape(entry.model), _output_units(entry.model))
    if key.startswith("npz-") and key in st.session_state.get("uploaded_datasets", {}):
        return st.session_state["uploaded_datasets"][key]
    if key == data.FASHION_KEY:  # a model trained on the bundled Fashion-MNIST keeps that data
        return load_dataset("fashion")
    if key.startswith("mnist") and "@" in key:
        base = mnist_dataset()
        shape = tuple(int(d) for d in key.rsplit("@", 1)[1].split("x"))
        return reshaped_mnist(st.session_state["data_source"], shape) if shape != base.input_shape else base
    return mnist_dataset()


def has_data() -> bool:
    """Whether the current model has data (False: accuracy, sensitivity and Taylor are unavailable;
    magnitude and random pruning and size metrics still work)."""
    return data.has_samples(dataset())


def _input_shape(model) -> tuple[int, ...]:
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def _output_units(model) -> int:
    return int(model.outputs[0].shape[-1])


def mnist_key_for(shape) -> str:
    """data_key meaning "MNIST reshaped to this input shape"."""
    return "mnist@" + "x".join(str(int(d)) for d in shape)


MAX_UPLOADED_DATASETS = 3


def register_dataset(ds: data.Dataset) -> None:
    """Keep an uploaded dataset in this session (the last few only; each can be large)."""
    held = st.session_state.setdefault("uploaded_datasets", {})
    held.pop(ds.key, None)
    held[ds.key] = ds
    in_use = {getattr(st.session_state.get("model_entry"), "data_key", None)}
    for key in list(held)[:-MAX_UPLOADED_DATASETS]:
        if key not in in_use:
            del held[key]


def set_model_data(data_key: str) -> None:
    """Point the current model at other data (an uploaded model's MNIST / .npz / no-data choice)."""
    entry = st.session_state["model_entry"]
    if entry.data_key != data_key:
        entry.data_key = data_key
        st.session_state["model_data_version"] = st.session_state.get("model_data_version", 0) + 1


@dataclass
class ModelEntry:
    """The session's current model and what we measured about it."""

    model: Any
    name: str
    architecture: str
    origin: str  # "default" | "trained" | "uploaded"
    data_key: str
    settings: dict = field(default_factory=dict)
    history: dict = field(default_factory=dict)
    train_seconds: float | None = None
    created: float = field(default_factory=time.time)
    measurements: dict = field(default_factory=dict)  # cached per dataset key
    _weights_key: str = ""

    @property
    def weights_key(self) -> str:
        """Content hash of the weights: the cache key for anything computed from them."""
        if not self._weights_key:
            self._weights_key = data.content_hash(*(w for w in self.model.get_weights()))
        return self._weights_key


def has_model() -> bool:
    return "model_entry" in st.session_state


def set_model(entry: ModelEntry) -> None:
    st.session_state["model_entry"] = entry
    st.session_state["model_version"] = st.session_state.get("model_version", 0) + 1


def current_model() -> ModelEntry:
    """The session's model; on first visit the shipped LeNet-300-100 baseline, loaded without a click."""
    if not has_model():
        loaded = default_load.take_default_model()  # the session's background load, when one was started
        if loaded is None:
            with st.spinner("Loading the default baseline (LeNet-300-100 trained on the bundled digits)…"):
                model, measured = default_load.load_default_model(data.BASELINE_PATH), {}
        else:
            model, measured = loaded
        info = json.loads(data.BASELINE_PATH.with_suffix(".json").read_text())
        set_model(ModelEntry(model=model, name="LeNet-300-100 · default baseline", architecture=info["architecture"],
                             origin="default", data_key=info["data"], history=info["history"],
                             train_seconds=info["train_seconds"], measurements=measured,
                             settings={k: info[k] for k in ("epochs", "batch_size", "learning_rate", "seed")}))
    return st.session_state["model_entry"]


def measure(entry: ModelEntry, ds: data.Dataset) -> dict:
    """Test accuracy, loss, parameter count and sizes of the entry's model, measured once per dataset.

    With no data (an empty Dataset) accuracy and loss are NaN and only sizes are measured.
    """
    if ds.key not in entry.measurements:
        with st.spinner("Measuring the model on the test split…"):
            entry.measurements[ds.key] = headline_numbers(entry.model, ds)
    return entry.measurements[ds.key]


@dataclass
class Candidate:
    """A pruned model chosen on the Prune page ("Apply"), waiting for the Retrain page."""

    mask_set: Any
    settings: dict
    values: Any
    weights_key: str
    dense_accuracy: float
    pruned_accuracy: float
    sparsity: float
    created: float = field(default_factory=time.time)
    note: str = ""  # Markdown-safe words for the Retrain page when it did not come from the Prune page's Apply


def set_candidate(candidate: Candidate) -> None:
    st.session_state["candidate"] = candidate


def candidate() -> Candidate | None:
    """The applied candidate, if it belongs to the current model."""
    held = st.session_state.get("candidate")
    if held is None or not has_model() or held.weights_key != current_model().weights_key:
        return None
    return held


WORKSPACE_KEY = "workspace"


def workspace() -> str:
    """The run-history workspace this session records into and shows (default "default")."""
    return st.session_state.setdefault(WORKSPACE_KEY, "default")


def run_store():
    """The SQLite run history (in PRUNING_EXPLORER_DATA_DIR, default ~/.pruning-explorer)."""
    from prune_core.io.history import default_store

    return default_store()


def run_files():
    """The runs' model files beside the history (``prune_core.io.run_files``), in the same data directory."""
    from prune_core.io.run_files import RunFiles

    return RunFiles()


def restore_default_baseline() -> None:
    """Back to the shipped baseline: the current model (and a candidate pruned from it) is dropped and the
    default loads on the next run. Finished runs stay in the run history."""
    for key in ("model_entry", "candidate"):
        st.session_state.pop(key, None)
    st.session_state["model_version"] = st.session_state.get("model_version", 0) + 1
    st.session_state["flash"] = "Restored the default baseline (LeNet-300-100 trained on the bundled digits)."
