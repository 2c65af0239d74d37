"""prune_core.viz.report: the HTML report is self-contained, holds the settings (in words, escaped) and the charts."""

import re

import numpy as np
import pandas as pd

from prune_core.experiments import runs
from prune_core.viz import report
from prune_core.viz import figures as fg


def tiny_net(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,), name="features")
    x = keras.layers.Dense(8, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


def test_html_report_is_self_contained_with_charts_and_escaped_settings():
    sweep = pd.DataFrame({"criterion": ["magnitude"] * 2, "sparsity": [0.5, 0.9], "pruned_accuracy": [0.9, 0.5],
                          "final_accuracy": [0.97, 0.95]})
    html = report.html_report(title="LeNet <report>", settings={"criterion": "magnitude", "note": "<script>x</script>"},
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
    small = report.html_report(title="t", figures=[fg.criteria_sweep_figure(sweep)], include_plotlyjs="cdn")
    assert 'src="https://cdn.plot.ly' in small and len(small) < 100_000


def test_run_report_of_a_real_iterative_run():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(192, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    result = runs.run_iterative(tiny_net(), (x[:128], y[:128], x[128:], y[128:]), step_fraction=0.5,
                                target_sparsity=0.75, tolerance=1.0, latency_repeats=0, settings={"architecture": "tiny"})
    html = report.run_report(result, include_plotlyjs="cdn")
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
    html = report.run_report(record, include_plotlyjs="cdn")
    assert 'id="chart-0"' in html and "Loss and accuracy per epoch" in html


def test_one_shot_report_names_settings_for_people_and_escapes_them():
    record = {"mode": "oneshot", "label": "oneshot · magnitude · layer · 90.0%",
              "settings": {"architecture": "lenet-300-100", "model": "<b>mine</b>", "criterion": "magnitude",
                           "granularity": "unit", "rule": "sparsity", "scope": "layer",
                           "values": {"dense1": 50.0, "dense2": 60.0}, "batch_size": 32, "learning_rate": 0.01,
                           "l1": 0.0, "retrain": "rewind-lr", "reconstruct": False, "target_sparsity": 0.9},
              "dense_accuracy": 0.98, "final_accuracy": 0.97, "sparsity": 0.9, "layer_sparsity": {"dense1": 0.5}}
    html = report.run_report(record, include_plotlyjs="cdn")
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
