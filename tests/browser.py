"""Helpers for driving the Streamlit app in Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from bench.common import IDLE


def wait_idle(page, timeout: float = 60_000, settle_ms: int = 150) -> None:
    """Give a just-triggered rerun time to start, then wait until the script is not running."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE, timeout=timeout)


FIRST_ELEMENT = "[data-testid='stMainBlockContainer'] [data-testid='stElementContainer']"


def open_page(page, url: str, timeout: float = 90_000) -> None:
    """Load a URL and wait for its first full run: the frontend reports 'notRunning' before the
    server's first status arrives, so idle alone can pass before the script has even started."""
    page.goto(url)
    page.wait_for_selector(FIRST_ELEMENT, timeout=timeout)
    wait_idle(page, timeout)


def assert_no_exception(page) -> None:
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()


def go_to(page, name: str, timeout: float = 120_000) -> None:
    """Navigate with the sidebar (keeps the session; loading a new URL would start a new one)."""
    link = page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name)
    path = link.get_attribute("href").split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    link.click()
    page.wait_for_url(lambda url: url.split("?")[0].rstrip("/").endswith(path), timeout=timeout)
    wait_idle(page, timeout=timeout)


def metric_text(page, label: str) -> str:
    """A metric's value: Streamlit's, or the Prune page's live view's (Kept weights, Overall sparsity, …)."""
    live = page.locator(".pe-metric").filter(has=page.locator(".pe-metric-label", has_text=label))
    if live.count():
        return live.first.locator(".pe-metric-value").inner_text()
    return page.locator("[data-testid='stMetric']").filter(has_text=label).first.locator(
        "[data-testid='stMetricValue']").inner_text()


LIVE = ".pe-live[data-ready='1']"  # the Prune page's live view, its histograms inflated and drawn


def wait_live(page, timeout: float = 120_000):
    """Wait for the Prune page's live view (ui/components/live_prune.js) to have drawn; returns it."""
    view = page.locator(LIVE)
    view.wait_for(timeout=timeout)
    return view


def live_slider(page, label: str):
    """The live view's slider whose label contains ``label`` ('dense1', 'Global')."""
    return page.locator(".pe-slider").filter(has=page.locator(".pe-slider-label", has_text=label)).first


def expect_slider_value(slider, shown: str, timeout: float = 60_000) -> None:
    """A slider shows ``shown`` ('0.40', '50%'): the live view's range input says it in aria-valuetext,
    Streamlit's slider in its text."""
    if slider.evaluate("e => e.classList.contains('pe-slider')"):
        expect(slider.get_by_role("slider")).to_have_attribute("aria-valuetext", shown, timeout=timeout)
    else:
        expect(slider).to_contain_text(shown, timeout=timeout)


def upload_model_and_data(page, model_path, data_path, timeout: float = 120_000) -> None:
    """On the Model page: upload a model file, then its .npz data, as a user would (waits until each is in)."""
    page.get_by_role("tab", name="Upload your own").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(model_path))
    page.get_by_role("heading", name=f"{model_path.name} · uploaded").wait_for(timeout=timeout)
    wait_idle(page, timeout=timeout, settle_ms=400)
    page.get_by_role("tab", name="Upload your own").click()
    page.get_by_text("My own data (.npz)").click()
    wait_idle(page, timeout=60_000, settle_ms=400)
    page.locator("[data-testid='stFileUploader'] input[type='file']").nth(1).set_input_files(str(data_path))
    wait_idle(page, timeout=timeout, settle_ms=1000)


def train_one_epoch(page, timeout: float = 180_000):
    """On the Model page: bundled data, 1 epoch, Train; returns the success message once it shows."""
    page.get_by_text("Bundled subset — 10,000 real digits, offline").click()
    epochs = page.get_by_label("Epochs")
    epochs.fill("1")
    epochs.press("Tab")
    page.get_by_role("button", name="Train").click()
    success = page.locator("[data-testid='stAlertContentSuccess']")
    success.wait_for(timeout=timeout)
    wait_idle(page, timeout=timeout)
    return success


def press_slider(page, slider, presses: int, label: str, url_part: str, timeout: float = 60_000) -> None:
    """Move a slider with the keyboard, then wait until the server has run with the new value.

    The label changes in the browser at once; the rerun that uses it can start later under load.
    ``url_part`` (e.g. ``"dense1%3A0.4"``) is what the page writes into the URL once it has run with
    the final value, so waiting for it (then for idle) means every number on screen is current.
    """
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(presses):
        thumb.press("ArrowRight")
    expect_slider_value(slider, label, timeout=timeout)
    page.wait_for_url(lambda url: url_part in url, timeout=timeout)
    wait_idle(page, timeout=timeout)
