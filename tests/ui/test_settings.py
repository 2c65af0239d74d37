"""ui.settings: page settings survive navigation (Streamlit drops undrawn widgets' state), links restore
them, the URL shows them, and a reset brings the defaults back."""

import pytest

from tests.apptest import page_test
from ui.settings import URL, Setting, is_setting


@pytest.mark.parametrize("setting, text, expected", [
    (Setting("k", 0.3, low=0.0, high=1.0), "0.45", 0.45),
    (Setting("k", 0.3, low=0.0, high=1.0), "1.5", None),  # out of the slider's range
    (Setting("k", 0.3, low=0.0, high=1.0), "abc", None),
    (Setting("k", 1, low=0, high=5), "3", 3),
    (Setting("k", 1, low=0, high=5), "3.5", None),
    (Setting("k", False), "1", True),
    (Setting("k", False), "yes", None),
    (Setting("k", "l1", choices=("l1", "sensitivity")), "sensitivity", "sensitivity"),
    (Setting("k", "l1", choices=("l1", "sensitivity")), "taylor", None),
    (Setting("k", "magnitude", choices=lambda: ("magnitude", "taylor")), "taylor", "taylor"),
    (Setting("k", [50, 90], choices=(50, 70, 90)), "50,70", [50, 70]),
    (Setting("k", [50, 90], choices=(50, 70, 90)), "50,60", None),
    (URL["retrain"]["learning_rate"], "auto", "auto"),  # the Retrain page's default: the rate by sparsity
    (URL["retrain"]["learning_rate"], "0.003", 0.003),
    (URL["retrain"]["learning_rate"], "0.5", None),  # not one of the page's rates
    (URL["retrain"]["learning_rate"], "fast", None),
])
def test_a_link_value_is_parsed_or_refused(setting, text, expected):
    assert setting.parse(text) == expected


@pytest.mark.parametrize("value, text", [(0.45, "0.45"), (True, "1"), (False, "0"), (3, "3"), ([50, 70], "50,70"),
                                         ("taylor", "taylor")])
def test_values_are_written_as_a_link_reads_them(value, text):
    assert Setting.format(value) == text


def test_only_settings_are_carried_never_buttons_editors_or_caches():
    assert all(is_setting(s.key) for params in URL.values() for s in params.values())
    assert is_setting("pr_v_coefficient_dense1") and is_setting("pr_criterion")
    assert not any(is_setting(k) for k in ("sens_carry", "sens_table", "we_run_steps", "pr_scratch", "pr_histograms",
                                           "model_btn_restore", "sens_btn_reset", "upload_model", "model_tab"))


def test_worked_example_settings_survive_a_trip_home_and_show_in_the_url():
    at = page_test("worked_example").run()
    at.slider(key="we_coefficient").set_value(0.45).run()
    at.radio(key="we_criterion").set_value("sensitivity").run()
    assert at.query_params["coefficient"] == "0.45" and at.query_params["criterion"] == "sensitivity"

    at.switch_page("pages/home.py").run()
    assert not at.exception
    assert dict(at.query_params) == {}  # Home has no settings: a clean URL
    at.switch_page("pages/worked_example.py").run()
    assert not at.exception
    assert at.slider(key="we_coefficient").value == 0.45
    assert at.radio(key="we_criterion").value == "sensitivity"
    assert at.metric[0].value == f"{0.45 * 0.4:.4g}"  # threshold = 0.45 × the largest sensitivity (0.4)
    assert at.query_params["coefficient"] == "0.45"


def test_a_link_opens_the_same_view_and_a_bad_value_is_ignored():
    at = page_test("worked_example", coefficient="0.55", criterion="sensitivity", epochs="9").run()
    assert not at.exception
    assert at.slider(key="we_coefficient").value == 0.55
    assert at.radio(key="we_criterion").value == "sensitivity"
    assert at.number_input(key="we_epochs").value == 1  # 9 is outside 0–5: the default stays
    assert at.query_params["epochs"] == "1"


def test_reset_brings_back_the_defaults_and_they_stay_after_leaving():
    at = page_test("worked_example").run()
    at.slider(key="we_coefficient").set_value(0.8).run()
    at.toggle(key="we_own_max").set_value(True).run()
    at.button(key="we_btn_reset").click().run()
    assert not at.exception
    assert at.slider(key="we_coefficient").value == 0.3 and at.toggle(key="we_own_max").value is False
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/worked_example.py").run()
    assert at.slider(key="we_coefficient").value == 0.3  # the reset is not undone by the carried store
    assert at.query_params["coefficient"] == "0.3"


def test_model_page_restores_the_default_baseline():
    at = page_test("model").run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "model_btn_restore"]  # already the default
    at.session_state["model_entry"].origin = "trained"
    at.session_state["model_entry"].name = "MLP · trained here"
    at.run()
    at.button(key="model_btn_restore").click().run()
    assert not at.exception
    entry = at.session_state["model_entry"]
    assert (entry.origin, entry.name) == ("default", "LeNet-300-100 · default baseline")
    assert any("Restored the default baseline" in s.value for s in at.success)


def test_retrain_keeps_each_modes_form_values_across_a_trip_home():
    at = page_test("retrain").run()
    at.radio(key="rt_mode").set_value("gradual").run()
    at.slider(key="rt_set_gradual_initial").set_value(95)
    at.slider(key="rt_set_gradual_final").set_value(5)
    next(b for b in at.button if b.label == "Run").click().run()  # invalid on purpose: the job refuses at once
    at.session_state["job"].wait(120)
    assert at.query_params["mode"] == "gradual" and at.query_params["final"] == "5"
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/retrain.py").run()
    assert not at.exception
    assert at.radio(key="rt_mode").value == "gradual"
    assert (at.slider(key="rt_set_gradual_initial").value, at.slider(key="rt_set_gradual_final").value) == (95, 5)
    at.radio(key="rt_mode").set_value("iterative").run()
    assert at.slider(key="rt_set_iterative_target").value == 95  # another mode: its own defaults
    assert "final" not in at.query_params and at.query_params["target"] == "95"
