"""Run history: a local SQLite store of runs (settings and metrics, never models), grouped in workspaces.

The database lives in the data directory: ``$PRUNING_EXPLORER_DATA_DIR`` or ``~/.pruning-explorer``
(:func:`data_dir`), file ``runs.sqlite``. Every call opens its own connection and writes under a
per-file lock, so one :class:`RunStore` may be shared by Streamlit's session threads, and several
stores (or processes) on the same file see each other's runs.

>>> import tempfile, os
>>> store = RunStore(os.path.join(tempfile.mkdtemp(), "runs.sqlite"))
>>> run_id = store.add("default", {"mode": "oneshot", "final_accuracy": 0.97, "settings": {"epochs": 1}})
>>> store.list("default")[["run_id", "mode", "final_accuracy", "settings.epochs"]].values.tolist()
[[1, 'oneshot', 0.97, 1]]
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from .jsonable import json_default

ENV_DATA_DIR = "PRUNING_EXPLORER_DATA_DIR"
DB_NAME = "runs.sqlite"
DEFAULT_WORKSPACE = "default"
WORKSPACE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]{0,39}$")
SCHEMA_VERSION = 1
# Columns list() always returns first, in this order (missing record keys become NaN/None).
LEADING_COLUMNS = ("run_id", "created_at", "label", "mode", "dense_accuracy", "pruned_accuracy", "final_accuracy",
                   "sparsity", "nonzero_params", "gzip_bytes", "latency_ms", "seconds")
# Record keys that hold curves / per-round lists: kept out of the flat table (get() returns them).
NESTED_KEYS = ("history", "rounds", "events", "layer_sparsity")

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def data_dir() -> Path:
    """The data directory: ``$PRUNING_EXPLORER_DATA_DIR`` when set, else ``~/.pruning-explorer``."""
    configured = os.environ.get(ENV_DATA_DIR, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".pruning-explorer"


def default_path() -> Path:
    return data_dir() / DB_NAME


def check_workspace(name) -> str:
    """The workspace name, stripped; ValueError saying what is allowed otherwise.

    1–40 characters: letters, digits, spaces, ``_``, ``-``, ``.``; starting with a letter or digit.

    >>> check_workspace("  mnist runs ")
    'mnist runs'
    """
    if not isinstance(name, str):
        raise ValueError(f"A workspace name must be text, not {type(name).__name__}.")
    stripped = name.strip()
    if not stripped:
        raise ValueError("A workspace name cannot be empty.")
    if not WORKSPACE_PATTERN.match(stripped):
        raise ValueError(f"Workspace name {stripped!r} is not allowed: use 1–40 letters, digits, spaces, '_', '-' "
                         "or '.', starting with a letter or digit.")
    return stripped


def _lock_for(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class RunStore:
    """Runs in workspaces, in one SQLite file. Each method opens and closes its own connection.

    ``path``: the database file (default :func:`default_path`); its folder is created. A record is a
    JSON-ready dict (``RunResult.to_record()``); models are never stored.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_for(self.path)
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS workspaces (name TEXT PRIMARY KEY, created_at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                       "workspace TEXT NOT NULL REFERENCES workspaces(name) ON DELETE CASCADE, "
                       "created_at REAL NOT NULL, record TEXT NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, id)")
            db.execute("INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)",
                       (DEFAULT_WORKSPACE, time.time()))
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # -- connections --------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    @contextmanager
    def _write(self):
        """A connection inside one transaction, under the file's lock (threads in this process)."""
        with self._lock, closing(self._connect()) as db:
            with db:  # commit, or roll back on error
                yield db

    @contextmanager
    def _read(self):
        with closing(self._connect()) as db:
            yield db

    # -- workspaces ---------------------------------------------------------------------------------

    def workspaces(self) -> list[str]:
        """All workspace names, "default" first, then by creation."""
        with self._read() as db:
            names = [row[0] for row in db.execute("SELECT name FROM workspaces ORDER BY created_at, name")]
        return sorted(names, key=lambda n: n != DEFAULT_WORKSPACE)

    def create_workspace(self, name: str, *, exist_ok: bool = False) -> str:
        """Create a workspace; returns its (stripped) name. ValueError for a bad name, or an existing one
        unless ``exist_ok``."""
        name = check_workspace(name)
        with self._write() as db:
            inserted = db.execute("INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)",
                                  (name, time.time())).rowcount
        if not inserted and not exist_ok:
            raise ValueError(f"A workspace named {name!r} already exists.")
        return name

    def delete_workspace(self, name: str) -> int:
        """Delete a workspace and its runs; returns how many runs went. The default one cannot be deleted."""
        name = check_workspace(name)
        if name == DEFAULT_WORKSPACE:
            raise ValueError("The default workspace cannot be deleted (delete its runs instead).")
        with self._write() as db:
            runs = db.execute("DELETE FROM runs WHERE workspace = ?", (name,)).rowcount
            if not db.execute("DELETE FROM workspaces WHERE name = ?", (name,)).rowcount:
                raise ValueError(f"There is no workspace named {name!r}.")
        return runs

    # -- runs ---------------------------------------------------------------------------------------

    def add(self, workspace: str, record: dict) -> int:
        """Store one run (a JSON-ready dict of settings and metrics) in ``workspace`` (created when new);
        returns its run id. Models and other objects are refused with a ValueError."""
        workspace = check_workspace(workspace)
        if not isinstance(record, dict):
            raise ValueError("A run record must be a dict of settings and metrics.")
        try:
            text = json.dumps(record, default=json_default, allow_nan=True)
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        now = time.time()
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?, ?)", (workspace, now))
            cursor = db.execute("INSERT INTO runs (workspace, created_at, record) VALUES (?, ?, ?)",
                                (workspace, now, text))
            return int(cursor.lastrowid)

    def get(self, workspace: str, run_id: int) -> dict | None:
        """The full record of one run (with ``run_id`` and ``created_at``), or None if not in this workspace."""
        workspace = check_workspace(workspace)
        with self._read() as db:
            row = db.execute("SELECT id, created_at, record FROM runs WHERE workspace = ? AND id = ?",
                             (workspace, int(run_id))).fetchone()
        return self._record(row) if row else None

    def records(self, workspace: str) -> list[dict]:
        """Every run's full record in ``workspace``, oldest first (with ``run_id`` and ``created_at``)."""
        workspace = check_workspace(workspace)
        with self._read() as db:
            rows = db.execute("SELECT id, created_at, record FROM runs WHERE workspace = ? ORDER BY id",
                              (workspace,)).fetchall()
        return [self._record(row) for row in rows]

    @staticmethod
    def _record(row) -> dict:
        run_id, created_at, text = row
        return {"run_id": int(run_id), "created_at": float(created_at), **json.loads(text)}

    def delete(self, workspace: str, run_id: int) -> bool:
        """Delete one run of ``workspace``; True if it was there (a run of another workspace is not touched)."""
        workspace = check_workspace(workspace)
        with self._write() as db:
            return db.execute("DELETE FROM runs WHERE workspace = ? AND id = ?",
                              (workspace, int(run_id))).rowcount > 0

    def clear(self, workspace: str) -> int:
        """Delete every run of ``workspace``; returns how many."""
        workspace = check_workspace(workspace)
        with self._write() as db:
            return db.execute("DELETE FROM runs WHERE workspace = ?", (workspace,)).rowcount

    def count(self, workspace: str) -> int:
        workspace = check_workspace(workspace)
        with self._read() as db:
            return int(db.execute("SELECT COUNT(*) FROM runs WHERE workspace = ?", (workspace,)).fetchone()[0])

    def list(self, workspace: str):
        """One row per run, oldest first: a pandas DataFrame (see :func:`records_frame`)."""
        return records_frame(self.records(workspace))

    def to_csv(self, workspace: str) -> str:
        """The workspace's run table as CSV text (``list`` with dict-valued cells as JSON)."""
        return frame_to_csv(self.list(workspace))


