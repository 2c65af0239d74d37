"""Retrain runs (one-shot, gradual, iterative) on a tiny model: the same weights as the masks /
schedules functions they wrap, exact held sparsities, recorded accuracies, L1 training."""

import json

import numpy as np
import pytest

from prune_core.methods import masks as mk
from prune_core.experiments import runs
from prune_core.train import callbacks, fit, loops, regularize, schedules as sc
from prune_core.io.data import Dataset
from prune_core.graph import kernels
from tests.tiny import same_weights, tiny_data, tiny_net


def magnitude_masks(model, sparsity, scope="layer"):
    scores = {n: np.abs(k) for n, k in kernels(model).items()}
    return mk.build_masks(scores, "sparsity", sparsity, scope=scope)


# --- one-shot -----------------------------------------------------------------------------------------

def test_oneshot_equals_masked_fine_tune_and_holds_zeros(dense, data):
    x, y, xt, yt = data
    ms = magnitude_masks(dense, 0.5)
    before = [w.copy() for w in dense.get_weights()]
    result = runs.run_oneshot(dense, ms, data, epochs=2, seed=3, latency_repeats=0,
                              settings={"criterion": "magnitude", "rule": "sparsity", "value": 0.5, "epochs": 99})
    reference, _ = fit.fine_tune(dense, ms, x, y, epochs=2, seed=3, validation=(xt, yt))
    assert same_weights(result.model, reference)
    assert all(np.array_equal(a, b) for a, b in zip(before, dense.get_weights()))  # caller's model untouched
    # exact zeros where the masks prune: 24 of 48 in h, 12 of 24 in out
    assert result.layer_sparsity == {"h": 0.5, "out": 0.5} and result.sparsity == 0.5
    for name, kernel in kernels(result.model).items():
        assert not np.any(kernel[~ms.kernels[name]])
    assert result.params == 6 * 8 + 8 + 8 * 3 + 3 and result.nonzero_params == result.params - 36
    assert result.float32_bytes == 4 * result.params and result.gzip_bytes > 0 and result.latency_ms is None
    assert result.dense["params"] == result.params and result.dense["nonzero_params"] == result.params
    assert len(result.history["loss"]) == 2 and len(result.history["val_accuracy"]) == 2
    assert result.history["val_accuracy"][-1] == result.final_accuracy
    # the engine's settings win over the caller's; the caller's descriptive ones are kept
    assert result.settings["epochs"] == 2 and result.settings["criterion"] == "magnitude"
    assert result.settings["mode"] == "oneshot" and result.settings["target_sparsity"] == 0.5


def test_oneshot_recorded_numbers_repeat_exactly(dense, data):
    ms = magnitude_masks(dense, 0.75, scope="global")
    a = runs.run_oneshot(dense, ms, data, epochs=1, seed=0, latency_repeats=0)
    b = runs.run_oneshot(dense, ms, data, epochs=1, seed=0, latency_repeats=0)
    assert same_weights(a.model, b.model)
    ra, rb = a.to_record(), b.to_record()
    for r in (ra, rb):  # wall time, and the .keras file's save date inside the gzip size, vary
        r.pop("seconds"), r.pop("gzip_bytes"), r["dense"].pop("gzip_bytes")
    assert ra == rb
    assert a.sparsity == 0.75  # 54 of 72 weights over both layers
    assert (a.dense_accuracy, a.pruned_accuracy, a.final_accuracy) == (0.703125, 0.625, 0.6328125)


def test_oneshot_without_epochs_is_the_pruned_model(dense, data):
    ms = magnitude_masks(dense, 0.5)
    result = runs.run_oneshot(dense, ms, data, epochs=0, latency_repeats=0)
    assert result.history == {} and result.final_accuracy == result.pruned_accuracy
    assert same_weights(result.model, mk.apply_masks(dense, ms))


