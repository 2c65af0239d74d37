"""Real browser: settings survive leaving a page through the sidebar and coming back, and the URL shows them
(Prune, Sensitivity, the worked example)."""

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_exception, expect_slider_value, go_to, live_slider, metric_text, open_page,
                           press_slider, wait_idle, wait_live)

pytestmark = pytest.mark.browser


def slider(page, label):
    return page.locator("[data-testid='stSlider']").filter(has_text=label)


def test_prune_settings_survive_a_trip_home(page, app_url):
    open_page(page, f"{app_url}/prune")
    wait_live(page)
    press_slider(page, live_slider(page, "dense1"), 10, "0.40", "dense1%3A0.4")  # 0.30 → 0.40
    sparsity = metric_text(page, "Overall sparsity")

    go_to(page, "Home")
    assert "v=" not in page.url  # Home has no settings of its own
    go_to(page, "Prune")
    wait_live(page)
    expect_slider_value(live_slider(page, "dense1"), "0.40")
    expect_slider_value(live_slider(page, "dense2"), "0.30")
    page.wait_for_url(lambda url: "dense1%3A0.4" in url, timeout=30_000)
    assert metric_text(page, "Overall sparsity") == sparsity
    assert_no_exception(page)


def test_sensitivity_settings_survive_a_trip_home(page, app_url):
    open_page(page, f"{app_url}/sensitivity", timeout=180_000)
    drop = slider(page, "Allowed accuracy drop")
    thumb = drop.get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowRight")
    thumb.press("ArrowRight")  # 1.0 → 2.0 points
    expect(drop).to_contain_text("2.0 pts")
    page.wait_for_url(lambda url: "drop=2" in url, timeout=60_000)
    wait_idle(page)

    go_to(page, "Home")
    go_to(page, "Sensitivity")
    expect(slider(page, "Allowed accuracy drop")).to_contain_text("2.0 pts")
    page.wait_for_url(lambda url: "drop=2" in url, timeout=60_000)
    expect(page.get_by_role("heading", name="Largest sparsity per layer within 2.0 pts of dense")).to_be_visible()
    assert_no_exception(page)


def test_worked_example_settings_survive_a_trip_home(page, app_url):
    open_page(page, f"{app_url}/worked_example")
    page.locator("[data-testid='stRadio']").get_by_text("Sensitivity |∂L/∂w|").click()  # the option, not the ranking
    page.wait_for_url(lambda url: "criterion=sensitivity" in url, timeout=60_000)  # the server ran with it
    wait_idle(page)
    press_slider(page, slider(page, "Coefficient"), 3, "0.45", "coefficient=0.45")

    go_to(page, "Home")
    go_to(page, "Worked example")
    expect(slider(page, "Coefficient")).to_contain_text("0.45")
    page.wait_for_url(lambda url: "coefficient=0.45" in url and "criterion=sensitivity" in url, timeout=30_000)
    threshold = page.locator("[data-testid='stMetric']").filter(has_text="Threshold").first
    expect(threshold.locator("[data-testid='stMetricValue']")).to_have_text("0.18")  # 0.45 × 0.4
    assert_no_exception(page)
