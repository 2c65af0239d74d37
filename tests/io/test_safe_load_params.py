"""prune_core.io.safe_load.params: declared parameters counted from the config alone, exact for real models."""

from __future__ import annotations

import pytest

from prune_core.io import safe_load as loading
from tests import badfiles


def _functional_gru():
    import keras

    inp = keras.Input((20,), dtype="int32")
    x = keras.layers.Embedding(1000, 16)(inp)
    x = keras.layers.GRU(8)(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))


def _mobilenet():
    import keras

    return keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)


@pytest.mark.parametrize("config, params", [
    (badfiles.wide_dense_config(), 784 * 10**6 + 10**6 + 10 * 10**6 + 10),
    (badfiles.huge_embedding_config(), 10**11 + 3 * 10**5 + 3),
])
def test_declared_parameters_are_counted_from_the_config_alone(config, params):
    est = loading.estimate_params(config)
    assert est.params == params and not est.unknown
    with pytest.raises(loading.ModelFileError, match=f"declares {params:,} parameters"):
        loading.check_bounds(config, "x.keras", 200 * 1024 * 1024)


@pytest.mark.parametrize("build", [badfiles.conv_net, _functional_gru, _mobilenet], ids=["conv", "gru", "mobilenetv2"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_estimate_is_exact_for_real_models_and_they_pass(build, suffix):
    model = build()
    blob = badfiles.save_bytes(model, suffix)
    _, est = loading.check_model_bytes(blob, "model" + suffix)
    assert est.params == model.count_params() and not est.unknown
