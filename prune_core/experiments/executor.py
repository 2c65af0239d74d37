"""Executors for lists of independent runs (sweep points, scan points): in this process (the default), or on Ray —
``ray.init()`` on this machine, or a cluster by address (``RayExecutor(address=...)`` or ``$RAY_ADDRESS``).

A task is ``fn(shared, payload)``: ``fn`` a module-level function (Ray ships it by reference and imports its module,
and with it Keras, inside the worker), ``shared`` what every task needs (sent once: for Ray the model as ``.keras``
bytes, never a pickled model), ``payload`` a small dict. Results come back in the payloads' order; ``on_result(i,
result)`` is called as each finishes (for a progress bar). A task that fails is retried once; if it fails again its
place holds a :class:`TaskFailed` and the other tasks' results are kept.

>>> def square(shared, payload):
...     return shared * payload
>>> LocalExecutor().map(square, [1, 2, 3], shared=10)
[10, 20, 30]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

OnResult = Callable[[int, object], None]


@dataclass(frozen=True)
class TaskFailed:
    """A task that failed (after its retry): which one, and why in one line."""

    index: int
    reason: str


class LocalExecutor:
    """Every task in this process, one after another."""

    name = "local"

    def map(self, fn, payloads: list, *, shared=None, on_result: OnResult | None = None) -> list:
        results = []
        for i, payload in enumerate(payloads):
            try:
                result = fn(shared, payload)
            except Exception as first:  # noqa: BLE001 - retried once, then reported in its place
                try:
                    result = fn(shared, payload)
                except Exception as exc:  # noqa: BLE001
                    result = TaskFailed(i, f"{type(exc).__name__}: {exc}".splitlines()[0][:300] or repr(first))
            results.append(result)
            if on_result:
                on_result(i, result)
        return results


class RayExecutor:
    """Each task a Ray task with ``num_cpus`` / ``num_gpus``; ``address``: a cluster (default ``$RAY_ADDRESS``, else a
    local Ray started here with ``local_cpus`` CPUs). ``pip install 'prune-core[ray]'``."""

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: float = 1, num_gpus: float = 0,
                 local_cpus: int | None = None):
        self.address = address or os.environ.get("RAY_ADDRESS") or None
        self.num_cpus, self.num_gpus, self.local_cpus = num_cpus, num_gpus, local_cpus

    def start(self):
        import ray

        if not ray.is_initialized():
            options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=self.local_cpus, **options)
        return ray

    def map(self, fn, payloads: list, *, shared=None, on_result: OnResult | None = None) -> list:
        ray = self.start()
        remote = ray.remote(num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=1, retry_exceptions=True)(fn)
        shared_ref = ray.put(shared)
        refs = [remote.remote(shared_ref, payload) for payload in payloads]
        where = {ref: i for i, ref in enumerate(refs)}
        results: list = [None] * len(refs)
        pending = list(refs)
        try:
            while pending:
                (done,), pending = ray.wait(pending, num_returns=1)
                i = where[done]
                try:
                    results[i] = ray.get(done)
                except Exception as exc:  # noqa: BLE001 - the task failed twice: its place says why, the rest go on
                    cause = getattr(exc, "cause", None) or exc
                    results[i] = TaskFailed(i, f"{type(cause).__name__}: {cause}".splitlines()[0][:300])
                if on_result:
                    on_result(i, results[i])
        except BaseException:  # the caller stopped (a cancelled job, Ctrl-C): the tasks still queued go too
            for ref in pending:
                ray.cancel(ref)
            raise
        return results


EXECUTORS = {"local": LocalExecutor, "ray": RayExecutor}


def get_executor(executor=None, **options):
    """An executor from a name ("local", "ray"), an executor object, or None (local)."""
    if executor is None:
        return LocalExecutor()
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise ValueError(f"Unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}.")
        return EXECUTORS[executor](**options)
    return executor
