"""Sweeps past one machine: the criteria sweep's points on a local Ray instance (2 workers on 127.0.0.1, each task
importing Keras inside its worker and loading the model from its .keras bytes) give the in-process executor's numbers
for the same seeds; a task that fails twice is reported in its place and the others are kept."""

import keras
import numpy as np
import pandas as pd
import pytest

from prune_core.experiments import executor, sweeps
from tests.tiny import flaky_task as flaky

# Ray is an optional extra (pip install 'prune-core[ray]'); `make test-ray` installs it and runs this module (a local
# Ray costs about a minute on 2 cores, more than make test's budget leaves). Without Ray it is skipped, saying so.
ray = pytest.importorskip("ray", reason="Ray is not installed: run `make test-ray`")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1")
    yield executor.RayExecutor()
    ray.shutdown()


def tiny():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(12, activation="relu", name="d1"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 10)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)
    return model, (x[:120], y[:120], x[120:], y[120:])


def test_a_sweep_on_ray_gives_the_in_process_numbers(local_ray):
    model, data = tiny()
    seen = []
    on_ray = sweeps.criteria_sweep(model, data, ["magnitude", "random"], [0.5, 0.9], fine_tune_epochs=1,
                                   batch_size=16, executor=local_ray, progress=lambda f, m: seen.append(f))
    here = sweeps.criteria_sweep(model, data, ["magnitude", "random"], [0.5, 0.9], fine_tune_epochs=1, batch_size=16)
    columns = ["criterion", "sparsity", "pruned_accuracy", "final_accuracy", "held_sparsity"]
    pd.testing.assert_frame_equal(on_ray[columns], here[columns])
    assert sorted(seen)[-1] == 1.0 and len(seen) == 5  # the send, then each of the 4 points as it finished


def test_a_failing_task_is_reported_in_its_place_and_the_others_are_kept(local_ray):
    done = []
    results = local_ray.map(flaky, [0, 1, 2, 3], shared=100, on_result=lambda i, r: done.append(i))
    assert results[0] == 100 and results[2] == 104 and results[3] == 109
    assert results[1] == executor.TaskFailed(1, "RuntimeError: this point cannot be measured")
    assert sorted(done) == [0, 1, 2, 3]
    here = executor.LocalExecutor().map(flaky, [0, 1, 2, 3], shared=100)
    assert here == results


def test_a_sensitivity_scan_on_ray_gives_the_in_process_numbers(local_ray):
    model, (_, _, x_test, y_test) = tiny()
    seen = []
    on_ray = sweeps.layer_sensitivity(model, x_test, y_test, (0.5, 0.9), executor=local_ray,
                                      progress=lambda f, m: seen.append(m))
    pd.testing.assert_frame_equal(on_ray, sweeps.layer_sensitivity(model, x_test, y_test, (0.5, 0.9)))
    assert seen[0] == "Sending the model and 2 layers to scan to ray…" and len(seen) == 3
