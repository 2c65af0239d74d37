"""A finished run's models on disk, beside the run history: so a run listed after a browser reload (or in another
session) can still be deployed and continued from. The history stores numbers only; this stores the files.

Layout under the data directory (:func:`prune_core.io.history.data_dir`)::

    models/<workspace>/run-<id>-pruned.keras      the run's final (masked) model
    models/<workspace>/run-<id>-compact.keras     its compact model, when the run made one
    models/<workspace>/run-<id>-dense.keras       the model the run started from (what it is compared against)

Files are written by this program and read back with Keras' ``safe_mode=True`` (no code from a file runs).

>>> import tempfile, keras
>>> files = RunFiles(tempfile.mkdtemp())
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
>>> sorted(files.save("default", 7, {"pruned": model, "dense": model}))
['dense', 'pruned']
>>> sorted(files.available("default", 7)), files.available("default", 8)
(['dense', 'pruned'], {})
>>> files.load("default", 7)["pruned"].count_params()
8
>>> list(files.load("default", 7, roles=("pruned",)))
['pruned']
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .history import check_workspace, data_dir

ROLES = ("pruned", "compact", "dense")


def _folder_name(workspace: str) -> str:
    """A workspace as a folder name (workspace names are checked already; spaces and dots made safe)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", check_workspace(workspace))


class RunFiles:
    """The runs' model files under ``root`` (default: ``data_dir()/models``)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else data_dir() / "models"

    def folder(self, workspace: str) -> Path:
        return self.root / _folder_name(workspace)

    def path(self, workspace: str, run_id: int, role: str) -> Path:
        if role not in ROLES:
            raise ValueError(f"Unknown model role {role!r}; choose one of {', '.join(ROLES)}.")
        return self.folder(workspace) / f"run-{int(run_id)}-{role}.keras"

    def save(self, workspace: str, run_id: int, models: dict) -> dict[str, Path]:
        """Write ``models`` ({role: Keras model or None}) for the run; {role: path} of what was written. Each file is
        written to a temporary name first and then renamed, so a half-written file is never listed."""
        from ..methods.masks import without_optimizer

        self.folder(workspace).mkdir(parents=True, exist_ok=True)
        written = {}
        for role, model in models.items():
            if model is None:
                continue
            final = self.path(workspace, run_id, role)
            partial = final.with_suffix(".partial.keras")
            without_optimizer(model).save(partial)
            os.replace(partial, final)
            written[role] = final
        return written

    def available(self, workspace: str, run_id: int) -> dict[str, Path]:
        """{role: path} of the run's files on disk."""
        found = {role: self.path(workspace, run_id, role) for role in ROLES}
        return {role: path for role, path in found.items() if path.is_file()}

    def load(self, workspace: str, run_id: int, roles=ROLES) -> dict:
        """{role: Keras model} of the run's files among ``roles``, loaded with ``safe_mode=True`` and without
        compiling."""
        import keras

        return {role: keras.saving.load_model(path, compile=False, safe_mode=True)
                for role, path in self.available(workspace, run_id).items() if role in roles}

    def delete(self, workspace: str, run_id: int) -> int:
        """Remove the run's files; how many there were."""
        paths = list(self.available(workspace, run_id).values())
        for path in paths:
            path.unlink(missing_ok=True)
        return len(paths)

    def delete_workspace(self, workspace: str) -> None:
        shutil.rmtree(self.folder(workspace), ignore_errors=True)
