"""graph.kinds: the one table of layer kinds."""

import keras

from prune_core import graph
from prune_core.graph import KINDS


def test_kinds_table_roles():
    expected = {"Dense": "prunable", "Conv1D": "prunable", "Conv2D": "prunable", "Conv3D": "prunable",
                "SeparableConv2D": "prunable", "Conv2DTranspose": "prunable", "DepthwiseConv2D": "follow",
                "ReLU": "follow", "Dropout": "follow", "MaxPooling2D": "follow", "GlobalAveragePooling2D": "follow",
                "ZeroPadding2D": "follow", "UpSampling2D": "follow", "BatchNormalization": "channel_params",
                "PReLU": "channel_params", "Add": "couple", "Multiply": "couple", "Maximum": "couple",
                "Concatenate": "concat", "Flatten": "reshape", "Reshape": "reshape", "InputLayer": "input",
                "LayerNormalization": "barrier", "GroupNormalization": "barrier"}
    assert {name: KINDS[name] for name in expected} == expected
    assert "GRU" not in KINDS and "Lambda" not in KINDS and "Embedding" not in KINDS
    assert set(KINDS.values()) == {"prunable", "follow", "channel_params", "couple", "concat", "reshape",
                                   "input", "barrier"}

    class MyDense(keras.layers.Dense):
        pass
    assert graph.kind(keras.layers.Dense(2)) == "prunable" and graph.kind(MyDense(2)) is None

