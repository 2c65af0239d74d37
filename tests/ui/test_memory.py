"""ui.memory: a session's bytes accounted from real tiny Keras models and arrays (exact numbers), the drop policy, a
released run loaded back from its files (or said to be gone), the idle sweep on a fake clock, the settings."""

import gc

import keras
import numpy as np
import pytest

from prune_core.io import data
from prune_core.io import run_files
from prune_core.io.run_files import RunFiles
from ui import memory


def tiny(units=(3, 2), inputs=4, dtype="float32", seed=0):
    keras.utils.set_random_seed(seed)
    layers = [keras.layers.Dense(n, dtype=dtype) for n in units]
    return keras.Sequential([keras.Input((inputs,)), *layers])


class Run:
    """What ui.memory reads of a RunResult (a class of our own: weak references and attributes)."""

    def __init__(self, run_id, model=None, compact=None, dense=None, mask_set=None):
        self.run_id, self.workspace, self.files_note = run_id, "default", None
        self.model, self.compact_model, self.dense_model, self.mask_set, self.tflite = model, compact, dense, mask_set, None


def test_model_bytes_are_the_weights_nbytes():
    model = tiny()  # 4·3 + 3 + 3·2 + 2 = 23 float32
    assert memory.model_bytes(model) == 92 == sum(w.nbytes for w in model.get_weights())
    normed = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.BatchNormalization()])
    assert memory.model_bytes(normed) == (15 + 4 * 3) * 4 == sum(w.nbytes for w in normed.get_weights())  # 108
    assert memory.model_bytes(tiny(dtype="float16")) == 46  # 2 bytes a weight
    assert memory.model_bytes(None) == 0
    seen = set()
    assert (memory.model_bytes(model, seen), memory.model_bytes(model, seen)) == (92, 0)  # counted once


def test_arrays_and_datasets_are_their_nbytes_once():
    x = np.zeros((10, 4), np.float32)
    assert memory.arrays_bytes({"a": x, "b": [x, np.zeros(3, bool)], "c": b"12345"}) == 160 + 3 + 5
    ds = data.Dataset("t", "upload", x_train=np.zeros((8, 4), np.float32), y_train=np.zeros(8, np.int64),
                      x_test=np.zeros((2, 4), np.float32), y_test=np.zeros(2, np.int64), key="npz-1")
    assert memory.dataset_bytes(ds) == 128 + 64 + 32 + 16


def test_account_counts_a_shared_model_once_current_model_first():
    current, pruned, compact, old = tiny(seed=0), tiny(seed=1), tiny((1, 2), seed=2), tiny(seed=3)
    ds = data.Dataset("t", "upload", x_train=np.zeros((8, 4), np.float32), y_train=np.zeros(8, np.int64),
                      x_test=np.zeros((2, 4), np.float32), y_test=np.zeros(2, np.int64), key="npz-1")
    newest = Run(2, model=pruned, compact=compact, dense=current)  # started from the current model
    older = Run(1, model=old, dense=current)
    usage = memory.account(model=current, datasets=[ds, ds], runs=[("2", newest, True), ("1", older, False)],
                           other_models=[pruned], other_bytes=7)
    compact_bytes = (4 * 1 + 1 + 1 * 2 + 2) * 4  # 36
    assert usage == memory.Usage(model=92, datasets=240, runs=(memory.RunHeld("2", 92 + compact_bytes),
                                                               memory.RunHeld("1", 92, False)), other=7)
    assert usage.total == 92 + 240 + 128 + 92 + 7 == 559


def test_policy_releases_the_oldest_first_until_within_budget_never_the_newest():
    runs = (memory.RunHeld("5", 50), memory.RunHeld("4", 40), memory.RunHeld("3", 0),  # 3: already on disk
            memory.RunHeld("2", 30, can_release=False), memory.RunHeld("1", 20))
    usage = memory.Usage(model=100, datasets=10, runs=runs, other=0)
    assert usage.total == 250
    assert memory.to_release(usage, 250) == []
    assert memory.to_release(usage, 249) == ["1"]        # 230
    assert memory.to_release(usage, 230) == ["1"]
    assert memory.to_release(usage, 229) == ["1", "4"]   # 190: 2 cannot go, 3 holds nothing
    assert memory.to_release(usage, 100) == ["1", "4"]   # the newest stays, whatever it weighs
    assert memory.to_release(memory.Usage(10, 0, (memory.RunHeld("9", 500),)), 1) == []


