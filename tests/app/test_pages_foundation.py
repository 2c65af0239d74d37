"""AppTest: home and Model pages run, and training from the form gives a measured accuracy."""


from prune_core.io import data
from prune_core.measure import metrics
from tests.apptest import metric_value, page_test


def test_home_runs_and_explains_the_loop():
    at = page_test("home").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for step in ("Train", "Evaluate", "Prune", "Retrain", "Compare"):
        assert step in text
    assert "Bundled MNIST subset" in " ".join(m.value for m in at.sidebar.markdown)


def test_model_page_shows_default_baseline_measured():
    at = page_test("model").run()
    assert not at.exception
    entry = at.session_state["model_entry"]
    ds = data.load_mnist("bundled")
    expected = metrics.evaluate(entry.model, ds.x_test, ds.y_test).accuracy
    assert metric_value(at, "Test accuracy") == f"{expected:.2%}"
    assert metric_value(at, "Parameters") == "266,610"
    assert metric_value(at, "Size as float32") == "1.07 MB"
    assert any("Bundled MNIST subset — 8,000 train / 2,000 test images" in c.value for c in at.caption)


def test_train_one_epoch_shows_accuracy():
    at = page_test("model").run()
    at.radio[0].set_value("bundled")
    at.number_input[0].set_value(1)  # epochs
    at.button[0].click().run()
    assert not at.exception
    job = at.session_state["job"].wait(300)
    assert job.error is None, job.error
    at.run()  # the finished job's model becomes the session's model
    assert not at.exception
    entry = at.session_state["model_entry"]
    assert entry.origin == "trained" and entry.architecture == "mlp-128"
    ds = data.load_mnist("bundled")
    accuracy = metrics.evaluate(entry.model, ds.x_test, ds.y_test).accuracy
    assert metric_value(at, "Test accuracy") == f"{accuracy:.2%}"
    assert metric_value(at, "Parameters") == "101,770"
    assert any(f"test accuracy {accuracy:.2%}" in s.value for s in at.success)
    assert len(entry.history["loss"]) == 1
