"""The Prune page's first visit: the default view drawn from the .keras file while TensorFlow loads, the
status saying so, then the full page (ui.quickstart)."""

from __future__ import annotations

import threading

import pytest

from tests.apptest import has_live_view, live_view, metric_value, page_test
from ui import default_load, quickstart

KEPT = "Kept weights"


@pytest.fixture
def slow_load(monkeypatch):
    """The session's background load held until the test releases it; Keras counts as not imported yet."""
    release = threading.Event()
    real = default_load.load_default_model

    def held(path):
        if not release.wait(120):
            raise TimeoutError("the test never released the load")
        return real(path)

    monkeypatch.setattr(default_load, "load_default_model", held)
    monkeypatch.setattr(default_load, "keras_ready", lambda: False)
    monkeypatch.setattr(quickstart, "WAIT_SECONDS", 0.3)  # end the first run while the load is held
    yield release
    release.set()


def charts(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def test_first_visit_shows_the_file_preview_and_status_then_the_full_page(slow_load):
    at = page_test("prune").run()
    assert not at.exception
    assert [s.label for s in at.status] == [quickstart.STATUS]
    assert "model_entry" not in at.session_state  # nothing loaded with Keras yet
    preview = live_view(at).data
    assert preview["frozen"] and [h["name"] for h in preview["hists"]] == ["dense1", "dense2", "output"]
    assert metric_value(at, KEPT) == "38,888"  # 85.4 % pruned at coefficient 0.3 per layer
    sparsity = metric_value(at, "Overall sparsity")

    slow_load.set()
    assert at.session_state[default_load.LOAD_KEY].wait(120)
    at.run()
    assert not at.exception
    assert not at.status
    entry = at.session_state["model_entry"]
    assert entry.origin == "default" and default_load.LOAD_KEY not in at.session_state
    assert "mnist-bundled" in entry.measurements  # measured on the load's thread, not again by the page
    assert metric_value(at, "Overall sparsity") == sparsity
    full = live_view(at).data
    assert "frozen" not in full
    same = ("config", "grid", "sliders", "layers", "hists", "metrics", "values")
    differ = [k for k in same if preview[k] != full[k]]
    assert not differ, f"the full page's live view differs from the preview in {differ} (ui.quickstart.default_payload)"


def test_a_link_with_other_settings_waits_without_a_wrong_picture(slow_load):
    at = page_test("prune", criterion="taylor").run()
    assert [s.label for s in at.status] == [quickstart.STATUS]
    assert not charts(at) and not at.metric and not has_live_view(at)
    slow_load.set()
    assert at.session_state[default_load.LOAD_KEY].wait(120)
    at.run()
    assert at.session_state["pr_criterion"] == "taylor" and live_view(at).data["config"].startswith("taylor|")


def test_a_failed_background_load_falls_back_to_loading_in_the_page(monkeypatch):
    real, calls = default_load.load_default_model, []

    def first_fails(path):
        calls.append(path)
        if len(calls) == 1:
            raise OSError("disk hiccup")
        return real(path)

    monkeypatch.setattr(default_load, "load_default_model", first_fails)
    monkeypatch.setattr(default_load, "keras_ready", lambda: False)
    at = page_test("prune").run()
    assert not at.exception and len(calls) == 2
    assert at.session_state["model_entry"].origin == "default"
    assert metric_value(at, "Overall sparsity")
