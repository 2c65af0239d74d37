"""Metrics: exact counts and byte estimates on hand-set weights; latency is only checked for sanity."""

import doctest
import io
import json
import math
import zipfile

import keras
import numpy as np
import pytest

from prune_core.measure import metrics
from prune_core.train.models import build_model


def hand_model():
    """4 → 3 → 2 with known zeros: h kernel 5/12 nonzero, h bias 1/3, out kernel 6/6, out bias 0/2."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu", name="h"),
                              keras.layers.Dense(2, activation="softmax", name="out")])
    h_kernel = np.array([[1, 0, 0], [0, 2, 0], [0, 0, -3], [4, 0, 5]], "float32")
    model.get_layer("h").set_weights([h_kernel, np.array([0, 0.5, 0], "float32")])
    model.get_layer("out").set_weights([np.arange(1, 7, dtype="float32").reshape(3, 2), np.zeros(2, "float32")])
    return model


def test_layer_table_exact():
    table = metrics.layer_table(hand_model())
    assert list(table.columns) == ["layer", "type", "shape", "params", "nonzero", "sparsity"]
    assert table[["layer", "type", "shape", "params", "nonzero"]].values.tolist() == [
        ["h", "Dense", "4×3", 15, 6], ["out", "Dense", "3×2", 8, 6]]
    np.testing.assert_allclose(table["sparsity"], [1 - 6 / 15, 1 - 6 / 8])


def test_totals_from_model_or_table_and_prunable_sparsity():
    model = hand_model()
    expected = {"params": 23, "nonzero": 12, "sparsity": pytest.approx(11 / 23)}
    assert metrics.totals(model) == expected
    assert metrics.totals(metrics.layer_table(model)) == expected
    assert metrics.prunable_sparsity(model) == pytest.approx(7 / 18)  # kernels only: 11 of 18 nonzero
    assert metrics.count_params(model) == 23 and metrics.count_nonzero(model) == 12


def test_layer_table_includes_batchnorm_and_skips_weightless_layers():
    model = keras.Sequential([keras.Input((5, 5, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                              keras.layers.BatchNormalization(name="bn"), keras.layers.Flatten(),
                              keras.layers.Dense(2, name="out")])
    model.get_layer("bn").set_weights([np.array(v, "float32") for v in ([1, 0], [0, 0], [0, 0], [1, 1])])
    table = metrics.layer_table(model).set_index("layer")
    assert list(table.index) == ["conv", "bn", "out"]
    assert table.loc["conv", "shape"] == "3×3×1×2" and table.loc["conv", "params"] == 20
    assert table.loc["bn", ["type", "shape", "params", "nonzero"]].tolist() == ["BatchNormalization", "2", 8, 3]
    assert metrics.totals(table)["params"] == metrics.count_params(model)


def test_lenet5_table_matches_count_params():
    model = build_model("lenet-5")
    table = metrics.layer_table(model)
    assert table["layer"].tolist() == ["conv1", "conv2", "dense1", "dense2", "output"]
    assert table["shape"].tolist() == ["5×5×1×6", "5×5×6×16", "400×120", "120×84", "84×10"]
    assert table["params"].sum() == model.count_params()
    assert metrics.prunable_sparsity(model) == 0.0  # Glorot kernels have no exact zeros


def test_sparse_bytes_exact():
    # h kernel: 5 × (4 + 1) + 5 row pointers × 4 = 45 < 48 dense;  h bias: CSR 1 × 5 + 2 × 4 = 13 > 12 → 12
    # out kernel: CSR 6 × 5 + 4 × 4 = 46 > 24 → 24;  out bias: CSR 0 + 2 × 4 = 8 = dense 8
    assert metrics.sparse_bytes(hand_model()) == 45 + 12 + 24 + 8


def test_csr_bytes_and_index_width():
    assert metrics.csr_bytes(np.eye(2, 300)) == 2 * (4 + 2) + 3 * 4  # 300 columns need 2-byte indices
    assert metrics.csr_bytes(np.zeros((3, 3, 2, 4))) == (18 + 1) * 4   # conv kernel: rows = 3·3·2
    assert metrics.csr_bytes(np.array([0.0, 7.0])) == 1 * 5 + 2 * 4


def test_dense_model_sparse_bytes_equal_float32_bytes():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, bias_initializer="ones"),
                              keras.layers.Dense(3, bias_initializer="ones")])
    assert metrics.sparse_bytes(model) == metrics.float32_bytes(model.count_params()) == 4 * 43


def test_size_summary():
    model = hand_model()
    summary = metrics.size_summary(model)
    assert {k: summary[k] for k in ("params", "nonzero", "float32_bytes", "sparse_bytes")} == {
        "params": 23, "nonzero": 12, "float32_bytes": 92, "sparse_bytes": 89}
    assert summary["sparsity"] == pytest.approx(11 / 23)
    assert summary["prunable_sparsity"] == pytest.approx(7 / 18)
    assert summary["gzip_bytes"] == metrics.gzip_bytes(model) > 0
    assert "gzip_bytes" not in metrics.size_summary(model, include_gzip=False)


def test_latency_is_a_positive_finite_number():
    model = hand_model()
    for ms in (metrics.latency_ms(model, repeats=3, warmup=1),
               metrics.latency_ms(model, x=np.ones((5, 4), "float32"), batch_size=16, repeats=2, warmup=0)):
        assert math.isfinite(ms) and ms > 0
    with pytest.raises(ValueError, match="repeats"):
        metrics.latency_ms(model, repeats=0)


def test_evaluate_and_human_bytes_unchanged():
    model = hand_model()
    x = np.array([[1, 0, 0, 0], [0, 0, 0, 1]], "float32")
    probs = metrics.predict_probabilities(model, x)
    labels = np.array([1, 0])
    result = metrics.evaluate(model, x, labels)
    assert result.accuracy == np.mean(probs.argmax(1) == labels)
    assert result.loss == pytest.approx(-np.mean(np.log(probs[[0, 1], labels])), rel=1e-6)
    assert metrics.human_bytes(999) == "999 B" and metrics.human_bytes(1_066_440) == "1.07 MB"


def test_docstring_examples():
    assert doctest.testmod(metrics, raise_on_error=False).failed == 0


def _resaved(raw: bytes, date: str, when: tuple) -> bytes:
    """The same archive as if saved at another time: another date in metadata.json and member times."""
    source, out = zipfile.ZipFile(io.BytesIO(raw)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "metadata.json":
                data = json.dumps({**json.loads(data), "date_saved": date}).encode()
            target.writestr(zipfile.ZipInfo(info.filename, date_time=when), data)
    return out.getvalue()


def test_gzip_size_does_not_depend_on_when_the_model_was_saved(tmp_path):
    raw = metrics.saved_model_bytes(hand_model())
    early = _resaved(raw, "2020-01-01@00:00:00", (2020, 1, 1, 0, 0, 0))
    late = _resaved(raw, "2031-12-31@23:59:58", (2031, 12, 31, 23, 59, 58))
    assert early != late
    assert metrics.canonical_keras_bytes(early) == metrics.canonical_keras_bytes(late) == metrics.canonical_keras_bytes(raw)
    path = tmp_path / "canonical.keras"  # still a loadable model with the same weights
    path.write_bytes(metrics.canonical_keras_bytes(late))
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), hand_model().get_weights()))


# --- per-class accuracy (issue 16) ---------------------------------------------------------------------------

def test_class_accuracy_exact_and_weighted_sum_is_overall():
    from prune_core.measure import metrics as m

    predicted = np.array([0, 0, 1, 2, 2, 2, 1, 0, 3, 3])
    labels = np.array([0, 1, 1, 2, 2, 1, 1, 0, 3, 0])
    r = m.class_accuracy_from_predictions(predicted, labels, 5)
    assert r.counts.tolist() == [3, 4, 2, 1, 0]
    assert r.accuracy[:4].tolist() == [2 / 3, 2 / 4, 1.0, 1.0] and np.isnan(r.accuracy[4])
    assert r.overall == 0.7  # 2 + 2 + 2 + 1 right of 10
    present = r.counts > 0
    assert float(np.sum(r.counts[present] * r.accuracy[present]) / r.counts.sum()) == pytest.approx(r.overall, abs=1e-12)
    with pytest.raises(ValueError):
        m.class_accuracy_from_predictions([0, 1], [0], 2)


def test_class_accuracy_of_a_model_matches_evaluate_and_the_change_table():
    import keras

    from prune_core.measure import metrics as m

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(1).normal(size=(60, 4)).astype(np.float32)
    y = np.arange(60) % 3
    r = m.class_accuracy(model, x, y)
    assert r.overall == pytest.approx(m.evaluate(model, x, y).accuracy, abs=1e-12)
    assert float(np.sum(r.counts * r.accuracy) / r.counts.sum()) == pytest.approx(r.overall, abs=1e-12)
    pruned = keras.models.clone_model(model)
    pruned.set_weights([np.zeros_like(w) for w in model.get_weights()])  # uniform outputs: argmax is class 0
    table = m.class_accuracy_change(model, pruned, x, y, class_names=("a", "b", "c"))
    assert sorted(table["class"]) == ["a", "b", "c"] and table["count"].tolist() == [20, 20, 20]
    row = table.set_index("class")
    assert row.loc["a", "pruned"] == 1.0 and row.loc["b", "pruned"] == 0.0 and row.loc["c", "pruned"] == 0.0
    assert (table["change"] == table["pruned"] - table["dense"]).all()
    assert table["change"].is_monotonic_increasing


def test_a_compiled_evaluation_equals_the_eager_one():
    """``compiled=True`` (Keras' traced predict step, for a model evaluated again and again) gives the same numbers."""
    from tests.tiny import tiny_data, tiny_net

    model, (x, y, _, _) = tiny_net(hidden=16), tiny_data()  # 256 training rows
    eager = metrics.evaluate(model, x, y, batch_size=100)
    compiled = metrics.evaluate(model, x, y, batch_size=100, compiled=True)  # 3 batches, the last one shorter
    assert compiled.accuracy == eager.accuracy and compiled.loss == pytest.approx(eager.loss, rel=1e-6)
