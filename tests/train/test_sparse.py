"""prune_core.train.sparse: SET and RigL keep every layer's non-zero count exact at every update, grown connections
start at zero, the drop counts follow the cosine schedule, ERK gives the stated densities; the run API runs it."""

import keras
import numpy as np
import pytest

import prune_core as pc
from prune_core.experiments import runs
from prune_core.graph import kernels
from prune_core.train import sparse
from prune_core.train.callbacks import live_weights
from prune_core.train.fit import train


def test_set_drops_the_smallest_and_grows_at_random_among_the_inactive():
    w = np.array([[0.9, -0.05, 0.0, 0.4], [0.0, 0.02, 0.7, 0.0]])
    mask = w != 0  # 5 active
    new = sparse.set_update(w, mask, 2, np.random.default_rng(0))
    assert new.sum() == 5
    assert not new[0, 1] and not new[1, 1]  # the two smallest |w| are dropped
    assert new[0, 0] and new[0, 3] and new[1, 2]  # the rest stay
    grown = new & ~mask
    assert grown.sum() == 2 and not (grown & (np.abs(w) > 0)).any()  # grown where the weights are zero
    again = sparse.set_update(w, mask, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(new, again)  # seeded


def test_rigl_grows_exactly_the_largest_gradients_and_never_regrows_what_it_dropped():
    w = np.array([[0.9, -0.05, 0.0], [0.0, 0.02, 0.7]])
    mask = w != 0
    grads = np.array([[0.0, 50.0, 3.0], [2.0, 40.0, 0.0]])  # the dropped ones have the largest gradients
    new = sparse.rigl_update(w, mask, grads, 2)
    assert new.astype(int).tolist() == [[1, 0, 1], [1, 0, 1]]


def test_the_drop_count_follows_the_cosine_schedule():
    schedule = sparse.UpdateSchedule(update_every=25, end_step=100, drop_fraction=0.3)
    counts = {t: int(round(schedule.fraction(t) * 1000)) for t in range(0, 101) if schedule.should_update(t)}
    # 0.15 · (1 + cos(π t / 100)) · 1000 active weights
    assert counts == {25: 256, 50: 150, 75: 44}
    with pytest.raises(ValueError, match="The drop fraction must be between 0 and 1"):
        sparse.UpdateSchedule(drop_fraction=1.0)
    assert sparse.UpdateSchedule.from_config({"update_every": 5, "end_step": 9, "drop_fraction": 0.5}) == \
        sparse.UpdateSchedule(5, 9, 0.5)


def test_erk_makes_a_layer_dense_when_its_share_would_exceed_one():
    shapes = {"wide": (400, 100), "narrow": (100, 10), "tiny": (10, 2)}
    d = sparse.erk_densities(shapes, 0.2)
    # raw ∝ sum/prod: tiny 0.6, narrow 0.11, wide 0.0125. Budget 0.2 × 41,020 = 8,204 non-zeros: ε = 8,204 / 622
    # makes tiny 7.9 > 1 → dense; again ε = 8,184 / 610 makes narrow 1.48 > 1 → dense; wide gets the rest.
    assert d == {"wide": pytest.approx((8_204 - 20 - 1_000) / 40_000), "narrow": 1.0, "tiny": 1.0}
    assert d["wide"] == pytest.approx(0.1796)
    assert sum(d[n] * np.prod(s) for n, s in shapes.items()) == pytest.approx(0.2 * 41_020)
    with pytest.raises(ValueError, match="Unknown distribution 'random'; choose one of uniform, erk."):
        sparse.layer_densities(shapes, 0.2, "random")


def tiny_model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu", name="d1"),
                             keras.layers.Dense(3, activation="softmax", name="out")])


def tiny_data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return x, y


class Watcher(keras.callbacks.Callback):
    """After each connectivity update (this callback runs after DynamicSparsity), the weights as they are."""

    def __init__(self, mover):
        super().__init__()
        self.mover, self.seen, self.previous = mover, [], None

    def on_train_batch_begin(self, batch, logs=None):
        if len(self.mover.updates) != len(self.seen):
            live_weights(self.model)
            masks = dict(self.mover.masks)
            self.seen.append((kernels(self.model), masks, self.previous))
        self.previous = dict(self.mover.masks)


