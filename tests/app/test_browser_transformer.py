"""Real browser (issue 21): upload a ViT-tiny, remove attention heads on the Prune page, then open its residual
stream in streams mode — as a user would, with the keyboard and the toggles."""

import pytest
from playwright.sync_api import expect

from tests.browser import assert_no_exception, go_to, open_page, wait_idle

pytestmark = pytest.mark.browser


def test_an_uploaded_vit_loses_heads_and_opens_its_stream(page, app_url, tmp_path):
    from tests import sequence_zoo

    path = tmp_path / "vit.keras"
    sequence_zoo.vit_tiny().save(path)
    open_page(page, f"{app_url}/model", timeout=120_000)
    page.get_by_role("tab", name="Upload your own").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").first.set_input_files(str(path))
    wait_idle(page, timeout=90_000, settle_ms=400)
    page.get_by_role("heading", name="vit.keras · uploaded").wait_for(timeout=90_000)

    go_to(page, "Prune")
    heads = page.locator("[data-testid='stSlider']").filter(has_text="Heads removed per attention layer")
    heads.wait_for(timeout=180_000)
    thumb = heads.get_by_role("slider")
    thumb.focus()
    for _ in range(2):
        thumb.press("ArrowRight")
    expect(heads.locator("[data-testid='stSliderThumbValue']")).to_have_text("2", timeout=30_000)
    wait_idle(page, timeout=120_000, settle_ms=400)
    expect(page.get_by_text("an orange frame marks the heads the slider removes")).to_be_visible()
    assert_no_exception(page)

    page.locator("[data-testid='stRadio']").get_by_text("Whole neurons / filters", exact=True).click()
    wait_idle(page, timeout=120_000, settle_ms=400)
    page.get_by_text("Streams: prune through LayerNorm").click()
    wait_idle(page, timeout=120_000, settle_ms=400)
    expect(page.get_by_text("Streams mode: every LayerNorm lets channels through")).to_be_visible(timeout=60_000)
    stream = page.locator("[data-testid='stSlider']").filter(has_text="patchify + 4 more (64 channels)")
    expect(stream).to_be_visible(timeout=60_000)
    page.wait_for_url(lambda url: "streams=1" in url, timeout=60_000)
    assert_no_exception(page)