def test_release_then_reload_from_the_runs_files(tmp_path):
    files = RunFiles(tmp_path)
    pruned, compact, dense = tiny(seed=1), tiny((1, 2), seed=2), tiny(seed=0)
    files.save("default", 7, {"pruned": pruned, "compact": compact, "dense": dense})
    run = Run(7, model=pruned, compact=compact, dense=dense, mask_set=None)
    run.tflite = type("Converted", (), {"data": b"x" * 100})()
    assert memory.run_bytes(run) == 92 + 36 + 92 + 100
    assert memory.release(run, memory.BUDGET) == 320
    assert (run.model, run.compact_model, run.dense_model, run.tflite) == (None, None, None, None)
    assert run.released == memory.Released(memory.BUDGET, ("pruned", "compact", "dense"))
    assert memory.run_bytes(run) == 0 and memory.release(run, memory.IDLE) == 0  # once
    memory.reload(run, files, "default")
    assert memory.in_memory(run) and run.model is not pruned
    for role, original in (("model", pruned), ("compact_model", compact), ("dense_model", dense)):
        for mine, theirs in zip(getattr(run, role).get_weights(), original.get_weights()):
            np.testing.assert_array_equal(mine, theirs)

    memory.release(run, memory.BUDGET)
    (tmp_path / "default" / "run-7-compact.keras").unlink()
    with pytest.raises(memory.Gone, match=r"Run #7's models were moved out of memory, and its saved compact model file "
                                          r"is no longer on disk .*Run it again on the Retrain page\."):
        memory.reload(run, files, "default")
    assert not memory.in_memory(run)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_idle_sessions_runs_are_released_and_closed_sessions_forgotten():
    clock = Clock()
    sessions = memory.Sessions(clock=clock)
    busy, idle, unsaved = Run(1, model=tiny()), Run(2, model=tiny()), Run(3, model=tiny())
    unsaved.files_note = "could not be saved"
    sessions.touch("a")
    sessions.touch("b")
    sessions.add_run("a", busy)
    sessions.add_run("b", idle)
    sessions.add_run("b", unsaved, can_release=lambda run: not run.files_note)
    clock.now += 1799
    sessions.touch("a")
    assert sessions.sweep(idle_s=1800) == {}
    clock.now += 1
    assert sessions.idle_seconds("b") == 1800 and sessions.idle_seconds("a") == 1
    assert sessions.sweep(idle_s=1800) == {"b": 1}
    assert idle.released == memory.Released(memory.IDLE, ("pruned",)) and idle.model is None
    assert memory.in_memory(unsaved) and memory.in_memory(busy)
    assert sessions.sweep(idle_s=1800) == {}  # nothing left to release there
    clock.now += 10
    assert sessions.sweep(idle_s=1800, every_s=60) == {}  # swept 10 s ago: not again yet
    del idle, unsaved  # the session closed: Streamlit dropped its state
    gc.collect()
    clock.now += 60
    sessions.sweep(idle_s=1800, every_s=60)
    assert len(sessions) == 1 and sessions.idle_seconds("b") is None


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.delenv(memory.BUDGET_ENV, raising=False)
    monkeypatch.delenv(memory.IDLE_ENV, raising=False)
    assert (memory.budget_mb(), memory.budget_bytes(), memory.idle_minutes()) == (270, 270 * 1024 * 1024, 30)
    monkeypatch.setenv(memory.BUDGET_ENV, "512")
    monkeypatch.setenv(memory.IDLE_ENV, "2.5")
    assert (memory.budget_bytes(), memory.idle_minutes()) == (512 << 20, 2.5)
    for bad in ("", "lots", "0", "-3"):
        monkeypatch.setenv(memory.BUDGET_ENV, bad)
        assert memory.budget_mb() == 270
    assert memory.mb_text(270 << 20) == "270 MB" and memory.mb_text(1.5 * 2**20) == "1.5 MB"


def test_the_page_side_names_the_same_keys_as_the_pages():
    from ui import deploy, retrain, session_memory

    assert session_memory.RUN_KIND == retrain.JOB_KIND
    assert session_memory.DEPLOY_KIND == deploy.JOB_KIND
    assert session_memory.DEPLOY_SOURCE_KEY == deploy.SOURCE_KEY
    assert set(memory.ROLES) == set(run_files.ROLES)
