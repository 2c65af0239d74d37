"""Prune page, live: the sliders, the kept/sparsity numbers, the sparsity bars and the histograms are one
Streamlit component (Components v2, ``ui/components/live_prune.js``) that redraws every move in the browser.

Python sends it, once per model and settings, prune_core's numbers at every slider position
(:mod:`prune_core.measure.live`: one ``select`` per position, the call a server rerun makes), so a move costs no
round trip and shows exactly what the server would. When the slider rests the component sends its values; the
callback writes them where the sliders kept theirs (``prune_url.value_key``), so the URL, Reset, Apply, the
Sensitivity page's hand-over and the candidate work as before, and the fragment reruns for what needs the model
(accuracy, size, the tables). Values the server sets (a link, Reset) reach the component with a new ``nonce``.

Where a move cannot be looked up per position it is not used (:func:`eligible` says why not): per-group sliders
under whole neurons/filters (a layer also loses the input rows of the group upstream, so its numbers depend on two
sliders), rules with a list of choices (N:M), streams mode (measured on the compact model), models with more
layers than sliders fit (the values table), and models too big to prune at every position quickly.
"""

from __future__ import annotations

import functools

import numpy as np
import streamlit as st

import prune_core as pc
from prune_core.measure import live
from prune_core.viz.axes import log_ticks

from . import live_component, present
from .prune_labels import units_removed_text, value_label
from .prune_session import Context, layer_label
from .prune_url import TABLE_REVISION_KEY, stored_value, value_key
from .prune_view import (cached, histogram_cache, histogram_sources, mask_set_for, threshold_text, uses_table)

# Not style-isolated: its classes are all "pe-…", and the page's tests and tools read it like the rest of the DOM.
COMPONENT = live_component.register("live_prune")
ALL = "__all__"  # the one slider of global scope / "same value for all layers"
MAX_WEIGHTS = 3_000_000  # covered kernel weights above which pruning at every position takes too long (> ~10 s)
PROGRESS_ABOVE = 500_000  # covered kernel weights above which preparing the table shows its progress
HIST_CAPTION = ("Kept weights in blue, pruned in orange, stacked per bin; the dashed line is the threshold "
                "(±t on weight values for magnitude).")
KEPT_HELP = ("Kernel weights this run covers (Dense, Conv, attention, Embedding and recurrent kernels) that are kept, "
             "of all of them; biases and normalization parameters are not counted.")
UNITS_HELP = ("Neurons / filters removed, of those in the groups that can lose any (the output layer's are never "
              "removed). Each takes its weights with it: Overall sparsity counts those.")
OVERALL_HELP = ("Share of the covered kernel weights set to zero (never rounded to 100% while any is kept); the line "
                "under these numbers says what share of the model that is.")


def single_slider(settings: dict) -> bool:
    return settings["scope"] == "global" or bool(settings["same"])


def eligible(ctx: Context, settings: dict, layers: list[str]) -> bool:
    """Whether this view's moves can be drawn in the browser (see the module's docstring for the cases not)."""
    rule = pc.RULES[settings["rule"]]
    if rule.choices or settings.get("streams") or uses_table(layers) or uses_table(ctx.names):
        return False
    if settings["granularity"] != "weight" and not single_slider(settings):
        return False
    return sum(int(np.size(k)) for k in ctx.kernels.values()) <= MAX_WEIGHTS


def slider_ids(settings: dict, layers: list[str]) -> list[str]:
    return [ALL] if single_slider(settings) else list(layers)


def controls(ctx: Context, scores: dict, settings: dict, layers: list[str], where=None):
    """Mount the live view; returns the values as the sliders did (one number, or {layer: number})."""
    return mount(static_payload(ctx, scores, settings, layers, where), settings, slider_ids(settings, layers))


def mount(payload: dict, settings: dict, ids: list[str]):
    """Mount the component with ``payload`` and the values held for ``ids``; returns them as the sliders did.

    A rerun the component itself asked for (its slider rested) mounts the very data of the previous run: the browser
    already shows those values, and the same message is sent as a reference to the copy the browser holds (a
    Streamlit message cache) instead of the ~50 KB again. Any other run sends the values held now."""
    granularity, rule = settings["granularity"], settings["rule"]
    values = {sid: stored_value(granularity, rule, None if sid == ALL else sid) for sid in ids}
    key = f"pr_live_{granularity}_{rule}_{settings['scope']}_{int(single_slider(settings))}"
    last = st.session_state.get(LAST_KEY)
    if st.session_state.pop(FROM_BROWSER_KEY, None) == key and last is not None and last[0] == key \
            and last[1]["config"] == payload["config"]:
        data = last[1]
    else:
        data = dict(payload, values=values, nonce=st.session_state.get(TABLE_REVISION_KEY, 0))
    st.session_state[LAST_KEY] = (key, data)
    COMPONENT(key=key, data=data, on_values_change=functools.partial(take_values, key, granularity, rule, ids))
    return values[ALL] if ids == [ALL] else values


LAST_KEY = "pr_live_last"  # (component key, the data it was last mounted with)
FROM_BROWSER_KEY = "pr_live_from_browser"  # set by the callback: this run shows values the browser already has


