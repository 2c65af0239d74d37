"""Real browser: the Network page's live view (ui/components/live_network.js) — keyboard moves redraw the picture in
the browser, and the lines drawn kept / pruned, the neurons greyed and the numbers equal numpy's; the value reaches the
server (the URL) once the slider rests."""

import numpy as np
import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, open_page, wait_idle

pytestmark = pytest.mark.browser
NET = ".pe-net[data-ready='1']"


def drawn(page) -> dict:
    """What the view has drawn: lines by class, greyed neurons (not inputs), the numbers beside the picture."""
    return page.evaluate("""() => {
      const box = document.querySelector('.pe-net');
      const count = (sel) => box.querySelectorAll(sel).length;
      const metrics = {};
      for (const tile of box.querySelectorAll('.pe-net-metric')) {
        metrics[tile.querySelector('.pe-net-metric-label').textContent] =
          tile.querySelector('.pe-net-metric-value').textContent;
      }
      return {kept: count('line.pe-net-kept'), pruned: count('line.pe-net-pruned'),
              removed: count('[data-column]:not([data-column="0"]).pe-net-removed'), metrics};
    }""")


def expected(c: float) -> dict:
    """numpy alone: prune where |w| < c × the layer's largest |w|, over the lines prune_core's layout draws."""
    from prune_core.io.data import BASELINE_PATH
    from prune_core.io.weights_file import kernels_from_keras_file
    from prune_core.viz.fmt import percent
    from prune_core.viz.network_layout import network_layout

    kernels = kernels_from_keras_file(BASELINE_PATH)
    keep = {n: np.abs(k) >= c * float(np.abs(k).max()) for n, k in kernels.items()}
    layout = network_layout(kernels)
    pruned = sum(int((~keep[e.name][e.rows, e.cols]).sum()) for e in layout.layers)
    removed = sum(int((~m.any(axis=0)).sum()) for m in keep.values())
    kept_all = sum(int(m.sum()) for m in keep.values())
    total = sum(m.size for m in keep.values())
    return {"kept": 3000 - pruned, "pruned": pruned, "removed": removed,
            "metrics": {"Connections drawn": "3,000", "Pruned (faded)": f"{pruned:,}", "Neurons removed": f"{removed:,}",
                        "Overall sparsity": percent(1 - kept_all / total)}}


def test_keyboard_moves_redraw_the_network_as_numpy_prunes_it(page, app_url):
    open_page(page, f"{app_url}/network")
    page.locator(NET).wait_for(timeout=120_000)
    assert drawn(page) == expected(0.3)
    thumb = page.locator(".pe-net-range")
    thumb.focus()
    for key, shown in [("ArrowRight", "0.31"), ("PageUp", "0.41"), ("ArrowLeft", "0.40"), ("End", "1.00"),
                       ("PageDown", "0.90"), ("Home", "0.00"), ("PageUp", "0.10"), ("PageUp", "0.20"),
                       ("PageUp", "0.30"), ("PageUp", "0.40"), ("ArrowRight", "0.41"), ("ArrowRight", "0.42")]:
        thumb.press(key)
        expect(thumb).to_have_attribute("aria-valuetext", shown, timeout=5_000)
        if key in ("End", "Home", "ArrowLeft"):  # a few positions on the way, without waiting for the server
            assert drawn(page) == expected(float(shown)), key
    assert drawn(page) == expected(0.42)
    page.wait_for_url(lambda url: "coefficient=0.42" in url, timeout=60_000)  # rested: the server has the value
    wait_idle(page)
    assert drawn(page) == expected(0.42)
    assert_no_exception(page)
