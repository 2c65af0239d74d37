"""Real browser (issue 23, "Jobs that finish"): a new user's one-shot job on an uploaded residual conv net runs to
the end in the app — upload the model and its .npz, prune whole filters at 50% on the Prune page, Apply, run
one-shot on Retrain. The app's job path was once ~14× slower than the library (Streamlit's per-rerun clean-up
starved it, ui.runtime); a run that no longer finishes fails here (no timing is asserted: bench/bench_jobs.py
prints app vs library)."""

import numpy as np
import pytest
from playwright.sync_api import expect

from tests import badfiles
from tests.browser import (assert_no_exception, go_to, live_slider, open_page, upload_model_and_data, wait_idle,
                           wait_live)

pytestmark = pytest.mark.browser


def residual_files(folder):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="stem")(inputs)
    y = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="branch")(x)
    x = keras.layers.Add(name="join")([x, y])
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="down")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4, activation="softmax", name="classes")(x))
    model_path = folder / "residual.keras"
    model.save(model_path)
    rng = np.random.default_rng(0)
    data_path = folder / "images.npz"
    data_path.write_bytes(badfiles.npz_bytes(x_train=rng.integers(0, 256, (128, 16, 16, 3), dtype=np.uint8),
                                             y_train=np.arange(128) % 4,
                                             x_test=rng.integers(0, 256, (32, 16, 16, 3), dtype=np.uint8),
                                             y_test=np.arange(32) % 4))
    return model_path, data_path


def test_a_one_shot_job_on_an_uploaded_residual_net_finishes(page, app_url, tmp_path):
    model_path, data_path = residual_files(tmp_path)
    open_page(page, f"{app_url}/model", timeout=120_000)
    upload_model_and_data(page, model_path, data_path)
    assert_no_exception(page)

    go_to(page, "Prune")
    wait_live(page)
    page.get_by_text("Whole neurons / filters").click()
    wait_idle(page)
    page.get_by_text("target sparsity (%)").click()
    wait_idle(page)
    page.get_by_text("Same value for all layers").click()
    wait_live(page)
    field = live_slider(page, "All layers").locator(".pe-number")
    field.fill("50")
    field.press("Enter")
    page.wait_for_url(lambda url: "v=50" in url, timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Apply — use this pruned model on the Retrain page").click()
    expect(page.get_by_text("Candidate ready")).to_be_visible(timeout=60_000)
    assert "Whole neurons / filters" in page.get_by_text("Candidate ready").inner_text()

    go_to(page, "Retrain")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Last run").wait_for(timeout=300_000)
    wait_idle(page, timeout=120_000)
    assert_no_exception(page)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
