"""AppTest: memory bounded per session (issue 23). Over the budget the older run's models leave memory, the pages say
so, and Deploy, a download and Continue load them back from the run's files — or say clearly that they are gone; an
idle session's runs are released by another session's script run."""

import keras
import numpy as np
import pytest

from prune_core.io.run_files import RunFiles
from tests.apptest import button, job_result, page_test
from ui import memory, state


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    return tmp_path


def zero_epoch_run(at, seed):
    at.number_input[0].set_value(0)  # measure the pruned model, no training: seconds
    at.number_input[1].set_value(seed)
    button(at, "Run").click().run()
    return job_result(at)


def keras_weights(blob: bytes, folder) -> list:
    """The weights of a downloaded .keras file, read back as Keras does."""
    path = folder / "download.keras"
    path.write_bytes(blob)
    return keras.saving.load_model(path, compile=False, safe_mode=True).get_weights()


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_over_budget_the_older_runs_models_go_to_disk_and_come_back_for_deploy_and_download(monkeypatch, tmp_path):
    monkeypatch.setenv(memory.BUDGET_ENV, "1")  # LeNet-300-100 alone is 1.02 MB: any second run is over
    at = page_test("retrain").run()
    first = zero_epoch_run(at, seed=0)
    saved = [w.copy() for w in first.model.get_weights()]
    assert memory.in_memory(first)  # one run: the newest always stays
    second = zero_epoch_run(at, seed=1)
    assert not at.exception

    assert first.released == memory.Released(memory.BUDGET, ("pruned", "dense")) and first.model is None
    assert memory.in_memory(second) and second.model is not None
    notice = "1 older run's models were moved to disk to keep this session under 1 MB; they reload when you use them."
    assert f":material/memory: {notice}" in captions(at)
    assert ("This run's models are on disk (to keep this session under 1 MB); they load back when you export, deploy "
            "or continue from it.") in captions(at)
    at.switch_page("pages/compare.py").run()
    assert not at.exception and f":material/memory: {notice}" in captions(at)

    # Deploy this (older) run: its models load back from its files before converting
    at.switch_page("pages/retrain.py").run()
    at.session_state["deploy_settings"] = dict(calibration=100, budget=1.0, int8=False, keras_int8=False)
    at.button(key=f"rt_deploy_{first.run_id}").click().run()
    assert not at.exception and at.session_state["job"].kind == "deploy"
    at.switch_page("pages/deploy.py")
    report = job_result(at)
    assert [r.name for r in report.rows] == ["dense", "pruned"] and report.row("pruned").params == first.params
    assert report.row("pruned").nonzero == first.nonzero_params
    assert at.session_state["deploy_source"].run is first and memory.in_memory(first)
    for mine, theirs in zip(first.model.get_weights(), saved):
        np.testing.assert_array_equal(mine, theirs)
    assert first.dense_model.count_params() == at.session_state["model_entry"].model.count_params()

    # the run used last stays in memory; released again, a download loads it back by itself
    at.switch_page("pages/retrain.py").run()
    assert memory.in_memory(first) and not any(c.startswith(":material/memory:") for c in captions(at))
    from ui import retrain as rt

    memory.release(first, memory.BUDGET)
    label, make, name, _ = rt.downloads(first)[0]
    assert label == "Pruned model (.keras)" and name.startswith(f"run-{first.run_id}-") and name.endswith(".keras")
    for mine, theirs in zip(keras_weights(make(), tmp_path), saved, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    assert memory.in_memory(first)

    # the files deleted (say, from the run history): the page says the models are gone, Continue says why
    memory.release(first, memory.BUDGET)
    assert RunFiles().delete("default", first.run_id) == 2
    at.run()
    assert any(c.startswith("This run's models were moved out of memory and their files are no longer on disk")
               for c in captions(at))
    assert [label for label, *_ in rt.downloads(first)] == ["Report (.html)"]
    at.button(key=f"rt_continue_{first.run_id}").click().run()
    assert not at.exception
    assert (f"{first.run_id}'s models were moved out of memory, and its saved pruned and dense model files are no "
            "longer on disk") in at.error[0].value
    assert at.session_state["model_entry"].origin == "default"  # nothing changed


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_an_idle_sessions_runs_are_released_by_another_sessions_run(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(memory, "SESSIONS", memory.Sessions(clock=clock))
    monkeypatch.setattr(state, "SWEEP_EVERY_S", 0.0)
    at = page_test("retrain").run()
    run = zero_epoch_run(at, seed=0)
    assert len(memory.SESSIONS) == 1 and memory.in_memory(run)

    clock.now += 29 * 60
    other = page_test("home").run()  # another student's tab: its sidebar touches it and sweeps
    assert not other.exception and len(memory.SESSIONS) == 2 and memory.in_memory(run)
    clock.now += 60
    page_test("home").run()
    assert run.released == memory.Released(memory.IDLE, ("pruned", "dense")) and run.model is None

    at.run()  # the student comes back: the numbers are there, and the page says where the models are
    assert not at.exception and any(h.value.startswith("Last run") for h in at.subheader)
    assert ("This run's models are on disk (this session was idle for over 30 min); they load back when you export, "
            "deploy or continue from it.") in captions(at)
    button(at, "Continue from this model").click().run()
    assert not at.exception and memory.in_memory(run)
    entry = at.session_state["model_entry"]
    assert entry.origin == "retrained" and entry.model is run.model
    assert isinstance(run.model, keras.Model) and run.model.count_params() == run.params
