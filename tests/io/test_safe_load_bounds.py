"""prune_core.io.safe_load.bounds: the upload limit from the environment, checked before parsing; the
parameter limit derived from it; layer count, JSON depth and the config walk bounded without recursion."""

from __future__ import annotations

import pytest

from prune_core.io import safe_load as loading
from tests import badfiles


def test_size_limit_comes_from_the_environment_and_is_checked_before_parsing(monkeypatch):
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "1")
    assert loading.max_upload_bytes() == 1024 * 1024
    junk = b"\0" * (1024 * 1024 + 1)  # would otherwise be "random or binary data"
    with pytest.raises(loading.ModelFileError, match=r"1\.0 MB, over the upload limit of 1\.0 MB.*PRUNING_EXPLORER_MAX_UPLOAD_MB"):
        loading.load_model_file(junk, "big.keras")
    monkeypatch.setenv(loading.MAX_UPLOAD_ENV, "nonsense")
    assert loading.max_upload_mb() == loading.DEFAULT_MAX_UPLOAD_MB == 200


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