def test_oneshot_unit_pruning_builds_the_compact_model(dense, data):
    from prune_core.methods.criteria import weight_scores
    from prune_core.methods.signals import unit_scores
    scores = unit_scores(weight_scores(dense, "magnitude"), "magnitude", output_layer="out")
    ms = mk.build_masks(scores, "sparsity", 0.5, granularity="unit", weights=kernels(dense), output_layer="out")
    result = runs.run_oneshot(dense, ms, data, epochs=1, latency_repeats=1)
    small = result.compact_model
    assert small.get_layer("h").units == 4 and result.compact["units"] == {"h": [4, 8]}
    assert result.compact["params"] == 6 * 4 + 4 + 4 * 3 + 3
    assert result.compact["float32_bytes"] == 4 * result.compact["params"]
    assert result.compact["accuracy"] == result.final_accuracy
    # masked model: 4 removed units → 24 kernel + 4 bias + 12 next-layer rows are zero
    assert result.nonzero_params == result.params - 24 - 4 - 12
    assert result.latency_ms > 0 and result.compact["latency_ms"] > 0


# --- gradual --------------------------------------------------------------------------------------------

def test_gradual_equals_schedules_gradual_prune(dense, data):
    x, y, xt, yt = data
    events = []
    result = runs.run_gradual(dense, data, final_sparsity=0.75, epochs=2, frequency=2, seed=1, latency_repeats=0,
                              on_epoch=lambda epoch, logs: events.append((epoch, sorted(logs))))
    reference, ref = loops.gradual_prune(dense, x, y, 0.75, epochs=2, frequency=2, seed=1, validation=(xt, yt))
    assert same_weights(result.model, reference)
    assert result.events == [{"step": e.step, "target": e.target, "sparsity": e.sparsity} for e in ref.events]
    assert [e["step"] for e in result.events] == [0, 2, 4, 6, 8, 10, 11]  # 16 steps, end at 0.75 × 16 − 1
    assert result.layer_sparsity == {"h": 0.75, "out": 0.75} and result.sparsity == 0.75
    assert result.settings["end_step"] == 11 and result.settings["frequency"] == 2
    assert [e for e, _ in events] == [0, 1] and "val_accuracy" in events[0][1]
    assert result.history["loss"] == ref.history["loss"]


def test_gradual_global_scope_holds_the_overall_count(dense, data):
    result = runs.run_gradual(dense, data, final_sparsity=0.9, epochs=1, scope="global", latency_repeats=0)
    assert result.sparsity == pytest.approx(65 / 72)  # round(0.9 × 72) = 65 weights over both layers
    assert result.mask_set.overall_sparsity == result.sparsity


# --- iterative ------------------------------------------------------------------------------------------

def test_iterative_equals_schedules_iterative_prune(dense, data):
    x, y, xt, yt = data
    seen = []
    result = runs.run_iterative(dense, data, step_fraction=0.5, fine_tune_epochs=1, tolerance=0.05,
                                target_sparsity=0.75, seed=2, on_round=seen.append, latency_repeats=0)
    reference = loops.iterative_prune(dense, x, y, xt, yt, fraction=0.5, fine_tune_epochs=1, tolerance=0.05,
                                   target_sparsity=0.75, seed=2)
    assert len(result.rounds) == 2
    assert [(r["round"], r["sparsity"], r["pruned_accuracy"], r["accuracy"], r["within_tolerance"])
            for r in result.rounds] == [(s.step, s.sparsity, s.pruned_accuracy, s.accuracy, s.within_tolerance)
                                        for s in reference.steps]
    assert seen == result.rounds
    assert same_weights(result.model, reference.model)
    assert result.sparsity == reference.best_sparsity
    assert result.stopped_because.split(" ")[0] == reference.stopped_because.split(" ")[0]
    assert result.history["round"] == [r["round"] for r in result.rounds]


def test_iterative_reaches_the_target_with_a_loose_tolerance(dense, data):
    result = runs.run_iterative(dense, data, step_fraction=0.5, target_sparsity=0.8, tolerance=1.0,
                                latency_repeats=0)
    # 0.5, 0.75, then min(0.875, 0.8): exact counts per layer (h 48 → 38 pruned, out 24 → 19)
    assert [r["sparsity"] for r in result.rounds] == pytest.approx([0.5, 0.75, 57 / 72])
    assert result.stopped_because == "target sparsity 80.0% reached"
    assert result.layer_sparsity == pytest.approx({"h": 38 / 48, "out": 19 / 24})


