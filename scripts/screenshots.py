"""Take one screenshot per page from the running app (for the README), in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py [--width 1400] [--out docs/screenshots]

Starts the app on a free loopback port with a throwaway run-history folder, walks through the pages in
one browser session (so the Retrain and Compare pages show a real run) and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import IDLE, launch, serve_app  # noqa: E402
from prune_core.io.history import ENV_DATA_DIR  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
MAX_HEIGHT = 2400  # px: the whole page, cut at this height


def idle(page, settle: int = 400) -> None:
    page.wait_for_timeout(settle)
    page.wait_for_selector(IDLE, timeout=180_000)


def go_to(page, name: str) -> None:
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name).click()
    idle(page)


def shoot(page, name: str) -> None:
    page.wait_for_timeout(1500)  # plotly draws after the script finishes
    # Streamlit scrolls inside its main block, not the document: grow the viewport to the page (up to MAX_HEIGHT).
    size = page.viewport_size
    height = page.evaluate("Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                           "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, MAX_HEIGHT))})
    page.wait_for_timeout(1200)  # charts re-lay out at the new size
    page.screenshot(path=str(OUT / f"{name}.png"))
    page.set_viewport_size(size)
    print(f"wrote {OUT / name}.png")


def walk(page, url: str, out: Path) -> None:
    """Every page in one session (so Retrain, Compare and Deploy show a real run), plus the tour and
    presenter mode."""
    global OUT
    OUT = out
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
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Last run").wait_for(timeout=300_000)
    idle(page)
    shoot(page, "retrain")
    page.get_by_role("button", name="Deploy this model").first.click()
    idle(page)
    page.locator(".st-key-deploy-ratios .js-plotly-plot").wait_for(timeout=300_000)  # converted and measured
    idle(page)
    shoot(page, "deploy")
    go_to(page, "Compare")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shoot(page, "compare")
    go_to(page, "Worked example")
    shoot(page, "worked_example")
    go_to(page, "Network")
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shoot(page, "network")
    page.goto(url)  # a new session: the tour is offered on Home
    idle(page)
    page.get_by_role("button", name="Start the tour").click()
    idle(page)
    page.get_by_role("button", name="Next: Prune").click()
    idle(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shoot(page, "tour")
    page.goto(f"{url}/prune?present=1")
    idle(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)
    shoot(page, "presenter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1400, help="viewport width in px (the README's are 1400)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir, serve_app({ENV_DATA_DIR: data_dir}) as (url, _, _):
        with sync_playwright() as p:
            browser = launch(p)
            walk(browser.new_page(viewport={"width": args.width, "height": 1000}), url, args.out)
            browser.close()


if __name__ == "__main__":
    main()