def flatten_record(record: dict) -> dict:
    """A record as one flat row: scalars as they are, dicts one level deep as ``key.sub`` columns
    (``settings.epochs``, ``dense.gzip_bytes``, ``compact.params``); curves and lists
    (``NESTED_KEYS``, any list) are left out — ``RunStore.get`` has them.

    >>> flatten_record({"mode": "oneshot", "settings": {"seed": 0}, "history": {"loss": [1.0]}})
    {'mode': 'oneshot', 'settings.seed': 0}
    """
    row = {}
    for key, value in record.items():
        if key in NESTED_KEYS or isinstance(value, list):
            continue
        if isinstance(value, dict):
            for sub, inner in value.items():
                if isinstance(inner, (dict, list)):
                    row[f"{key}.{sub}"] = json.dumps(inner, default=json_default)
                else:
                    row[f"{key}.{sub}"] = inner
        else:
            row[key] = value
    return row


def records_frame(records: list[dict]):
    """DataFrame of flattened records: ``LEADING_COLUMNS`` first (always present), then the other
    columns in first-seen order; ``created_at`` as local ISO time text."""
    import pandas as pd

    rows = [flatten_record(r) for r in records]
    columns = list(LEADING_COLUMNS)
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    frame = pd.DataFrame(rows, columns=columns)
    if len(frame):
        frame["created_at"] = [time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if isinstance(t, (int, float))
                               and math.isfinite(t) else t for t in frame["created_at"]]
        frame["run_id"] = frame["run_id"].astype("int64")
    return frame


