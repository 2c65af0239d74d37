"""Shared helpers for bench/, tests/ and scripts/: start the app on a free loopback port, launch Debian's
Chromium, and tell when a Streamlit page is idle."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, env: dict | None = None, log=None, timeout: float = 60.0) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port (output to the open file ``log``, else discarded),
    returned once /_stcore/health answers; RuntimeError when it exits or does not answer in time."""
    output = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=output, stderr=subprocess.STDOUT if log is not None else output,
        env={**os.environ, **(env or {})})
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("Streamlit did not start" + (f"; see {log.name}" if log is not None else ""))


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextlib.contextmanager
def serve_app(env: dict | None = None, log_dir: Path | None = None):
    """Yield (url, process, seconds until /_stcore/health answered) for a fresh `streamlit run app.py`;
    with ``log_dir`` its output goes to ``log_dir/server-<port>.log``. Used by bench/, tests/ and scripts/."""
    port = free_port()
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(log_dir / f"server-{port}.log", "w")) if log_dir is not None else None
        started = time.perf_counter()
        proc = start_app(port, env, log)
        stack.callback(stop_app, proc)
        yield f"http://127.0.0.1:{port}", proc, time.perf_counter() - started


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def percentile(values, q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))
