"""A session's memory, accounted and bounded (issue 23, "a classroom on one server") — pure Python, no Streamlit
(the page side is :mod:`ui.session_memory`).

What a session holds that weighs: its current model, its uploaded datasets, and its finished runs' models (the
pruned and compact models, the dense one it started from, its masks, a TFLite file). Sizes are the bytes of the
Keras models' weights (``sum(w.nbytes for w in model.get_weights())``, read from the variables' shapes without
copying them) and numpy arrays' ``nbytes``; an object held twice (a run's dense model that is the current model, a
run's data that is the session's upload) is counted once, where it is first met: the current model, then the
datasets, then the runs newest first.

Two settings (environment variables, read when used):

- ``PRUNING_EXPLORER_SESSION_MB`` (default 270 MB, about 30 sessions in 8 GB): above it the oldest finished runs'
  models are released — moved to disk, where every run's models are saved when it finishes
  (``prune_core.io.run_files``); their numbers stay, and they load back when a run is used (:func:`reload`). The
  newest run stays in memory whatever it weighs: it is the one on screen, and the one Deploy and the downloads act
  on next. A run whose files could not be saved is never released (it would be lost).
- ``PRUNING_EXPLORER_IDLE_MINUTES`` (default 30): a session with no script run for that long has every run's models
  released (:class:`Sessions`). The current model and uploaded datasets are kept: an upload cannot be read again,
  and the default model weighs about 1 MB.

>>> import keras
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> model_bytes(model)  # (3 × 2 + 2) float32
32
>>> usage = Usage(model=100, datasets=0, runs=(RunHeld("new", 50), RunHeld("mid", 40), RunHeld("old", 30)))
>>> usage.total, to_release(usage, budget=130)  # the oldest first, until within budget; never the newest
(220, ['old', 'mid'])
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

BUDGET_ENV = "PRUNING_EXPLORER_SESSION_MB"
DEFAULT_BUDGET_MB = 270  # 30 sessions in 8 GB: 8192 / 30 ≈ 273 MB, rounded down
IDLE_ENV = "PRUNING_EXPLORER_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 30
MB = 1024 * 1024
# a run's file role (prune_core.io.run_files.ROLES) → the RunResult attribute holding that model
ROLES = {"pruned": "model", "compact": "compact_model", "dense": "dense_model"}
BUDGET = "budget"  # why a run was released: the session was over its budget …
IDLE = "idle"      # … or idle


def _setting(env: str, default: float) -> float:
    """A positive number from the environment, else ``default`` (unset, not a number, zero or negative)."""
    try:
        value = float(os.environ.get(env, "").strip())
    except ValueError:
        return float(default)
    return value if value > 0 else float(default)


def budget_mb() -> float:
    """The per-session budget in MB: env ``PRUNING_EXPLORER_SESSION_MB`` (a positive number), else 270."""
    return _setting(BUDGET_ENV, DEFAULT_BUDGET_MB)


def budget_bytes() -> int:
    return int(budget_mb() * MB)


def idle_minutes() -> float:
    """Minutes without a script run after which a session's runs are released: env
    ``PRUNING_EXPLORER_IDLE_MINUTES`` (a positive number), else 30."""
    return _setting(IDLE_ENV, DEFAULT_IDLE_MINUTES)


def mb_text(n_bytes: int | float) -> str:
    """'270 MB', '0.5 MB', '1.4 MB'."""
    value = n_bytes / MB
    return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"


# --- sizes -------------------------------------------------------------------------------------------------------

def _variable_bytes(variable) -> int:
    try:
        itemsize = np.dtype(str(variable.dtype)).itemsize
    except TypeError:  # a dtype numpy does not name (bfloat16 without ml_dtypes): read the value once
        return int(np.asarray(variable.numpy()).nbytes)
    return int(np.prod(tuple(int(d) for d in variable.shape), dtype=np.int64)) * itemsize


def model_bytes(model, seen: set | None = None) -> int:
    """Bytes of a Keras model's weights (``sum(w.nbytes for w in model.get_weights())``); variables in ``seen`` (ids)
    are not counted again, and those counted are added to it. None weighs 0."""
    if model is None:
        return 0
    seen = set() if seen is None else seen
    total = 0
    for variable in model.weights:
        if id(variable) not in seen:
            seen.add(id(variable))
            total += _variable_bytes(variable)
    return total


def arrays_bytes(arrays, seen: set | None = None) -> int:
    """``nbytes`` of numpy arrays (and ``bytes``), nested in dicts, lists and tuples; each object counted once."""
    seen = set() if seen is None else seen
    total = 0
    stack = [arrays]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, np.ndarray):
            seen.add(id(item))
            total += int(item.nbytes)
        elif isinstance(item, (bytes, bytearray)):
            seen.add(id(item))
            total += len(item)
    return total


def dataset_bytes(dataset, seen: set | None = None) -> int:
    """Bytes of a dataset's four arrays (train and test images and labels)."""
    if dataset is None:
        return 0
    return arrays_bytes([getattr(dataset, name, None) for name in ("x_train", "y_train", "x_test", "y_test")], seen)


