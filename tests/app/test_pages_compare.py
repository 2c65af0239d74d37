"""AppTest: the Compare page — run history from the SQLite store (surviving a new session), workspaces,
delete with a confirmation, the accuracy-vs-size chart's data, a two-point sweep, CSV and HTML export."""

import io
import json

import pandas as pd
import pytest

from prune_core.io import data, history
from prune_core.experiments import sweeps
from tests.apptest import metric_value, page_test


def record(final, nonzero, gzip, *, mode="oneshot", label=None, criterion="magnitude", dense=0.95, pruned=None,
           sparsity=None, latency=5.0):
    """A run record shaped like RunResult.to_record() (LeNet-300-100 sizes)."""
    sparsity = 1 - nonzero / 266_610 if sparsity is None else sparsity
    return {"mode": mode, "label": label or f"{mode} · {criterion} · {sparsity:.1%}",
            "settings": {"criterion": criterion, "granularity": "weight", "rule": "sparsity", "scope": "layer",
                         "values": sparsity, "mode": mode, "epochs": 1, "seed": 0, "l1": 0.0},
            "dense_accuracy": dense, "pruned_accuracy": pruned if pruned is not None else final - 0.05,
            "final_accuracy": final, "final_loss": 0.2, "sparsity": sparsity,
            "layer_sparsity": {"dense1": sparsity, "dense2": sparsity, "output": sparsity},
            "params": 266_610, "nonzero_params": nonzero, "float32_bytes": 1_066_440, "sparse_bytes": 500_000,
            "gzip_bytes": gzip, "latency_ms": latency, "seconds": 3.5,
            "dense": {"params": 266_610, "nonzero_params": 266_610, "gzip_bytes": 987_241, "latency_ms": 10.0,
                      "accuracy": dense},
            "history": {"loss": [0.1]}, "rounds": [], "events": [], "stopped_because": "", "compact": None}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(history.ENV_DATA_DIR, str(tmp_path))
    return tmp_path


@pytest.fixture
def store(data_dir):
    return history.RunStore(data_dir / history.DB_NAME)


@pytest.fixture
def two_runs(store):
    first = store.add("default", record(0.9605, 133_510, 590_049))
    second = store.add("default", record(0.9385, 27_030, 191_800, mode="gradual"))
    return first, second


def chart_traces(at, index=0) -> dict:
    """{trace name: (x, y)} of the page's plotly chart number ``index``."""
    spec = json.loads(at.get("plotly_chart")[index].proto.spec)
    return {t["name"]: (t.get("x"), t.get("y")) for t in spec["data"]}


def test_empty_workspace_points_to_the_retrain_page():
    at = page_test("compare").run()
    assert not at.exception
    assert "No runs in the workspace “default” yet" in at.info[0].value
    assert "Retrain" in at.info[0].value
    assert [link.proto.page for link in at.get("page_link")] == ["retrain"]
    assert not at.dataframe and not at.get("plotly_chart")


def test_history_table_and_chart_show_the_stored_runs_and_survive_a_new_session(two_runs):
    for _ in range(2):  # a second AppTest is a new session (a browser reload) on the same data directory
        at = page_test("compare").run()
        assert not at.exception
        assert metric_value(at, "Runs") == "2"
        assert metric_value(at, "Best final accuracy") == "96.05%"
        assert metric_value(at, "Fewest nonzero parameters") == "27,030"
        table = at.dataframe[0].value
        assert table["Run"].tolist() == list(two_runs)
        assert table["Final acc."].tolist() == pytest.approx([96.05, 93.85])
        assert table["Δ vs dense"].tolist() == pytest.approx([1.05, -1.15])
        assert table["Nonzero params"].tolist() == [133_510, 27_030]
        assert table["gzip"].tolist() == pytest.approx([0.590049, 0.1918])  # MB: "30.629 MB" fits, "30628.9 kB" did not
        assert table["Mode"].tolist() == ["one-shot", "gradual"]
        assert table["Criterion"].tolist() == ["Magnitude |w|", "Magnitude |w|"]
        traces = chart_traces(at)
        assert traces["oneshot"] == ([133_510], [pytest.approx(96.05)])
        assert traces["gradual"] == ([27_030], [pytest.approx(93.85)])
        assert traces["dense"] == ([266_610], [pytest.approx(95.0)])
        # Pareto: the 27k run, then the 133k run (more accurate than dense, smaller) — dense is dominated
        assert traces["Pareto frontier"][0] == [27_030, 133_510]


