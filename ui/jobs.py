"""Long work (training, retraining, sweeps) in a background thread owned by the session.

A Streamlit rerun — any widget click — stops the running script. Work started here keeps going: the
thread is held in session state, a fragment polls it once a second to draw progress, and when it
finishes the page shows the result. One job runs at a time per session; the Run buttons are disabled
while it runs, so nothing aborts it silently.

Finished jobs are kept: the session holds the running (or last started) job under ``KEY`` and, under
``FINISHED_KEY``, every job that finished with a result, newest first, at most ``KEEP`` of each kind (the
oldest is dropped, and :func:`dropped` says how many were). A later job — even one that fails validation
or errors — never removes an earlier result; an errored job shows its error and is not kept.

The job's function gets the job itself and reports through ``job.progress(fraction, message)``,
``job.on_epoch(epoch, logs)`` and ``job.on_round(record)``; it must not call Streamlit.

A running job can be cancelled (the panel's Cancel button): the next ``progress`` call — every training batch, every
sweep point — raises :class:`JobCancelled`, which no ``except Exception`` in the work catches, so the work stops
there and nothing of it is kept: the session stays as it was. Work that records its result (the run history, files)
calls ``job.settle()`` first, after which it finishes whatever is asked.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from .errors import log_failure
from .text import md

LOG = logging.getLogger("pruning_explorer")
KEY = "job"
FINISHED_KEY = "jobs_finished"
DROPPED_KEY = "jobs_dropped"
KEEP = 10  # finished jobs kept per kind (a run's models may leave memory before: ui.memory bounds the session)


class JobCancelled(BaseException):
    """Raised inside a job's work at its next progress report after Cancel (a BaseException: the work's own error
    handling and an executor's retry must not swallow it)."""


@dataclass
class Job:
    """A unit of background work and what it has reported so far."""

    name: str
    kind: str
    fraction: float = 0.0
    message: str = "Starting…"
    history: dict = field(default_factory=dict)
    rounds: list = field(default_factory=list)
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    seen: bool = False  # the page has shown the finished result once
    cancelled: bool = False  # stopped by the user: no result, no error
    thread: threading.Thread | None = field(default=None, repr=False)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _settled: bool = field(default=False, repr=False)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started

    def progress(self, fraction: float, message: str) -> None:
        if self._cancel.is_set() and not self._settled:
            raise JobCancelled()
        self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report (ignored once it has settled)."""
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set() and self.running and not self._settled

    def settle(self) -> None:
        """From here on the work is recording its result: Cancel no longer stops it."""
        self._settled = True

    def on_epoch(self, epoch: int, logs: dict) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float)):
                self.history.setdefault(key, []).append(float(value))

    def on_round(self, record: dict) -> None:
        self.rounds.append(dict(record))

    def wait(self, timeout: float | None = None) -> "Job":
        """Block until done (tests, scripts)."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self


def current() -> Job | None:
    """The running job, or the one started last."""
    return st.session_state.get(KEY)


def _collect() -> None:
    """Move the current job into the finished list once it has finished with a result (not an error)."""
    job = current()
    if job is None or job.running or job.error is not None or job.result is None:
        return
    kept = st.session_state.setdefault(FINISHED_KEY, [])
    if any(other is job for other in kept):
        return
    kept.insert(0, job)
    same = [other for other in kept if other.kind == job.kind]
    for old in same[KEEP:]:
        kept.remove(old)
        counts = st.session_state.setdefault(DROPPED_KEY, {})
        counts[job.kind] = counts.get(job.kind, 0) + 1


def finished(kind: str | None = None) -> list[Job]:
    """Finished jobs with a result, newest first (of ``kind`` only, when given)."""
    _collect()
    return [job for job in st.session_state.get(FINISHED_KEY, []) if kind is None or job.kind == kind]


def results(kind: str) -> list:
    """The results of the finished jobs of ``kind``, newest first."""
    return [job.result for job in finished(kind)]


def dropped(kind: str) -> int:
    """How many finished jobs of ``kind`` were dropped to keep only the last ``KEEP``."""
    return st.session_state.get(DROPPED_KEY, {}).get(kind, 0)


def busy() -> bool:
    job = current()
    return job is not None and job.running


def start(name: str, kind: str, work: Callable[[Job], Any]) -> Job | None:
    """Run ``work(job)`` in a background thread; refuses (returns None) while another job runs."""
    if busy():
        st.warning(f"“{md(current().name)}” is still running; wait for it to finish.", icon=":material/hourglass_top:")
        return None
    _collect()  # the previous job's result stays listed whatever this one does
    job = Job(name=name, kind=kind)

    def target() -> None:
        try:
            job.result = work(job)
        except JobCancelled:  # the user's Cancel: nothing kept, the session as it was
            job.cancelled = True
        except ValueError as exc:  # bad settings: the message is for the user
            job.error = str(exc)
        except Exception as exc:  # noqa: BLE001 — reported to the user, logged for developers
            log_failure(f"Background job {name} failed", exc)
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.finished = time.time()

    job.thread = threading.Thread(target=target, name=f"job-{kind}", daemon=True)
    st.session_state[KEY] = job
    job.thread.start()
    return job


def panel(kind: str, draw_live: Callable[[Job], None] | None = None) -> Job | None:
    """Show the session's job of ``kind``: live progress while it runs (polled every second), then
    one full rerun when it finishes so the page can show the result. Returns the job, if any."""
    job = current()
    if job is None or job.kind != kind:
        return job

    if not job.running:  # this full run already shows the outcome
        job.seen = True
        _collect()
        if job.error:
            st.error(f"{md(job.name)} stopped: {md(job.error)}", icon=":material/error:")
        elif job.cancelled:
            st.info(f"{md(job.name)} was cancelled after {job.elapsed:.0f} s; nothing of it was kept.",
                    icon=":material/cancel:")
        return job

    def body() -> None:
        if job.running:
            bar, stop = st.columns([6, 1], vertical_alignment="bottom")
            text = "Cancelling: the job stops at its next progress step…" if job.cancelling else job.message
            bar.progress(job.fraction, text=f"{text} · {job.elapsed:.0f} s")
            if stop.button("Cancel", key=f"job_cancel_{kind}", icon=":material/stop:", disabled=job.cancelling,
                           help="Stop this job at its next progress step (a few batches at most); nothing of it is kept."):
                job.cancel()
                st.rerun(scope="fragment")
            if draw_live:
                draw_live(job)
        elif not job.seen:
            job.seen = True
            st.rerun()  # the whole page: results, history and buttons update

    st.fragment(body, run_every=1.0)()
    return job
