"""Hostile uploads (issue 15): bounded before anything is built, isolated as the last line, no temp files left.

Every hostile file is a few KB built in tests/badfiles.py; none holds code that could run. The static
refusals are asserted to happen before the loader writes a temp file or calls Keras; the resource cases
also run in a process of their own, asserting the refusal arrives and that process grows by < 1 GB.
No test asserts on wall-clock time (bench/bench_uploads.py prints the figures).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from prune_core.io import safe_load as loading
from prune_core.io.safe_load import load, tempfiles
from tests import badfiles

HOSTILE = badfiles.hostile_cases()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_loader(monkeypatch):
    """Fail the test if a file gets as far as a temp file, the isolated child, or Keras."""
    def reached(*args, **kwargs):
        raise AssertionError("the file reached the loader: it was not refused by the static checks")

    for name in ("_write_upload", "validate_isolated", "_keras_load"):
        monkeypatch.setattr(load, name, reached)  # where load_model_file looks them up


@pytest.mark.parametrize("case", HOSTILE, ids=[c.id for c in HOSTILE])
def test_hostile_file_is_refused_before_anything_is_built(case, no_loader):
    with pytest.raises(loading.ModelFileError) as info:
        loading.load_model_file(case.data, case.filename, **case.kwargs)
    message = str(info.value)
    assert case.expected in message
    assert "Traceback" not in message and "RecursionError" not in message


def test_hostile_messages_are_all_different():
    messages = []
    for case in HOSTILE:
        with pytest.raises(loading.ModelFileError) as info:
            loading.check_model_bytes(case.data, case.filename, **case.kwargs)
        messages.append(str(info.value))
    assert len(set(messages)) == len(messages)


def test_hostile_files_are_small():
    assert max(len(c.data) for c in HOSTILE) < 4 << 20
    assert all(len(c.data) < 64 << 10 for c in HOSTILE if c.id != "layers-20000")


# --- the config alone ------------------------------------------------------------------------------------

def test_parameter_limit_is_derived_from_the_upload_limit(monkeypatch):
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "8")
    assert loading.max_params() == 8 * 1024 * 1024 // 4 == 2_097_152
    config = badfiles._sequential([badfiles._input_layer((1000,)), badfiles._dense("d", 2100)])
    assert loading.estimate_params(config).params == 1000 * 2100 + 2100  # 2,102,100 > 2,097,152
    with pytest.raises(loading.ModelFileError, match=r"declares 2,102,100 parameters .* more than the 2,097,152 "
                                                     r"parameters a file within the upload limit of 8\.0 MB can hold"):
        loading.check_bounds(config, "x.keras")
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "9")
    assert loading.check_bounds(config, "x.keras").params == 2_102_100


@pytest.mark.parametrize("config, params", [
    (badfiles.wide_dense_config(), 784 * 10**6 + 10**6 + 10 * 10**6 + 10),
    (badfiles.huge_embedding_config(), 10**11 + 3 * 10**5 + 3),
])
def test_declared_parameters_are_counted_from_the_config_alone(config, params):
    est = loading.estimate_params(config)
    assert est.params == params and not est.unknown
    with pytest.raises(loading.ModelFileError, match=f"declares {params:,} parameters"):
        loading.check_bounds(config, "x.keras", 200 * 1024 * 1024)


def test_layer_count_stops_early_and_names_the_limit():
    config = badfiles.many_layers_config(20_000)
    with pytest.raises(loading.ModelFileError, match="more than 2,000 layers"):
        loading.count_layers(config, "many.keras")
    assert loading.count_layers(badfiles.many_layers_config(1_999)) == 2_000  # with its InputLayer: allowed


def test_json_depth_is_measured_without_recursion():
    assert loading.json_depth(b'{"a": "[[[[", "b": [{"c": "\\"]"}]}') == 3
    deep = badfiles.deep_config_bytes(200_000)
    assert loading.json_depth(deep) == 200_002
    with pytest.raises(loading.ModelFileError, match="nested 200,002 levels deep"):
        loading.parse_config(deep, "The config.json in deep.keras")


def test_config_walk_is_iterative_and_depth_bounded():
    nested: dict = {"class_name": "Sequential", "config": {"layers": []}}
    inner = nested["config"]["layers"]
    for _ in range(5_000):  # built in Python, not parsed: the walk itself must bound it
        inner.append([])
        inner = inner[0]
    with pytest.raises(loading.ModelFileError, match="nested more than 64 levels deep"):
        loading.check_config(nested)


def test_allow_lists_compare_module_and_name():
    functions, classes = loading.allowed_functions(), loading.allowed_classes()
    assert ("keras.activations", "relu") in functions and ("keras.src.activations.activations", "relu") in functions
    assert ("keras.src.layers", "deserialize") not in functions
    assert ("keras.activations", "deserialize") not in functions and ("keras.activations", "get") not in functions
    assert ("keras.layers", "Dense") in classes and ("keras.src.ops.numpy", "Add") in classes
    assert ("keras.src.saving.serialization_lib", "Dense") not in classes
    assert ("os", "system") not in functions


# --- HDF5 ------------------------------------------------------------------------------------------------

def test_hdf5_walk_visits_each_object_once():
    config, _ = badfiles._mlp_config_and_weights()
    with pytest.raises(loading.ModelFileError, match="links the HDF5 group 'model_weights/hidden' a second time"):
        loading.inspect_hdf5(badfiles.h5_hardlink_cycle(config), "cycle.h5")

    def shared_dataset(f):
        f.attrs["model_config"] = json.dumps(config)
        f["a/kernel"] = np.zeros((2, 3), np.float32)
        f["b"] = f["a/kernel"]  # a dataset under two names: counted once, not refused
    facts = loading.inspect_hdf5(badfiles.h5_bytes(shared_dataset), "shared.h5")
    assert facts.datasets == 1 and facts.values == 6 and facts.largest[0] == 6 and facts.largest[2] == (2, 3)


def test_dataset_shapes_are_checked_before_any_read(monkeypatch):
    import h5py

    def no_read(*args, **kwargs):
        raise AssertionError("a dataset was read")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_read)
    monkeypatch.setattr(h5py.Dataset, "read_direct", no_read)
    with pytest.raises(loading.ModelFileError, match=r"of shape \(1000000000,\): 1,000,000,000 values"):
        loading.inspect_hdf5(badfiles.h5_declaring(10**9), "big.h5")
    facts = loading.inspect_hdf5(badfiles.models()["mlp.h5"], "mlp.h5")
    assert facts.values == 4 * 5 + 5 + 5 * 3 + 3 and facts.config["class_name"] == "Sequential"


# --- models nobody here designed are not refused ----------------------------------------------------------

def _functional_gru():
    import keras

    inp = keras.Input((20,), dtype="int32")
    x = keras.layers.Embedding(1000, 16)(inp)
    x = keras.layers.GRU(8)(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))


def _mobilenet():
    import keras

    return keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)


@pytest.mark.parametrize("build", [badfiles.conv_net, _functional_gru, _mobilenet], ids=["conv", "gru", "mobilenetv2"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_estimate_is_exact_for_real_models_and_they_pass(build, suffix):
    model = build()
    blob = badfiles.save_bytes(model, suffix)
    _, est = loading.check_model_bytes(blob, "model" + suffix)
    assert est.params == model.count_params() and not est.unknown


# --- names, temp files, isolation ---------------------------------------------------------------------

def test_a_long_file_name_keeps_its_real_extension():
    name = "my-very-long-experiment-name-" + "x" * 60 + ".keras"
    label = loading.display_name(name)
    assert len(label) == 60 and label.endswith("…") and loading.file_extension(name) == ".keras"
    model = loading.load_model_file(badfiles.models()["mlp.keras"], name)
    assert [layer.name for layer in model.layers] == ["hidden", "out"]


def _uploads() -> list[str]:
    return sorted(p.name for p in loading.upload_dir().glob(loading.UPLOAD_PREFIX + "*"))


def test_isolated_child_timeout_and_memory_limit_refuse_and_leave_no_temp_file(monkeypatch):
    before = _uploads()
    blob = badfiles.models()["mlp.keras"]
    monkeypatch.setenv(loading.LOAD_TIMEOUT_ENV, "0.001")
    with pytest.raises(loading.ModelFileError, match=r"took longer than 0\.001 s .* PRUNING_EXPLORER_LOAD_TIMEOUT_S"):
        loading.load_model_file(blob, "slow.keras")
    assert _uploads() == before
    monkeypatch.delenv(loading.LOAD_TIMEOUT_ENV)
    monkeypatch.setenv(loading.LOAD_MEMORY_ENV, "1")  # 1 MB on top of what the child had mapped: nothing fits
    with pytest.raises(loading.ModelFileError, match=r"needed more than 1\.0 MB of memory .* PRUNING_EXPLORER_LOAD_MEMORY_MB"):
        loading.load_model_file(blob, "hungry.keras")
    assert _uploads() == before


def test_the_isolated_child_never_runs_the_parents_main_script(tmp_path, monkeypatch):
    """Under Streamlit (or an AppTest) ``__main__`` is the app script; a child started with it would re-run that
    script before its check (multiprocessing's main-module fix-up). The check must not."""
    import types

    marker = tmp_path / "ran"
    script = tmp_path / "app_script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    fake = types.ModuleType("__main__")
    fake.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake)
    good = tempfiles._write_upload(badfiles.models()["conv.keras"], ".keras")
    try:
        report = loading.validate_isolated(good, "conv.keras", os.path.getsize(good))
    finally:
        os.unlink(good)
    assert report["seconds"] > 0 and not marker.exists()
    assert sys.modules["__main__"] is fake  # put back as it was