def test_size_axis_switches_to_gzip_kilobytes(two_runs):
    at = page_test("compare").run()
    at.segmented_control(key="cmp_size_axis").set_value("gzip_kb").run()
    assert not at.exception
    traces = chart_traces(at)
    assert traces["oneshot"][0] == [pytest.approx(590.049)]
    assert traces["dense"][0] == [pytest.approx(987.241)]


def test_workspaces_are_isolated_and_can_be_created(store):
    store.add("default", record(0.96, 133_510, 590_049))
    store.add("lenet-l1", record(0.91, 13_720, 130_900, label="with L1"))
    at = page_test("compare").run()
    assert at.dataframe[0].value["Label"].tolist() != ["with L1"]
    at.selectbox[0].set_value("lenet-l1").run()
    assert not at.exception
    assert at.session_state["workspace"] == "lenet-l1"
    assert at.dataframe[0].value["Label"].tolist() == ["with L1"]
    assert metric_value(at, "Runs") == "1"

    at.text_input[0].input("fresh runs")
    next(b for b in at.button if b.label == "Create and switch").click().run()
    assert not at.exception
    assert at.session_state["workspace"] == "fresh runs"
    assert "Created the workspace “fresh runs”" in at.success[0].value
    assert "No runs in the workspace “fresh runs” yet" in at.info[0].value
    assert at.selectbox[0].value == "fresh runs"
    assert store.workspaces() == ["default", "lenet-l1", "fresh runs"]

    at.text_input[0].input("../bad/name")
    next(b for b in at.button if b.label == "Create and switch").click().run()
    assert "is not allowed" in at.error[0].value
    assert at.session_state["workspace"] == "fresh runs"


def test_deleting_a_run_asks_first(store, two_runs):
    first, second = two_runs
    at = page_test("compare").run()
    at.selectbox(key="cmp_delete_choice").set_value(second).run()
    at.button(key="cmp_delete").click().run()
    assert not at.exception
    assert f"Delete run #{second}" in at.warning[0].value
    assert store.count("default") == 2  # nothing deleted yet
    at.button(key="cmp_delete_no").click().run()
    assert store.count("default") == 2 and not at.warning

    at.selectbox(key="cmp_delete_choice").set_value(second).run()
    at.button(key="cmp_delete").click().run()
    at.button(key="cmp_delete_yes").click().run()
    assert not at.exception
    assert [r["run_id"] for r in store.records("default")] == [first]
    assert at.dataframe[0].value["Run"].tolist() == [first]
    assert f"Deleted run #{second}" in at.success[0].value


def test_csv_and_html_report_hold_the_runs(store, two_runs):
    from ui import compare as cu

    at = page_test("compare").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Run history (CSV)", "HTML report"]
    table = pd.read_csv(io.StringIO(cu.csv_text("default")))
    assert table["run_id"].tolist() == list(two_runs)
    assert table["final_accuracy"].tolist() == [0.9605, 0.9385]
    assert table["settings.criterion"].tolist() == ["magnitude", "magnitude"]
    html = cu.html_report("default", store.records("default"), "nonzero_params").decode()
    assert html.startswith("<!DOCTYPE html>") and 'id="chart-0"' in html
    assert "96.05%" in html and "133,510" in html and "Pareto frontier" in html


