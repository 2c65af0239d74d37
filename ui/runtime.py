"""What the Streamlit runtime does between reruns that this app must not let it do.

After every script run — each fragment rerun too, so once a second while a job's progress is shown — Streamlit calls
``keras.backend.clear_session()`` when Keras is imported (``script_runner._clean_problem_modules``). On TensorFlow
that is a full ``gc.collect()``, a reset of the default graph and a cleared eager kernel cache, run in the rerun's
thread while a background job traces or trains in another: measured (py-spy, ``bench/bench_jobs.py``), the rerun
threads held the GIL most of the time and a ResNet-50 one-shot job's first training step, 25 s in the library, had
not finished after 110 s (the issue's run took 32 minutes instead of 141 s). It also resets Keras's global state (layer
name counters, the graph) under every other session's running job. This app keeps its models itself and releases
them by dropping references, so the Keras half of that clean-up is switched off; matplotlib's is kept.
"""

from __future__ import annotations

import sys


def _close_matplotlib_figures() -> None:
    """The part of Streamlit's clean-up this app keeps: close pyplot figures a page might have opened."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:  # noqa: BLE001, S110 - as Streamlit's own: never break a rerun over it
            pass


def keep_keras_session() -> bool:
    """Replace Streamlit's between-rerun clean-up by :func:`_close_matplotlib_figures` (idempotent). True when the
    runtime has the hook this replaces (a Streamlit without it has nothing to switch off)."""
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, "_clean_problem_modules"):
        return False
    script_runner._clean_problem_modules = _close_matplotlib_figures
    return True
