"""Real browser: the Compare page opened on a prepared run store shows the chart and the table, and the
run-history CSV downloads and parses to the stored runs."""

import io

import pandas as pd
import pytest
from playwright.sync_api import expect

from prune_core.io import history
from tests.browser import assert_no_exception, open_page
from tests.conftest import app_server
from tests.app.test_pages_compare import record

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A server of its own on a data directory holding two runs in "default" and one in "other"."""
    data_dir = tmp_path_factory.mktemp("compare-data")
    store = history.RunStore(data_dir / history.DB_NAME)
    ids = [store.add("default", record(0.9605, 133_510, 590_049)),
           store.add("default", record(0.9385, 27_030, 191_800, mode="iterative"))]
    store.add("other", record(0.5, 5_000, 90_000))
    with app_server(data_dir) as url:
        yield url, ids


def test_compare_page_shows_runs_and_downloads_the_csv(page, prepared):
    url, ids = prepared
    open_page(page, f"{url}/compare")
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=60_000)
    traces = chart.evaluate("el => el.data.map(t => [t.name, t.x, t.y])")
    by_name = {name: (x, y) for name, x, y in traces}
    assert by_name["oneshot"][0] == [133_510] and by_name["iterative"][0] == [27_030]
    assert by_name["dense"][0] == [266_610]
    assert "Pareto frontier" in by_name
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    expect(grid).to_be_visible()
    expect(page.get_by_text("Run history · default")).to_be_visible()
    assert_no_exception(page)

    with page.expect_download() as info:
        page.get_by_role("button", name="Run history (CSV)").click()
    download = info.value
    assert download.suggested_filename == "pruning-runs-default.csv"
    table = pd.read_csv(io.StringIO(open(download.path(), encoding="utf-8").read()))
    assert table["run_id"].tolist() == ids
    assert table["final_accuracy"].tolist() == [0.9605, 0.9385]
    assert table["nonzero_params"].tolist() == [133_510, 27_030]
    assert table["mode"].tolist() == ["oneshot", "iterative"]
    assert_no_exception(page)
