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
