"""Helpers for driving the Streamlit app in Chromium."""

from __future__ import annotations

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_idle(page, timeout: float = 60_000, settle_ms: int = 150) -> None:
    """Give a just-triggered rerun time to start, then wait until the script is not running."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE, timeout=timeout)


def open_page(page, url: str, timeout: float = 90_000) -> None:
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout)
    wait_idle(page, timeout)


def assert_no_exception(page) -> None:
    exceptions = page.locator("[data-testid='stException']")
    assert exceptions.count() == 0, exceptions.first.inner_text()


def go_to(page, name: str, timeout: float = 120_000) -> None:
    """Navigate with the sidebar (keeps the session; loading a new URL would start a new one)."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name).click()
    wait_idle(page, timeout=timeout)


def metric_text(page, label: str) -> str:
    return page.locator("[data-testid='stMetric']").filter(has_text=label).first.locator(
        "[data-testid='stMetricValue']").inner_text()


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
