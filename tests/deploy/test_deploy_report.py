"""prune_core.deploy.report: the comparison measured end to end — int8 accuracy near float, consistent numbers,
the files and the CLI's keys, a rejected model's one-line reason with every other number filled — and the verdict
and headline in plain words. No timings are asserted."""

from __future__ import annotations

import json

import numpy as np
import pytest

import prune_core as pc
from prune_core import deploy
from prune_core.io import data
from tests import model_zoo

pytestmark = pytest.mark.tf_only  # TFLite/LiteRT conversion and measurement are TensorFlow's own


def _lstm_model():
    import keras

    inputs = keras.Input((8, 4))
    x = keras.layers.LSTM(6, name="lstm")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(x)
    return model_zoo.randomize(keras.Model(inputs, outputs), 4)


@pytest.fixture(scope="module")
def lenet_report():
    import keras

    from prune_core.io.data import BASELINE_PATH

    model = keras.saving.load_model(BASELINE_PATH, compile=False)
    ds = data.load_mnist("bundled")
    pruned = pc.prune(model, pc.PruneSpec(criterion="magnitude", rule="sparsity", scope="global", value=0.9)).model
    units = pc.prune(model, pc.PruneSpec(criterion="magnitude", granularity="unit", rule="sparsity", value=0.25))
    compact = pc.compact(model, units.masks)
    return deploy.deploy(model, ds, pruned=pruned, compact=compact, latency_budget_s=0.3), ds


def _row(name, **kw):
    base = dict(source=name, precision="float32", params=100, nonzero=100, sparsity=0.0, tflite_bytes=1000,
                latency_us=10.0, latency_ratio=1.0, tflite_accuracy=0.95, kernels=[], tflite_file=b"x")
    return deploy.Row(name=name, **{**base, **kw})


def test_an_lstm_gets_a_one_line_reason_and_the_rest_of_the_table_fills():
    model = _lstm_model()
    rng = np.random.default_rng(0)
    arrays = (rng.normal(size=(40, 8, 4)).astype(np.float32), rng.integers(0, 3, 40),
              rng.normal(size=(30, 8, 4)).astype(np.float32), rng.integers(0, 3, 30))
    pruned = pc.prune(model, pc.PruneSpec(criterion="magnitude", rule="sparsity", value=0.5)).model
    report = deploy.deploy(model, arrays, pruned=pruned, calibration_size=10, latency_budget_s=0.05)
    assert [r.name for r in report.rows] == ["dense", "pruned", "int8", "pruned + int8", "Keras int8"]
    for row in report.rows[:4]:
        assert not row.ok and row.tflite_bytes is None and row.latency_us is None
        assert "\n" not in row.reason and len(row.reason) < 400 and "recurrent layer" in row.reason
        assert "loc(" not in row.reason and row.params == model.count_params()
    for row in report.rows[:2]:  # the Keras side is still measured
        assert row.keras_bytes > 0 and row.keras_gzip_bytes > 0 and row.keras_accuracy is not None
    assert report.rows[1].nonzero < report.rows[0].nonzero and report.rows[1].sparsity > 0.45
    assert report.verdict().startswith("TensorFlow Lite could not convert this model")
    assert report.headline() == ""
    json.dumps(report.to_record())
    assert all(name.endswith(".keras") for _, name, _ in report.files())


def test_lenet_int8_accuracy_within_two_points_of_float(lenet_report):
    report, _ = lenet_report
    for float_name, int8_name in (("dense", "int8"), ("pruned", "pruned + int8"), ("compact", "compact + int8")):
        f, q = report.row(float_name), report.row(int8_name)
        assert abs(q.tflite_accuracy - f.tflite_accuracy) <= 0.02, (float_name, f.tflite_accuracy, q.tflite_accuracy)
        if float_name != "pruned":  # dense weights in int8: about a quarter of the float file
            assert q.tflite_bytes < 0.3 * f.tflite_bytes
    # sparse int8 keeps its indices, so it saves less over sparse float32 — but 90% + int8 is a tenth of dense
    assert report.row("pruned + int8").tflite_bytes <= 0.1 * report.row("dense").tflite_bytes


