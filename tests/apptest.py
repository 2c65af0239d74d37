"""AppTest helpers: run one page the way app.py would (page config + the page script)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120  # TF pages: import + model load + evaluation on 2 cores


def page_test(page: str, **query: str) -> AppTest:
    """AppTest for pages/<page>.py run through the router (so st.navigation and the sidebar run too),
    opened with ``query`` as its URL query parameters (e.g. ``page_test("prune", v="0")``)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if page != "home":  # the default page; switching to it explicitly skips the router's sidebar in AppTest
        at.switch_page(f"pages/{page}.py")
    at.query_params.update(query)
    return at


def job_result(at: AppTest, timeout: float = 300):
    """The session's background job's result once it has finished without error; the page then run again to show it."""
    job = at.session_state["job"]
    job.wait(timeout)
    assert job.error is None, job.error
    at.run()
    assert not at.exception
    return job.result


def button(at: AppTest, label: str):
    """The button labelled exactly ``label``."""
    return next(b for b in at.button if b.label == label)


def metric_value(at: AppTest, label: str) -> str:
    """An st.metric's value, or the number the Prune page's live view draws under that label."""
    for metric in at.metric:
        if metric.label == label:
            return metric.value
    if has_live_view(at) and label in ("Kept weights", "Overall sparsity", "Units removed"):
        return live_view(at).metric(label)
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in at.metric]}")


def metric_delta(at: AppTest, label: str) -> str:
    """An st.metric's delta, or the line the live view draws under that number."""
    for metric in at.metric:
        if metric.label == label:
            return metric.proto.delta
    return live_view(at).metric_delta(label)


# --- the Prune page's live view (a Components v2 element: AppTest sees its data, not its drawing) ------------------
class LiveView:
    """The live view as AppTest sees it: the data Python sent (``ui.prune_live``), the numbers the browser draws
    from it at the current values (the same look-ups as ``ui/components/live_prune.js``; the browser tests check
    the drawing itself), and :meth:`move` — what the browser sends when a slider rests."""

    def __init__(self, at: AppTest, node) -> None:
        import json

        self.at, self.node = at, node
        self.data = json.loads(node.proto.json)

    @property
    def values(self) -> dict:
        """What the view shows: the values held in the sliders' keys (a rerun the view asked for mounts its previous
        data again, whose ``values`` the browser has already moved past)."""
        from ui.prune_live import ALL
        from ui.prune_url import value_key

        _, granularity, rule = self.data["config"].split("|")[:3]
        held = self.at.session_state
        shown = {}
        for slider in self.data["sliders"]:
            key = value_key(granularity, rule, None if slider["id"] == ALL else slider["id"])
            shown[slider["id"]] = held[key] if key in held else self.data["values"][slider["id"]]
        return shown

    def position(self, slider: str) -> int:
        grid = self.data["grid"]
        value = float(self.values[slider])
        return min(range(len(grid)), key=lambda i: abs(grid[i] - value))

    @property
    def labels(self) -> list[str]:
        return [s["label"] for s in self.data["sliders"]]

    def slider_id(self, label_start: str) -> str:
        found = [s["id"] for s in self.data["sliders"] if s["label"].startswith(label_start)]
        assert len(found) == 1, f"{label_start!r} matches {found} of {self.labels}"
        return found[0]

    def kept(self) -> tuple[int, int]:
        layers = self.data["layers"]
        return (sum(layer["kept"][self.position(layer["slider"])] for layer in layers),
                sum(layer["total"] for layer in layers))

    def metric(self, label: str) -> str:
        from prune_core.viz.fmt import percent

        kept, total = self.kept()
        if label == "Kept weights":
            return f"{kept:,}"
        if label == "Overall sparsity":
            return percent(1.0 - kept / total if total else 0.0)
        if label == "Units removed":
            return self.data["units"]["share"][self.position(self.data["units"]["slider"])]
        raise AssertionError(f"the live view has no metric {label!r}")

    def metric_delta(self, label: str) -> str:
        """The line under a live metric: 'of 266,200' under Kept weights, 'N of M' under Units removed."""
        if label == "Kept weights":
            return f"of {self.kept()[1]:,}"
        if label == "Units removed":
            return self.data["units"]["count"][self.position(self.data["units"]["slider"])]
        raise AssertionError(f"the live view has no line under {label!r}")

    def layer_sparsity(self) -> dict[str, float]:
        return {layer["name"]: 1.0 - layer["kept"][self.position(layer["slider"])] / layer["total"]
                for layer in self.data["layers"]}

    def caption(self, name: str) -> str:
        hist = next(h for h in self.data["hists"] if h["name"] == name)
        return hist["captions"][self.position(hist["slider"])]

    def move(self, label_start: str | None = None, value: float | None = None, **by_id: float) -> AppTest:
        """Set a slider (by the start of its label, or ``by_id``) as the browser does when it rests; run."""
        sent = {s: float(v) for s, v in self.values.items()}
        if label_start is not None:
            sent[self.slider_id(label_start)] = float(value)
        sent.update({k: float(v) for k, v in by_id.items()})
        _as_widget(self.at, self.node, {"values": sent})
        return self.at.run()


def live_view(at: AppTest) -> LiveView:
    found = [n for n in _nodes(at._tree) if getattr(n, "type", None) == "bidi_component"
             and n.proto.component_name == "live_prune"]
    assert len(found) == 1, f"{len(found)} live views on the page"
    return LiveView(at, found[0])


def has_live_view(at: AppTest) -> bool:
    return any(getattr(n, "type", None) == "bidi_component" for n in _nodes(at._tree))


def _nodes(block):
    for child in getattr(block, "children", {}).values():
        yield child
        yield from _nodes(child)


def _as_widget(at: AppTest, node, state: dict) -> None:
    """Put a widget in ``node``'s place in the tree that reports ``state`` as the component's JSON state (what
    the browser's ``setStateValue`` sends)."""
    import json

    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.testing.v1.element_tree import Widget

    class Reported(Widget):
        def __init__(self, proto, root):
            self.id = proto.id
            self.disabled = False
            super().__init__(proto, root)
            self.type = "bidi_component"

        @property
        def _widget_state(self):
            return WidgetState(id=self.id, json_value=json.dumps(state))

        @property
        def value(self):
            return state

    replacement = Reported(node.proto, node.root)
    for block in [at._tree, *_nodes(at._tree)]:
        children = getattr(block, "children", None)
        for key, child in list((children or {}).items()):
            if child is node:
                children[key] = replacement
                return
    raise AssertionError("the live view is not in the tree")


class LiveSlider:
    """One slider of the live view, used like AppTest's slider: ``.value``, ``.label``, ``set_value(v).run()``."""

    def __init__(self, view: LiveView, slider: dict) -> None:
        self.view, self.id, self.label = view, slider["id"], slider["label"]
        self._value = None

    @property
    def value(self) -> float:
        return float(self.view.values[self.id])

    def set_value(self, value: float) -> "LiveSlider":
        self._value = float(value)
        return self

    def run(self) -> AppTest:
        return self.view.move(**{self.id: self._value})


def prune_sliders(at: AppTest) -> list:
    """The Prune page's value sliders: the live view's, or Streamlit's where the page draws those."""
    if has_live_view(at):
        view = live_view(at)
        return [LiveSlider(view, s) for s in view.data["sliders"]]
    return list(at.slider)
