"""Real browser: the app opens, the Model page trains one epoch and shows the accuracy."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, train_one_epoch, wait_idle

pytestmark = pytest.mark.browser


def test_home_then_model_train_one_epoch(page, app_url):
    open_page(page, app_url)
    expect(page.get_by_role("heading", name="Pruning Explorer")).to_be_visible()
    assert_no_exception(page)

    page.get_by_role("link", name="Model").first.click()
    wait_idle(page, timeout=120_000)
    page.get_by_role("heading", name="LeNet-300-100 · default baseline").wait_for(timeout=60_000)
    assert_no_exception(page)

    success = train_one_epoch(page)
    message = success.inner_text()
    match = re.search(r"test accuracy (\d+\.\d\d)%", message)
    assert match, message
    accuracy = float(match.group(1))
    assert 80.0 < accuracy <= 100.0
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Test accuracy")
    assert f"{accuracy:.2f}%" in metric.inner_text()
    expect(page.get_by_role("heading", name="mlp-128 · trained here")).to_be_visible()
    assert_no_exception(page)