def test_isolated_child_reports_a_refusal_of_its_own():
    blob = badfiles.models()["nan.keras"]
    path = tempfiles._write_upload(blob, ".keras")
    try:
        with pytest.raises(loading.ModelFileError, match="1 NaN value in layer 'hidden'"):
            loading.validate_isolated(path, "nan.keras", len(blob))
    finally:
        os.unlink(path)
    good = tempfiles._write_upload(badfiles.models()["conv.keras"], ".keras")
    try:
        report = loading.validate_isolated(good, "conv.keras", os.path.getsize(good))
    finally:
        os.unlink(good)
    assert report["peak_mb"] > 0 and report["seconds"] > 0


def test_stale_uploads_are_swept():
    folder = loading.upload_dir()
    old, fresh, other = folder / "upload-old.keras", folder / "upload-fresh.keras", folder / "keep-me.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    try:
        assert loading.sweep_stale_uploads(folder) == 1
        assert not old.exists() and fresh.exists() and other.exists()
    finally:
        for path in (old, fresh, other):
            path.unlink(missing_ok=True)
    assert stat_mode(folder) == 0o700


def stat_mode(path) -> int:
    import stat

    return stat.S_IMODE(os.stat(path).st_mode)


def test_markdown_layer_names_load_unchanged():
    model = loading.load_model_file(badfiles.save_bytes(badfiles.evil_name_model(), ".keras"), "evil.keras")
    assert model.layers[0].name == badfiles.EVIL_NAME
    assert loading.model_summary(model)["layer"].tolist() == [badfiles.EVIL_NAME, "out"]


# --- resources, measured in a process of its own ------------------------------------------------------------

RESOURCE_IDS = ["dense-1e6-units", "dense-1e6-units-h5", "embedding-1e11", "h5-dataset-1e9",
                "keras-weights-dataset-1e9", "h5-hardlink-cycle", "layers-20000", "config-nested-10000",
                "h5-config-nested-10000", "einsum-3gb-kernel"]


def test_resource_cases_are_refused_and_the_process_grows_by_less_than_1_gb():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "tests.badfiles", *RESOURCE_IDS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)  # a guard against hangs, not a timing
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    rows = {row["id"]: row for row in json.loads(line[len("RESULT "):])}
    assert sorted(rows) == sorted(RESOURCE_IDS)
    for row in rows.values():
        assert row["message"] is not None and row["expected"] in row["message"], row
        assert row["rss_growth_mb"] < 1024, row
