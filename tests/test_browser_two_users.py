"""Two people on one server: different models and slider values, and neither sees the other's."""

import pytest

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser


def slider_labels(page):
    return [s.inner_text().split("\n")[0] for s in page.locator("[data-testid='stSlider']").all()]


def sparsity(page):
    return page.locator("[data-testid='stMetric']").filter(has_text="Overall sparsity").locator(
        "[data-testid='stMetricValue']").inner_text()


def go_to(page, name):
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name).click()
    wait_idle(page, timeout=90_000)
    page.locator("[data-testid='stSlider']").first.wait_for(timeout=60_000)


def test_two_sessions_keep_their_own_model_and_sliders(browser, app_url):
    alice = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()

    # Alice trains her own small model; Bob keeps the default LeNet-300-100.
    open_page(alice, f"{app_url}/model")
    alice.get_by_text("Bundled subset — 10,000 real digits, offline").click()
    epochs = alice.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Tab")
    alice.get_by_role("button", name="Train").click()
    alice.locator("[data-testid='stAlertContentSuccess']").wait_for(timeout=120_000)
    wait_idle(alice)

    open_page(bob, f"{app_url}/prune")
    go_to(alice, "Prune")  # in-app navigation keeps the session (a new URL load would start a new one)
    assert slider_labels(alice)[0] == "dense1 (784×128)"
    assert slider_labels(bob)[0] == "dense1 (784×300)"

    # Alice moves her first slider; Bob's value and numbers stay where they were.
    bob_before = sparsity(bob)
    thumb = alice.locator("[data-testid='stSlider']").first.get_by_role("slider")
    thumb.focus()
    for _ in range(20):
        thumb.press("ArrowRight")
    wait_idle(alice)
    alice.wait_for_function(
        "() => document.querySelector(\"[data-testid='stSlider']\").innerText.includes('0.50')")
    wait_idle(alice)
    go_to(bob, "Prune")
    assert "0.30" in bob.locator("[data-testid='stSlider']").first.inner_text()
    assert sparsity(bob) == bob_before
    assert "Model · LeNet-300-100 · default baseline" in bob.locator("[data-testid='stSidebar']").inner_text()
    assert "mlp-128 · trained here" in alice.locator("[data-testid='stSidebar']").inner_text()
    for page in (alice, bob):
        assert_no_exception(page)
