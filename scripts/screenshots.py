"""Take one screenshot per page from the running app (for the README), in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py            # starts the app on a free port, writes docs/screenshots/*.png
    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8501
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"home": "", "model": "model"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def serve() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    args = parser.parse_args()
    proc, url = (None, args.url) if args.url else serve()
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name, path in PAGES.items():
                page.goto(f"{url}/{path}")
                page.wait_for_selector("[data-testid='stApp']", timeout=90_000)
                page.wait_for_timeout(300)
                page.wait_for_selector(IDLE, timeout=120_000)
                page.wait_for_timeout(1200)  # let plotly finish drawing
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                print(f"wrote docs/screenshots/{name}.png")
            browser.close()
    finally:
        if proc:
            proc.terminate()


if __name__ == "__main__":
    main()
