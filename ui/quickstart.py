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
from prune_core.viz.fmt import percent

from . import default_load, prune_labels, prune_url, prune_view, state
from .text import html

STATUS = "Loading TensorFlow and the model (first visit only)…"
WAIT_SECONDS = 60.0  # waited in the page's own run; longer, a fragment polls (the run must end some time)
HEAD_START_SECONDS = 1.0  # the preview's head start on TensorFlow's import (bench.bench_startup)
# The Prune page's default view, which the preview draws (ui.prune's first radio options and slider default).
DEFAULT_VIEW = {"criterion": "magnitude", "granularity": "weight", "rule": "coefficient", "scope": "layer",
                "same": "0", "view": "weights"}
DEFAULT_COEFFICIENT = 0.3
HISTOGRAM_CONFIG = {"displayModeBar": False}


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
    figures, mask_set = default_view(kernels)
    st.caption(f"A first look at the default baseline with the default settings (magnitude, per layer, "
               f"coefficient {DEFAULT_COEFFICIENT}); the controls come with the model.")
    row = st.container(horizontal=True, gap="medium")  # the full page's layout, so nothing jumps when it takes over
    row.metric("Kept weights", f"{mask_set.kept:,}", delta=f"of {mask_set.total:,}", delta_color="off",
               delta_arrow="off", width=170)
    row.metric("Overall sparsity", percent(mask_set.overall_sparsity), width=170)
    st.markdown("##### Sparsity per layer")
    widgets.chart(prune_view.sparsity_figure(mask_set), key="bars")
    st.caption("Share of each layer's kernel weights that is pruned.")
    st.markdown("##### Per-layer distribution")
    tiles = st.container(horizontal=True, gap="medium")
    for name, fig in figures.items():
        with tiles.container(width=prune_view.TILE_WIDTH):
            widgets.chart(fig, key=f"hist-{name}", config=HISTOGRAM_CONFIG)
    st.caption("Kept weights in blue, pruned in orange, stacked per bin; the dashed line is the threshold "
               "(±t on weight values for magnitude).")
    return slot


def default_view(kernels: dict[str, np.ndarray]):
    """({layer: histogram figure}, MaskSet) of the Prune page's default view for these kernels — the same
    calls as ``ui.prune`` makes: magnitude scores, ``prune_core.select`` with the coefficient rule per layer,
    ``preview.bin_values`` over ``preview.weight_edges``, ``split_counts`` and ``figures.split_histogram_figure``
    with ±threshold lines and 'name (784×300)' titles."""
    import prune_core as pc
    from prune_core.viz import figures
    from prune_core.measure import preview

    names = list(kernels)
    scores = pc.CRITERIA["magnitude"].scores_from_kernels(kernels)
    rule = pc.RULES["coefficient"]
    spec = pc.PruneSpec(criterion="magnitude", granularity="weight", rule="coefficient", scope="layer",
                        value=rule.default, per_layer={n: rule.from_display(DEFAULT_COEFFICIENT) for n in names})
    mask_set = pc.select(None, spec, scores, kernels=kernels, groups=[])
    result = {}
    for name in names:
        kernel = kernels[name]
        threshold = mask_set.thresholds.get(name)
        binned = preview.bin_values(kernel, preview.weight_edges(kernel))
        title = html(f"{name} ({'×'.join(str(d) for d in kernel.shape)})")
        result[name] = figures.split_histogram_figure(
            preview.split_counts(binned, mask_set.kernels[name]), title=title,
            thresholds=(-threshold, threshold) if threshold is not None else ())
    return result, mask_set


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
