"""Real browser: a copied link reopens the view (issue 25.5). For each page with settings (Network, Retrain — each
mode's shown settings —, Compare, Sensitivity, Worked example, Model; the Prune page keeps its own URL and tests), every
setting is changed with the mouse or keyboard, the URL is read once the server has run with the change, and it is
opened in a new browser context (a new session, nothing carried over): the same values are shown there. Every page
writes its own parameters and only its own (Home and Deploy carry none of Retrain's)."""

import pytest
from playwright.sync_api import expect

from tests.browser import (assert_no_exception, expect_slider_value, go_to, live_slider, open_page, press_slider,
                          wait_idle)

pytestmark = pytest.mark.browser
NEW_SESSION = 180_000  # a new session loads TensorFlow's model first (CI under load)


def slider(page, label):
    """The first slider with this label (the Retrain page's form comes before its recipe search's)."""
    return page.locator("[data-testid='stSlider']").filter(has_text=label).first


def radio_group(page, label):
    return page.locator("[data-testid='stRadio']").filter(has_text=label)


def choose_radio(page, group, option, url_part):
    radio_group(page, group).get_by_text(option, exact=True).click()
    wait_for(page, url_part)


def choose(page, label, option, url_part):
    """A select box: open it, pick the option by its shown text."""
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for(page, url_part)


def type_number(page, label, value, url_part):
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for(page, url_part)


def toggle(page, label, url_part):
    page.locator("[data-testid='stCheckbox']").filter(has_text=label).locator("label").click()
    wait_for(page, url_part)


def wait_for(page, url_part, timeout=60_000):
    """The server ran with the change: the URL shows it (then the page is idle)."""
    page.wait_for_url(lambda url: url_part in url, timeout=timeout)
    wait_idle(page, timeout=timeout)


def reopen(browser, link):
    """The link in a new browser context: a new session, nothing carried over."""
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    open_page(fresh, link, timeout=NEW_SESSION)
    return fresh


def expect_radio(page, group, option):
    expect(radio_group(page, group).get_by_role("radio", name=option, exact=True)).to_be_checked(timeout=NEW_SESSION)


def expect_select(page, label, shown):
    expect(page.get_by_role("combobox", name=label, exact=True).first).to_have_value(shown)


def expect_number(page, label, value):
    expect(page.get_by_label(label, exact=True)).to_have_value(str(value))


def expect_checked(page, label):
    expect(page.locator("[data-testid='stCheckbox']").filter(has_text=label).locator("input")).to_be_checked()


def close(fresh):
    assert_no_exception(fresh)
    fresh.context.close()


def test_network_link_reopens_every_setting(browser, page, app_url):
    open_page(page, f"{app_url}/network", timeout=NEW_SESSION)
    choose_radio(page, "Importance criterion", "Random (baseline)", "criterion=random")
    choose_radio(page, "Prune", "Whole neurons", "granularity=unit")
    choose_radio(page, "Connections drawn per neuron", "The strongest", "edges=strongest")
    press_slider(page, live_slider(page, "Coefficient"), 3, "0.33", "coefficient=0.33")  # 0.30 → 0.33, the URL follows
    link = page.url

    fresh = reopen(browser, link)
    expect_slider_value(live_slider(fresh, "Coefficient"), "0.33", timeout=NEW_SESSION)
    expect_radio(fresh, "Importance criterion", "Random (baseline)")
    expect_radio(fresh, "Prune", "Whole neurons")
    expect_radio(fresh, "Connections drawn per neuron", "The strongest")
    wait_idle(fresh)
    assert fresh.url == link
    close(fresh)


