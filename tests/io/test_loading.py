"""prune_core.io.safe_load: every bad file gets its own message; nothing in a file is ever run; good models load and prune."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from prune_core.io import data, safe_load as loading
from prune_core import graph as layers
from prune_core.methods import masks
from prune_core.measure import metrics
from tests import badfiles

CASES = badfiles.model_cases()


def test_corpus_is_big_enough():
    assert len(CASES) >= 15 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_model_file_is_refused_with_its_message(case):
    with pytest.raises(loading.ModelFileError) as info:
        loading.load_model_file(case.data, case.filename, **case.kwargs)
    message = str(info.value)
    assert case.expected in message
    assert isinstance(info.value, ValueError)
    assert "Traceback" not in message and len(message) < 600


def test_every_message_is_distinct():
    messages = {}
    for case in CASES:
        try:
            loading.load_model_file(case.data, case.filename, **case.kwargs)
        except loading.ModelFileError as exc:
            messages[case.id] = str(exc)
    assert len(messages) == len(CASES)
    # same kind of problem may share wording, but the file/layer/what differs: no two cases identical
    assert len(set(messages.values())) >= len(CASES) - 3


def test_lambda_payload_never_runs(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    config, weights = badfiles.read_keras(badfiles.models()["mlp.keras"])
    evil = badfiles.sentinel_lambda_config(config, str(sentinel))
    for filename, blob in (("evil.keras", badfiles.keras_zip(evil, weights)),
                           ("evil.h5", badfiles.h5_bytes(lambda f: f.attrs.__setitem__(
                               "model_config", __import__("json").dumps(evil))))):
        with pytest.raises(loading.ModelFileError, match="Lambda layer 'evil'"):
            loading.load_model_file(blob, filename)
        assert not sentinel.exists()
    # control: the stored function is live code — calling it directly does write the sentinel
    badfiles.lambda_payload_runs(evil)
    assert sentinel.read_text() == "ran"


def test_size_limit_comes_from_the_environment_and_is_checked_before_parsing(monkeypatch):
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "1")
    assert loading.max_upload_bytes() == 1024 * 1024
    junk = b"\0" * (1024 * 1024 + 1)  # would otherwise be "random or binary data"
    with pytest.raises(loading.ModelFileError, match=r"1\.0 MB, over the upload limit of 1\.0 MB.*PRUNING_EXPLORER_MAX_UPLOAD_MB"):
        loading.load_model_file(junk, "big.keras")
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "nonsense")
    assert loading.max_upload_mb() == loading.DEFAULT_MAX_UPLOAD_MB == 200


def test_loader_uses_a_private_temp_file_and_removes_it(monkeypatch):
    import tempfile

    seen = []
    real = tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        seen.append((path, stat.S_IMODE(os.stat(path).st_mode)))
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    loading.load_model_file(badfiles.models()["mlp.keras"], "../../etc/passwd.keras")
    (path, mode), = seen
    assert mode == 0o600 and "passwd" not in path and not os.path.exists(path)


def test_display_name_never_keeps_a_path():
    assert loading.display_name("../../etc/x.keras") == "x.keras"
    assert loading.display_name("C:\\Users\\me\\m.h5") == "m.h5"
    assert loading.display_name("") == "upload"


def test_config_check_allows_keras_functional_ops_and_refuses_unknown_tags():
    ok = {"class_name": "Functional", "module": "keras.src.models.functional", "registered_name": "Functional",
          "config": {"layers": [{"class_name": "Add", "module": "keras.src.ops.numpy", "registered_name": "Add",
                                 "config": {"name": "add"}},
                                {"class_name": "__keras_tensor__", "config": {"shape": [None, 4]}},
                                {"class_name": "function", "module": "keras.activations", "config": "relu",
                                 "registered_name": "relu"}]},
          "compile_config": {"loss": {"class_name": "MyLoss", "module": "mine"}}}  # ignored: compile=False
    loading.check_config(ok)
    with pytest.raises(loading.ModelFileError, match="lambda function"):
        loading.check_config({"class_name": "Sequential", "module": "keras",
                              "config": {"name": "s", "layers": [{"class_name": "__lambda__", "config": {}}]}})
    with pytest.raises(loading.ModelFileError, match="'x' \\(Dense\\), a custom class from module evil"):
        loading.check_config({"class_name": "Dense", "module": "evil", "config": {"name": "x"}})


@pytest.mark.parametrize("name", ["conv.keras", "conv.h5"])
def test_good_conv_net_loads_and_prunes(name):
    blob = badfiles.models()[name]
    model = loading.load_model_file(blob, name)
    original = badfiles.conv_net()  # same seed → same weights
    x = np.random.default_rng(1).random((5, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(model(x, training=False)), np.asarray(original(x, training=False)), atol=1e-6)
    assert [l.name for l in layers.prunable_layers(model)] == ["conv", "fc", "out"]

    scores = {n: np.abs(k) for n, k in layers.kernels(model).items()}
    mask_set = masks.build_masks(scores, "sparsity", 0.5)
    pruned = masks.apply_masks(model, mask_set)
    for layer_name, kernel in layers.kernels(pruned).items():
        assert np.count_nonzero(kernel == 0) == kernel.size // 2
    assert layers.kernels(model)["conv"].all()  # the loaded model is untouched
    assert np.isfinite(np.asarray(pruned(x, training=False))).all()


def test_summary_names_prunable_layers_and_keeps_the_rest():
    model = loading.load_model_file(badfiles.models()["conv.keras"], "conv.keras")
    table = loading.model_summary(model)
    assert list(table.columns) == list(loading.SUMMARY_COLUMNS)
    assert table["layer"].tolist() == ["conv", "bn", "pool", "drop", "flat", "fc", "drop2", "out"]
    assert table.loc[table.prunable, "layer"].tolist() == ["conv", "fc", "out"]
    assert set(table.loc[~table.prunable, "what pruning does"]) == {"kept as is"}
    assert table.set_index("layer").loc["conv", "params"] == 3 * 3 * 1 * 4 + 4
    assert table.set_index("layer").loc["bn", "output shape"] == "(None, 26, 26, 4)"
    assert int(table["params"].sum()) == metrics.count_params(model)
    facts = loading.model_facts(model)
    assert facts["input_shape"] == (28, 28, 1) and facts["output_units"] == 10 and facts["final_activation"] == "softmax"


def test_flat_784_model_works_with_reshaped_mnist():
    import keras

    model = badfiles.mlp(input_shape=(784,), hidden=16, classes=10)
    ds = data.reshape_for_input(data.load_bundled(), (784,))
    model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy")
    pick = np.random.default_rng(0).choice(len(ds.y_train), 2000, replace=False)  # the split is sorted by digit
    model.fit(ds.x_train[pick], ds.y_train[pick], epochs=1, batch_size=64, verbose=0)
    loaded = loading.load_model_file(badfiles.save_bytes(model, ".keras"), "flat.keras")
    facts = loading.model_facts(loaded)
    assert data.is_mnist_shaped(facts["input_shape"], facts["output_units"])
    assert ds.x_test.shape == (2000, 784) and ds.key == "mnist-bundled@784"
    got = metrics.evaluate(loaded, ds.x_test, ds.y_test)
    want = metrics.evaluate(model, ds.x_test, ds.y_test)
    assert got.accuracy == want.accuracy > 0.5
