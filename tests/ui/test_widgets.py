"""ui.widgets: the score tables' columns (formatted and coloured by Streamlit, not a pandas Styler)."""

import pandas as pd

from prune_core.viz.style import KEPT, PRUNED
from ui import widgets


def test_score_table_columns_number_format_status_pill_in_the_house_colours_and_status_second():
    table = pd.DataFrame({"layer": ["d"], "rank": ["lowest"], "position": ["(0, 1)"], "weight": [0.5], "|w|": [0.5],
                          "score": [0.5], "status": ["pruned"]})
    config = widgets.score_columns(table)
    assert sorted(config) == ["score", "status", "weight", "|w|"]
    assert {config[c]["type_config"]["format"] for c in ("score", "weight", "|w|")} == {"%.4g"}
    status = config["status"]["type_config"]
    assert [o["value"] for o in status["options"]] == ["kept", "pruned"]
    assert [o["color"] for o in status["options"]] == [KEPT, PRUNED]
    assert widgets.score_order(table.columns) == ["layer", "status", "rank", "position", "weight", "|w|", "score"]
