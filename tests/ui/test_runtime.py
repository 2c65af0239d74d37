"""Streamlit's between-rerun clean-up no longer clears the Keras session (ui/runtime.py): a running job's Keras state
survives every rerun, and no full garbage collection runs in the rerun's thread."""

import keras


def test_a_rerun_no_longer_resets_keras_global_state():
    from streamlit.runtime.scriptrunner import script_runner

    from ui.runtime import keep_keras_session

    assert keep_keras_session() is True
    assert keep_keras_session() is True  # idempotent
    keras.backend.clear_session()
    first = keras.layers.Dense(2).name
    script_runner._clean_problem_modules()  # what Streamlit runs after each script and fragment run
    second = keras.layers.Dense(2).name
    assert (first, second) == ("dense", "dense_1")  # Streamlit's own hook would have reset the counter: "dense"


def test_the_router_switches_the_keras_clean_up_off():
    """The router (``ui.router.main``) replaces the hook, not app.py: a fresh server's first session opened on
    /network runs pages/network.py, whose ``require_router`` runs the router but never app.py (MPA v1 mode) — and
    Streamlit's clean-up then ran after every rerun for the server's life."""
    from streamlit.runtime.scriptrunner import script_runner

    from tests.apptest import page_test
    from ui import runtime

    def streamlit_hook():  # stands in for Streamlit's own clean-up
        pass

    held = script_runner._clean_problem_modules
    script_runner._clean_problem_modules = streamlit_hook
    try:
        at = page_test("worked_example").run()
        assert not at.exception
        assert script_runner._clean_problem_modules is runtime._close_matplotlib_figures
    finally:
        script_runner._clean_problem_modules = held


def test_the_config_switches_the_gc_after_each_run_off():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
