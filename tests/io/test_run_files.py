"""A run's models on disk beside the history: written atomically, listed per run, read back in safe mode with every
pruned zero in place, deleted with the run."""

import keras
import numpy as np
import pytest

import prune_core as pc
from prune_core.io.run_files import RunFiles


@pytest.fixture
def lenet_like():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="d1"), keras.layers.Dense(3, name="out")])


def test_a_pruned_model_comes_back_with_its_zeros_and_only_its_own_files(tmp_path, lenet_like):
    pruned = pc.prune(lenet_like, pc.PruneSpec(criterion="magnitude", rule="sparsity", value=0.5)).model
    files = RunFiles(tmp_path)
    written = files.save("my runs", 3, {"pruned": pruned, "compact": None, "dense": lenet_like})
    assert sorted(p.name for p in written.values()) == ["run-3-dense.keras", "run-3-pruned.keras"]
    assert all(p.parent == tmp_path / "my_runs" for p in written.values())
    assert not list(tmp_path.rglob("*.partial.keras"))
    loaded = files.load("my runs", 3)
    assert sorted(loaded) == ["dense", "pruned"]
    for mine, theirs in zip(loaded["pruned"].get_weights(), pruned.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert int(np.count_nonzero(loaded["pruned"].get_layer("d1").kernel.numpy() == 0)) == 12  # half of 6 × 4
    assert files.available("my runs", 4) == {} and files.available("other", 3) == {}
    assert files.delete("my runs", 3) == 2 and files.available("my runs", 3) == {}


def test_unknown_roles_and_workspaces_are_refused(tmp_path):
    files = RunFiles(tmp_path)
    with pytest.raises(ValueError, match="Unknown model role 'best'; choose one of pruned, compact, dense."):
        files.path("default", 1, "best")
    with pytest.raises(ValueError):
        files.folder("../escape")
