"""Model page, "Upload your own": AppTest drives st.file_uploader (AppTest 1.67 has file_uploader.set_value).

A refusal shows its own message and leaves the session as it was; an accepted model becomes the current model,
with MNIST reshaped when it fits, or no data until an .npz is accepted.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from prune_core.io import data
from prune_core.measure import metrics
from tests import badfiles
from tests.apptest import metric_value, page_test

OCTET = "application/octet-stream"


def shown(source: str) -> str:
    """What a Markdown element displays: user text reaches it escaped by ui.text.md (backslash escapes)."""
    return re.sub(r"\\(.)", r"\1", source)


def uploader(at, key="upload_model"):
    return at.file_uploader(key=key)


def snapshot(at) -> dict:
    """Everything in the session except this feature's bookkeeping and form-button values, plus the
    current model's weights and measurements (copied, so a change in place would show)."""
    state = at.session_state.to_dict()
    out = {k: v for k, v in state.items() if not k.startswith(("upload_", "FormSubmitter"))}
    entry = state["model_entry"]
    out["_weights"] = data.content_hash(*entry.model.get_weights())
    out["_measurements"] = {k: dict(v) for k, v in entry.measurements.items()}
    out["_data_key"] = entry.data_key
    return out


@pytest.fixture(scope="module")
def flat_model_bytes():
    import keras

    model = badfiles.mlp(input_shape=(784,), hidden=16, classes=10, seed=3)
    ds = data.reshape_for_input(data.load_bundled(), (784,))
    pick = np.random.default_rng(0).choice(len(ds.y_train), 1000, replace=False)
    model.compile(keras.optimizers.Adam(0.003), "sparse_categorical_crossentropy")
    model.fit(ds.x_train[pick], ds.y_train[pick], epochs=1, batch_size=64, verbose=0)
    return badfiles.save_bytes(model, ".keras")


def test_bad_upload_is_explained_and_changes_nothing_then_a_good_one_is_used(flat_model_bytes, tmp_path):
    at = page_test("model").run()
    assert not at.exception
    before_entry = at.session_state["model_entry"]
    before = snapshot(at)
    sentinel = tmp_path / "sentinel"
    config, weights = badfiles.read_keras(badfiles.models()["mlp.keras"])
    evil = badfiles.keras_zip(badfiles.sentinel_lambda_config(config, str(sentinel)), weights)

    for name, blob, expected in (("evil.keras", evil, "Lambda layer 'evil'"),
                                 ("notes.keras", b"hello\n" * 10, "it is a text file"),
                                 ("nan.keras", badfiles.models()["nan.keras"], "1 NaN value in layer 'hidden'")):
        uploader(at).set_value((name, blob, OCTET))
        at.run()
        assert not at.exception
        assert [e.value for e in at.error if expected in shown(e.value)], [e.value for e in at.error]
        assert at.session_state["model_entry"] is before_entry
        assert snapshot(at) == before
    assert not sentinel.exists()

    uploader(at).set_value(("flat-mlp.keras", flat_model_bytes, OCTET))
    at.run()
    assert not at.exception and not at.error
    entry = at.session_state["model_entry"]
    assert entry is not before_entry and entry.origin == "uploaded" and entry.name == "flat-mlp.keras · uploaded"
    assert entry.data_key == "mnist@784"
    assert at.session_state["model_version"] == before["model_version"] + 1
    assert any("It is now the current model" in s.value for s in at.success)
    source = at.session_state["data_source"]
    ds = data.reshape_for_input(data.load_mnist(source), (784,))
    want = metrics.evaluate(entry.model, ds.x_test, ds.y_test).accuracy
    assert metric_value(at, "Test accuracy") == f"{want:.2%}"
    assert metric_value(at, "Parameters") == f"{784 * 16 + 16 + 16 * 10 + 10:,}"
    table = at.dataframe[0].value
    assert table["layer"].tolist() == ["hidden", "out"] and table["prunable"].tolist() == [True, True]

    # then a bad one again: the uploaded model stays
    uploader(at).set_value(("model.keras", b"\x89PNG\r\n\x1a\n....", OCTET))
    at.run()
    assert any("it is a PNG image" in shown(e.value) for e in at.error)
    assert at.session_state["model_entry"] is entry

    # choosing "no data" keeps sizes and says what needs data; MNIST again restores the accuracy
    at.radio(key=f"upload_data_choice_{at.session_state['model_version']}").set_value("none").run()
    assert metric_value(at, "Test accuracy") == "needs data"
    assert any("accuracy, sensitivity and Taylor scores need data" in i.value for i in at.info)
    at.radio(key=f"upload_data_choice_{at.session_state['model_version']}").set_value("mnist").run()
    assert metric_value(at, "Test accuracy") == f"{want:.2%}"


