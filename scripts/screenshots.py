"""Take one screenshot per page from the running app (for the README), in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py

Starts the app on a free loopback port with a throwaway run-history folder, walks through the pages in
one browser session (so the Retrain and Compare pages show a real run) and writes docs/screenshots/*.png.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def serve(data_dir: str) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PRUNING_EXPLORER_DATA_DIR": data_dir})
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start")


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
    with tempfile.TemporaryDirectory() as data_dir:
        proc, url = serve(data_dir)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
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
        finally:
            proc.terminate()


if __name__ == "__main__":
    main()
