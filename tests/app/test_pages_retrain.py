"""AppTest: one-shot, gradual and iterative runs from the Retrain page produce the recorded numbers."""

import numpy as np
import pytest

from prune_core.io import data, history
from prune_core.measure import metrics
from prune_core.train import regularize
from prune_core.graph import kernels
from tests.apptest import job_result, metric_value, page_test


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    return tmp_path


def run_and_wait(at):
    at.button[0].click().run()
    assert not at.exception
    return job_result(at)  # the page shows the finished run


def test_oneshot_default_candidate_fine_tunes_and_records(data_dir):
    at = page_test("retrain").run()
    assert not at.exception
    assert "85.4% sparse" in at.info[0].value
    result = run_and_wait(at)
    ds = data.load_mnist("bundled")
    # the final model keeps exactly the default mask's zeros and its accuracy is what the page shows
    assert metrics.evaluate(result.model, ds.x_test, ds.y_test).accuracy == result.final_accuracy
    assert metric_value(at, "After retraining") == f"{result.final_accuracy:.2%}"
    assert metric_value(at, "Sparsity") == f"{result.sparsity:.1%}"
    zeros = sum(int(np.count_nonzero(k == 0)) for k in kernels(result.model).values())
    assert zeros == round(result.sparsity * 266_200)
    assert result.final_accuracy > result.pruned_accuracy  # fine-tuning wins accuracy back
    records = history.RunStore(data_dir / history.DB_NAME).records("default")
    assert len(records) == 1 and records[0]["final_accuracy"] == result.final_accuracy
    assert records[0]["settings"]["criterion"] == "magnitude" and records[0]["mode"] == "oneshot"

    # export: the files behind the download buttons open
    from ui import retrain as rt
    files = {label: make() for label, make, _, _ in rt.downloads(result)}
    import tempfile

    import keras
    with tempfile.NamedTemporaryFile(suffix=".keras") as f:
        f.write(files["Pruned model (.keras)"]); f.flush()
        loaded = keras.saving.load_model(f.name, safe_mode=True, compile=False)
    assert metrics.evaluate(loaded, ds.x_test, ds.y_test).accuracy == result.final_accuracy
    report = files["Report (.html)"]
    assert "plotly" in report.lower() and f"{result.final_accuracy:.2%}" in report


def test_oneshot_uses_the_applied_candidate():
    prune = page_test("prune", granularity="unit", rule="sparsity", v="50").run()
    next(b for b in prune.button if b.label.startswith("Apply")).click().run()
    candidate = prune.session_state["candidate"]
    prune.switch_page("pages/retrain.py").run()
    assert not prune.exception
    assert f"{candidate.sparsity:.1%} sparse" in prune.info[0].value
    result = run_and_wait(prune)
    assert result.pruned_accuracy == candidate.pruned_accuracy
    assert result.compact is not None and result.compact["params"] < result.params
    assert abs(result.compact["accuracy"] - result.final_accuracy) <= 0.0005  # same predictions, fewer neurons
    assert len(prune.dataframe) == 1 and len(prune.dataframe[0].value) == 3


def test_gradual_reaches_its_final_sparsity():
    at = page_test("retrain").run()
    at.radio(key="rt_mode").set_value("gradual").run()
    final = next(s for s in at.slider if s.label == "Final sparsity")
    final.set_value(80)
    at.number_input[0].set_value(1)
    result = run_and_wait(at)
    assert result.mode == "gradual" and result.sparsity == pytest.approx(0.80, abs=5e-4)
    assert metric_value(at, "Sparsity") == "80.0%"
    # a gradual run never held 80% untrained: its "pruned" number is a one-shot reference, named so
    labels = [m.label for m in at.metric]
    assert "One-shot reference" in labels and "Pruned, before retraining" not in labels
    assert metric_value(at, "One-shot reference") == f"{result.pruned_accuracy:.2%}"


