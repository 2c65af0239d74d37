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
                "LayerNormalization": "barrier", "GroupNormalization": "group_norm", "GRU": "recurrent",
                "LSTM": "recurrent", "SimpleRNN": "recurrent", "Embedding": "embedding",
                "MultiHeadAttention": "attention", "LayerScale": "channel_params", "RMSNormalization": "barrier"}
    assert {name: KINDS[name] for name in expected} == expected
    assert "Lambda" not in KINDS and "Bidirectional" not in KINDS and "TimeDistributed" not in KINDS
    assert set(KINDS.values()) == {"prunable", "follow", "channel_params", "couple", "concat", "reshape",
                                   "input", "barrier", "recurrent", "embedding", "group_norm", "attention"}

    class MyDense(keras.layers.Dense):
        pass
    assert graph.kind(keras.layers.Dense(2)) == "prunable" and graph.kind(MyDense(2)) is None



def test_recurrent_rule_needs_a_stateless_layer_whose_activation_keeps_zero():
    from prune_core.graph.kinds import recurrent_rule
    assert recurrent_rule({"stateful": False, "activation": "tanh"}) is None
    assert recurrent_rule({"stateful": True, "activation": "tanh"}) == "is stateful (its state outlives a call)"
    assert recurrent_rule({"stateful": False, "activation": "sigmoid"}).startswith(
        "uses the activation 'sigmoid', which does not map 0 to 0")