def test_two_point_sweep_runs_in_the_background_and_shows_the_core_numbers():
    at = page_test("compare").run()
    at.pills(key="cmp_sweep_criteria").set_value(["magnitude"])
    at.pills(key="cmp_sweep_sparsities").set_value([90, 50])
    at.select_slider(key="cmp_sweep_epochs").set_value(0)
    next(b for b in at.button if b.label == "Run sweep").click().run()
    assert not at.exception
    job = at.session_state["job"]
    job.wait(120)
    assert job.error is None, job.error
    at.run()
    assert not at.exception
    sweep = at.session_state["cmp_sweep"]
    entry = at.session_state["model_entry"]
    expected = sweeps.criteria_sweep(entry.model, data.load_mnist("bundled"), ["magnitude"], [0.5, 0.9],
                                     fine_tune_epochs=0)
    assert sweep.frame["pruned_accuracy"].tolist() == expected["pruned_accuracy"].tolist()
    table = at.dataframe[-1].value
    assert table["Sparsity"].tolist() == [50, 90]
    assert table["Final acc."].tolist() == pytest.approx([100 * a for a in expected["final_accuracy"]])
    traces = chart_traces(at, -1)
    assert traces["Magnitude |w|"] == ([50, 90], [pytest.approx(100 * a) for a in expected["final_accuracy"]])
    assert table["Criterion"].tolist() == ["Magnitude |w|"] * 2
    assert table["Time"].tolist() == ["—", "—"]  # 0 epochs: no training to time
    at.run()  # another rerun: the sweep is still there
    assert at.dataframe[-1].value["Sparsity"].tolist() == [50, 90]
    # the estimate now comes from the loaded model's own timed evaluation and names it and its data
    numbers = entry.measurements["mnist-bundled"]
    points = len(sweeps_criteria()) * 6
    ds = data.load_mnist("bundled")
    seconds = sweeps.estimate_sweep_seconds(points, 1, eval_seconds=numbers["eval_seconds"],
                                            test_samples=len(ds.y_test), train_samples=len(ds.y_train))
    from prune_core.viz import words
    caption = next(c.value for c in at.caption if "fine-tune epoch on" in c.value)
    assert caption.startswith(f"{words.duration(seconds).capitalize()} for {points} points with 1 fine-tune epoch on "
                              f"LeNet-300-100 · default baseline and {ds.name} (extrapolated from one timed "
                              "evaluation of this model")


def test_per_layer_values_make_one_text_column_and_every_column_one_type(store):
    import pyarrow as pa

    uniform = record(0.96, 133_510, 590_049)
    uniform["settings"]["values"] = 50.0  # the Prune page's slider value, in percent
    per_layer = record(0.95, 100_000, 500_000, mode="gradual")
    per_layer["settings"].update(values={"dense1": 50.0, "dense2": 60.0}, batch_size=32, target_sparsity=0.9)
    store.add("default", uniform)
    store.add("default", per_layer)
    at = page_test("compare").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["Value"].tolist() == ["50%", "dense1 50%, dense2 60%"]
    assert table["Batch size"].tolist() == ["—", "32"] and table["Target sparsity"].tolist() == ["—", "90%"]
    assert not [c for c in table.columns if "_" in c or c != c.strip()]  # named for people, no raw keys
    for column in table.columns:
        kinds = {type(v) for v in table[column]}
        assert len(kinds) == 1, (column, kinds)
    pa.Table.from_pandas(table)  # what st.dataframe does: no ArrowInvalid (the server log's traceback)


def test_html_report_is_laid_out_for_a_person(store):
    from ui import compare as cu

    per_layer = record(0.95, 100_000, 500_000)
    per_layer["settings"].update(values={"dense1": 50.0}, batch_size=32, target_sparsity=0.9,
                                 model="<script>alert(1)</script>")
    store.add("default", per_layer)
    html = cu.html_report("default", store.records("default"), "nonzero_params").decode()
    assert "max-width: 1000px" in html and 'class="scroll"' in html
    for shown in ("<th>Batch size</th>", "<th>Target sparsity</th>", "<td>90%</td>", "<td>dense1 50%</td>",
                  "<td>one-shot</td>", "&lt;script&gt;alert(1)&lt;/script&gt;"):
        assert shown in html, shown
    for raw in ("batch_size", "target_sparsity", "target sparsity 0.9", '{"dense1"', "<td>oneshot</td>",
                "<script>alert(1)</script>"):
        assert raw not in html, raw


