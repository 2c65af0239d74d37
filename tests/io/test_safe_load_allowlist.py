"""prune_core.io.safe_load.allowlist: Keras' own classes and functions by (module, name); unknown tags refused."""

from __future__ import annotations

import pytest

from prune_core.io import safe_load as loading


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


def test_allow_lists_compare_module_and_name():
    functions, classes = loading.allowed_functions(), loading.allowed_classes()
    assert ("keras.activations", "relu") in functions and ("keras.src.activations.activations", "relu") in functions
    assert ("keras.src.layers", "deserialize") not in functions
    assert ("keras.activations", "deserialize") not in functions and ("keras.activations", "get") not in functions
    assert ("keras.layers", "Dense") in classes and ("keras.src.ops.numpy", "Add") in classes
    assert ("keras.src.saving.serialization_lib", "Dense") not in classes
    assert ("os", "system") not in functions
