"""Sweeps (layer sensitivity, criteria × sparsity, Pareto front) and their figures."""

import math

import numpy as np
import pandas as pd
import pytest

from prune_core.viz import figures as fg
from prune_core.methods import masks as mk
from prune_core.experiments import sweeps as sw
from prune_core.train import fit
from prune_core.graph import kernels
from prune_core.measure.metrics import evaluate


def tiny_net(seed=0):
    import keras
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(6,))
    x = keras.layers.Dense(8, activation="relu", name="h")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(x))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(384, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x[:256], y[:256], x[256:], y[256:]


@pytest.fixture(scope="module")
def dense(data):
    from prune_core.train.fit import train
    model = tiny_net()
    train(model, data[0], data[1], epochs=4, seed=0, learning_rate=1e-2)
    return model


# --- layer sensitivity ----------------------------------------------------------------------------------

def test_layer_sensitivity_prunes_one_layer_alone(dense, data):
    _, _, xt, yt = data
    before = [w.copy() for w in dense.get_weights()]
    calls = []
    scan = sw.layer_sensitivity(dense, xt, yt, sparsities=(0.0, 0.5, 0.9), progress=lambda f, m: calls.append(f))
    assert list(scan.columns) == list(sw.SENSITIVITY_COLUMNS)
    assert scan["layer"].tolist() == ["h"] * 3 + ["out"] * 3
    assert scan["sparsity"].tolist() == [0.0, 0.5, 0.9] * 2
    assert all(np.array_equal(a, b) for a, b in zip(before, dense.get_weights()))
    assert calls == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])
    dense_accuracy = evaluate(dense, xt, yt).accuracy
    assert scan["accuracy"].tolist()[0] == scan["accuracy"].tolist()[3] == dense_accuracy
    # each point equals masking that one layer on a fresh copy
    k = kernels(dense)["h"]
    keep = np.abs(k) >= np.sort(np.abs(k).ravel())[round(0.9 * k.size)]
    expected = evaluate(mk.apply_masks(dense, mk.MaskSet(kernels={"h": keep})), xt, yt).accuracy
    assert scan["accuracy"].tolist()[2] == expected
    assert scan["accuracy"].tolist() == [0.703125, 0.65625, 0.6875, 0.703125, 0.7109375, 0.6875]


def test_layer_sensitivity_layers_and_criteria(dense, data):
    x, y, xt, yt = data
    scan = sw.layer_sensitivity(dense, xt, yt, sparsities=(0.5,), criterion="taylor", x_train=x, y_train=y,
                                layers=["out"])
    assert scan["layer"].tolist() == ["out"] and len(scan) == 1
    with pytest.raises(ValueError, match="Not prunable layers of this model: nope"):
        sw.layer_sensitivity(dense, xt, yt, layers=["nope"])
    with pytest.raises(ValueError, match="needs training data"):
        sw.layer_sensitivity(dense, xt, yt, criterion="sensitivity")
    with pytest.raises(ValueError, match="sparsity must be between 0 and 1"):
        sw.layer_sensitivity(dense, xt, yt, sparsities=(0.5, 1.5))


class Shipped:
    """An executor that runs each task here on what a remote worker receives (the shared dict pickled: the model as
    .keras bytes, loaded in the task) — the Ray path of the scan without Ray."""

    name = "a test worker"

    def map(self, fn, payloads, *, shared=None, on_result=None):
        import pickle

        from prune_core.experiments.executor import LocalExecutor

        return LocalExecutor().map(fn, payloads, shared=pickle.loads(pickle.dumps(shared)), on_result=on_result)


def test_layer_sensitivity_on_an_executor_gives_the_in_process_numbers(dense, data):
    _, _, xt, yt = data
    messages = []
    shipped = sw.layer_sensitivity(dense, xt, yt, sparsities=(0.5, 0.9), executor=Shipped(),
                                   progress=lambda f, m: messages.append((f, m)))
    here = sw.layer_sensitivity(dense, xt, yt, sparsities=(0.5, 0.9))
    pd.testing.assert_frame_equal(shipped, here)
    assert here["accuracy"].tolist() == [0.65625, 0.6875, 0.7109375, 0.6875]
    assert messages == [(0.0, "Sending the model and 2 layers to scan to a test worker…"),
                        (0.5, "h: accuracy 65.62% → 68.75%"), (1.0, "out: accuracy 71.09% → 68.75%")]


