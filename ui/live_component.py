"""A live view (``ui/components/<name>.js`` and ``.css``) registered as a Streamlit Components v2 element, its
script after ``live_common.js`` — the helpers the Prune and Network views share (an inline script cannot import a
file). No iframe and no style isolation: the views follow the page's theme variables and presenter mode."""

from pathlib import Path

import streamlit as st

FOLDER = Path(__file__).parent / "components"


def register(name: str):
    """The component ``name`` (``live_prune``, ``live_network``), to mount with its data."""
    def read(file: str) -> str:
        return (FOLDER / file).read_text(encoding="utf-8")

    script = read("live_common.js") + "\n" + read(f"{name}.js")
    return st.components.v2.component(name, css=read(f"{name}.css"), js=script, isolate_styles=False)
