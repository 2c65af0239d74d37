"""Two people on one server: different models and slider values, and neither sees the other's."""

import pytest

from tests.browser import assert_no_exception, go_to, metric_text, open_page, press_slider, train_one_epoch

pytestmark = pytest.mark.browser


def slider_labels(page):
    return [s.inner_text().split("\n")[0] for s in page.locator("[data-testid='stSlider']").all()]


def sparsity(page):
    return metric_text(page, "Overall sparsity")


def open_prune(page):
    go_to(page, "Prune")
    page.locator("[data-testid='stSlider']").first.wait_for(timeout=60_000)


def test_two_sessions_keep_their_own_model_and_sliders(browser, app_url):
    alice = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()

    # Alice trains her own small model; Bob keeps the default LeNet-300-100.
    open_page(alice, f"{app_url}/model")
    train_one_epoch(alice)

    open_page(bob, f"{app_url}/prune")
    open_prune(alice)  # in-app navigation keeps the session (a new URL load would start a new one)
    assert slider_labels(alice)[0] == "dense1 (784×128)"
    assert slider_labels(bob)[0] == "dense1 (784×300)"

    # Alice moves her first slider; Bob's value and numbers stay where they were.
    bob_before = sparsity(bob)
    press_slider(alice, alice.locator("[data-testid='stSlider']").first, 20, "0.50", "dense1%3A0.5")
    open_prune(bob)
    assert "0.30" in bob.locator("[data-testid='stSlider']").first.inner_text()
    assert sparsity(bob) == bob_before
    assert "Model · LeNet-300-100 · default baseline" in bob.locator("[data-testid='stSidebar']").inner_text()
    assert "mlp-128 · trained here" in alice.locator("[data-testid='stSidebar']").inner_text()
    for page in (alice, bob):
        assert_no_exception(page)
