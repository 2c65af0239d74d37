"""prune_core.io.safe_load.tempfiles: a private temp file, removed after loading; stale uploads swept."""

from __future__ import annotations

import os
import stat
import time

from prune_core.io import safe_load as loading
from tests import badfiles


def stat_mode(path) -> int:
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)


def test_loader_uses_a_private_temp_file_and_removes_it(monkeypatch):
    import tempfile

    seen = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        seen.append((path, stat.S_IMODE(os.stat(path).st_mode)))
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    loading.load_model_file(badfiles.models()["mlp.keras"], "../../etc/passwd.keras")
    (path, mode), = seen
    assert mode == 0o600 and "passwd" not in path and not os.path.exists(path)


def test_stale_uploads_are_swept():
    folder = loading.upload_dir()
    old, fresh, other = folder / "upload-old.keras", folder / "upload-fresh.keras", folder / "keep-me.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    try:
        assert loading.sweep_stale_uploads(folder) == 1
        assert not old.exists() and fresh.exists() and other.exists()
    finally:
        for path in (old, fresh, other):
            path.unlink(missing_ok=True)
    assert stat_mode(folder) == 0o700
