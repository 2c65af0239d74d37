"""Two people on one server: different models and slider values, and neither sees the other's."""

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_exception, expect_slider_value, go_to, metric_text, open_page, press_slider,
                           train_one_epoch, wait_live)

pytestmark = pytest.mark.browser


def first_slider(page):
    return page.locator(".pe-slider").first


def sparsity(page):
    return metric_text(page, "Overall sparsity")


def open_prune(page):
    go_to(page, "Prune")
    wait_live(page)


def test_two_sessions_keep_their_own_model_and_sliders(browser, app_url):
    alice = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()

    # Alice trains her own small model; Bob keeps the default LeNet-300-100.
    open_page(alice, f"{app_url}/model")
    train_one_epoch(alice)

    open_page(bob, f"{app_url}/prune")
    open_prune(alice)  # in-app navigation keeps the session (a new URL load would start a new one)
    # Retrying expectations: the sliders live in a fragment that can render after the page reports idle.
    expect(first_slider(alice)).to_contain_text("dense1 (784×128)", timeout=60_000)
    expect(first_slider(bob)).to_contain_text("dense1 (784×300)", timeout=60_000)
    expect(bob.locator(".pe-metric").filter(has_text="Overall sparsity")).to_have_count(1)

    # Alice moves her first slider; Bob's value and numbers stay where they were.
    bob_before = sparsity(bob)
    press_slider(alice, first_slider(alice), 20, "0.50", "dense1%3A0.5")
    open_prune(bob)
    expect_slider_value(first_slider(bob), "0.30")
    expect(bob.locator(".pe-metric").filter(has_text="Overall sparsity").locator(
        ".pe-metric-value")).to_have_text(bob_before, timeout=60_000)
    expect(bob.locator("[data-testid='stSidebar']")).to_contain_text("Model · LeNet-300-100 · default baseline")
    expect(alice.locator("[data-testid='stSidebar']")).to_contain_text("mlp-128 · trained here")
    for page in (alice, bob):
        assert_no_exception(page)
