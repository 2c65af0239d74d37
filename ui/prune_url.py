"""Prune page settings: the session-state key of every value, seeding widgets, and the round trip to the
URL's query parameters (a link reopens the same view)."""

from __future__ import annotations

import streamlit as st

import prune_core as pc

from . import lost_upload, present, settings
from .prune_labels import GRANULARITIES, SCOPES, VIEWS, effective_granularity, rule_choices, slider_range


def value_key(granularity: str, rule: str, layer: str | None) -> str:
    """The session-state key of one value: each (granularity, rule) keeps its own, per layer (None: the
    shared control of global scope / 'same value for all layers').

    >>> value_key("unit", "sparsity", "dense1"), value_key("weight", "coefficient", None)
    ('pr_v_unit_sparsity_dense1', 'pr_v_weight_coefficient__all')
    """
    return f"pr_v_{granularity}_{rule}_{layer or '_all'}"


def seed_slider(key: str, default) -> str:
    """Give a keyed widget its default through session state (so URL-restored values win); returns the key."""
    st.session_state.setdefault(key, default)
    return key


def restore_from_url(names: list[str]) -> None:
    """Once per session and model: seed the widgets from the URL, so a demo link reopens the same view."""
    marker = ("pr_restored", tuple(names))
    if st.session_state.get("pr_restored") == marker:
        return
    st.session_state["pr_restored"] = marker
    q = st.query_params
    for key, options in (("criterion", pc.CRITERIA), ("granularity", GRANULARITIES), ("rule", pc.RULES),
                         ("scope", SCOPES), ("view", VIEWS)):
        if q.get(key) in options:
            st.session_state[f"pr_{key}"] = q[key]
    if q.get("same") in ("0", "1"):
        st.session_state["pr_same"] = q["same"] == "1"
    st.session_state["pr_streams"] = q.get("streams") == "1"
    rule = st.session_state.get("pr_rule", "coefficient")
    granularity = effective_granularity(rule, st.session_state.get("pr_granularity", "weight"))
    low, high, _, _ = slider_range(rule)
    choices = rule_choices(rule)
    for part in q.get("v", "").split(","):
        if choices:  # "2:4" or "dense1=2:4" (a choice holds ':' itself)
            layer, _, text = part.rpartition("=")
            if text not in choices:
                continue
            value = text
        else:
            layer, _, text = part.rpartition(":")
            try:
                value = float(text)
            except ValueError:
                continue
            if not low <= value <= high:
                continue
        if not layer:  # one value: the shared slider and every layer's slider
            for name in [None, *names]:
                st.session_state[value_key(granularity, rule, name)] = value
        elif layer in names:
            st.session_state[value_key(granularity, rule, layer)] = value
    new_table_revision()


def carry_per_layer(criterion: str, rule: str, values: dict[str, float]) -> None:
    """Set this page's settings to per-layer ``values`` (in the rule's own units) for ``criterion``, weight
    granularity: what another page (Sensitivity) hands over before switching here."""
    st.session_state.update(pr_criterion=criterion, pr_rule=rule, pr_scope="layer", pr_same=False,
                            pr_granularity="weight")
    shown = pc.RULES[rule]
    for layer, value in values.items():
        st.session_state[value_key("weight", rule, layer)] = float(round(shown.to_display(value)))
    new_table_revision()


def _url_value(value) -> str:
    return value if isinstance(value, str) else f"{value:g}"


def write_url(settings: dict, values: dict[str, float] | float) -> None:
    if isinstance(values, dict):
        sep = "=" if rule_choices(settings["rule"]) else ":"
        v = ",".join(f"{name}{sep}{_url_value(value)}" for name, value in values.items())
    else:
        v = _url_value(values)
    params = {"criterion": settings["criterion"], "granularity": settings["granularity"], "rule": settings["rule"],
              "scope": settings["scope"], "same": "1" if settings["same"] else "0", "view": settings["view"], "v": v}
    if settings.get("streams"):
        params["streams"] = "1"
    params.update(present.url_params())  # a reload stays in presenter mode
    params.update(lost_upload.url_params())  # and says which upload is gone
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


TABLE_REVISION_KEY = "pr_table_rev"  # not a setting: bumped when values are written from outside the table


def new_table_revision() -> None:
    """Values were set from outside the table (a link, the Sensitivity page, a reset): the table's own edits,
    held by Streamlit under its key, must not be applied on top of them, so the next table gets a new key."""
    st.session_state[TABLE_REVISION_KEY] = st.session_state.get(TABLE_REVISION_KEY, 0) + 1


def table_key(granularity: str, rule: str) -> str:
    """The values table's widget key (not a setting: a data editor's state holds edits, not values)."""
    return f"pr_table_{granularity}_{rule}_{st.session_state.get(TABLE_REVISION_KEY, 0)}"


def stored_value(granularity: str, rule: str, layer: str | None):
    """A value as the controls hold it (the rule's default until set), in the units the control shows."""
    value = st.session_state.get(value_key(granularity, rule, layer))
    choices = rule_choices(rule)
    if choices:
        return value if value in choices else pc.RULES[rule].default
    low, high, _, default = slider_range(rule)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high) if value == value else default


DEFAULTS = {"pr_criterion": "magnitude", "pr_granularity": "weight", "pr_rule": "coefficient", "pr_scope": "layer",
            "pr_same": False, "pr_view": "weights", "pr_streams": False}


def reset_to_defaults() -> None:
    """Every Prune setting back to its default, the URL too; the values table starts fresh. An ``on_click``
    callback: it runs before the widgets are drawn, so they are given their defaults through session state
    (a deleted key alone would leave the browser showing the old choice)."""
    settings.forget("pr_")
    st.session_state.update(DEFAULTS)
    new_table_revision()
    st.query_params.clear()
