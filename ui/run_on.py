"""Where a criteria sweep or a sensitivity scan runs: this machine (the default), or Ray — the cluster at an address,
or a local Ray when none is given (issue 22). One setting for the Compare and Sensitivity pages, kept across pages."""

from __future__ import annotations

import importlib.util
import os

import streamlit as st

from prune_core.experiments.executor import RayExecutor

CHOICES = {"local": "This machine", "ray": "Ray cluster"}
KEY, ADDRESS, CPUS, GPUS = "exec_run_on", "exec_ray_address", "exec_cpus", "exec_gpus"


def ray_missing() -> str | None:
    """Why Ray cannot be chosen here (one sentence), or None when it can."""
    if importlib.util.find_spec("ray") is None:
        return "Ray is not installed on this server (pip install 'prune-core[ray]')."
    return None


def controls(what: str) -> None:
    """The 'Run on' choice, and with Ray its address and resources per task; ``what``: 'point' or 'layer'."""
    missing = ray_missing()
    if missing and st.session_state.get(KEY) == "ray":
        st.session_state[KEY] = "local"
    st.radio("Run on", list(CHOICES), format_func=CHOICES.get, horizontal=True, key=KEY, disabled=bool(missing),
             help=f"Ray runs each {what} as a task on a cluster's workers (the model travels as a .keras file); "
                  "the numbers are the same as on this machine for the same seed." + (f" {missing}" if missing else ""))
    if missing:
        st.caption(f"Runs here. {missing}")
        return
    if st.session_state.get(KEY) == "ray":
        a, c, g = st.columns([3, 1, 1])
        a.text_input("Ray address", key=ADDRESS, placeholder=os.environ.get("RAY_ADDRESS") or "empty: a local Ray here",
                     help="A cluster's address such as ray://head:10001 or auto; empty: $RAY_ADDRESS, else a Ray "
                          "started on this machine.")
        c.number_input("CPUs per task", min_value=0.25, max_value=64.0, value=1.0, step=0.25, key=CPUS)
        g.number_input("GPUs per task", min_value=0.0, max_value=8.0, value=0.0, step=0.25, key=GPUS)


def executor() -> RayExecutor | None:
    """The chosen executor: None for this machine, else a RayExecutor with the address and resources set."""
    if st.session_state.get(KEY, "local") != "ray" or ray_missing():
        return None
    return RayExecutor(address=(st.session_state.get(ADDRESS) or "").strip() or None,
                       num_cpus=float(st.session_state.get(CPUS, 1.0)), num_gpus=float(st.session_state.get(GPUS, 0.0)))


def started(runner: RayExecutor | None) -> tuple[RayExecutor | None, str | None]:
    """(the executor to use, a sentence for the page or None): Ray started or reached now, so a wrong address is
    said at once and the work runs on this machine instead of failing."""
    if runner is None:
        return None, None
    try:
        runner.start()
    except Exception as exc:  # noqa: BLE001 - any failure to reach Ray: say it, run here
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:240]
        return None, f"Ray could not be reached at {runner.address or 'a local Ray'} ({reason}); ran on this machine instead."
    return runner, None


def where(runner: RayExecutor | None) -> str:
    """In words, for progress text: 'this machine', 'the Ray cluster at …' or 'a local Ray'.

    >>> where(None), where(RayExecutor(address="ray://head:10001"))
    ('this machine', 'the Ray cluster at ray://head:10001')
    """
    if runner is None:
        return "this machine"
    return f"the Ray cluster at {runner.address}" if runner.address else "a local Ray on this machine"
