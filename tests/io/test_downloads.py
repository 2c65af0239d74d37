"""prune_core.io.downloads: the run history as CSV parses; file names from free text."""

import io

import pandas as pd

from prune_core.io import downloads
from prune_core.io.history import RunStore


def test_history_csv_parses(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    store.add("default", {"mode": "oneshot", "final_accuracy": 0.9, "settings": {"epochs": 1}})
    frame = pd.read_csv(io.StringIO(downloads.history_csv(store, "default")))
    assert frame[["run_id", "mode", "final_accuracy", "settings.epochs"]].values.tolist() == [[1, "oneshot", 0.9, 1]]


def test_safe_filename():
    assert downloads.safe_filename("run #3: 95%/global", ".html") == "run-3-95-global.html"
    assert downloads.safe_filename("···") == "model"