def test_non_mnist_model_starts_without_data_and_takes_an_npz():
    at = page_test("model").run()
    uploader(at).set_value(("tabular.h5", badfiles.models()["mlp.h5"], OCTET))
    at.run()
    assert not at.exception and not at.error
    entry = at.session_state["model_entry"]
    assert entry.data_key == data.NO_DATA_KEY
    assert metric_value(at, "Test accuracy") == "needs data"
    assert metric_value(at, "Parameters") == f"{4 * 5 + 5 + 5 * 3 + 3:,}"
    radio = at.radio(key=f"upload_data_choice_{at.session_state['model_version']}")
    assert radio.options == [data_choice for data_choice in ("My own data (.npz)", "No data — magnitude pruning and sizes only")]
    radio.set_value("npz").run()

    bad = badfiles.npz_bytes(**{**badfiles.good_arrays(), "y_train": np.arange(12) % 7})
    uploader(at, "upload_data").set_value(("labels.npz", bad, OCTET))
    at.run()
    assert any("labels.npz: y_train has labels from 0 to 6, outside the model's output range 0–2" in shown(e.value)
               for e in at.error)
    assert at.session_state["model_entry"].data_key == data.NO_DATA_KEY

    arrays = badfiles.good_arrays(n_train=30, n_test=20)
    uploader(at, "upload_data").set_value(("mine.npz", badfiles.npz_bytes(**arrays), OCTET))
    at.run()
    assert not at.exception and not at.error
    entry = at.session_state["model_entry"]
    assert entry.data_key.startswith("npz-")
    want = metrics.evaluate(entry.model, arrays["x_test"], arrays["y_test"]).accuracy
    assert metric_value(at, "Test accuracy") == f"{want:.2%}"
    assert any("mine.npz (uploaded) — 30 train / 20 test examples" in c.value for c in at.caption)


def _markdown_sources(at) -> list[str]:
    return [e.value for e in (*at.markdown, *at.caption, *at.error, *at.success, *at.info)]


def test_markdown_in_file_and_layer_names_is_shown_as_text():
    at = page_test("model").run()
    evil_file = "# *bold* [x](javascript:alert(1)) <img src=x>.keras"
    uploader(at).set_value((evil_file, badfiles.save_bytes(badfiles.evil_name_model(), ".keras"), OCTET))
    at.run()
    assert not at.exception and not at.error
    entry = at.session_state["model_entry"]
    label = entry.settings["file"]
    assert label == "_ _bold_ _x__javascript_alert_1__ _img src_x_.keras"  # display_name: plain characters only
    table = at.dataframe[0].value
    assert table["layer"].tolist() == [badfiles.EVIL_NAME, "out"]  # a table shows text as it is
    sources = _markdown_sources(at)
    heading = f"#### {label} · uploaded".replace("_", "\\_")
    assert heading in sources, sources
    assert any(s.startswith(f"**Layers of {label.replace('_', chr(92) + '_')} · uploaded**") for s in sources)
    for source in sources:  # nothing user-supplied arrives unescaped
        assert "_bold_" not in source and "*bold*" not in source


def _token_model_bytes():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(50, 4, name="tokens"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax", name="out")])
    return badfiles.save_bytes(model, ".keras")


def test_token_ids_beyond_the_vocabulary_are_refused_at_upload_and_change_nothing():
    at = page_test("model").run()
    uploader(at).set_value(("tokens.keras", _token_model_bytes(), OCTET))
    at.run()
    assert not at.exception and not at.error
    at.radio(key=f"upload_data_choice_{at.session_state['model_version']}").set_value("npz").run()
    before = snapshot(at)
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 50, (30, 6)), "y_train": np.arange(30) % 3,
              "x_test": rng.integers(0, 50, (20, 6)), "y_test": np.arange(20) % 3}
    bad = {**arrays, "x_test": arrays["x_test"] + 40}  # ids up to 89 for a vocabulary of 50
    uploader(at, "upload_data").set_value(("tokens.npz", badfiles.npz_bytes(**bad), OCTET))
    at.run()
    assert not at.exception
    errors = [shown(e.value) for e in at.error]
    assert any("tokens.npz: x_test holds token ids from" in e and "Embedding layer 'tokens' has a vocabulary of 50"
               in e for e in errors), errors
    assert snapshot(at) == before and at.session_state["model_entry"].data_key == data.NO_DATA_KEY
    uploader(at, "upload_data").set_value(("tokens-ok.npz", badfiles.npz_bytes(**arrays), OCTET))
    at.run()
    assert not at.exception and not at.error
    entry = at.session_state["model_entry"]
    assert entry.data_key.startswith("npz-")
    want = metrics.evaluate(entry.model, arrays["x_test"].astype(np.float32), arrays["y_test"]).accuracy
    assert metric_value(at, "Test accuracy") == f"{want:.2%}"
