"""AppTest: the Deploy page — reached from a finished run on the Retrain page, conversions in a background job,
the table's numbers are the core's, user-supplied names are shown as text."""

import pytest

from tests.apptest import button, job_result, page_test
from ui.text import md


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    return tmp_path


def test_deploy_this_model_from_retrain_converts_and_shows_the_cores_numbers():
    at = page_test("prune", granularity="unit", rule="sparsity", v="50").run()
    next(b for b in at.button if b.label.startswith("Apply")).click().run()  # a neuron candidate: compact
    at.switch_page("pages/retrain.py").run()
    button(at, "Run").click().run()
    run = job_result(at)
    at.session_state["deploy_settings"] = dict(calibration=100, budget=1.0, int8=False, keras_int8=False)
    button(at, "Deploy this model").click().run()
    assert not at.exception
    assert at.session_state["job"].kind == "deploy"  # started on arrival
    at.switch_page("pages/deploy.py")  # AppTest reruns the page it was told, not the one the script switched to
    report = job_result(at)
    assert [r.name for r in report.rows] == ["dense", "pruned", "compact"]  # int8 is covered in test_deploy
    assert report.row("pruned").params == run.params and report.row("compact").params == run.compact["params"]
    table = at.dataframe[0].value
    assert list(table["export"]) == [r.name for r in report.rows]
    assert list(table["TFLite accuracy"]) == [f"{r.tflite_accuracy:.2%}" if r.tflite_accuracy is not None else "—"
                                              for r in report.rows]
    assert table["× dense"][0] == "1.00×" and table["TFLite latency"][1] == f"{report.row('pruned').latency_us:.1f} µs"
    assert any(report.verdict().split(":")[0][:40] in i.value for i in at.info)
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) == len(report.files()) and "pruned (.tflite)" in labels
    # the Retrain page still shows its run after the deploy job took the session's job slot
    at.switch_page("pages/retrain.py").run()
    assert not at.exception and any(h.value.startswith("Last run") for h in at.subheader)

    # a reload is a new session: the run is still deployable, its models read back from disk
    from prune_core.io.run_files import RunFiles

    assert sorted(RunFiles().available("default", run.run_id)) == ["compact", "dense", "pruned"]
    fresh = page_test("deploy").run()
    assert not fresh.exception
    assert "1 run(s) of this workspace have their models saved on disk" in fresh.info[0].value
    assert fresh.selectbox(key="deploy_history_choice").value == run.run_id
    next(b for b in fresh.button if b.label == "Deploy this run").click().run()
    assert not fresh.exception and not fresh.error
    loaded = fresh.session_state["deploy_source"]
    assert loaded.pruned.count_params() == run.params and loaded.compact.count_params() == run.compact["params"]
    for mine, theirs in zip(loaded.pruned.get_weights(), run.model.get_weights()):
        assert (mine == theirs).all()
    assert loaded.sparsity == pytest.approx(run.sparsity)
    assert any(b.label == "Convert and measure" for b in fresh.button)


def test_without_a_run_the_current_model_is_measured_alone_and_its_name_stays_text():
    at = page_test("deploy").run()
    assert not at.exception and "No finished run" in at.info[0].value
    assert "model_entry" not in at.session_state  # the page did not load a model (nor TensorFlow) to say so
    at.switch_page("pages/model.py").run()  # loads the default model
    entry = at.session_state["model_entry"]
    entry.name = "# **bold** <b>x</b> [link](https://evil.example)"
    at.switch_page("pages/deploy.py").run()
    at.session_state["deploy_settings"] = dict(calibration=100, budget=1.0, int8=False, keras_int8=False)
    button(at, "Measure the current model alone").click().run()
    assert not at.exception
    shown = at.markdown[0].value
    assert md(entry.name) in shown and r"\*\*bold\*\* \<b\>x\</b\> \[link\]" in shown  # literal text on screen
    button(at, "Convert and measure").click().run()
    report = job_result(at)
    assert [r.name for r in report.rows] == ["dense"]
    assert at.info[0].value.startswith("Only the dense model is here")
    assert at.dataframe[0].value["TFLite file · gzip"][0].startswith("1.07 MB")


def test_any_finished_run_can_be_deployed_and_its_report_stays_with_it():
    at = page_test("retrain").run()
    runs = []
    for seed in (0, 1):
        at.number_input[0].set_value(0)  # measure only: seconds
        at.number_input[1].set_value(seed)
        button(at, "Run").click().run()
        runs.append(job_result(at))
    first, second = runs
    at.switch_page("pages/deploy.py").run()
    assert not at.exception
    box = at.selectbox(key="dp_source")
    assert box.value == f"run-{second.run_id}"  # the newest, chosen by default
    assert box.options[:2] == [f"Run #{second.run_id} · one-shot · magnitude · per layer · 85.4% · "
                               f"{second.final_accuracy:.2%}",
                               f"Run #{first.run_id} · one-shot · magnitude · per layer · 85.4% · "
                               f"{first.final_accuracy:.2%}"]
    assert box.options[2].startswith("The current model alone: LeNet-300-100")
    box.set_value(f"run-{first.run_id}").run()
    assert not at.exception and at.session_state["deploy_source"].pruned is first.model
    assert md(f"#{first.run_id}") in at.markdown[0].value

    at.session_state["deploy_settings"] = dict(calibration=100, budget=1.0, int8=False, keras_int8=False)
    button(at, "Convert and measure").click().run()
    report = job_result(at)
    assert report.source_key == f"run-{first.run_id}" and at.dataframe[0].value["export"].tolist() == ["dense", "pruned"]
    at.selectbox(key="dp_source").set_value(f"run-{second.run_id}").run()
    assert not at.exception and not at.dataframe  # not measured yet
    at.selectbox(key="dp_source").set_value(f"run-{first.run_id}").run()
    assert at.dataframe[0].value["export"].tolist() == ["dense", "pruned"]  # its report is still there
    at.switch_page("pages/retrain.py").run()  # and the runs are still listed on the Retrain page
    assert [b.key for b in at.button if b.label == "Continue from this model"] == [
        f"rt_continue_{second.run_id}", f"rt_continue_{first.run_id}"]
