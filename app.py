"""Pruning Explorer — router only: page config and navigation (no TensorFlow import here)."""

import streamlit as st

from ui.widgets import sidebar

st.set_page_config(page_title="Pruning Explorer", page_icon=":material/content_cut:", layout="wide")

PAGES = {
    "Start": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/model.py", title="Model", icon=":material/model_training:"),
    ],
}

page = st.navigation(PAGES)
page.run()
sidebar()  # after the page, so it shows what the page just loaded
