"""Exports open: .keras loads with safe_mode, the compact model is smaller, TFLite bytes carry the TFLite
identifier and compute the same outputs, the CSV parses, the HTML holds the settings and the charts."""

import io
import re

import numpy as np
import pandas as pd
import pytest

from prune_core.viz import export as ex
from prune_core.viz import figures as fg
from prune_core.methods import masks as mk
from prune_core.experiments import runs
from prune_core.train import regularize
from prune_core.io.history import RunStore


def tiny_net(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,), name="features")
    x = keras.layers.Dense(8, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


@pytest.fixture(scope="module")
def model():
    return tiny_net()


@pytest.fixture(scope="module")
def sample():
    return np.random.default_rng(0).normal(size=(16, 6)).astype("float32")


def load(data: bytes, tmp_path, name="m.keras"):
    import keras
    path = tmp_path / name
    path.write_bytes(data)
    return keras.saving.load_model(path, safe_mode=True)


def test_keras_bytes_load_with_safe_mode_and_no_optimizer(model, sample, tmp_path):
    import keras
    pruned = mk.apply_masks(model, mk.build_masks({"h": np.abs(model.get_layer("h").kernel.numpy())},
                                                  "sparsity", 0.5))
    pruned.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    loaded = load(ex.keras_bytes(pruned), tmp_path)
    assert getattr(loaded, "optimizer", None) is None
    assert np.count_nonzero(loaded.get_layer("h").kernel.numpy()) == 24
    np.testing.assert_allclose(loaded(sample).numpy(), pruned(sample).numpy(), rtol=0, atol=0)


def test_keras_bytes_strip_the_training_l1(model, tmp_path):
    loaded = load(ex.keras_bytes(regularize.with_l1(model, 0.01)), tmp_path)
    assert not regularize.has_l1(loaded)


def test_compact_bytes_are_a_smaller_equivalent_model(model, sample, tmp_path):
    units = {"h": np.array([True, False] * 4)}
    masked = mk.apply_masks(model, mk.MaskSet(kernels={"h": np.broadcast_to(units["h"], (6, 8)).copy()},
                                              units=units, granularity="unit"))
    small = load(ex.compact_bytes(masked, units), tmp_path)
    assert small.get_layer("h").units == 4 and small.count_params() == 6 * 4 + 4 + 4 * 3 + 3
    np.testing.assert_allclose(small(sample).numpy(), masked(sample).numpy(), atol=1e-6)


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_tflite_bytes_start_with_the_identifier_and_compute_the_same(model, sample):
    result = ex.tflite_bytes(model)
    assert result.ok and result.reason == "" and result.method == "TFLiteConverter.from_keras_model"
    assert result.data[4:8] == ex.TFLITE_IDENTIFIER and result.size == len(result.data)
    import tensorflow as tf
    if not hasattr(tf.lite, "Interpreter"):  # deprecated in TF 2.20+, may be gone later
        pytest.skip("tf.lite.Interpreter is not available to run the file")
    interpreter = tf.lite.Interpreter(model_content=result.data)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], sample[:1])
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(out, model(sample[:1]).numpy(), atol=1e-6)


def test_tflite_failure_gives_a_reason_not_an_exception(model, monkeypatch):
    import tensorflow as tf

    def refuse(*args, **kwargs):
        raise RuntimeError("op not supported\nsecond line")

    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_keras_model", staticmethod(refuse))
    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_saved_model", staticmethod(refuse))
    result = ex.tflite_bytes(model)
    assert not result.ok and result.data is None and result.size == 0
    assert result.reason == ("TensorFlow Lite could not convert this model — from_keras_model: RuntimeError: op not "
                             "supported second line; from_saved_model: RuntimeError: op not supported second line")


def test_history_csv_parses(tmp_path):
    store = RunStore(tmp_path / "runs.sqlite")
    store.add("default", {"mode": "oneshot", "final_accuracy": 0.9, "settings": {"epochs": 1}})
    frame = pd.read_csv(io.StringIO(ex.history_csv(store, "default")))
    assert frame[["run_id", "mode", "final_accuracy", "settings.epochs"]].values.tolist() == [[1, "oneshot", 0.9, 1]]


def test_html_report_is_self_contained_with_charts_and_escaped_settings():
    sweep = pd.DataFrame({"criterion": ["magnitude"] * 2, "sparsity": [0.5, 0.9], "pruned_accuracy": [0.9, 0.5],
                          "final_accuracy": [0.97, 0.95]})
    html = ex.html_report(title="LeNet <report>", settings={"criterion": "magnitude", "note": "<script>x</script>"},
                          metrics={"final accuracy": 0.97},
                          figures=[("Sweep.", fg.criteria_sweep_figure(sweep)),
                                   fg.accuracy_size_figure([{"mode": "oneshot", "final_accuracy": 0.9,
                                                             "nonzero_params": 10}])])
    assert html.startswith("<!DOCTYPE html>") and "<title>LeNet &lt;report&gt;</title>" in html
    assert 'id="chart-0"' in html and 'id="chart-1"' in html and '<p class="caption">Sweep.</p>' in html
    assert "<td>Criterion</td><td>magnitude</td>" in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert '<td class="num">0.97</td>' in html
    assert 'src="https://cdn.plot.ly' not in html
    assert len(re.findall(r"plotly\.js v\d", html)) == 1  # the library inlined once, for both charts
    assert len(html) > 3_000_000
    small = ex.html_report(title="t", figures=[fg.criteria_sweep_figure(sweep)], include_plotlyjs="cdn")
    assert 'src="https://cdn.plot.ly' in small and len(small) < 100_000


