"""The Prune page's first visit without waiting for TensorFlow.

A fresh session has no model yet, and the default baseline needs TensorFlow (about 4 s to import on two
busy cores, once per server) before Keras can load it. Meanwhile :func:`prune_preview_until_ready` draws
the page's default view — magnitude, individual weights, per layer, coefficient 0.3 — from the .keras
file's weights read with h5py (:mod:`prune_core.io.weights_file`), through the same ``preview`` and
``figures`` functions as the full page, so the picture is the same; and it says what is loading.

The load runs on a thread of this session (:class:`ui.default_load.DefaultLoad`, in ``st.session_state["qs_load"]``;
the thread makes no Streamlit calls and writes only its own object). The page waits for it in the same
script run, saying what happens second by second, then reruns, and ``state.current_model`` adopts the
model (each session loads its own copy: a Keras model is never shared between sessions). A rerun or a
page change while waiting leaves the load running; a load still not done after :data:`WAIT_SECONDS`
ends the run and a fragment polls for it.
"""

from __future__ import annotations

import time

import numpy as np
import streamlit as st

from prune_core.io import weights_file
from prune_core.io.data import BASELINE_PATH

from . import default_load, prune_live, prune_url, prune_view, state

STATUS = "Loading TensorFlow and the model (first visit only)…"
WAIT_SECONDS = 60.0  # waited in the page's own run; longer, a fragment polls (the run must end some time)
HEAD_START_SECONDS = 1.0  # the preview's head start on TensorFlow's import (bench.bench_startup)
# The Prune page's default view, which the preview draws (ui.prune's first radio options and slider default).
DEFAULT_VIEW = {"criterion": "magnitude", "granularity": "weight", "rule": "coefficient", "scope": "layer",
                "same": "0", "view": "weights"}
DEFAULT_COEFFICIENT = 0.3
DEFAULT_SETTINGS = {"criterion": "magnitude", "granularity": "weight", "rule": "coefficient", "scope": "layer",
                    "same": False, "view": "weights"}


def start_default_load() -> default_load.DefaultLoad | None:
    """This session's load of the default baseline, started if it is not running yet (None: a model is there)."""
    if state.has_model():
        return None
    held = st.session_state.get(default_load.LOAD_KEY)
    if held is None:
        held = default_load.DefaultLoad(BASELINE_PATH, state.dataset()).start()
        st.session_state[default_load.LOAD_KEY] = held
    return held


def prune_preview_until_ready() -> None:
    """First lines of the Prune page: with no model yet, draw the default model's histograms from its file
    while the model loads, wait for it (saying what happens), then rerun so the full page takes over.
    Returns at once when a model is there, or when Keras is already imported (loading takes 0.3 s then)."""
    if state.has_model() or (default_load.LOAD_KEY not in st.session_state and default_load.keras_ready()):
        return
    held = st.session_state.get(default_load.LOAD_KEY)
    if held is not None and held.done():
        return  # current_model adopts it
    top = _draw_preview()
    with top, st.status(STATUS, expanded=True):
        line = st.empty()
        if held is None:  # give the browser a head start: TensorFlow's import holds the GIL and a core for
            line.caption("Starting…")  # seconds, and the charts' 4.7 MB of plotly.js must arrive and run first
            time.sleep(HEAD_START_SECONDS)
        held = start_default_load()
        deadline = time.perf_counter() + WAIT_SECONDS
        while not held.wait(default_load.POLL_SECONDS) and time.perf_counter() < deadline:
            line.caption(f"{held.phase}… {held.elapsed():.1f} s")
        if held.done():
            line.caption(f"Loaded in {held.elapsed():.1f} s — drawing the full page…")
        else:
            line.caption(f"{held.phase}… still loading after {held.elapsed():.0f} s; the page continues when it "
                         "is done.")
    if held.done():
        st.rerun()  # outside the status block: its exit would mark it failed on the rerun's exception
    _poll(held)
    st.stop()


@st.fragment(run_every=1.0)
def _poll(held: default_load.DefaultLoad) -> None:
    if held.done():
        st.rerun(scope="app")


def _draw_preview():
    """Title, data badge, a slot for the status (returned: it goes above the charts, where it is seen) and
    the default view's histograms read from the file (no TensorFlow)."""
    from . import widgets

    st.title("Prune")
    st.caption("Score every weight, prune where score < threshold, and see the cost at once — measured on the test "
               "split, before any retraining.")
    widgets.data_badge()
    slot = st.container()
    if not asks_for_default_view():
        st.caption("Your link asks for other settings than the default ones: the page shows them once the model "
                   "has loaded.")
        return slot
    try:
        kernels = weights_file.kernels_from_keras_file(BASELINE_PATH)
    except weights_file.WeightsFileError:
        return slot  # the full page comes when Keras has loaded the model; only the status is shown until then
    data = default_payload(kernels)
    st.caption(f"A first look at the default baseline with the default settings (magnitude, per layer, "
               f"coefficient {DEFAULT_COEFFICIENT}); the sliders move once the model has loaded.")
    prune_live.mount(dict(data, frozen=True), DEFAULT_SETTINGS, list(kernels))  # the full page's own view
    return slot


def default_payload(kernels: dict[str, np.ndarray]) -> dict:
    """The live view's data for the Prune page's default view of these kernels — the same calls as the full
    page makes (magnitude scores, ``prune_core.select`` with the coefficient rule per layer at every slider
    position, ``preview.bin_values`` over ``preview.weight_edges``, 'name (784×300)' titles) without a model, so
    without TensorFlow."""
    import prune_core as pc
    from prune_core.measure import preview

    names = list(kernels)
    scores = pc.CRITERIA["magnitude"].scores_from_kernels(kernels)
    rule = pc.RULES["coefficient"]

    def masks_at(shown: float):
        spec = pc.PruneSpec(criterion="magnitude", granularity="weight", rule="coefficient", scope="layer",
                            value=rule.from_display(shown))
        return pc.select(None, spec, scores, kernels=kernels, groups=[])

    hists = {n: prune_view.HistogramSource(preview.bin_values(k, preview.weight_edges(k)), "kernels",
                                           f"{n} ({'×'.join(str(d) for d in k.shape)})", "weight value", False, "pm")
             for n, k in kernels.items()}
    labels = {n: hists[n].title for n in names}
    return prune_live.payload(DEFAULT_SETTINGS, names, labels, masks_at, hists)


def asks_for_default_view() -> bool:
    """Whether the URL and this session's Prune settings describe the page's default view (what the
    preview draws); a shared link with other settings waits for the full page instead."""
    query = st.query_params
    for key, default in DEFAULT_VIEW.items():
        if query.get(key, default) != default:
            return False
        held = st.session_state.get(f"pr_{key}")
        if held is not None and held != (default == "1" if key == "same" else default):
            return False
    for part in filter(None, query.get("v", "").split(",")):
        try:
            if float(part.rpartition(":")[2]) != DEFAULT_COEFFICIENT:
                return False
        except ValueError:
            return False
    return all(value == DEFAULT_COEFFICIENT for key, value in st.session_state.to_dict().items()
               if key.startswith(prune_url.value_key("weight", "coefficient", "")))
