"""Real browser: upload a bad model file and see why it is refused, then a good one and see its summary."""

import pytest
from playwright.sync_api import expect

from tests import badfiles
from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser


def test_upload_bad_then_good_model(page, app_url, tmp_path):
    bad = tmp_path / "digit.keras"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    good = tmp_path / "small-conv.keras"
    good.write_bytes(badfiles.models()["conv.keras"])

    open_page(page, f"{app_url}/model", timeout=120_000)
    page.get_by_role("heading", name="LeNet-300-100 · default baseline").wait_for(timeout=90_000)
    page.get_by_role("tab", name="Upload your own").click()
    file_input = page.locator("[data-testid='stFileUploader'] input[type='file']").first

    file_input.set_input_files(str(bad))
    wait_idle(page, timeout=90_000, settle_ms=400)
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="digit.keras")
    error.wait_for(timeout=60_000)
    assert "is not a Keras model: it is a PNG image" in error.inner_text()
    expect(page.get_by_role("heading", name="LeNet-300-100 · default baseline")).to_be_visible()  # unchanged
    assert_no_exception(page)

    file_input.set_input_files(str(good))
    wait_idle(page, timeout=90_000, settle_ms=400)
    page.get_by_role("heading", name="small-conv.keras · uploaded").wait_for(timeout=90_000)
    wait_idle(page, timeout=90_000)
    page.get_by_role("tab", name="Upload your own").click()
    summary = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Layers of small-conv.keras")
    summary.wait_for(timeout=30_000)
    assert "input (28, 28, 1) → 10 outputs" in summary.inner_text()
    expect(page.get_by_text("3 prunable layers (Dense and Conv2D kernels")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    assert_no_exception(page)