def test_a_sweep_after_a_one_shot_leaves_its_compact_download():
    at = page_test("prune", granularity="unit", rule="sparsity", v="50").run()
    next(b for b in at.button if b.label.startswith("Apply")).click().run()  # a neuron candidate: compact
    at.switch_page("pages/retrain.py").run()
    at.number_input[0].set_value(0)
    next(b for b in at.button if b.label == "Run").click().run()
    at.session_state["job"].wait(300)
    at.run()
    run = at.session_state["job"].result
    assert run.compact_model is not None
    files = [b.proto.label for b in at.get("download_button")]
    assert files == ["Pruned model (.keras)", "Compact model (.keras)", "Report (.html)"]

    at.switch_page("pages/compare.py").run()
    at.pills(key="cmp_sweep_criteria").set_value(["magnitude"])
    at.pills(key="cmp_sweep_sparsities").set_value([50])
    at.select_slider(key="cmp_sweep_epochs").set_value(0)
    next(b for b in at.button if b.label == "Run sweep").click().run()
    at.session_state["job"].wait(120)
    at.run()
    assert not at.exception and at.session_state["job"].kind == "sweep"
    at.switch_page("pages/retrain.py").run()
    assert not at.exception
    assert [b.proto.label for b in at.get("download_button")] == files
    assert any(h.value.startswith("Last run") for h in at.subheader)


def of_model(rec: dict, architecture: str, params: int, model: str | None = None) -> dict:
    """``rec`` as a run of another model: its architecture and the dense parameter count."""
    return {**rec, "settings": {**rec["settings"], "architecture": architecture, "model": model or architecture},
            "dense": {**rec["dense"], "params": params}}


@pytest.fixture
def two_models(store):
    """Two LeNet runs, then one ResNet-50 run (uploaded): the newest run is ResNet's."""
    lenet = [store.add("default", of_model(record(0.9605, 133_510, 590_049), "lenet-300-100", 266_610)),
             store.add("default", of_model(record(0.9385, 27_030, 191_800, mode="gradual"), "lenet-300-100", 266_610))]
    resnet = dict(record(0.10, 21_000_000, 30_628_900, dense=0.11), params=23_608_202)
    resnet["dense"] = {**resnet["dense"], "nonzero_params": 23_608_202, "gzip_bytes": 87_000_000}
    resnet_id = store.add("default", of_model(resnet, "uploaded (Functional)", 23_608_202, "resnet50.keras · uploaded"))
    return lenet, resnet_id


def test_runs_of_two_models_are_never_compared_on_one_chart(two_models):
    lenet, resnet = two_models
    at = page_test("compare").run()
    assert not at.exception
    # no model loaded: the newest run's model (ResNet-50) is shown, with its own baseline and numbers
    assert at.selectbox(key="cmp_model").value == "uploaded (Functional)|resnet50.keras|23608202"
    assert at.selectbox(key="cmp_model").options == [
        "resnet50.keras (uploaded) · 23,608,202 parameters (1 run)",
        "LeNet-300-100 · 266,610 parameters (2 runs)",
        "All models (2 models, 3 runs, each on its own chart)"]
    assert metric_value(at, "Runs") == "1" and metric_value(at, "Best final accuracy") == "10.00%"
    table = at.dataframe[0].value
    assert table["Run"].tolist() == [resnet]
    assert table["Model"].tolist() == ["resnet50.keras (uploaded) · 23,608,202 parameters"]
    assert table["gzip"].tolist() == pytest.approx([30.6289])
    traces = chart_traces(at)
    assert traces["dense"] == ([23_608_202], [pytest.approx(11.0)])

    at.selectbox(key="cmp_model").set_value("lenet-300-100|266610").run()
    assert metric_value(at, "Runs") == "2" and metric_value(at, "Best final accuracy") == "96.05%"
    assert at.dataframe[0].value["Run"].tolist() == lenet
    traces = chart_traces(at)
    assert traces["dense"] == ([266_610], [pytest.approx(95.0)])
    assert traces["Pareto frontier"][0] == [27_030, 133_510]

    at.selectbox(key="cmp_model").set_value("all").run()
    assert not at.exception
    assert metric_value(at, "Runs") == "3"
    assert at.dataframe[0].value["Model"].tolist() == ["LeNet-300-100 · 266,610 parameters"] * 2 + [
        "resnet50.keras (uploaded) · 23,608,202 parameters"]
    # one chart per model, each with its own dense star
    assert [chart_traces(at, i)["dense"][0] for i in range(2)] == [[23_608_202], [266_610]]


