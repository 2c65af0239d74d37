"""prune_core.io.safe_load.errors: a user's file name is shown, never used as a path."""

from __future__ import annotations

from prune_core.io import safe_load as loading


def test_display_name_never_keeps_a_path():
    assert loading.display_name("../../etc/x.keras") == "x.keras"
    assert loading.display_name("C:\\Users\\me\\m.h5") == "m.h5"
    assert loading.display_name("") == "upload"