def test_lenet_report_numbers_are_consistent(lenet_report):
    report, ds = lenet_report
    dense, pruned, compact = report.row("dense"), report.row("pruned"), report.row("compact")
    assert [r.name for r in report.rows] == list(deploy.ROW_NAMES)
    assert dense.params == pruned.params == 266_610 and pruned.nonzero < 0.15 * dense.nonzero
    for row in (dense, pruned, compact):  # float files compute what the Keras model computes
        assert row.max_abs_diff <= 1e-5 and row.tflite_accuracy == pytest.approx(row.keras_accuracy, abs=0.0005)
    assert dense.latency_ratio == 1.0 and dense.size_ratio == 1.0
    assert all(r.latency_us > 0 for r in report.rows if r.ok) and report.runs >= 50
    # 90% global magnitude: stored sparse (a file under a fifth of dense) but densified at load
    assert pruned.densify_ops == 3 and pruned.sparse_kernel is False and pruned.size_ratio < 0.2
    assert {k["layer"]: k["status"] for k in pruned.kernels} == {"dense1": "densified", "dense2": "densified",
                                                                 "output": "densified"}
    assert compact.params < dense.params and compact.densify_ops == 0
    keras_int8 = report.row("Keras int8")
    assert keras_int8.keras_bytes < pruned.keras_bytes and keras_int8.keras_accuracy > 0.8
    assert keras_int8.reason.startswith("A Keras file only")
    text = report.verdict()  # about the compact model, the run's physically smaller one
    assert text.startswith("With its pruned neurons removed this model is") and "try 98%" not in text
    best = report.best()
    assert best.tflite_accuracy >= dense.tflite_accuracy - 0.01 and best.latency_us == min(
        r.latency_us for r in report.rows if r.ok and r.tflite_accuracy >= dense.tflite_accuracy - 0.01)


def test_lenet_files_and_keys(lenet_report, tmp_path):
    report, _ = lenet_report
    paths = report.write(tmp_path / "out", stem="lenet")
    names = sorted(p.rsplit("/", 1)[-1] for p in paths)
    assert names == sorted(["lenet-dense.tflite", "lenet-dense.keras", "lenet-pruned.tflite", "lenet-pruned.keras",
                            "lenet-compact.tflite", "lenet-compact.keras", "lenet-int8.tflite",
                            "lenet-pruned-int8.tflite", "lenet-compact-int8.tflite", "lenet-Keras-int8.keras"])
    assert (tmp_path / "out" / "lenet-pruned.tflite").read_bytes()[4:8] == b"TFL3"
    keys = report.summary_keys()
    assert keys["tflite_bytes"] == report.row("pruned").tflite_bytes
    assert keys["int8_tflite_accuracy"] == report.row("pruned + int8").tflite_accuracy
    assert keys["tflite_sparse"] is False and keys["dense_tflite_latency_us"] == report.row("dense").latency_us
    record = json.loads(json.dumps(report.to_record()))
    assert record["verdict"] == report.verdict() and len(record["rows"]) == 7


def test_verdict_in_plain_words():
    dense = _row("dense")
    densified = _row("pruned", sparsity=0.9, tflite_bytes=150, latency_us=10.1, latency_ratio=1.01,
                     kernels=[{"status": "densified"}] * 3)
    text = deploy.verdict([dense, densified])
    assert text == ("At 90% sparsity this model is 6.7× smaller but not faster in TFLite (1.01× the dense latency): "
                    "the converter densified 3 of 3 kernels, as it does below ~96.5% scattered zeros per layer — "
                    "try 98%, 1×4 blocks, or removing neurons.")
    fast = _row("pruned", sparsity=0.98, tflite_bytes=50, latency_us=4.0, latency_ratio=0.4, tflite_accuracy=0.947,
                kernels=[{"status": "sparse"}] * 2 + [{"status": "densified"}])
    assert deploy.verdict([dense, fast]) == ("At 98% sparsity this model is 20× smaller and 2.5× faster in TFLite "
                                             "(the sparse kernel runs in 2 of 3 layers), for 0.3 points of accuracy.")
    assert deploy.verdict([dense]).startswith("Only the dense model is here")