def test_iterative_records_each_round():
    at = page_test("retrain").run()
    at.radio(key="rt_mode").set_value("iterative").run()
    next(s for s in at.slider if s.label.startswith("Pruned per round")).set_value(50)
    next(s for s in at.slider if s.label == "Target sparsity").set_value(75)
    next(s for s in at.slider if s.label.startswith("Tolerance")).set_value(10.0)
    result = run_and_wait(at)
    assert [round(r["sparsity"], 3) for r in result.rounds] == [0.5, 0.75]  # 1 − 0.5^k, capped at the target
    assert result.stopped_because and result.sparsity == pytest.approx(0.75, abs=5e-4)


def test_l1_run_reports_near_zero_weights_and_continue_makes_it_current():
    from prune_core.graph import kernels as model_kernels

    at = page_test("retrain").run()
    at.selectbox[2].set_value(1e-3)  # L1 penalty λ (Learning rate, Batch size, L1)
    result = run_and_wait(at)
    assert result.settings["l1"] == 1e-3
    near = regularize.near_zero_fraction(result.model)
    share = (near - result.sparsity) / (1 - result.sparsity)
    assert any(f"{share:.1%} of the kept weights have |w| < 0.001" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Continue from this model").click().run()
    assert not at.exception
    entry = at.session_state["model_entry"]
    assert entry.origin == "retrained" and entry.model is result.model
    zeros = sum(int(np.count_nonzero(k == 0)) for k in model_kernels(entry.model).values())
    assert zeros == round(result.sparsity * 266_200)


def downloads(at) -> list[tuple[str, str]]:
    """(label, widget key) of every download button on the page, in page order."""
    return [(b.proto.label, b.proto.id.split("-", 2)[-1]) for b in at.get("download_button")]


def zero_epoch_oneshot(at, seed=0):
    at.radio(key="rt_mode").set_value("oneshot").run()
    at.number_input[0].set_value(0)  # measure the pruned model, no training: seconds
    at.number_input[1].set_value(seed)
    return run_and_wait(at)


def test_mode_control_always_has_a_value():
    at = page_test("retrain").run()
    mode = at.radio(key="rt_mode")
    assert mode.value == "oneshot" and mode.options == ["One-shot", "Gradual", "Iterative",
                                                         "Pruning at initialization", "Sparse training"]
    at.session_state["rt_mode"] = None  # what a deselected segmented control used to leave
    at.run()
    assert not at.exception and at.radio(key="rt_mode").value == "oneshot"
    assert "85.4% sparse" in at.info[0].value  # the one-shot form and its starting point


def test_a_failed_gradual_keeps_the_finished_one_shot_and_says_it_in_percent():
    at = page_test("retrain").run()
    first = zero_epoch_oneshot(at)
    before = downloads(at)
    assert before == [("Pruned model (.keras)", f"rt_file_{first.run_id}_0"),
                      ("Report (.html)", f"rt_file_{first.run_id}_1")]
    assert at.subheader[0].value == "Last run · one-shot · magnitude · per layer · 85.4%"

    at.radio(key="rt_mode").set_value("gradual").run()
    next(s for s in at.slider if s.label == "Initial sparsity").set_value(95)
    next(s for s in at.slider if s.label == "Final sparsity").set_value(5)
    at.button[0].click().run()
    at.session_state["job"].wait(120)
    at.run()
    assert not at.exception
    assert at.session_state["job"].error == "The final sparsity (5%) must be at least the initial sparsity (95%)."
    assert any("The final sparsity (5%) must be at least the initial sparsity (95%)" in e.value for e in at.error)
    assert downloads(at) == before  # the one-shot's files are all still offered
    assert [b.label for b in at.button].count("Continue from this model") == 1
    assert metric_value(at, "Sparsity") == f"{first.sparsity:.1%}"

    next(b for b in at.button if b.label == "Continue from this model").click().run()
    assert not at.exception and at.session_state["model_entry"].model is first.model


def test_two_finished_runs_are_listed_newest_first_each_with_its_files():
    at = page_test("retrain").run()
    first = zero_epoch_oneshot(at, seed=0)
    second = zero_epoch_oneshot(at, seed=1)
    assert second.run_id == first.run_id + 1
    assert at.subheader[0].value.startswith("Last run")
    from ui.text import md
    assert [e.label for e in at.expander] == [md(f"#{first.run_id} · one-shot · magnitude · per layer · 85.4% · "
                                                 f"{first.final_accuracy:.2%}")]
    assert [key for _, key in downloads(at)] == [f"rt_file_{second.run_id}_0", f"rt_file_{second.run_id}_1",
                                                 f"rt_file_{first.run_id}_0", f"rt_file_{first.run_id}_1"]
    from ui import retrain as rt
    assert [name for _, _, name, _ in rt.downloads(first)] == [
        f"run-{first.run_id}-one-shot-magnitude-per-layer-85.4.keras",
        f"run-{first.run_id}-one-shot-magnitude-per-layer-85.4-report.html"]
    continues = [b for b in at.button if b.label == "Continue from this model"]
    assert [b.key for b in continues] == [f"rt_continue_{second.run_id}", f"rt_continue_{first.run_id}"]
    continues[1].click().run()  # the older run's own button
    assert not at.exception and at.session_state["model_entry"].model is first.model


def test_sparse_training_runs_from_the_page_and_shows_every_update():
    from prune_core.train import sparse

    at = page_test("retrain").run()
    at.radio(key="rt_mode").set_value("sparse").run()
    assert not at.exception
    from ui import retrain as rt

    assert rt.MODE_HELP["sparse"] in [c.value for c in at.caption]
    at.selectbox(key="rt_set_sparse_sparse_method").set_value("set")
    next(s for s in at.slider if s.label == "Target sparsity").set_value(80)
    at.number_input[0].set_value(1)
    result = run_and_wait(at)
    assert result.mode == "sparse" and result.settings["sparse_method"] == "set"
    kept = {n: int(m.sum()) for n, m in result.mask_set.kernels.items()}
    sizes = {n: m.size for n, m in result.mask_set.kernels.items()}
    assert kept == {n: sparse.active_count(sizes[n], 0.2) for n in sizes}  # exactly 20% of every layer
    assert [e["step"] for e in result.events] == list(range(result.settings["update_every"], result.settings["end_step"],
                                                            result.settings["update_every"]))
    assert metric_value(at, "Starting connectivity") == f"{result.pruned_accuracy:.2%}"
    caption = next(c.value for c in at.caption if c.value.startswith("Connections moved at each of the"))
    assert caption.startswith(f"Connections moved at each of the {len(result.events)} updates "
                              f"({sum(e['moved'] for e in result.events):,} in all)")
    assert at.query_params["mode"] == "sparse" and at.query_params["sparse_method"] == "set"


def test_the_learning_rate_starts_on_auto_and_the_run_uses_the_measured_rate_for_its_sparsity(data_dir):
    """Every mode starts on Auto (the URL says so); a one-shot run measures (0 epochs, fast) at the rate for the
    candidate's sparsity — 1e-3 for the default 85.4% candidate, 1e-2 for one at 98% — and the summary says it."""
    at = page_test("retrain").run()
    for mode in ("oneshot", "gradual", "iterative", "init", "sparse"):
        at.radio(key="rt_mode").set_value(mode).run()
        assert at.selectbox(key=f"rt_set_{mode}_learning_rate").value == "auto"
        assert at.query_params["learning_rate"] == "auto"
    at.radio(key="rt_mode").set_value("oneshot").run()
    at.number_input[0].set_value(0)
    result = run_and_wait(at)
    assert result.settings["learning_rate"] == 1e-3
    assert f"{result.nonzero_params:,} nonzero of {result.params:,} parameters · took {result.seconds:.1f} s · learning rate 0.001" in [
        c.value for c in at.caption]
    high = page_test("prune", rule="sparsity", same="1", v="98").run()
    next(b for b in high.button if b.label.startswith("Apply")).click().run()
    high.switch_page("pages/retrain.py").run()
    assert not high.exception
    assert high.session_state["candidate"].sparsity >= 0.95
    assert high.selectbox(key="rt_set_oneshot_learning_rate").value == "auto"
    high.number_input[0].set_value(0)
    result = run_and_wait(high)
    assert result.settings["learning_rate"] == 1e-2
    assert f"{result.nonzero_params:,} nonzero of {result.params:,} parameters · took {result.seconds:.1f} s · learning rate 0.01" in [
        c.value for c in high.caption]


def test_the_recipe_search_runs_from_the_page_and_shows_its_best_and_every_candidate(monkeypatch):
    """The page's search goes through the core's halving (a fake candidate trainer with known accuracies keeps it
    fast): the best sentence, the table of all 6 runs and the code that reruns the best."""
    from prune_core.experiments import search

    scores = {("magnitude", "finetune", 1e-3): 0.91, ("magnitude", "finetune", 1e-2): 0.93,
              ("magnitude", "rewind-lr", 1e-3): 0.90, ("magnitude", "rewind-lr", 1e-2): 0.92}

    def fake(shared, payload):
        key = (payload["criterion"], payload["retrain"], payload["learning_rate"])
        return {"pruned_accuracy": 0.5, "final_accuracy": scores[key] + 0.001 * payload["epochs"],
                "sparsity": payload["target"], "nonzero_params": 13_310, "seconds": 0.0}

    monkeypatch.setattr(search, "recipe_task", fake)
    at = page_test("retrain").run()
    assert not at.exception
    at.pills(key="rc_criteria").set_value(["magnitude"])
    at.button(key="rc_btn_find").click().run()
    job = at.session_state["job"]
    job.wait(120)
    assert job.error is None, job.error
    at.run()
    assert not at.exception
    assert "Grid: 1 criterion × fine-tune and learning-rate rewinding × learning rates 0.001, 0.01. 4 candidates × 1 " \
           "epoch, then the best 2 × 2 epochs: 8 epochs of training in all." in [c.value for c in at.caption]
    assert at.success[0].value == ("Best at 95% sparsity: Magnitude |w|, fine-tune, learning rate 0.01 → 93.20% test "
                                   "accuracy after 2 epochs (dense 94.95%).")
    table = at.dataframe[-1].value  # the recipe table is the last on the page
    assert len(table) == 6 and table["Went on"].tolist() == [False, True, False, True, False, False]
    assert 'value=0.95, seed=0), epochs=2, learning_rate=0.01, retrain="finetune", seed=0))' in at.code[0].value
    # every candidate, as it finished, went to the job for the Compare chart, with this model's key
    assert len(job.rounds) == 6 and {r["model_key"] for r in job.rounds} == {"lenet-300-100|266610"}
    assert [r["final_accuracy"] for r in job.rounds][:4] == [0.911, 0.931, 0.901, 0.921]
    assert {r["nonzero_params"] for r in job.rounds} == {13_310}


def test_the_recipe_searchs_controls_are_in_the_link():
    """Issue 25.5: the recipe search's controls write the URL on every change, and a link reopens them."""
    at = page_test("retrain").run()
    assert not at.exception
    at.slider(key="rc_target").set_value(98).run()
    at.select_slider(key="rc_budget").set_value(4).run()
    at.pills(key="rc_criteria").set_value(["magnitude", "wanda"]).run()
    assert (at.query_params["recipe_target"], at.query_params["recipe_budget"],
            at.query_params["recipe_criteria"]) == ("98", "4", "magnitude,wanda")
    link = page_test("retrain", recipe_target="98", recipe_budget="4", recipe_criteria="magnitude,wanda").run()
    assert not link.exception
    assert (link.slider(key="rc_target").value, link.select_slider(key="rc_budget").value,
            link.pills(key="rc_criteria").value) == (98, 4, ["magnitude", "wanda"])
    assert any("Grid: 2 criteria" in c.value for c in link.caption)