def frame_to_csv(frame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def default_store() -> RunStore:
    """A RunStore on :func:`default_path` (re-reads the environment each call)."""
    return RunStore(default_path())


def pareto_front(df, x: str, y: str, *, minimize_x: bool = True, maximize_y: bool = True):
    """The rows of ``df`` no other row beats on both ``x`` and ``y`` (default: smaller x, higher y),
    sorted by x. Ties: of equal (x, y) rows the first is kept; rows with NaN in x or y are dropped.

    >>> import pandas as pd
    >>> pareto_front(pd.DataFrame({"x": [1, 2, 3, 4], "y": [0.5, 0.9, 0.8, 0.95]}), "x", "y")["x"].tolist()
    [1, 2, 4]
    """
    frame = df.dropna(subset=[x, y])
    if frame.empty:
        return frame.copy()
    xs = frame[x].to_numpy(dtype=float) * (1 if minimize_x else -1)
    ys = frame[y].to_numpy(dtype=float) * (1 if maximize_y else -1)
    order = np.lexsort((-ys, xs))  # by x ascending, then y descending
    keep, best = [], -np.inf
    for i in order:
        if ys[i] > best:
            keep.append(i)
            best = ys[i]
    return frame.iloc[keep].copy()


# --- runs by model: each model its own baseline and frontier -----------------------------------------

def model_key(record: dict) -> str:
    """Which model a run pruned: its architecture id and the dense model's parameter count (an upload also
    by its file name), so runs of different models are never compared on one chart.

    >>> model_key({"settings": {"architecture": "lenet-300-100", "model": "LeNet-300-100 · default baseline"},
    ...            "dense": {"params": 266610}})
    'lenet-300-100|266610'
    >>> model_key({"settings": {"architecture": "uploaded (Functional)", "model": "resnet50.keras · uploaded"},
    ...            "dense": {"params": 23608202}})
    'uploaded (Functional)|resnet50.keras|23608202'
    """
    settings = record.get("settings") or {}
    dense = record.get("dense") or {}
    architecture = str(settings.get("architecture") or "unknown")
    parts = [architecture]
    if architecture.startswith("uploaded"):
        parts.append(str(settings.get("model") or "").split(" · ")[0])
    params = dense.get("params")
    parts.append(str(int(params)) if isinstance(params, (int, float)) and math.isfinite(params) else "?")
    return "|".join(parts)


def group_by_model(records: list[dict]) -> dict[str, list[dict]]:
    """{model_key: that model's runs, oldest first}, models ordered by their newest run (newest first).

    >>> runs = [{"run_id": 1, "settings": {"architecture": "a"}, "dense": {"params": 10}},
    ...         {"run_id": 2, "settings": {"architecture": "b"}, "dense": {"params": 20}},
    ...         {"run_id": 3, "settings": {"architecture": "a"}, "dense": {"params": 10}}]
    >>> {k: [r["run_id"] for r in v] for k, v in group_by_model(runs).items()}
    {'a|10': [1, 3], 'b|20': [2]}
    """
    groups: dict[str, list[dict]] = {}
    for record in records:
        groups.setdefault(model_key(record), []).append(record)
    newest = {key: max(range(len(records)), key=lambda i: (model_key(records[i]) == key, i)) for key in groups}
    return dict(sorted(groups.items(), key=lambda item: -newest[item[0]]))
