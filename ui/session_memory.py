"""The page side of :mod:`ui.memory`: this session's usage read from its state, the budget enforced on its finished
runs, the idle sweep on every script run, a released run loaded back with a progress message, and the words the
pages show.

Every page touches the session (``state.dataset()``, which the sidebar calls on every page, calls
``state.touch_memory``): that marks it active and, at most every ``state.SWEEP_EVERY_S`` seconds, releases the runs
of sessions idle for longer than ``PRUNING_EXPLORER_IDLE_MINUTES``. The budget is enforced where runs are listed (the Retrain, Deploy and Compare
pages), not on the Prune page's slider path.
"""

from __future__ import annotations

import time

import streamlit as st

from . import jobs, memory, state

RUN_KIND = "retrain"  # ui.retrain.JOB_KIND: the finished runs whose models are accounted and released
DEPLOY_KIND = "deploy"  # ui.deploy.JOB_KIND: its reports hold the converted files
DEPLOY_SOURCE_KEY = "deploy_source"  # ui.deploy.SOURCE_KEY: a history run loaded there holds its models


def session_id() -> str:
    """This session's id in the registry (``ui.state.memory_session_id``)."""
    return state.memory_session_id()


def can_release(result) -> bool:
    """A run may leave memory when its models were saved to disk when it finished."""
    return getattr(result, "run_id", None) is not None and not getattr(result, "files_note", None)


def register(session: str, result) -> None:
    """A run this session finished (called from its job's thread): the idle sweep may release it later."""
    memory.SESSIONS.add_run(session, result, can_release)


def runs() -> list:
    """This session's finished runs, newest first."""
    return jobs.results(RUN_KIND)


def run_key(result) -> str:
    return str(getattr(result, "run_id", None) or id(result))


def workspace_of(result) -> str:
    return getattr(result, "workspace", None) or st.session_state.get("workspace", "default")


def _last_used(results: list):
    """The run loaded back from disk last (it stays in memory with the newest, or using it would reload it on every
    click)."""
    used = [r for r in results if getattr(r, "used", None) is not None and memory.in_memory(r)]
    return max(used, key=lambda r: r.used, default=None)


def _deploy_files(report) -> int:
    return memory.arrays_bytes([[getattr(row, "tflite_file", None), getattr(row, "keras_file", None)]
                                for row in getattr(report, "rows", [])])


def usage(results: list | None = None) -> memory.Usage:
    """This session's accounted bytes: the current model, uploaded datasets, finished runs, deploy reports' files and
    a history run loaded on the Deploy page."""
    results = runs() if results is None else results
    entry = st.session_state.get("model_entry")
    datasets = list(st.session_state.get("uploaded_datasets", {}).values())
    datasets += [r.dataset for r in results if getattr(getattr(r, "dataset", None), "key", "").startswith("npz-")]
    source = st.session_state.get(DEPLOY_SOURCE_KEY)
    held = list(getattr(source, "held", {}).values()) if getattr(source, "run", None) is None else []
    pinned = _last_used(results)
    return memory.account(
        model=getattr(entry, "model", None), datasets=datasets,
        runs=[(run_key(r), r, can_release(r) and r is not pinned) for r in results], other_models=held,
        other_bytes=sum(_deploy_files(report) for report in jobs.results(DEPLOY_KIND)))


def enforce(results: list | None = None) -> int:
    """Release the oldest runs' models while this session is over its budget; how many were released now."""
    results = runs() if results is None else results
    if len(results) < 2:
        return 0
    by_key = {run_key(r): r for r in results}
    chosen = memory.to_release(usage(results), memory.budget_bytes())
    for key in chosen:
        memory.release(by_key[key], memory.BUDGET)
    return len(chosen)


def notice(results: list | None = None) -> str | None:
    """One sentence where finished runs are listed, when some of their models were moved to disk (Markdown-safe)."""
    results = runs() if results is None else results
    held = [memory.released(r) for r in results if memory.released(r) is not None]
    if not held:
        return None
    n = len(held)
    runs_word = "1 run's" if n == 1 else f"{n} runs'"
    if any(h.reason == memory.IDLE for h in held):
        return (f"This session was idle for over {memory.idle_minutes():g} min, so {runs_word} models were moved to "
                f"disk to free the server's memory; they reload when you use them.")
    older = "1 older run's" if n == 1 else f"{n} older runs'"
    return (f"{older} models were moved to disk to keep this session under {memory.mb_text(memory.budget_bytes())}; "
            "they reload when you use them.")


def files_gone(result) -> bool:
    """A released run whose files are no longer all on disk (it cannot come back)."""
    held = memory.released(result)
    if held is None or getattr(result, "run_id", None) is None:
        return False
    from prune_core.io.run_files import RunFiles

    on_disk = RunFiles().available(workspace_of(result), result.run_id)
    return any(role not in on_disk for role in held.roles)


def run_note(result) -> str | None:
    """A caption under a released run (Markdown-safe), or None for a run in memory."""
    held = memory.released(result)
    if held is None:
        return None
    if files_gone(result):
        return (f"This run's models were moved out of memory and their files are no longer on disk: its numbers stay, "
                "but it cannot be exported, deployed or continued from. Run it again to get them back.")
    why = (f"this session was idle for over {memory.idle_minutes():g} min" if held.reason == memory.IDLE
           else f"to keep this session under {memory.mb_text(memory.budget_bytes())}")
    return f"This run's models are on disk ({why}); they load back when you export, deploy or continue from it."


def reload(result) -> None:
    """Load a released run's models back (no Streamlit call: for a download's data, built when clicked). Raises
    :class:`ui.memory.Gone` when its files are missing."""
    from prune_core.io.run_files import RunFiles

    if not memory.in_memory(result):
        memory.reload(result, RunFiles(), workspace_of(result))
        result.used = time.time()


def ensure(result) -> str:
    """Load a released run's models back with a progress message; "" when they are in memory, else why not."""
    if memory.in_memory(result):
        return ""
    held = memory.released(result)
    why = "idle" if held.reason == memory.IDLE else f"over {memory.mb_text(memory.budget_bytes())}"
    with st.spinner(f"Loading run #{result.run_id}'s models back from disk (moved there while this session was "
                    f"{why})…"):
        try:
            reload(result)
        except memory.Gone as exc:
            return str(exc)
    return ""


def page_notice() -> str | None:
    """For a page listing runs: the budget enforced on this session's runs, then :func:`notice` (Markdown-safe)."""
    results = runs()
    enforce(results)
    return notice(results)