def test_run_report_of_a_real_iterative_run():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(192, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    result = runs.run_iterative(tiny_net(), (x[:128], y[:128], x[128:], y[128:]), step_fraction=0.5,
                                target_sparsity=0.75, tolerance=1.0, latency_repeats=0, settings={"architecture": "tiny"})
    html = ex.run_report(result, include_plotlyjs="cdn")
    assert 'id="chart-0"' in html and "Iterative pruning" in html
    assert "<td>Architecture</td><td>tiny</td>" in html and "<td>Pruned per round</td><td>50%</td>" in html
    assert "<td>Target sparsity</td><td>75%</td>" in html and "<td>Tolerance</td><td>100 pts</td>" in html
    assert "<td>Mode</td><td>iterative</td>" in html and "<td>Batch size</td><td>32</td>" in html
    assert "<th>Metric</th><th>This run</th><th>Dense model</th>" in html and "<td>Final accuracy</td>" in html
    assert "Sparsity per layer" in html and "target sparsity 75.0% reached" in html
    for raw in ("step_fraction", "batch_size", "target_sparsity", "learning_rate", "max_rounds", "fine_tune_epochs",
                "<td>0.75</td>", "<td>target sparsity 0.75"):
        assert raw not in html, raw
    assert "max-width: 1000px" in html and 'class="scroll"' in html
    record = result.to_record()
    record["history"] = {"loss": [1.0, 0.5], "accuracy": [0.5, 0.6]}
    record["rounds"] = []
    html = ex.run_report(record, include_plotlyjs="cdn")
    assert 'id="chart-0"' in html and "Loss and accuracy per epoch" in html


def test_one_shot_report_names_settings_for_people_and_escapes_them():
    record = {"mode": "oneshot", "label": "oneshot · magnitude · layer · 90.0%",
              "settings": {"architecture": "lenet-300-100", "model": "<b>mine</b>", "criterion": "magnitude",
                           "granularity": "unit", "rule": "sparsity", "scope": "layer",
                           "values": {"dense1": 50.0, "dense2": 60.0}, "batch_size": 32, "learning_rate": 0.01,
                           "l1": 0.0, "retrain": "rewind-lr", "reconstruct": False, "target_sparsity": 0.9},
              "dense_accuracy": 0.98, "final_accuracy": 0.97, "sparsity": 0.9, "layer_sparsity": {"dense1": 0.5}}
    html = ex.run_report(record, include_plotlyjs="cdn")
    assert "<title>Pruning run: one-shot · magnitude · per layer · 90.0%</title>" in html
    for shown in ("<td>Architecture</td><td>LeNet-300-100</td>", "<td>Model</td><td>&lt;b&gt;mine&lt;/b&gt;</td>",
                  "<td>Criterion</td><td>Magnitude |w|</td>", "<td>Granularity</td><td>whole neurons / filters</td>",
                  "<td>Scope</td><td>per layer</td>", "<td>Value</td><td>dense1 50%, dense2 60%</td>",
                  "<td>Batch size</td><td>32</td>", "<td>Learning rate</td><td>0.01</td>",
                  "<td>L1 penalty λ</td><td>off</td>", "<td>Retraining</td><td>learning-rate rewinding</td>",
                  "<td>Reconstruction first</td><td>no</td>", "<td>Target sparsity</td><td>90%</td>",
                  "<th>Layer</th><th>Sparsity</th></tr></thead><tbody><tr><td>dense1</td><td>50.00%</td>"):
        assert shown in html, shown
    for raw in ("batch_size", "target_sparsity", "learning_rate", "oneshot", '{"dense1"', "<b>mine</b>"):
        assert raw not in html, raw
    assert "max-width: 1000px" in html


def test_words_for_people():
    assert ex.human_label("init · snip · global · 90.0% · rewind-weights") == \
        "at initialization · snip · global · 90.0% · weight rewinding"
    assert ex.human_label("my own label") == "my own label"
    assert ex.setting_name("batch_size") == "Batch size" and ex.setting_name("some_new_key") == "Some new key"
    assert ex.setting_text("values", '{"dense1": 50.0, "dense2": 60.0}', {"rule": "sparsity"}) == \
        "dense1 50%, dense2 60%"
    assert ex.setting_text("values", {"h": 0.3}, {"rule": "coefficient"}) == "h 0.3"
    assert ex.setting_text("values", "2:4", {"rule": "nm"}) == "2:4"
    assert ex.setting_text("value", 0.9, {"rule": "sparsity"}) == "90%"
    assert ex.setting_text("tolerance", 0.01) == "1 pts" and ex.setting_text("initial_sparsity", 0.855) == "85.5%"
    assert ex.model_name("mlp-128 · trained here") == "MLP 784-128-10 · trained here"


def test_safe_filename():
    assert ex.safe_filename("run #3: 95%/global", ".html") == "run-3-95-global.html"
    assert ex.safe_filename("···") == "model"
