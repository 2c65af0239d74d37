"""Real browser: upload a bad model file and see why it is refused, then a good one and see its summary."""

import pytest
from playwright.sync_api import expect

from tests import badfiles
from tests.browser import assert_no_exception, go_to, open_page, wait_idle

pytestmark = pytest.mark.browser


def test_upload_bad_then_good_model(page, app_url, tmp_path):
    bad = tmp_path / "digit.keras"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    good = tmp_path / "small-conv.keras"
    good.write_bytes(badfiles.models()["conv.keras"])

    open_page(page, f"{app_url}/model", timeout=120_000)
    page.get_by_role("heading", name="LeNet-300-100 · default baseline").wait_for(timeout=90_000)
    page.get_by_role("tab", name="Upload your own").click()
    file_input = page.locator("[data-testid='stFileUploader'] input[type='file']").first

    file_input.set_input_files(str(bad))
    wait_idle(page, timeout=90_000, settle_ms=400)
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="digit.keras")
    error.wait_for(timeout=60_000)
    assert "is not a Keras model: it is a PNG image" in error.inner_text()
    expect(page.get_by_role("heading", name="LeNet-300-100 · default baseline")).to_be_visible()  # unchanged
    assert_no_exception(page)

    file_input.set_input_files(str(good))
    wait_idle(page, timeout=90_000, settle_ms=400)
    page.get_by_role("heading", name="small-conv.keras · uploaded").wait_for(timeout=90_000)
    wait_idle(page, timeout=90_000)
    page.get_by_role("tab", name="Upload your own").click()
    summary = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Layers of small-conv.keras")
    summary.wait_for(timeout=30_000)
    assert "input (28, 28, 1) → 10 outputs" in summary.inner_text()
    expect(page.get_by_text("3 prunable layers (Dense and Conv2D kernels")).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible(timeout=30_000)
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    assert_no_exception(page)


def _token_files(tmp_path):
    import numpy as np

    model = tmp_path / "tokens.keras"
    from tests.app.test_pages_upload import _token_model_bytes

    model.write_bytes(_token_model_bytes())
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 50, (30, 6)), "y_train": np.arange(30) % 3,
              "x_test": rng.integers(0, 50, (20, 6)) + 40, "y_test": np.arange(20) % 3}  # ids up to 89 of 50
    bad = tmp_path / "tokens.npz"
    bad.write_bytes(badfiles.npz_bytes(**arrays))
    return model, bad


PAGES = ["Home", "Model", "Prune", "Sensitivity", "Retrain", "Compare", "Worked example"]


def test_out_of_vocabulary_data_is_refused_and_every_page_still_works(page, app_url, tmp_path):
    model, bad = _token_files(tmp_path)
    open_page(page, f"{app_url}/model", timeout=120_000)
    page.get_by_role("tab", name="Upload your own").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(model))
    wait_idle(page, timeout=90_000, settle_ms=400)
    page.get_by_role("heading", name="tokens.keras · uploaded").wait_for(timeout=90_000)
    page.get_by_role("tab", name="Upload your own").click()
    page.get_by_text("My own data (.npz)").click()
    wait_idle(page, timeout=60_000, settle_ms=400)
    page.locator("[data-testid='stFileUploader'] input[type='file']").nth(1).set_input_files(str(bad))
    wait_idle(page, timeout=90_000, settle_ms=400)
    error = page.locator("[data-testid='stAlertContentError']").filter(has_text="tokens.npz")
    error.wait_for(timeout=60_000)
    text = error.inner_text()
    assert "x_test holds token ids from" in text and "Embedding layer 'tokens' has a vocabulary of 50" in text
    assert_no_exception(page)
    for name in PAGES:
        go_to(page, name)
        assert_no_exception(page)
        assert page.locator("[data-testid='stAlertContentError']").filter(has_text="Something went wrong").count() == 0
    expect(page.locator("[data-testid='stSidebar']").get_by_text("tokens.keras · uploaded")).to_be_visible()


def _evil_upload(page, app_url, tmp_path):
    from prune_core.io import safe_load as loading

    evil = tmp_path / "# _x_ [y](javascript:alert(1)) $z$ www.evil.example me@evil.example.keras"  # > 60 characters
    evil.write_bytes(badfiles.save_bytes(badfiles.evil_name_model(), ".keras"))
    open_page(page, f"{app_url}/model", timeout=120_000)
    page.get_by_role("tab", name="Upload your own").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(evil))
    wait_idle(page, timeout=90_000, settle_ms=400)
    label = loading.display_name(evil.name)
    assert label == "_ _x_ _y__javascript_alert_1__ _z_ www.evil.example me_evil…"  # shortened, still loads
    heading = page.get_by_role("heading", name="· uploaded")
    heading.wait_for(timeout=90_000)
    assert visible(heading.inner_text()) == f"{label} · uploaded"  # underscores stay underscores: no emphasis
    return label


def visible(text: str) -> str:
    """Rendered text without the invisible WORD JOINER that ui.text.md puts inside autolink patterns."""
    return text.replace("\u2060", "")


def _no_markup_from_user_text(page) -> None:
    """Nothing was built from the hostile names: no image, link, emphasis, colour or maths made of them."""
    assert page.locator("img[src*='evil']").count() == 0
    assert page.locator("a", has_text="click").count() == 0
    assert page.locator("a[href^='javascript'], a[href*='evil']:not([href^='#'])").count() == 0  # '#…': heading anchors
    assert page.locator(".stMarkdownColoredText").count() == 0
    assert page.locator("[data-testid='stMarkdownContainer'] .katex").count() == 0


def test_markdown_file_and_layer_names_show_literally_on_the_model_page(page, app_url, tmp_path):
    label = _evil_upload(page, app_url, tmp_path)
    page.get_by_role("tab", name="Upload your own").click()
    summary = page.locator("[data-testid='stMarkdownContainer']").filter(has_text="Layers of")
    summary.wait_for(timeout=30_000)
    assert f"Layers of {label} · uploaded" in visible(summary.inner_text())
    sidebar = page.locator("[data-testid='stSidebar'] [data-testid='stMarkdownContainer']").filter(has_text="uploaded")
    assert f"Model · {label} · uploaded" in visible(sidebar.first.inner_text())
    _no_markup_from_user_text(page)
    assert_no_exception(page)


def test_markdown_layer_name_shows_literally_on_the_prune_page(page, app_url, tmp_path):
    _evil_upload(page, app_url, tmp_path)
    go_to(page, "Prune")
    page.locator(".pe-slider, [data-testid='stSlider']").first.wait_for(timeout=120_000)
    _no_markup_from_user_text(page)
    label = page.locator(".pe-slider-label, [data-testid='stWidgetLabel']").filter(has_text=badfiles.EVIL_NAME)
    expect(label).to_have_count(1)  # the name's own characters, rendered as text
