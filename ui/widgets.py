"""Shared page furniture: the data badge, the model card, number formatting."""

from __future__ import annotations

import streamlit as st

from prune_core.measure.metrics import human_bytes

from . import state
from .text import md


def chart(figure, *, key: str | None = None, config: dict | None = None) -> None:
    """A plotly figure at full width in the house style: ``prune_core.viz.style``' template, not Streamlit's
    theme, so every chart looks the same and the browser skips a theme merge on each redraw. In presenter
    mode a larger copy is drawn."""
    from . import present

    if present.on():
        figure = present.scaled(figure)
    st.plotly_chart(figure, width="stretch", theme=None, key=key, config=config)


def data_badge() -> None:
    """Always say which data is in use."""
    ds = state.dataset()
    icon = ":material/dataset:"
    if ds.key == "mnist-bundled":
        st.caption(f"{icon} **Data:** {md(ds.description)} · real digits shipped with the app (works offline)")
    else:
        st.caption(f"{icon} **Data:** {md(ds.description)} · {md(ds.source)}")


class _Cell:
    """One metric slot of :func:`metric_row`: ``.metric(...)`` at a fixed width."""

    def __init__(self, row, width: int):
        self.row, self.width = row, width

    def metric(self, *args, **kwargs):
        return self.row.metric(*args, width=self.width, **kwargs)


def metric_row(n: int, width: int = 180) -> list:
    """``n`` metric slots in a row that wraps on a narrow screen instead of cutting numbers ("94.9…" at 900 px
    in four columns)."""
    row = st.container(horizontal=True, gap="medium")
    return [_Cell(row, width) for _ in range(n)]


def model_card(entry: state.ModelEntry, numbers: dict) -> None:
    """One row of headline numbers for a model."""
    st.markdown(f"#### {md(entry.name)}")
    cols = metric_row(4)
    cols[0].metric("Test accuracy", f"{numbers['accuracy']:.2%}")
    cols[1].metric("Parameters", f"{numbers['params']:,}")
    cols[2].metric("Size as float32", human_bytes(numbers["float32_bytes"]),
                   help="4 bytes per parameter, dense storage.")
    cols[3].metric("Size gzip (.keras)", human_bytes(numbers["gzip_bytes"]),
                   help="The saved .keras file (no optimizer state) compressed with gzip -9.")


def sidebar() -> None:
    """Data in use and the session's model, on every page (never loads TensorFlow itself)."""
    with st.sidebar:
        ds = state.dataset()
        st.markdown(f"**Data** · {md(ds.name)}  \n{len(ds.y_train):,} train / {len(ds.y_test):,} test {ds.noun}")
        if state.has_model():
            st.markdown(f"**Model** · {md(st.session_state['model_entry'].name)}")
        else:
            st.markdown("**Model** · LeNet-300-100 default baseline (loads on first use)")


def flash() -> None:
    """Show (once) a message left by the previous run, e.g. after training."""
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def status_colours(row):
    """pandas Styler row function: tint pruned rows in the 'pruned' colour (the worked example's small table)."""
    from prune_core.viz.style import PRUNED

    tint = f"background-color: {PRUNED}22" if row.get("status") == "pruned" else ""
    return [tint] * len(row)


SCORE_TEXT_COLUMNS = ("layer", "rank", "position", "status", "unit")


def score_columns(table) -> dict:
    """Column settings of a score table: 4 significant digits, the status as a kept (blue) / pruned (orange)
    pill. Streamlit formats and colours them in the browser: a pandas Styler cost ~20 ms per slider rest on
    the Prune page (the whole table translated to CSS), these ~0.3 ms."""
    from prune_core.viz.style import KEPT, PRUNED

    config = {c: st.column_config.NumberColumn(format="%.4g") for c in table.columns if c not in SCORE_TEXT_COLUMNS}
    if "status" in table.columns:
        config["status"] = st.column_config.MultiselectColumn("status", options=["kept", "pruned"],
                                                              color=[KEPT, PRUNED])
    return config


def score_order(columns) -> list:
    """The status second (after the layer), so a narrow screen shows kept/pruned without scrolling sideways.

    >>> score_order(["layer", "rank", "position", "score", "status"])
    ['layer', 'status', 'rank', 'position', 'score']
    """
    columns = list(columns)
    if "status" not in columns:
        return columns
    rest = [c for c in columns if c != "status"]
    return rest[:1] + ["status"] + rest[1:]


def score_table(table, **kwargs) -> None:
    """A score table (see :func:`score_columns`) at full width, without its index, its status second."""
    st.dataframe(table, column_config=score_columns(table), column_order=score_order(table.columns), width="stretch",
                 hide_index=True, **kwargs)


def accuracy_text(value: float) -> str:
    """'93.30%', or 'unmeasured (no data)' when there was no data to measure on."""
    return "unmeasured (no data)" if value is None or value != value else f"{value:.2%}"