# (mode, changes: [(kind, label, value, URL part)]) — each mode's own settings; the settings every mode shares
# (epochs, learning rate, batch size, seed, L1) are changed in one-shot, where they are keyed like any other mode's
RETRAIN = [
    ("One-shot", "oneshot", [("number", "Epochs", 0, "epochs=0"), ("select", "Learning rate", "0.01", "learning_rate=0.01"),
                             ("select", "Batch size", "128", "batch_size=128"), ("number", "Seed", 7, "seed=7"),
                             ("select", "L1 penalty λ", "0.0001", "l1=0.0001"),
                             ("select", "Retraining", "Learning-rate rewinding", "retrain=rewind-lr"),
                             ("check", "Reconstruct the remaining weights first", True, "reconstruct=1")]),
    ("Gradual", "gradual", [("select", "Criterion", "Taylor |w·∂L/∂w|", "criterion=taylor"),
                            ("select", "Scope", "Global (one threshold for all layers)", "scope=global"),
                            ("slider", "Initial sparsity", 2, "initial=10"), ("slider", "Final sparsity", 3, "final=93")]),
    ("Iterative", "iterative", [("slider", "Pruned per round", 2, "step=40"), ("slider", "Target sparsity", 2, "target=97"),
                                ("slider", "Tolerance", 5, "tolerance=1.5"), ("number", "At most rounds", 4, "rounds=4"),
                                ("select", "Retraining", "Weight rewinding", "retrain=rewind-weights")]),
    ("Pruning at initialization", "init", [("select", "Criterion (on the untrained network)", "SynFlow (iterative, data-free)",
                                            "criterion=synflow"), ("slider", "Target sparsity", 3, "target=93")]),
    ("Sparse training", "sparse", [("select", "Connections grow", "SET: grow at random", "sparse_method=set"),
                                   ("select", "Per-layer density", "ERK: small layers denser (Erdős–Rényi)",
                                    "distribution=erk"),
                                   ("slider", "Target sparsity", 4, "target=94"),
                                   ("check", "Start from a fresh initialisation", True, "from_init=1")]),
]


def change(page, kind, label, value, url_part):
    if kind == "number":
        type_number(page, label, value, url_part)
    elif kind == "select":
        choose(page, label, value, url_part)
    elif kind == "slider":
        thumb = slider(page, label).get_by_role("slider")
        thumb.focus()
        for _ in range(value):
            thumb.press("ArrowRight")
        wait_for(page, url_part)
    else:
        toggle(page, label, url_part)


def expect_setting(page, kind, label, value, url_part):
    if kind == "number":
        expect_number(page, label, value)
    elif kind == "select":
        expect_select(page, label, value)
    elif kind == "slider":
        shown = url_part.split("=")[1]
        expect(slider(page, label)).to_contain_text(shown)
    else:
        expect_checked(page, label)


def test_retrain_links_reopen_each_modes_settings_and_pages_write_only_their_own(browser, page, app_url):
    open_page(page, f"{app_url}/retrain", timeout=NEW_SESSION)
    links = []
    for name, mode, changes in RETRAIN:
        if mode != "oneshot":
            choose_radio(page, "Mode", name, f"mode={mode}")
        for kind, label, value, url_part in changes:
            change(page, kind, label, value, url_part)
        assert all(part in page.url for *_, part in changes)  # every change of this mode is still in the link
        links.append((name, changes, page.url))

    go_to(page, "Home")
    page.wait_for_url(lambda url: "?" not in url, timeout=60_000)  # Home has no settings: a clean URL
    go_to(page, "Deploy")
    assert "mode=" not in page.url and "epochs=" not in page.url and "learning_rate=" not in page.url

    for name, changes, link in links:
        fresh = reopen(browser, link)
        expect_radio(fresh, "Mode", name)
        for kind, label, value, url_part in changes:
            expect_setting(fresh, kind, label, value, url_part)
        assert fresh.url == link, name
        close(fresh)


