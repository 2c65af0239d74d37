"""Data-parallel fine-tuning (prune_core.train.parallel) on two virtual CPU devices, per backend in a fresh process
(the device count is fixed before the backend starts): the training copy's variables are laid out over both devices,
pruned weights stay exactly zero, and the result matches one device within float tolerance."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, sys
backend = sys.argv[1]
os.environ["KERAS_BACKEND"] = backend
if backend == "jax":
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
else:
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np, keras
import prune_core as pc
from prune_core.train import fit, parallel
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(16, activation="relu", name="h"),
                          keras.layers.Dense(3, activation="softmax", name="o")])
rng = np.random.default_rng(0)
x, y = rng.normal(size=(256, 20)).astype("float32"), rng.integers(0, 3, 256)
masks = pc.select(model, pc.PruneSpec(rule="sparsity", value=0.5))
two, _ = fit.fine_tune(model, masks, x, y, epochs=2, batch_size=32)
variable = two.get_layer("h").kernel.value
layout = str(variable.sharding) if backend == "jax" else type(variable).__name__
os.environ["PRUNE_CORE_DATA_PARALLEL"] = "0"
one, _ = fit.fine_tune(model, masks, x, y, epochs=2, batch_size=32)
k1, k2 = (keras.ops.convert_to_numpy(m.get_layer("h").kernel) for m in (one, two))
print(json.dumps({"devices": parallel.local_devices(), "layout": layout, "pruned": int((~masks.kernels["h"]).sum()),
                  "zeros": int((k2[~masks.kernels["h"]] == 0).sum()), "diff": float(np.abs(k1 - k2).max())}))
"""


@pytest.mark.parametrize("backend, layout", [("jax", "Mesh('batch': 2"), ("tensorflow", "MirroredVariable")])
def test_fine_tuning_on_two_devices_keeps_zeros_and_matches_one_device(backend, layout):
    out = subprocess.run([sys.executable, "-c", SCRIPT, backend], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2 and layout in result["layout"]
    assert result["zeros"] == result["pruned"] == 160  # half of the 20 × 16 kernel, every one still exactly 0
    assert result["diff"] < 1e-6
