"""The default baseline, loading on a thread of the session while a page draws (TensorFlow's import takes
seconds on a fresh server). :func:`take_default_model` hands it to ``state.current_model``; the Prune page's
first visit (:mod:`ui.quickstart`) starts it and shows what is loading."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import streamlit as st

from prune_core.measure.headline import headline_numbers

LOAD_KEY = "qs_load"
POLL_SECONDS = 0.25


def keras_ready() -> bool:
    """Whether Keras is imported in this process (by anyone, completely)."""
    module = sys.modules.get("keras")
    return module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False)


class DefaultLoad:
    """The default baseline, loading on a thread of its own: TensorFlow's import, the model, and its
    headline numbers on ``dataset`` (so the full page does not measure it again). No Streamlit calls on the
    thread; the script reads ``phase``, ``done()``, ``model``, ``numbers``, ``error``."""

    def __init__(self, path: Path, dataset=None):
        self.path, self.dataset = Path(path), dataset
        self.phase = "Starting"
        self.started = time.perf_counter()
        self.model = None
        self.numbers: dict | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="default-baseline-load", daemon=True)

    def start(self) -> "DefaultLoad":
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self.phase = "Loading the model" if keras_ready() else "Importing TensorFlow (once per server)"
            model = load_default_model(self.path)
            self.phase = "Loading the model"
            self.model = model
            if self.dataset is not None:
                self.phase = "Measuring it on the test split"
                self.numbers = headline_numbers(model, self.dataset)
        except Exception as exc:  # the script falls back to loading in its own run, where errors are reported
            self.error = exc
        finally:
            self.phase = "Ready"
            self._done.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def load_default_model(path: Path):
    """Keras's own load of the shipped baseline (what ``state.current_model`` does without this module)."""
    import keras

    return keras.saving.load_model(path, safe_mode=True, compile=False)


def take_default_model() -> tuple[object, dict] | None:
    """For ``state.current_model``: (model, measurements by dataset key) from this session's load, waited for
    with a spinner saying what happens; None when there is none or it failed (then load it the usual way)."""
    held = st.session_state.get(LOAD_KEY)
    if held is None:
        return None
    if not held.done():
        with st.spinner("Loading the default baseline (LeNet-300-100 trained on the bundled digits)…"):
            line = st.empty()
            while not held.wait(POLL_SECONDS):  # each update lets a click interrupt the wait
                line.caption(f"{held.phase}… {held.elapsed():.0f} s")
            line.empty()
    st.session_state.pop(LOAD_KEY, None)
    if held.model is None:
        return None
    measured = {held.dataset.key: held.numbers} if held.numbers is not None and held.dataset is not None else {}
    return held.model, measured