def mask_set_bytes(mask_set, seen: set | None = None) -> int:
    if mask_set is None:
        return 0
    return arrays_bytes([getattr(mask_set, name, None) for name in ("kernels", "units", "heads", "extra")], seen)


def run_bytes(result, seen: set | None = None) -> int:
    """What a finished run holds in memory beyond its numbers: its models, masks and TFLite file (0 once released)."""
    seen = set() if seen is None else seen
    total = sum(model_bytes(getattr(result, attr, None), seen) for attr in ROLES.values())
    total += mask_set_bytes(getattr(result, "mask_set", None), seen)
    converted = getattr(result, "tflite", None)
    return total + arrays_bytes(getattr(converted, "data", None), seen)


# --- the policy --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RunHeld:
    """One finished run as the policy sees it: its key, the bytes only it holds, whether it may be released (its
    files are on disk)."""

    key: str
    nbytes: int
    can_release: bool = True


@dataclass(frozen=True)
class Usage:
    """A session's accounted bytes: the current model, uploaded datasets, finished runs (newest first) and the rest
    (deploy reports' files, a history run loaded on the Deploy page)."""

    model: int
    datasets: int
    runs: tuple[RunHeld, ...] = ()
    other: int = 0

    @property
    def total(self) -> int:
        return self.model + self.datasets + sum(run.nbytes for run in self.runs) + self.other


def account(model=None, datasets=(), runs=(), other_models=(), other_bytes=0) -> Usage:
    """Usage of a session: ``model`` its current Keras model, ``datasets`` the datasets it holds, ``runs`` a list of
    (key, RunResult, can_release) newest first, ``other_models`` more models it holds, ``other_bytes`` bytes already
    counted (files)."""
    seen: set = set()
    model_total = model_bytes(model, seen)
    data_total = sum(dataset_bytes(ds, seen) for ds in datasets)
    held = tuple(RunHeld(key, run_bytes(result, seen), bool(can)) for key, result, can in runs)
    other = sum(model_bytes(m, seen) for m in other_models) + int(other_bytes)
    return Usage(model=model_total, datasets=data_total, runs=held, other=other)


def to_release(usage: Usage, budget: int) -> list[str]:
    """Keys of the runs to release, oldest first, until the total is within ``budget`` (bytes). The newest run, runs
    already released (0 bytes) and runs that cannot be released are skipped."""
    total, out = usage.total, []
    for run in reversed(usage.runs[1:]):
        if total <= budget:
            break
        if run.nbytes > 0 and run.can_release:
            out.append(run.key)
            total -= run.nbytes
    return out


# --- releasing and reloading a run -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Released:
    """Set on a run as ``result.released``: why its models left memory and which file roles to load back."""

    reason: str  # BUDGET or IDLE
    roles: tuple[str, ...]


def released(result) -> Released | None:
    return getattr(result, "released", None)


def in_memory(result) -> bool:
    return released(result) is None