@pytest.mark.parametrize("method", ["rigl", "set"])
def test_every_update_keeps_the_count_and_starts_grown_weights_at_zero(method):
    model, (x, y) = tiny_model(), tiny_data()
    weights = kernels(model)
    densities = sparse.uniform_densities({n: k.shape for n, k in weights.items()}, 0.25)
    masks = sparse.initial_masks(weights, densities)
    assert {n: int(m.sum()) for n, m in masks.items()} == {"d1": 48, "out": 12}  # 25% of 192 and of 48
    schedule = sparse.UpdateSchedule(update_every=4, end_step=20, drop_fraction=0.5)
    mover = sparse._sparse_class()(masks, schedule, method=method, x=x, y=y, seed=0, batch_size=64)
    watcher = Watcher(mover)
    train(model, x, y, epochs=2, batch_size=16, callbacks=[mover, watcher])  # 30 steps
    assert [u.step for u in mover.updates] == [4, 8, 12, 16]
    for update, (now, held, before) in zip(mover.updates, watcher.seen):
        for name, mask in held.items():
            assert int(mask.sum()) == {"d1": 48, "out": 12}[name]  # the exact count, every update
            assert int(np.count_nonzero(now[name][~mask])) == 0  # everything inactive is zero
            grown = mask & ~before[name]
            assert np.all(now[name][grown] == 0.0)  # grown connections start at exactly zero
        expected = {n: int(round(schedule.fraction(update.step) * {"d1": 48, "out": 12}[n])) for n in held}
        assert update.per_layer == expected and update.moved == sum(expected.values())
    final = kernels(model)
    assert all(int(np.count_nonzero(final[n])) <= int(m.sum()) for n, m in mover.masks.items())


def test_the_run_api_runs_sparse_training_and_records_every_update():
    model, (x, y) = tiny_model(), tiny_data()
    data = (x[:180], y[:180], x[180:], y[180:])
    spec = pc.RunSpec(mode="sparse", target_sparsity=0.75, epochs=2, batch_size=16, update_every=3,
                      sparse_method="set", distribution="erk", latency_repeats=0)
    result = pc.run(model, data, spec)
    direct = runs.run_sparse(model, data, sparsity=0.75, method="set", distribution="erk", epochs=2, batch_size=16,
                             update_every=3, latency_repeats=0)
    for name in result.mask_set.kernels:
        np.testing.assert_array_equal(result.mask_set.kernels[name], direct.mask_set.kernels[name])
    assert result.mode == "sparse" and result.settings["sparse_method"] == "set"
    # 2 epochs of ceil(180 / 16) = 12 steps; updates every 3 steps before step round(0.75 · 24) = 18
    assert [e["step"] for e in result.events] == [3, 6, 9, 12, 15]
    densities = sparse.erk_densities({"d1": (12, 16), "out": (16, 3)}, 0.25)
    kept = {n: int(m.sum()) for n, m in result.mask_set.kernels.items()}
    assert kept == {n: sparse.active_count(s, densities[n]) for n, s in (("d1", 192), ("out", 48))}
    final = kernels(result.model)
    nonzero = sum(int(np.count_nonzero(final[n])) for n in kept)  # a kept weight may sit at 0 (a dead ReLU's)
    assert nonzero <= sum(kept.values()) and result.sparsity == pytest.approx(1 - nonzero / 240, abs=1e-9)


def test_run_spec_refuses_what_sparse_training_cannot_do():
    with pytest.raises(ValueError, match="Unknown sparse-training method 'dense'; choose one of rigl, set."):
        pc.RunSpec(mode="sparse", target_sparsity=0.9, sparse_method="dense").validate()
    with pytest.raises(ValueError, match="Unknown density distribution 'x'; choose one of uniform, erk."):
        pc.RunSpec(mode="sparse", target_sparsity=0.9, distribution="x").validate()
    with pytest.raises(ValueError, match="Sparse training holds a target sparsity from the start"):
        pc.RunSpec(mode="sparse", prune=pc.PruneSpec(rule="coefficient", value=0.3)).validate()
    assert pc.RunSpec(mode="sparse", target_sparsity=0.9).validate().to_dict()["sparse_method"] == "rigl"