def test_compare_link_reopens_its_sweep_settings(browser, page, app_url):
    open_page(page, f"{app_url}/compare", timeout=NEW_SESSION)
    criteria = page.get_by_role("toolbar", name="Criteria (9)")
    criteria.get_by_role("button", name="Random (baseline)").click()  # all nine chosen by default: drop one
    wait_for(page, "sweep_criteria=magnitude%2Csensitivity%2Ctaylor%2Cwanda")
    page.get_by_role("toolbar", name="Sparsities").get_by_role("button", name="98%").click()
    wait_for(page, "sweep_sparsities=50%2C70%2C80%2C90%2C95&")
    thumb = slider(page, "Fine-tune epochs").get_by_role("slider")
    thumb.focus()
    thumb.press("ArrowRight")
    wait_for(page, "sweep_epochs=2")
    link = page.url

    fresh = reopen(browser, link)
    expect(fresh.get_by_role("toolbar", name="Criteria (9)").get_by_role("button", name="Random (baseline)")
           ).to_have_attribute("aria-pressed", "false", timeout=NEW_SESSION)
    expect(fresh.get_by_role("toolbar", name="Criteria (9)").get_by_role("button", name="Wanda |w|·‖x‖")
           ).to_have_attribute("aria-pressed", "true")
    expect(fresh.get_by_role("toolbar", name="Sparsities").get_by_role("button", name="98%")
           ).to_have_attribute("aria-pressed", "false")
    expect(slider(fresh, "Fine-tune epochs")).to_contain_text("2")
    wait_idle(fresh)
    assert fresh.url == link
    close(fresh)


def test_sensitivity_link_reopens_its_settings(browser, page, app_url):
    open_page(page, f"{app_url}/sensitivity", timeout=NEW_SESSION)
    choose(page, "Importance criterion", "Random (baseline)", "criterion=random")
    press_slider(page, slider(page, "Allowed accuracy drop"), 3, "2.5 pts", "drop=2.5")  # 1.0 → 2.5 points
    link = page.url

    fresh = reopen(browser, link)
    expect(slider(fresh, "Allowed accuracy drop")).to_contain_text("2.5 pts", timeout=NEW_SESSION)
    expect_select(fresh, "Importance criterion", "Random (baseline)")
    expect(fresh.get_by_role("heading", name="Largest sparsity per layer within 2.5 pts of dense")).to_be_visible()
    assert fresh.url == link
    close(fresh)


def test_worked_example_link_reopens_its_settings(browser, page, app_url):
    open_page(page, f"{app_url}/worked_example")
    radio_group(page, "Score each weight by").get_by_text("Sensitivity |∂L/∂w|").click()  # the option, not the table
    wait_for(page, "criterion=sensitivity")
    press_slider(page, slider(page, "Coefficient"), 3, "0.45", "coefficient=0.45")
    page.locator("[data-testid='stCheckbox']").filter(has_text="Use your own maximum").locator("label").click()
    wait_for(page, "own_max=1")
    type_number(page, "Maximum score", "2.5", "maximum=2.5")
    type_number(page, "Retraining epochs", 3, "epochs=3")
    link = page.url

    fresh = reopen(browser, link)
    expect(slider(fresh, "Coefficient")).to_contain_text("0.45")
    expect_radio(fresh, "Score each weight by", "Sensitivity |∂L/∂w|")
    expect_checked(fresh, "Use your own maximum")
    expect_number(fresh, "Maximum score", "2.50")
    expect_number(fresh, "Retraining epochs", 3)
    threshold = fresh.locator("[data-testid='stMetric']").filter(has_text="Threshold").first
    expect(threshold.locator("[data-testid='stMetricValue']")).to_have_text("1.125")  # 0.45 × 2.5
    assert fresh.url == link
    close(fresh)


def test_model_link_reopens_its_training_settings(browser, page, app_url):
    open_page(page, f"{app_url}/model", timeout=NEW_SESSION)
    choose_radio(page, "Data", "Fashion-MNIST — 10,000 real clothing images, bundled, offline", "data=fashion")
    choose(page, "Architecture", "LeNet-300-100 (fully connected, 784-300-100-10)", "arch=lenet-300-100")
    type_number(page, "Epochs", 5, "epochs=5")
    choose(page, "Batch size", "64", "batch_size=64")
    choose(page, "Learning rate", "0.003", "learning_rate=0.003")
    type_number(page, "Seed", 11, "seed=11")
    link = page.url

    fresh = reopen(browser, link)
    expect_radio(fresh, "Data", "Fashion-MNIST — 10,000 real clothing images, bundled, offline")
    expect_select(fresh, "Architecture", "LeNet-300-100 (fully connected, 784-300-100-10)")
    expect_number(fresh, "Epochs", 5)
    expect_select(fresh, "Batch size", "64")
    expect_select(fresh, "Learning rate", "0.003")
    expect_number(fresh, "Seed", 11)
    assert fresh.url == link
    close(fresh)
