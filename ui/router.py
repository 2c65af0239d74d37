"""The router (page config, navigation, sidebar) and a guard against Streamlit's pages/-folder legacy mode.

Because this app keeps its pages in ``pages/``, Streamlit runs the first script runs of a fresh server
process in "MPA v1" mode until ``st.navigation`` is first called: a URL such as ``/prune`` then runs
``pages/prune.py`` directly, without ``app.py`` (no wide layout, no navigation). Each page therefore
starts with :func:`require_router`, which runs the router itself in that case.
"""

import streamlit as st

_FLAG = "_routed_by_app"

PAGES = {
    "Start": [
        ("pages/home.py", "Home", ":material/home:"),
        ("pages/model.py", "Model", ":material/model_training:"),
    ],
    "Prune": [
        ("pages/prune.py", "Prune", ":material/content_cut:"),
        ("pages/sensitivity.py", "Sensitivity", ":material/tune:"),
    ],
    "Retrain & compare": [
        ("pages/retrain.py", "Retrain", ":material/replay:"),
        ("pages/compare.py", "Compare", ":material/compare_arrows:"),
        ("pages/deploy.py", "Deploy", ":material/rocket_launch:"),
    ],
    "Learn": [
        ("pages/worked_example.py", "Worked example", ":material/school:"),
        ("pages/network.py", "Network", ":material/hub:"),
    ],
}


def main() -> None:
    """Page config, navigation over pages/, the chosen page, then the sidebar summary."""
    from . import lost_upload, present, quickstart, settings, tour
    from .errors import report
    from .runtime import keep_keras_session
    from .widgets import sidebar

    # No keras.backend.clear_session() (a full garbage collection) after every rerun: it starved background jobs and
    # cost ~300 ms of CPU per rerun (ui/runtime.py). Here, not in app.py: a fresh server's first session opened on a
    # page's URL runs that page, not app.py (see the module docstring), and the hook must be replaced all the same.
    keep_keras_session()
    st.set_page_config(page_title="Pruning Explorer", page_icon=":material/content_cut:", layout="wide")
    present.update_from_url()
    lost_upload.check()
    pages = {section: [st.Page(path, title=title, icon=icon, default=path == "pages/home.py")
                       for path, title, icon in entries] for section, entries in PAGES.items()}
    page = st.navigation(pages, position="top" if present.on() else "sidebar")
    st.session_state[_FLAG] = True
    name = page_name(page)
    settings.carry(name)  # settings of pages left earlier are back before any widget is drawn
    settings.restore_from_url(name)
    present.style()
    try:
        tour.card(name)
        lost_upload.show(name)
        page.run()
    except Exception as exc:  # st.rerun / st.stop are BaseExceptions and pass through
        report(exc, f"showing the {page.title} page")
    finally:
        settings.write_page_url(name)
        settings.keep()
    present.leave_button()
    if not present.on():
        sidebar()  # after the page, so it shows what the page just loaded
        tour.sidebar_link()
    # A new session on any page: TensorFlow and the default model load in the background, so the first
    # page that needs them (Prune, after Home) does not wait for them.
    quickstart.start_default_load()


def page_name(page) -> str:
    """The page's file name without folder and suffix ("prune", "worked_example"; "home" for the default)."""
    return page.url_path or "home"


def require_router() -> None:
    """First line of every page: when Streamlit ran the page without app.py, route it properly."""
    if not st.session_state.pop(_FLAG, False):
        main()
        st.stop()
