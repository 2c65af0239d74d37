"""Take one screenshot per page from the running app (for the README), in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py

Starts the app on a free loopback port with a throwaway run-history folder, walks through the pages in
one browser session (so the Retrain and Compare pages show a real run) and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import IDLE, launch, serve_app  # noqa: E402
from prune_core.history import ENV_DATA_DIR  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def idle(page, settle: int = 400) -> None:
    page.wait_for_timeout(settle)
    page.wait_for_selector(IDLE, timeout=180_000)


def go_to(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name).click()
    idle(page)


def shoot(page, name: str) -> None:
    page.wait_for_timeout(1500)  # plotly draws after the script finishes
    page.screenshot(path=str(OUT / f"{name}.png"))
    print(f"wrote docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir, serve_app({ENV_DATA_DIR: data_dir}) as (url, _, _):
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            page.wait_for_selector("[data-testid='stApp']", timeout=90_000)
            idle(page)
            shoot(page, "home")
            go_to(page, "Model")
            shoot(page, "model")
            go_to(page, "Prune")
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
            shoot(page, "prune")
            page.get_by_role("button", name=re.compile("^Apply")).click()
            idle(page)
            go_to(page, "Sensitivity")
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
            shoot(page, "sensitivity")
            go_to(page, "Retrain")
            page.get_by_role("button", name="Run").click()
            page.get_by_text("Last run").wait_for(timeout=300_000)
            idle(page)
            shoot(page, "retrain")
            go_to(page, "Compare")
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
            shoot(page, "compare")
            go_to(page, "Worked example")
            shoot(page, "worked_example")
            browser.close()


if __name__ == "__main__":
    main()
