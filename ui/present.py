"""Presenter mode (``?present=1``): for a projector — no sidebar (navigation moves to the top bar), larger
text, numbers and charts. Remembered for the session; ``?present=0`` or the button leaves it."""

from __future__ import annotations

import streamlit as st

KEY = "_present"
PARAM = "present"
FONT_SCALE = 1.35  # chart text and heights, relative to the normal view

# Our own CSS (nothing a user supplied): hide the sidebar, enlarge text, metric values and chart fonts.
CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none !important; }
[data-testid="stMainBlockContainer"] { font-size: 1.25rem; max-width: 100%; }
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li,
[data-testid="stMainBlockContainer"] label { font-size: 1.2rem; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3.2rem !important; line-height: 1.25; }
[data-testid="stMetricLabel"] p { font-size: 1.25rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.1rem !important; }
[data-testid="stElementContainer"]:has([data-testid="stMetric"]) { width: auto !important; min-width: 240px; }
</style>
"""


def update_from_url() -> None:
    """Turn presenter mode on or off from the URL (sticky for the session when the parameter is absent)."""
    value = st.query_params.get(PARAM)
    if value in ("1", "0"):
        st.session_state[KEY] = value == "1"


def on() -> bool:
    return bool(st.session_state.get(KEY, False))


def url_params() -> dict:
    """What every page adds to its URL so a reload stays in presenter mode."""
    return {PARAM: "1"} if on() else {}


def style() -> None:
    """The presenter stylesheet, once per run while presenter mode is on."""
    if on():
        st.html(CSS)


def leave_button() -> None:
    """At the foot of the page: back to the normal view."""
    if on() and st.button("Leave presenter mode", icon=":material/close_fullscreen:", key="present_btn_leave"):
        st.session_state[KEY] = False
        st.query_params.pop(PARAM, None)
        st.rerun()


def scaled(figure):
    """A copy of a chart with larger text and height for the projector (the original is left as it is:
    the Prune page updates its held figures in place)."""
    import plotly.graph_objects as go

    big = go.Figure(figure)
    text = round(12 * FONT_SCALE)
    big.update_layout(font_size=text, legend_font_size=text, title_font_size=round(15 * FONT_SCALE),
                      height=int((big.layout.height or 320) * FONT_SCALE))
    big.update_xaxes(tickfont_size=text, title_font_size=round(14 * FONT_SCALE))
    big.update_yaxes(tickfont_size=text, title_font_size=round(14 * FONT_SCALE))
    return big
