"""Shared fixtures: a real Streamlit server for browser tests, Debian's Chromium for Playwright,
and AppTest helpers for page tests."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from bench.common import CHROMIUM, CHROMIUM_ARGS, serve_app
from prune_core.io import history

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
os.environ["PRUNING_EXPLORER_RAISE"] = "1"  # tests see exceptions instead of the friendly message


@contextlib.contextmanager
def app_server(data_dir: Path):
    """A real Streamlit server of its own on ``data_dir`` (run history); its log goes to test-artifacts/.

    When the server stops, its log must hold no traceback: the app turns every error into a message."""
    ARTIFACTS.mkdir(exist_ok=True)
    with serve_app({history.ENV_DATA_DIR: str(data_dir)}, log_dir=ARTIFACTS) as (url, proc, _):
        yield url
        log = Path(ARTIFACTS / f"server-{url.rsplit(':', 1)[1]}.log")
    text = log.read_text(errors="replace") if log.exists() else ""
    assert "Traceback" not in text, f"the server logged a traceback ({log}):\n{text[text.index('Traceback'):][:3000]}"


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    with app_server(tmp_path_factory.mktemp("app-data")) as url:
        yield url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}, "accept_downloads": True}


@pytest.fixture
def page(page, request):
    """Playwright page that saves a screenshot under test-artifacts/ when the test fails."""
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


def pytest_collection_modifyitems(config, items):
    """Skip the ``tf_only`` tests under another Keras backend (LiteRT conversion is TensorFlow's own)."""
    marked = [item for item in items if item.get_closest_marker("tf_only")]
    if not marked:
        return
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        skip = pytest.mark.skip(reason=f"TensorFlow only (TFLite/LiteRT); this run's Keras backend is {backend}")
        for item in marked:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
