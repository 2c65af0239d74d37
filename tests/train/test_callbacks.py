"""Keras callbacks: the mask enforcer is a Keras callback; the gradual pruner holds the scheduled sparsity."""

import numpy as np
import pytest

from prune_core.graph import kernels
from prune_core.methods import masks as mk
from prune_core.methods.thresholds import prune_count
from prune_core.train import callbacks, schedules as sc
from tests.tiny import dense_net, plain_dense_net, two_rule_data


def test_mask_enforcer_is_a_keras_callback():
    import keras
    from prune_core.train.callbacks import MaskEnforcer
    model = dense_net()
    ms = mk.build_masks({n: np.abs(k) for n, k in kernels(model).items()}, "sparsity", 0.5)
    assert isinstance(MaskEnforcer(model, ms), keras.callbacks.Callback)


def test_gradual_pruner_holds_scheduled_sparsity_at_every_step():
    import keras
    from prune_core.train.fit import train

    model = plain_dense_net()
    x, y = two_rule_data()                                      # 256 / 32 = 8 steps an epoch, 16 in all
    schedule = sc.PolynomialDecay(0.0, 0.75, begin_step=0, end_step=8, frequency=2)
    pruner = callbacks.GradualPruner(schedule)
    zeros = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):   # runs after the pruner's update
            zeros.append({n: int(np.count_nonzero(k == 0)) for n, k in kernels(self.model).items()})

    train(model, x, y, epochs=2, batch_size=32, learning_rate=0.02, callbacks=[pruner, Record()])
    held = {0: 0.0, 2: 0.43359375, 4: 0.65625, 6: 0.73828125, 8: 0.75}
    expected = []
    for step in range(16):
        target = held[max(t for t in held if t <= step)]
        expected.append({"h": prune_count(24, target), "out": prune_count(12, target)})
    assert zeros == expected                            # h: 0,10,16,18,18  out: 0,5,8,9,9
    assert [(e.step, e.target) for e in pruner.events] == list(held.items())
    assert [e.sparsity for e in pruner.events] == pytest.approx([0.0, 15 / 36, 24 / 36, 27 / 36, 27 / 36], abs=1e-12)
    final = kernels(model)
    for name, mask in pruner.mask_set.kernels.items():
        assert np.all(final[name][~mask] == 0) and np.all(final[name][mask] != 0)
