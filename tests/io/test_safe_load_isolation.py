"""prune_core.io.safe_load.isolation: the child process's time and memory limits refuse and leave no temp
file; the child never runs the parent's main script; a refusal in the child reaches the parent."""

from __future__ import annotations

import os
import sys

import pytest

from prune_core.io import safe_load as loading
from prune_core.io.safe_load import tempfiles
from tests import badfiles


def _uploads() -> list[str]:
    return sorted(p.name for p in loading.upload_dir().glob(loading.UPLOAD_PREFIX + "*"))


def test_isolated_child_timeout_and_memory_limit_refuse_and_leave_no_temp_file(monkeypatch, tmp_path):
    import tempfile

    # a temp folder of this test's own: the shared one also holds other tests' uploads, which come and go while this
    # test runs beside them (CI once saw another test's file vanish between the two listings)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = _uploads()
    assert loading.upload_dir().parent == tmp_path and before == []
    blob = badfiles.models()["mlp.keras"]
    monkeypatch.setenv(loading.LOAD_TIMEOUT_ENV, "0.001")
    with pytest.raises(loading.ModelFileError, match=r"took longer than 0\.001 s .* PRUNING_EXPLORER_LOAD_TIMEOUT_S"):
        loading.load_model_file(blob, "slow.keras")
    assert _uploads() == before
    monkeypatch.delenv(loading.LOAD_TIMEOUT_ENV)
    monkeypatch.setenv(loading.LOAD_MEMORY_ENV, "1")  # 1 MB on top of what the child had mapped: nothing fits
    with pytest.raises(loading.ModelFileError, match=r"needed more than 1\.0 MB of memory .* PRUNING_EXPLORER_LOAD_MEMORY_MB"):
        loading.load_model_file(blob, "hungry.keras")
    assert _uploads() == before


def test_the_isolated_child_never_runs_the_parents_main_script(tmp_path, monkeypatch):
    """Under Streamlit (or an AppTest) ``__main__`` is the app script; a child started with it would re-run that
    script before its check (multiprocessing's main-module fix-up). The check must not."""
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "app_script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    good = tempfiles._write_upload(badfiles.models()["conv.keras"], ".keras")
    try:
        report = loading.validate_isolated(good, "conv.keras", os.path.getsize(good))
    finally:
        os.unlink(good)
    assert report["seconds"] > 0 and not marker.exists()
    assert sys.modules["__main__"] is fake  # put back as it was


def test_isolated_child_reports_a_refusal_of_its_own():
    blob = badfiles.models()["nan.keras"]
    path = tempfiles._write_upload(blob, ".keras")
    try:
        with pytest.raises(loading.ModelFileError, match="1 NaN value in layer 'hidden'"):
            loading.validate_isolated(path, "nan.keras", len(blob))
    finally:
        os.unlink(path)
    good = tempfiles._write_upload(badfiles.models()["conv.keras"], ".keras")
    try:
        report = loading.validate_isolated(good, "conv.keras", os.path.getsize(good))
    finally:
        os.unlink(good)
    assert report["peak_mb"] > 0 and report["seconds"] > 0