def take_values(key: str, granularity: str, rule: str, ids: list[str]) -> None:
    """The component's callback: its values (from the browser, so checked) into the sliders' keys."""
    state = st.session_state.get(key)
    sent = getattr(state, "values", None) if not isinstance(state, dict) else state.get("values")
    if not isinstance(sent, dict):
        return
    low, high, _, _ = pc.RULES[rule].slider
    for sid, value in sent.items():
        if sid not in ids or isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            continue
        st.session_state[value_key(granularity, rule, None if sid == ALL else sid)] = min(max(float(value), low), high)
    st.session_state[FROM_BROWSER_KEY] = key


def static_payload(ctx: Context, scores: dict, settings: dict, layers: list[str], where=None) -> dict:
    """Everything the component needs but the current values: built once per model, data and settings."""
    ids = slider_ids(settings, layers)
    scale = present.on()
    signature = (settings["criterion"], settings["granularity"], settings["rule"], settings["scope"],
                 tuple(ids), settings["view"], scale)

    def build() -> dict:
        labels = {n: layer_label(ctx, n, settings["granularity"]) for n in ids if n != ALL}
        weights = sum(int(np.size(k)) for k in ctx.kernels.values())
        return payload(settings, ids, labels, lambda shown: mask_set_for(ctx, scores, settings, shown),
                       histogram_sources(ctx, scores, settings), where=where if weights > PROGRESS_ABOVE else None)

    return cached(histogram_cache(ctx), ("live",) + signature, build)


def payload(settings: dict, ids: list[str], labels: dict[str, str], masks_at, hists: dict, where=None) -> dict:
    """The component's data but the values: prune_core's numbers at every position of the rule's slider
    (``masks_at(value shown)`` → MaskSet), the histograms' bins and captions, the sliders' labels. No model
    needed (the first visit builds it from the file's kernels, before TensorFlow has loaded); ``where``: a
    container for the progress of the ``len(grid)`` selections."""
    rule = pc.RULES[settings["rule"]]
    low, high, step, _ = rule.slider
    grid = live.slider_grid(low, high, step)
    bar = None
    if where is not None:
        bar = where.progress(0.0, text=f"Preparing the live view: pruning at each of the {len(grid)} slider "
                                       "positions once, so every move redraws at once…")

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"Preparing the live view: slider position {done} of {total}…")

    table = live.slider_table(masks_at, grid, {n: live.Histogram(h.binned, h.source) for n, h in hists.items()},
                              progress=progress)
    if bar is not None:
        bar.empty()
    scale = present.on()
    slider_of = (lambda name: ALL) if ids == [ALL] else (lambda name: name if name in ids else ids[0])
    single_label = ("Global " if settings["scope"] == "global" else "All layers · ") + \
        value_label(settings["rule"], settings["granularity"])
    sliders = [{"id": ALL, "label": single_label}] if ids == [ALL] else [{"id": n, "label": labels[n]} for n in ids]
    metrics = [["kept", "Kept weights", KEPT_HELP]]
    units = None
    if table.units_kept is not None:
        metrics.append(["units", "Units removed", UNITS_HELP])
        texts = [units_removed_text(int(k), table.units_total) for k in table.units_kept]
        units = {"slider": ALL, "share": [t[0] for t in texts], "count": [t[1] for t in texts]}
    metrics.append(["overall", "Overall sparsity", OVERALL_HELP])
    kept = {n: table.kept[n].tolist() for n in table.kept}
    config = "|".join(map(str, (settings["criterion"], settings["granularity"], settings["rule"], settings["scope"],
                                ",".join(ids), settings["view"], scale, hash(str(kept)))))  # the model's numbers
    return {
        "config": config, "present": scale, "grid": grid.tolist(), "step": step, "format": rule.display_format,
        "sliders": sliders, "metrics": metrics, "units": units,
        "layers": [{"name": n, "total": table.totals[n], "kept": kept[n], "slider": slider_of(n)} for n in table.kept],
        "hists": [_hist_payload(settings, table, name, h, slider_of(name)) for name, h in hists.items()],
        "hist_caption": HIST_CAPTION,
        "note": ("The slider is the share of the neurons / filters removed (Units removed); the weights they take "
                 "with them are counted in Overall sparsity." if settings["granularity"] == "unit"
                 and settings["rule"] == "sparsity" else ""),
    }


def _hist_payload(settings: dict, table: live.SliderTable, name: str, hist, slider: str) -> dict:
    edges = np.asarray(hist.binned.edges, dtype=float)
    bins = len(edges) - 1
    cuts = table.thresholds.get(name, np.full(len(table.grid), np.nan))
    kept = table.kept.get(name)
    total = table.totals.get(name)
    captions = [f"{name}: {text}" if (text := threshold_text(
        settings, None if np.isnan(cuts[i]) else float(cuts[i]),
        None if kept is None else int(kept[i]), total)) else "" for i in range(len(table.grid))]
    xticks = None
    if hist.log_x:
        positions, labels = log_ticks(float(edges[0]), float(edges[-1]), min_ticks=3, max_ticks=7)
        xticks = [[p, t] for p, t in zip(positions, labels)]
    return {"name": name, "slider": slider, "title": hist.title, "x_title": hist.x_title, "log": hist.log_x,
            "lines": hist.lines, "edges": edges.tolist(), "xticks": xticks,
            "bin_total": hist.binned.total[:bins].astype(int).tolist(),
            "bin_kept": live.packed(table.bin_kept[name]),
            "thresholds": [None if np.isnan(t) else float(t) for t in cuts], "captions": captions}