def test_the_sweep_estimate_names_the_model_it_is_for():
    at = page_test("compare").run()
    caption = next(c.value for c in at.caption if "fine-tune epoch on" in c.value)
    points = len(sweeps_criteria()) * 6
    seconds = points * (0.1 + 3.5)
    from prune_core.viz import words
    assert caption.startswith(f"{words.duration(seconds).capitalize()} for {points} points with 1 fine-tune epoch on "
                              "LeNet-300-100 · default baseline and the bundled digits")


def sweeps_criteria():
    import prune_core as pc

    return list(pc.CRITERIA)


def test_the_model_choice_is_in_the_link_and_a_link_reopens_it(two_models):
    at = page_test("compare", model="lenet-300-100|266610").run()  # a link that chose LeNet
    assert not at.exception
    assert at.selectbox(key="cmp_model").value == "lenet-300-100|266610"
    assert metric_value(at, "Runs") == "2"
    at.selectbox(key="cmp_model").set_value("all").run()
    assert at.query_params["model"] == "all"  # the link follows the choice
    stale = page_test("compare", model="a model no longer in the history").run()
    assert not stale.exception  # falls back to the default: the newest run's model
    assert stale.selectbox(key="cmp_model").value == "uploaded (Functional)|resnet50.keras|23608202"
    assert stale.query_params["model"] == "uploaded (Functional)|resnet50.keras|23608202"


def _recipe_job(model_key, rows, running=None):
    from ui import jobs

    thread = None
    if running is not None:  # a search still going: its thread waits for the test
        import threading

        thread = threading.Thread(target=running.wait, daemon=True)
        thread.start()
    job = jobs.Job(name="Recipe search (2 candidates, 98% sparsity)", kind="recipe", thread=thread)
    job.rounds = [{**row, "model_key": model_key} for row in rows]
    return job


CANDIDATES = [
    {"round": 1, "epochs": 1, "criterion": "magnitude", "retrain": "finetune", "learning_rate": 0.01,
     "final_accuracy": 0.9210, "nonzero_params": 5_734, "gzip_bytes": 90_000, "sparsity": 0.98},
    {"round": 1, "epochs": 1, "criterion": "wanda", "retrain": "rewind-lr", "learning_rate": 0.001,
     "final_accuracy": 0.8855, "nonzero_params": 5_734, "gzip_bytes": 91_000, "sparsity": 0.98},
    {"round": 1, "epochs": 1, "criterion": "taylor", "retrain": "finetune", "learning_rate": 0.001,
     "failed": "out of memory", "final_accuracy": float("nan"), "nonzero_params": None},
]


@pytest.mark.parametrize("searching", [False, True])
def test_recipe_search_candidates_join_their_models_chart(store, two_runs, searching):
    """Issue 24: each finished candidate of the recipe search is a point on its model's accuracy-vs-size chart (a
    failed one has none), while the search runs (a chart redrawn each second) and after it."""
    import threading

    from ui import jobs

    key = next(iter(history.group_by_model(store.records("default"))))
    release = threading.Event() if searching else None
    at = page_test("compare")
    at.session_state[jobs.KEY] = _recipe_job(key, CANDIDATES, running=release)
    at.run()
    try:
        assert not at.exception
        traces = chart_traces(at)
        assert traces["recipe candidate"] == ([5_734, 5_734], [100 * 0.9210, 100 * 0.8855])  # as the chart computes %
        assert {"oneshot", "gradual", "dense"} <= set(traces)
        caption = next(c.value for c in at.caption if "recipe candidate" in c.value)
        assert caption.startswith("“recipe candidate”: 2 candidates of the recipe search on this model")
        assert ("more join as they finish" in caption) == searching
        charts = [c.key for c in at.get("plotly_chart")]
        assert any(k and k.startswith("cmp_accuracy_size_live_") for k in charts) == searching
    finally:
        if release is not None:
            release.set()


def test_a_recipe_search_on_another_model_stays_off_this_chart(store, two_runs):
    from ui import jobs

    at = page_test("compare")
    at.session_state[jobs.KEY] = _recipe_job("some other model", CANDIDATES)
    at.run()
    assert not at.exception and "recipe candidate" not in chart_traces(at)
