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


def test_the_app_switches_the_keras_clean_up_off_and_the_config_the_gc():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    assert "keep_keras_session()" in (root / "app.py").read_text()
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
