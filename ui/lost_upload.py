"""An uploaded model lives in the browser session's memory only. Its file name rides in every page's URL, so after a
browser reload (a new session, back on the default baseline) the page says which file must be uploaded again
instead of silently showing another model."""

from __future__ import annotations

import streamlit as st

from . import state
from .text import md

PARAM = "upload"
NOTICE_KEY = "lost_upload_notice"


def current_upload() -> str | None:
    """The current model's uploaded file name, or None when the current model is not an upload."""
    if not state.has_model():
        return None
    entry = st.session_state["model_entry"]
    return str(entry.settings.get("file") or entry.name) if entry.origin == "uploaded" else None


def url_params() -> dict:
    """What every page adds to its URL while the current model is an upload."""
    name = current_upload()
    return {PARAM: name} if name else {}


def check() -> None:
    """Once per session, before the page runs: a URL naming an upload this session does not hold means the
    browser was reloaded (or the link opened elsewhere) — remember the sentence to show."""
    named = st.query_params.get(PARAM)
    if not named or NOTICE_KEY in st.session_state or current_upload() == named:
        return
    st.session_state[NOTICE_KEY] = (
        f"The uploaded model “{named}” is not here any more: uploads are kept in this browser session's memory only, "
        "and a reload starts a new session on the default baseline. Upload it again on the Model page to go on; "
        "finished runs stay on Compare, and their saved models on Deploy.")


def show(page: str) -> None:
    """The notice at the top of the page the reload landed on, on every rerun there (not on pages visited later,
    and not once a model is uploaded again)."""
    text = st.session_state.get(NOTICE_KEY)
    if not text or current_upload() is not None:
        return
    where = st.session_state.setdefault(NOTICE_KEY + "_page", page)
    if where == page:
        st.warning(md(text), icon=":material/cloud_off:")
