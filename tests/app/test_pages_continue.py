"""AppTest: continue from a run in the history (issue 25.4) — after a reload (a new session), a run listed on Compare
whose pruned model is on disk becomes the current model again, its zeros the candidate; the Retrain page fine-tunes it
further with those zeros held. A run whose file is gone, or whose data is not here, is refused and nothing changes."""

import numpy as np
import pytest

from tests.apptest import button, job_result, page_test
from ui.text import md


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    return tmp_path


def one_shot(at, epochs, seed=0):
    at.number_input[0].set_value(epochs)
    at.number_input[1].set_value(seed)
    button(at, "Run").click().run()
    return job_result(at)


def test_a_history_run_is_continued_from_after_a_reload_and_retrained_with_its_zeros_held():
    at = page_test("retrain").run()
    run = one_shot(at, epochs=0)  # the default candidate, measured only: seconds
    zeros = [w == 0 for w in run.model.get_weights()]

    fresh = page_test("compare").run()  # a reload: a new session, nothing of the old one
    assert not fresh.exception
    box = fresh.selectbox(key="cmp_continue_choice")
    assert box.value == run.run_id
    assert box.options == [f"#{run.run_id} · one-shot · magnitude · per layer · 85.4% · {run.final_accuracy:.2%} · "
                           "LeNet-300-100 · 266,610 parameters"]
    button(fresh, "Continue from this run").click().run()
    assert not fresh.exception and not fresh.error

    entry, held = fresh.session_state["model_entry"], fresh.session_state["candidate"]
    assert entry.name == f"LeNet-300-100 · run #{run.run_id} from the history" and entry.origin == "history"
    for mine, theirs in zip(entry.model.get_weights(), run.model.get_weights()):
        assert (mine == theirs).all()  # the file read back is the run's model, bit for bit
    assert held.weights_key == entry.weights_key and held.sparsity == pytest.approx(run.sparsity, abs=1e-12)
    assert (held.mask_set.kept, held.mask_set.total) == (38_888, 266_200)  # LeNet-300-100 at 0.3 × max per layer
    said = fresh.success[0].value
    assert said == (f"Continued from run \\#{run.run_id} · one-shot · magnitude · per layer · 85.4% · "
                    f"{run.final_accuracy:.2%} (LeNet-300-100 · 266,610 parameters): its saved pruned model is now "
                    "the current model — **85.4%** of its prunable weights at zero, "
                    f"**{run.final_accuracy:.2%}** test accuracy when it finished — and its zeros are the candidate the "
                    "Retrain page's one-shot fine-tunes further.")
    assert [link.label for link in fresh.get("page_link")][-2:] == ["Retrain it further", "Prune it further"]

    fresh.switch_page("pages/retrain.py").run()
    assert not fresh.exception
    assert fresh.info[0].value == (
        f"**Run #{run.run_id} from the history**, loaded from disk: one-shot · magnitude · per layer · 85.4% — "
        f"**85.4%** of its prunable weights at zero, **{run.final_accuracy:.2%}** test accuracy when it finished. "
        "One-shot fine-tunes it further with those zeros held at zero; to prune it further, apply a candidate on the "
        "Prune page.")
    further = one_shot(fresh, epochs=1)
    # where it started: the run's own model on the run's own data measures the run's own accuracy again
    assert further.dense_accuracy == run.final_accuracy and further.pruned_accuracy == run.final_accuracy
    assert further.sparsity == pytest.approx(run.sparsity, abs=1e-12)  # no zero lost, none added
    for kept_zero, weights, before in zip(zeros, further.model.get_weights(), run.model.get_weights()):
        if weights.ndim == 2:  # kernels: the run's zeros held exactly, the rest trained
            assert (weights[kept_zero] == 0).all() and (weights != before).any()
    assert further.settings["model"] == entry.name and further.settings["values"]["dense1"] == pytest.approx(
        run.layer_sparsity["dense1"], abs=1e-6)
    assert fresh.session_state["model_entry"] is entry  # retraining did not swap the model

    fresh.switch_page("pages/prune.py").run()  # the Prune page opens on it with that candidate held
    assert not fresh.exception


def test_a_run_whose_file_is_gone_or_whose_data_is_not_here_is_refused_and_nothing_changes(data_dir):
    import keras

    from prune_core.io.history import default_store
    from prune_core.io.run_files import RunFiles

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(10, name="dense")])
    store, files = default_store(), RunFiles()
    name = "**mine** <b>x</b>.npz"
    on_upload = store.add("default", {"mode": "oneshot", "label": "oneshot · magnitude · layer · 50.0%",
                                      "final_accuracy": 0.5, "sparsity": 0.5,
                                      "settings": {"architecture": "mlp-128", "data": name}, "dense": {"params": 7850}})
    gone = store.add("default", {"mode": "oneshot", "label": "oneshot · magnitude · layer · 60.0%",
                                 "final_accuracy": 0.6, "sparsity": 0.6,
                                 "settings": {"architecture": "mlp-128", "data": "Bundled MNIST subset"},
                                 "dense": {"params": 7850}})
    files.save("default", on_upload, {"pruned": model})
    files.save("default", gone, {"pruned": model})

    at = page_test("compare").run()
    assert not at.exception
    before = at.session_state["model_entry"] if "model_entry" in at.session_state else None
    box = at.selectbox(key="cmp_continue_choice")
    assert box.options == [
        f"#{gone} · one-shot · magnitude · per layer · 60.0% · 60.00% · MLP 784-128-10 · 7,850 parameters",
        f"#{on_upload} · one-shot · magnitude · per layer · 50.0% · 50.00% · MLP 784-128-10 · 7,850 parameters"]
    assert any("(2 of the 2 runs here have theirs on disk)" in c.value for c in at.caption)

    files.delete("default", gone)  # removed after the list was drawn: the box still shows it, and says so when redrawn
    button(at, "Continue from this run").click().run()
    assert not at.exception
    assert at.error[0].value == md(f"Run #{gone}'s saved model is not on disk any more (its files were deleted, or it "
                                   "was recorded before runs kept their models): it can still be compared, but not "
                                   "continued from. Run it again on the Retrain page.")
    assert "candidate" not in at.session_state and not at.success
    assert (at.session_state["model_entry"] if "model_entry" in at.session_state else None) is before
    assert at.selectbox(key="cmp_continue_choice").options[0].endswith("7,850 parameters · no saved model")

    at.selectbox(key="cmp_continue_choice").set_value(on_upload).run()
    button(at, "Continue from this run").click().run()
    assert not at.exception
    shown = at.error[0].value
    assert shown == md(f"Run #{on_upload} was measured on “{name}”, which this session does not hold now: choose or "
                       "upload that data on the Model page, then continue from this run.")
    assert r"\*\*mine\*\* \<b\>x\</b\>" in shown  # the file name as text
    assert "candidate" not in at.session_state and not at.success
