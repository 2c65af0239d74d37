"""Downloads: file names from free text, and the run history as CSV (text for ``st.download_button``)."""

from __future__ import annotations

import re


def history_csv(store, workspace: str) -> str:
    """The workspace's run history as CSV text (``RunStore.to_csv``)."""
    return store.to_csv(workspace)


def safe_filename(text: str, suffix: str = "") -> str:
    """A file name from free text: letters, digits, '-', '_' and '.' only.

    >>> safe_filename("LeNet-300-100 · 90% sparse", ".keras")
    'LeNet-300-100-90-sparse.keras'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"
    return stem[:80] + suffix