def test_best_is_the_fastest_within_one_point():
    rows = [_row("dense"), _row("pruned", latency_us=4.0, tflite_accuracy=0.93),   # too inaccurate
            _row("int8", latency_us=5.0, tflite_accuracy=0.941, tflite_bytes=250),
            _row("compact + int8", latency_us=5.0, tflite_accuracy=0.95, tflite_bytes=120)]
    assert deploy.best_row(rows).name == "compact + int8"  # the smaller of two equally fast
    assert deploy.headline(rows).startswith("Fastest within 1 point of dense accuracy: compact + int8, 2.0× faster "
                                            "and 8.3× smaller")


def test_ratio_figure_has_a_bar_pair_per_export():
    from prune_core.viz import figures

    rows = [_row("dense", latency_ratio=1.0, size_ratio=1.0), _row("pruned", latency_ratio=0.4, size_ratio=0.05),
            deploy.Row(name="int8", source="dense", precision="int8", params=1, nonzero=1, sparsity=0.0, reason="x")]
    fig = figures.deploy_ratios_figure(rows)
    latency, size = fig.data
    assert list(latency.y) == ["dense", "pruned", "int8"] and list(latency.x) == [1.0, 0.4, 0]
    assert list(size.text) == ["1.00×", "0.05×", "no TFLite file"]
    assert fig.layout.shapes[0].x0 == 1.0


def test_cli_deploy_writes_the_files_and_adds_the_keys(tmp_path, capsys):
    from prune_core import cli

    out = tmp_path / "files"
    code = cli.main(["experiment", "--model", "lenet-300-100", "--data", "bundled", "--train-epochs", "0",
                     "--rule", "sparsity", "--value", "0.9", "--scope", "global", "--fine-tune-epochs", "0",
                     "--deploy", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for prefix in ("", "int8_"):
        assert report[f"{prefix}tflite_bytes"] > 0 and report[f"{prefix}tflite_latency_us"] > 0
        assert report[f"{prefix}tflite_sparse"] is False and 0.8 < report[f"{prefix}tflite_accuracy"] <= 1
    assert report["dense_tflite_latency_us"] > 0 and report["config"]["deploy"] == str(out)
    rows = {r["name"]: r for r in report["deploy"]["rows"]}
    assert report["tflite_bytes"] == rows["pruned"]["tflite_bytes"] == (out / "lenet-300-100-oneshot-pruned.tflite").stat().st_size
    assert report["tflite_accuracy"] == pytest.approx(report["final_accuracy"], abs=0.0005)  # float TFLite = Keras
    assert sorted(p.name for p in out.iterdir()) == sorted(p.rsplit("/", 1)[-1] for p in report["deploy"]["files"])


def test_the_verdict_reads_the_compact_model_when_the_run_has_one():
    """A run that removed filters: its compact file is 0.29× the dense latency while the masked file is densified
    (0.91×) — the advice is about the compact model, never 'try removing neurons'."""
    rows = [_row("dense"),
            _row("pruned", sparsity=0.5, latency_ratio=0.91, tflite_bytes=990,
                 kernels=[{"layer": "c", "op": "CONV_2D", "status": "densified"}]),
            _row("compact", sparsity=0.0, latency_ratio=0.29, tflite_bytes=260, params=26)]
    assert deploy.verdict(rows) == ("With its pruned neurons removed this model is 3.8× smaller and 3.4× faster in "
                                    "TFLite (it simply has fewer weights to multiply), at the same accuracy.")
    rows[2] = _row("compact", latency_ratio=0.98, tflite_bytes=700)
    text = deploy.verdict(rows)
    assert text.startswith("With its pruned neurons removed this model is 1.4× smaller but not faster in TFLite "
                           "(0.98× the dense latency)") and "try 98%" not in text
    rows[2] = _row("compact", latency_ratio=None, tflite_bytes=None, reason="could not convert")
    rows[2].tflite_file = None
    assert deploy.verdict(rows).startswith("At 50% sparsity this model")  # the compact file failed: the masked one


def test_keras_int8_says_why_in_words_before_the_converter():
    reason = deploy.keras_int8_reason("'tfl.fully_connected' op operand #0 must be tensor of 32-bit float or QI8\nloc(x)")
    assert reason == ("A Keras file only: TensorFlow Lite cannot convert the int8 layers Keras 3 quantizes to (its "
                      "converter takes float32 models and quantizes them itself — the 'int8' rows). Its Keras size and "
                      "accuracy are measured. Converter: 'tfl.fully_connected' op operand #0 must be tensor of 32-bit "
                      "float or QI8")