def test_a_layer_whose_scan_fails_is_reported_in_its_place(dense, data, monkeypatch):
    _, _, xt, yt = data
    real = sw.sensitivity_task

    def failing(shared, payload):
        if payload["layer"] == "h":
            raise RuntimeError("out of memory on this worker")
        return real(shared, payload)

    monkeypatch.setattr(sw, "sensitivity_task", failing)
    scan = sw.layer_sensitivity(dense, xt, yt, sparsities=(0.5, 0.9))
    assert scan["failed"].tolist()[:2] == ["RuntimeError: out of memory on this worker"] * 2
    assert scan["accuracy"].isna().tolist() == [True, True, False, False]
    assert scan["accuracy"].tolist()[2:] == [0.7109375, 0.6875]


def test_max_sparsity_within_stops_at_the_first_drop():
    df = pd.DataFrame({"layer": ["a"] * 4 + ["b"] * 3 + ["c"] * 2,
                       "sparsity": [0.1, 0.3, 0.5, 0.7, 0.5, 0.1, 0.3, 0.1, 0.2],
                       "accuracy": [0.98, 0.97, 0.90, 0.975, 0.96, 0.979, 0.975, 0.90, 0.99]})
    assert sw.max_sparsity_within(df, 0.98, 0.01) == {"a": 0.3, "b": 0.3, "c": 0.0}
    assert sw.max_sparsity_within(df, 0.98, 0.1) == {"a": 0.7, "b": 0.5, "c": 0.2}
    with pytest.raises(ValueError, match=">= 0"):
        sw.max_sparsity_within(df, 0.98, -0.01)


# --- criteria sweep -------------------------------------------------------------------------------------

def test_criteria_sweep_matches_prune_then_fine_tune(dense, data):
    x, y, xt, yt = data
    sweep = sw.criteria_sweep(dense, data, ["magnitude", "random"], sparsities=(0.5, 0.9), fine_tune_epochs=1,
                              seed=0)
    assert list(sweep.columns) == list(sw.SWEEP_COLUMNS)
    assert sweep[["criterion", "sparsity"]].values.tolist() == [["magnitude", 0.5], ["magnitude", 0.9],
                                                                ["random", 0.5], ["random", 0.9]]
    # exact counts per layer: 0.9 → 43 of 48 and 22 of 24 pruned
    assert sweep["held_sparsity"].tolist() == pytest.approx([0.5, 65 / 72, 0.5, 65 / 72])
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(dense).items()}, "sparsity", 0.9)
    assert sweep["pruned_accuracy"][1] == evaluate(mk.apply_masks(dense, ms), xt, yt).accuracy
    tuned, _ = fit.fine_tune(dense, ms, x, y, epochs=1, seed=0)
    assert sweep["final_accuracy"][1] == evaluate(tuned, xt, yt).accuracy
    assert sweep["pruned_accuracy"].tolist() == [0.6875, 0.6875, 0.515625, 0.5078125]


def test_criteria_sweep_without_fine_tuning_and_with_gradients(dense, data):
    sweep = sw.criteria_sweep(dense, data, ["sensitivity", "taylor"], sparsities=(0.7,), fine_tune_epochs=0,
                              scope="global")
    assert sweep["final_accuracy"].tolist() == sweep["pruned_accuracy"].tolist()
    assert sweep["held_sparsity"].tolist() == pytest.approx([50 / 72, 50 / 72])  # round(0.7 × 72) = 50
    with pytest.raises(ValueError, match="at least one criterion"):
        sw.criteria_sweep(dense, data, [])
    with pytest.raises(ValueError, match="Unknown importance criterion"):
        sw.criteria_sweep(dense, data, ["loudness"], fine_tune_epochs=0)


# --- figures --------------------------------------------------------------------------------------------

def runs_records():
    dense = {"accuracy": 0.98, "nonzero_params": 266610, "gzip_bytes": 1_000_000}
    return [
        {"run_id": 1, "mode": "oneshot", "label": "a", "final_accuracy": 0.97, "nonzero_params": 26661,
         "gzip_bytes": 150_000, "sparsity": 0.9, "dense": dense},
        {"run_id": 2, "mode": "gradual", "label": "b", "final_accuracy": 0.975, "nonzero_params": 13330,
         "gzip_bytes": 90_000, "sparsity": 0.95, "dense": dense},
        {"run_id": 3, "mode": "oneshot", "label": "c", "final_accuracy": 0.93, "nonzero_params": 30000,
         "gzip_bytes": 160_000, "sparsity": 0.89, "dense": dense},
    ]


