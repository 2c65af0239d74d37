"""Temporary files: an upload is written to a private file (mode 0600, a name we choose) in the app's own
folder only while it loads; stale ones from a killed server are swept."""

from __future__ import annotations

import os
import stat
import tempfile
import threading
import time
from pathlib import Path


UPLOAD_PREFIX = "upload-"
STALE_UPLOAD_SECONDS = 15 * 60  # older than any load (the child's timeout is far below this)
_SWEPT: set[str] = set()
_SWEEP_LOCK = threading.Lock()


def upload_dir() -> Path:
    """The app's own temporary folder (mode 0700, ours), where uploads are written while they load. Stale
    ``upload-*`` files in it (from a server that was killed mid-load) are swept the first time it is used
    in a process; :func:`sweep_stale_uploads` does it on demand (e.g. at start-up)."""
    base = Path(tempfile.gettempdir()) / f"pruning-explorer-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(base)
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()) \
                or stat.S_IMODE(info.st_mode) & 0o077:
            return Path(tempfile.gettempdir())  # not ours: fall back to the system's (mkstemp is still private)
    except OSError:
        return Path(tempfile.gettempdir())
    with _SWEEP_LOCK:
        if str(base) not in _SWEPT:
            _SWEPT.add(str(base))
            sweep_stale_uploads(base)
    return base


def sweep_stale_uploads(folder: Path | None = None, older_than: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove ``upload-*`` files older than ``older_than`` seconds from the app's temp folder; return how many."""
    folder = Path(folder) if folder is not None else upload_dir()
    removed, now = 0, time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.name.startswith(UPLOAD_PREFIX) and entry.is_file(follow_symlinks=False) \
                    and now - entry.stat(follow_symlinks=False).st_mtime > older_than:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _write_upload(data: bytes, suffix: str) -> str:
    """Write to a private temp file (mode 0600, a unique name we choose) in the app's temp folder."""
    fd, path = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=suffix, dir=str(upload_dir()))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        _remove(path)
        raise
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