def test_iterative_with_no_round_within_tolerance_returns_the_dense_model(dense, data):
    result = runs.run_iterative(dense, data, step_fraction=0.99, target_sparsity=0.99, tolerance=0.0,
                                latency_repeats=0)
    assert len(result.rounds) == 1 and not result.rounds[0]["within_tolerance"]
    assert result.sparsity == 0.0 and same_weights(result.model, dense)
    assert result.final_accuracy == result.dense_accuracy == result.pruned_accuracy
    assert result.stopped_because.startswith("accuracy ")


def test_oneshot_with_l1_records_lambda_and_returns_a_plain_model(dense, data):
    ms = magnitude_masks(dense, 0.5)
    result = runs.run_oneshot(dense, ms, data, epochs=1, l1=0.01, latency_repeats=0)
    plain = runs.run_oneshot(dense, ms, data, epochs=1, latency_repeats=0)
    assert result.settings["l1"] == 0.01 and not regularize.has_l1(result.model)
    assert not same_weights(result.model, plain.model)
    assert result.sparsity == 0.5 and "L1 0.01" in result.label


# --- records, data, errors ------------------------------------------------------------------------------

def test_record_is_json_and_holds_no_model(dense, data):
    ds = Dataset(name="tiny", source="test", x_train=data[0], y_train=data[1], x_test=data[2], y_test=data[3],
                 class_names=("0", "1", "2"))
    result = runs.run_oneshot(dense, magnitude_masks(dense, 0.5), ds, epochs=1, latency_repeats=0)
    record = result.to_record()
    assert set(record) == set(runs.RECORD_FIELDS)
    assert json.loads(json.dumps(record)) == record
    assert "model" not in record and "mask_set" not in record


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=-1), "epochs must be a whole number"),
    (dict(batch_size=0), "batch size"),
    (dict(learning_rate=0.0), "learning rate"),
    (dict(l1=-0.1), "L1 strength"),
])
def test_oneshot_argument_errors(dense, data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        runs.run_oneshot(dense, magnitude_masks(dense, 0.5), data, **kwargs)


def test_other_argument_errors(dense, data):
    with pytest.raises(ValueError, match="Dataset or a tuple"):
        runs.run_gradual(dense, (1, 2), final_sparsity=0.5)
    with pytest.raises(ValueError, match="final sparsity"):
        runs.run_gradual(dense, data, final_sparsity=1.5)
    with pytest.raises(ValueError, match="above 0"):
        runs.run_iterative(dense, data, step_fraction=0.0)
    with pytest.raises(ValueError, match="tolerance"):
        runs.run_iterative(dense, data, tolerance=-1)


# --- real graphs: a finished run is never thrown away -------------------------------------------------------

@pytest.mark.parametrize("name", ["resnet_blocks", "gru_model"])
def test_oneshot_unit_run_on_a_graph_model_compacts_what_it_can_and_keeps_the_run(name):
    import keras

    import prune_core as pc
    from tests.model_zoo import ZOO

    model, sample = ZOO[name]()
    if name == "resnet_blocks":  # a classifier: softmax over the logits
        model = keras.Model(model.inputs, keras.layers.Activation("softmax")(model.outputs[0]))
    classes = int(model.outputs[0].shape[-1])
    rng = np.random.default_rng(0)
    make_x = (lambda n: rng.integers(0, 40, size=(n, *sample.shape[1:]))) if name == "gru_model" else \
        (lambda n: rng.normal(size=(n, *sample.shape[1:])).astype("float32"))
    data = (make_x(64), rng.integers(0, classes, 64), make_x(32), rng.integers(0, classes, 32))
    masks = pc.prune(model, pc.PruneSpec(granularity="unit", rule="sparsity", scope="global", value=0.3)).masks
    result = runs.run_oneshot(model, masks, data, epochs=1, batch_size=16, latency_repeats=0)
    assert result.compact is not None and "error" not in result.compact
    assert result.compact["params"] < result.params
    assert result.compact["accuracy"] == pytest.approx(result.final_accuracy, abs=1e-6)
    assert set(result.compact["units"]) == {n for n, u in masks.units.items() if not u.all()}
    assert json.loads(json.dumps(result.to_record()))["compact"]["params"] == result.compact["params"]


# --- retraining strategies, pruning at initialization (issue 12) -------------------------------------------------

def test_finetune_keeps_one_rate_and_lr_rewinding_restores_the_stated_rates(dense, data):
    ms = magnitude_masks(dense, 0.5)
    plain = runs.run_oneshot(dense, ms, data, epochs=2, learning_rate=3e-3, latency_repeats=0, compact=False)
    assert plain.history["learning_rate"] == [3e-3, 3e-3] and plain.settings["retrain"] == "finetune"
    # the original training ran 1e-2, 5e-3, 1e-3 per epoch: rewinding by 2 epochs replays its last two
    rewound = runs.run_oneshot(dense, ms, data, epochs=2, learning_rate=3e-3, retrain="rewind-lr",
                               original_schedule=[1e-2, 5e-3, 1e-3], latency_repeats=0, compact=False)
    assert rewound.history["learning_rate"] == pytest.approx([5e-3, 1e-3], rel=1e-6)
    assert rewound.settings["retrain"] == "rewind-lr" and "rewind-lr" in rewound.label
    # no original schedule (a constant-rate baseline): rewound to the stated rate, cosine-annealed per step
    cosine = runs.run_oneshot(dense, ms, data, epochs=2, learning_rate=1e-2, retrain="rewind-lr", latency_repeats=0,
                              compact=False)
    assert cosine.history["learning_rate"] == pytest.approx([1e-2, sc.cosine_rate(1e-2, 8, 16)], rel=1e-6)
    assert sc.cosine_rate(1e-2, 8, 16) == pytest.approx(5e-3)
    for result in (plain, rewound, cosine):
        assert all(not np.any(k[~ms.kernels[n]]) for n, k in kernels(result.model).items())
    with pytest.raises(ValueError, match="Unknown retraining strategy 'restart'"):
        runs.run_oneshot(dense, ms, data, retrain="restart")


def start_weights_callback():
    import keras

    class Start(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.weights = [w.copy() for w in self.model.get_weights()]

    return Start()


def test_weight_rewinding_restarts_from_the_early_weights_under_the_mask(dense, data):
    x, y = data[0], data[1]
    early = tiny_net(seed=7).get_weights()  # stands in for the weights of an early epoch
    ms = mk.effective_masks(dense, magnitude_masks(dense, 0.5))
    start = start_weights_callback()
    tuned, result = fit.retrain(dense, ms, x, y, strategy="rewind-weights", epochs=1, rewind_weights=early,
                               callbacks=[start])
    masks = [ms.kernels["h"], None, ms.kernels["out"], None]  # h kernel, h bias, out kernel, out bias
    for got, want, mask in zip(start.weights, early, masks):
        np.testing.assert_array_equal(got, want if mask is None else want * mask)
    assert result.rates == pytest.approx([1e-3])
    with pytest.raises(ValueError, match="needs the weights of an early training epoch"):
        fit.retrain(dense, ms, x, y, strategy="rewind-weights")
    with pytest.raises(ValueError, match="do not fit this model"):
        fit.retrain(dense, ms, x, y, strategy="rewind-weights", rewind_weights=early[:2])


def test_early_weights_callback_keeps_the_epoch_1_weights(data):
    from prune_core.train.fit import train
    model, once = tiny_net(), tiny_net()
    keep = callbacks.early_weights_callback(1)
    train(model, data[0], data[1], epochs=2, seed=0, callbacks=[keep])
    train(once, data[0], data[1], epochs=1, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(keep.weights, once.get_weights()))


def test_iterative_weight_rewinding_restarts_every_round(dense, data):
    x, y, xt, yt = data
    early = tiny_net(seed=7).get_weights()
    starts = []

    def round_callbacks(k):
        starts.append(start_weights_callback())
        return [starts[-1]]

    loop = loops.iterative_prune(dense, x, y, xt, yt, fraction=0.5, fine_tune_epochs=1, tolerance=1.0,
                              target_sparsity=0.75, max_rounds=2, retrain_strategy="rewind-weights",
                              rewind_weights=early, round_callbacks=round_callbacks)
    assert len(starts) == 2 and [s.sparsity for s in loop.steps] == [0.5, 0.75]
    for start in starts:  # each round begins from the early weights (masked), not from the last round's
        assert np.array_equal(start.weights[1], early[1]) and np.array_equal(start.weights[3], early[3])
        kept = start.weights[0] != 0
        np.testing.assert_array_equal(start.weights[0][kept], early[0][kept])


def test_run_init_prunes_the_untrained_network_then_trains_it(dense, data):
    import prune_core as pc
    spec = pc.PruneSpec(criterion="snip", rule="sparsity", value=0.5, scope="global")
    result = runs.run_init(dense, data, spec, epochs=2, seed=4, latency_repeats=0, compact=False)
    untrained = runs.initialised_copy(dense, 4)
    expected = pc.select(untrained, spec, data=(data[0], data[1]))
    assert result.mode == "init" and result.settings["mode"] == "init" and result.settings["criterion"] == "snip"
    assert result.sparsity == 0.5 and len(result.history["loss"]) == 2
    for name, kernel in kernels(result.model).items():
        assert np.array_equal(kernel != 0, expected.kernels[name])
    assert result.dense_accuracy == runs.metrics.evaluate(dense, data[2], data[3]).accuracy
    assert result.pruned_accuracy == runs.metrics.evaluate(mk.apply_masks(untrained, expected), data[2],
                                                           data[3]).accuracy
    assert result.to_record()["mode"] == "init" and result.label.startswith("init · ")


def test_retrain_page_prunes_at_initialization(tmp_path, monkeypatch):
    from tests.apptest import page_test

    monkeypatch.setenv("PRUNING_EXPLORER_DATA_DIR", str(tmp_path))
    at = page_test("retrain").run()
    at.radio(key="rt_mode").set_value("init").run()
    assert not at.exception
    criterion = next(b for b in at.selectbox if b.label.startswith("Criterion"))
    assert criterion.options[:2] == ["SNIP |g·w| at init", "SynFlow (iterative, data-free)"]
    criterion.set_value("synflow")
    at.number_input[0].set_value(1)
    at.button[0].click().run()
    job = at.session_state["job"]
    job.wait(300)
    assert job.error is None, job.error
    at.run()
    result = job.result
    assert not at.exception and result.mode == "init" and result.settings["criterion"] == "synflow"
    assert result.sparsity == pytest.approx(0.9, abs=1e-4)
    assert result.settings["scope"] == "global" and result.final_accuracy > result.pruned_accuracy


def test_a_run_says_what_it_cost_per_class_and_the_report_lists_it():
    """RunResult.class_accuracy: per-class test accuracy, dense against the final model, worst drop first; the
    count-weighted class accuracies are the overall accuracies, and the HTML report has the table."""
    import prune_core as pc
    from prune_core.viz.report import run_report
    from prune_core.measure import metrics

    data = tiny_data()
    model = tiny_net()
    mask_set = pc.select(model, pc.PruneSpec(rule="sparsity", value=0.5), pc.CRITERIA["magnitude"].scores(model, None))
    result = runs.run_oneshot(model, mask_set, data, epochs=1, latency_repeats=0)
    table = result.class_accuracy
    y_test = data[3]
    assert table["count"].sum() == len(y_test) == 128

    def weighted(column):
        return float((table[column] * table["count"]).sum() / table["count"].sum())

    assert weighted("dense") == pytest.approx(result.dense_accuracy)
    assert weighted("pruned") == pytest.approx(result.final_accuracy)
    assert list(table["change"]) == sorted(table["change"])
    assert table.equals(metrics.class_accuracy_change(model, result.model, data[2], y_test))
    report = run_report(result, include_plotlyjs=False)
    assert "Accuracy per class (worst drop first)" in report
    assert f"{100 * table.iloc[0]['change']:+.2f} pts" in report
