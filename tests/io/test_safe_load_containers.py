"""prune_core.io.safe_load.containers: an HDF5 file walked once per object, dataset shapes checked before any read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from prune_core.io import safe_load as loading
from tests import badfiles


def test_hdf5_walk_visits_each_object_once():
    config, _ = badfiles._mlp_config_and_weights()
    with pytest.raises(loading.ModelFileError, match="links the HDF5 group 'model_weights/hidden' a second time"):
        loading.inspect_hdf5(badfiles.h5_hardlink_cycle(config), "cycle.h5")

    def shared_dataset(f):
        f.attrs["model_config"] = json.dumps(config)
        f["a/kernel"] = np.zeros((2, 3), np.float32)
        f["b"] = f["a/kernel"]  # a dataset under two names: counted once, not refused
    facts = loading.inspect_hdf5(badfiles.h5_bytes(shared_dataset), "shared.h5")
    assert facts.datasets == 1 and facts.values == 6 and facts.largest[0] == 6 and facts.largest[2] == (2, 3)


def test_dataset_shapes_are_checked_before_any_read(monkeypatch):
    import h5py

    def no_read(*args, **kwargs):
        raise AssertionError("a dataset was read")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", no_read)
    monkeypatch.setattr(h5py.Dataset, "read_direct", no_read)
    with pytest.raises(loading.ModelFileError, match=r"of shape \(1000000000,\): 1,000,000,000 values"):
        loading.inspect_hdf5(badfiles.h5_declaring(10**9), "big.h5")
    facts = loading.inspect_hdf5(badfiles.models()["mlp.h5"], "mlp.h5")
    assert facts.values == 4 * 5 + 5 + 5 * 3 + 3 and facts.config["class_name"] == "Sequential"