def test_accuracy_size_figure_marks_dense_and_the_frontier():
    fig = fg.accuracy_size_figure(runs_records())
    names = [t.name for t in fig.data]
    assert names == ["oneshot", "gradual", "dense", "Pareto frontier"]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.ticksuffix == "%"
    assert list(fig.data[0].x) == [26661, 30000] and list(fig.data[0].y) == pytest.approx([97.0, 93.0])
    assert list(fig.data[2].x) == [266610] and fig.data[2].marker.symbol == "star"
    frontier = fig.data[3]
    assert list(frontier.x) == [13330, 266610] and list(frontier.y) == pytest.approx([97.5, 98.0])
    assert fig.layout.shapes[0].y0 == pytest.approx(98.0)
    kb = fg.accuracy_size_figure(runs_records(), x="gzip_kb")
    assert list(kb.data[1].x) == [90.0] and list(kb.data[2].x) == [1000.0]
    with pytest.raises(ValueError, match="Unknown size axis"):
        fg.accuracy_size_figure(runs_records(), x="bytes")


def test_accuracy_size_figure_from_the_store_table(tmp_path):
    from prune_core.io.history import RunStore
    store = RunStore(tmp_path / "runs.sqlite")
    for r in runs_records():
        store.add("default", {k: v for k, v in r.items() if k != "run_id"})
    fig = fg.accuracy_size_figure(store.list("default"))
    assert [t.name for t in fig.data] == ["oneshot", "gradual", "dense", "Pareto frontier"]
    assert fig.data[0].text[0] == "#1 a"
    assert [t.name for t in fg.accuracy_size_figure([]).data] == []  # empty history: empty chart


def test_sweep_sensitivity_and_rounds_figures():
    sweep = pd.DataFrame({"criterion": ["magnitude", "magnitude", "random", "random"], "sparsity": [0.9, 0.5] * 2,
                          "pruned_accuracy": [0.5, 0.9, 0.2, 0.6], "final_accuracy": [0.95, 0.97, 0.6, 0.9]})
    fig = fg.criteria_sweep_figure(sweep, dense_accuracy=0.98)
    assert [t.name for t in fig.data] == ["magnitude", "magnitude (no retraining)", "random",
                                          "random (no retraining)"]
    assert list(fig.data[0].x) == [50.0, 90.0] and list(fig.data[0].y) == pytest.approx([97.0, 95.0])
    assert fig.data[1].line.dash == "dash" and fig.layout.shapes[0].y0 == pytest.approx(98.0)
    assert len(fg.criteria_sweep_figure(sweep, show_pruned=False).data) == 2

    scan = pd.DataFrame({"layer": ["h", "h", "out", "out"], "sparsity": [0.1, 0.5] * 2,
                         "accuracy": [0.98, 0.9, 0.97, 0.96]})
    fig = fg.layer_sensitivity_figure(scan, dense_accuracy=0.98, max_drop=0.02)
    assert [t.name for t in fig.data] == ["h", "out"]
    assert [s.y0 for s in fig.layout.shapes] == pytest.approx([98.0, 96.0])

    rounds = [{"round": 1, "sparsity": 0.2, "pruned_accuracy": 0.97, "accuracy": 0.98, "within_tolerance": True},
              {"round": 2, "sparsity": 0.36, "pruned_accuracy": 0.9, "accuracy": 0.95, "within_tolerance": False}]
    fig = fg.iterative_rounds_figure(rounds, dense_accuracy=0.98, tolerance=0.01)
    assert [t.name for t in fig.data] == ["after fine-tuning", "right after pruning", "below tolerance"]
    assert list(fig.data[0].text) == ["1", "2"] and list(fig.data[2].x) == pytest.approx([36.0])
    assert [s.y0 for s in fig.layout.shapes] == pytest.approx([98.0, 97.0])
    assert all(math.isfinite(v) for v in fig.data[0].y)


def test_sensitivity_scans_every_kernel_kind():
    """Recurrent kernels are scanned like Dense ones: each alone, at an exact count of its weights."""
    from prune_core.experiments.sweeps import layer_sensitivity
    from tests import sequence_zoo

    model = sequence_zoo.gru_rows()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 28, 28)).astype(np.float32), rng.integers(0, 10, 32)
    df = layer_sensitivity(model, x, y, sparsities=(0.0, 0.5))
    assert list(df["layer"]) == ["gru/kernel", "gru/kernel", "gru/recurrent_kernel", "gru/recurrent_kernel",
                                 "head", "head"]
    dense = df[df["sparsity"] == 0.0]["accuracy"]
    assert dense.nunique() == 1  # nothing pruned at 0: the dense accuracy, three times