def release(result, reason: str) -> int:
    """Drop a finished run's models, masks and TFLite file from memory (its numbers stay); the bytes it held."""
    if released(result) is not None:
        return 0
    freed = run_bytes(result)
    roles = tuple(role for role, attr in ROLES.items() if getattr(result, attr, None) is not None)
    for attr in (*ROLES.values(), "mask_set", "tflite"):
        if getattr(result, attr, None) is not None:
            setattr(result, attr, None)
    result.released = Released(reason, roles)
    return freed


class Gone(Exception):
    """A released run's files are no longer on disk: its models cannot come back (the message says so)."""


def reload(result, files, workspace: str) -> None:
    """Load a released run's models back from its files (``files``: a ``prune_core.io.run_files.RunFiles``); nothing
    to do for a run in memory. Raises :class:`Gone` when a file is missing or unreadable."""
    held = released(result)
    if held is None:
        return
    run_id = getattr(result, "run_id", None)
    available = files.available(workspace, run_id) if run_id is not None else {}
    missing = [role for role in held.roles if role not in available]
    if missing:
        raise Gone(f"Run #{run_id}'s models were moved out of memory, and its saved {' and '.join(missing)} model "
                   f"file{'s' * (len(missing) > 1)} {'are' if len(missing) > 1 else 'is'} no longer on disk (deleted "
                   "from the run history?): its numbers stay, but it cannot be exported, deployed or continued from. "
                   "Run it again on the Retrain page.")
    try:
        models = files.load(workspace, run_id, roles=held.roles)
    except Exception as exc:  # noqa: BLE001 - a damaged file: say which run
        raise Gone(f"Run #{run_id}'s saved models could not be read back ({type(exc).__name__}): its numbers stay, but "
                   "it cannot be exported, deployed or continued from. Run it again on the Retrain page.") from exc
    for role, model in models.items():
        setattr(result, ROLES[role], model)
    result.released = None


# --- idle sessions -----------------------------------------------------------------------------------------------

@dataclass
class _Session:
    last: float
    runs: list = field(default_factory=list)  # weak references to the session's finished runs


class Sessions:
    """Every session's last activity and (weak references to) its finished runs, so that any script run can release
    the runs of sessions idle for longer than the timeout. Weak references: a closed session's state is freed by
    Streamlit as before, and the registry forgets it at the next sweep. Thread-safe (sessions run on threads)."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._swept = float("-inf")

    def touch(self, session_id: str) -> None:
        """The session ran a script now."""
        with self._lock:
            held = self._sessions.get(session_id)
            if held is None:
                self._sessions[session_id] = _Session(self.clock())
            else:
                held.last = self.clock()

    def add_run(self, session_id: str, result, can_release=lambda result: True) -> None:
        """A run the session finished (from its job's thread); ``can_release(result)`` is asked at sweep time."""
        with self._lock:
            held = self._sessions.setdefault(session_id, _Session(self.clock()))
            held.runs.append((weakref.ref(result), can_release))

    def idle_seconds(self, session_id: str) -> float | None:
        with self._lock:
            held = self._sessions.get(session_id)
            return None if held is None else self.clock() - held.last

    def sweep(self, idle_s: float, every_s: float = 0.0) -> dict[str, int]:
        """Release the runs of every session idle for ``idle_s`` seconds or more: {session id: runs released}.
        Sessions idle that long with no run left are forgotten. ``every_s``: do nothing when the last sweep was
        less than that long ago (each script run may call this)."""
        now = self.clock()
        out: dict[str, int] = {}
        with self._lock:
            if now - self._swept < every_s:
                return out
            self._swept = now
            for session_id, held in list(self._sessions.items()):
                held.runs = [(ref, can) for ref, can in held.runs if ref() is not None]
                if now - held.last < idle_s:
                    continue
                if not held.runs:
                    del self._sessions[session_id]
                    continue
                count = 0
                for ref, can in held.runs:
                    result = ref()
                    if result is not None and in_memory(result) and can(result):
                        release(result, IDLE)
                        count += 1
                if count:
                    out[session_id] = count
        return out

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


SESSIONS = Sessions()  # the server's one registry (one process serves every session)
