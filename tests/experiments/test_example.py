"""The five-weight worked example: hand-computed answers (prune where score < coefficient × max, strict)."""

import math

import numpy as np
import pytest

from prune_core.experiments import example

# (criterion, coefficient, max or None) → (threshold, pruned). Worked by hand from the table:
#   L1 term      w1 .5  w2 .3  w3 .6  w4 .2   w5 .4   (max .6)
#   sensitivity  w1 .2  w2 .1  w3 .4  w4 .05  w5 .3   (max .4)
CASES = [
    ("l1", 0.0, None, 0.0, ()),
    ("l1", 0.1, None, 0.06, ()),
    ("l1", 0.3, None, 0.18, ()),                       # w4 = 0.2 > 0.18: kept
    ("l1", 0.4, None, 0.24, ("w4",)),
    ("l1", 0.5, None, 0.3, ("w4",)),                   # w2 = 0.3 is not < 0.3: kept (strict)
    ("l1", 0.6, None, 0.36, ("w2", "w4")),
    ("l1", 0.7, None, 0.42, ("w2", "w4", "w5")),
    ("l1", 0.9, None, 0.54, ("w1", "w2", "w4", "w5")),
    ("l1", 1.0, None, 0.6, ("w1", "w2", "w4", "w5")),  # only the maximum survives
    ("sensitivity", 0.1, None, 0.04, ()),
    ("sensitivity", 0.2, None, 0.08, ("w4",)),
    ("sensitivity", 0.25, None, 0.1, ("w4",)),         # w2 = 0.1 on the boundary: kept
    ("sensitivity", 0.3, None, 0.12, ("w2", "w4")),
    ("sensitivity", 0.5, None, 0.2, ("w2", "w4")),     # w1 = 0.2 on the boundary: kept
    ("sensitivity", 0.75, None, 0.3, ("w1", "w2", "w4")),  # 0.75 × 0.4 is 0.30000000000000004 in floats
    ("sensitivity", 0.8, None, 0.32, ("w1", "w2", "w4", "w5")),
    ("sensitivity", 1.0, None, 0.4, ("w1", "w2", "w4", "w5")),
    ("l1", 0.5, 1.0, 0.5, ("w2", "w4", "w5")),         # explicit max: w1 = 0.5 kept
    ("l1", 0.75, 0.4, 0.3, ("w4",)),                   # explicit max below the column's
    ("sensitivity", 0.1, 1.0, 0.1, ("w4",)),
    ("sensitivity", 0.5, 0.1, 0.05, ()),               # w4 = 0.05 on the boundary: kept
]


@pytest.mark.parametrize("criterion, coefficient, maximum, threshold, pruned", CASES)
def test_hand_computed_answers(criterion, coefficient, maximum, threshold, pruned):
    result = example.apply_coefficient_rule(criterion, coefficient, maximum)
    assert result.threshold == threshold
    assert result.pruned == pruned
    assert result.kept == tuple(w for w in example.WEIGHTS if w not in pruned)
    assert result.maximum == (maximum if maximum is not None else max(example.COLUMNS[criterion]))


def test_table_frame():
    result = example.apply_coefficient_rule("sensitivity", 0.5)
    frame = result.table
    assert list(frame.columns) == ["weight", "abs", "L1 term", "sensitivity", "score", "pruned"]
    assert frame["weight"].tolist() == ["w1", "w2", "w3", "w4", "w5"]
    assert frame["abs"].tolist() == [0.5, 0.3, 0.6, 0.2, 0.4]
    assert frame["L1 term"].tolist() == frame["abs"].tolist()
    assert frame["score"].tolist() == [0.2, 0.1, 0.4, 0.05, 0.3]
    assert frame["pruned"].tolist() == [False, True, False, True, False]


def test_to_dict_is_json_ready():
    d = example.apply_coefficient_rule("l1", 0.6).to_dict()
    assert d["threshold"] == 0.36 and d["pruned"] == ["w2", "w4"] and d["kept"] == ["w1", "w3", "w5"]
    assert [r["pruned"] for r in d["rows"]] == [False, True, False, True, False]


@pytest.mark.parametrize("coefficient", [0.0, 0.1, 0.3, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("criterion", example.CRITERIA)
def test_threshold_agrees_with_the_core_rule(criterion, coefficient):
    """Same formula as the app's thresholds.coefficient_threshold (the example only rounds float noise away)."""
    from prune_core.methods.thresholds import coefficient_threshold

    core = coefficient_threshold(np.asarray(example.COLUMNS[criterion], dtype=np.float64), coefficient)
    assert example.apply_coefficient_rule(criterion, coefficient).threshold == pytest.approx(float(core), abs=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(criterion="l2", coefficient=0.5),
    dict(criterion="l1", coefficient=-0.1),
    dict(criterion="l1", coefficient=math.nan),
    dict(criterion="l1", coefficient=math.inf),
    dict(criterion="l1", coefficient=1.5),          # the coefficient is in [0, 1] everywhere (issue 10)
    dict(criterion="l1", coefficient=2.0, maximum=0.2),
    dict(criterion="l1", coefficient=0.5, maximum=0.0),
    dict(criterion="l1", coefficient=0.5, maximum=-1.0),
    dict(criterion="l1", coefficient=0.5, maximum=math.nan),
])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        example.apply_coefficient_rule(**kwargs)


def test_coefficient_is_refused_with_the_core_rules_message():
    from prune_core import RULES
    with pytest.raises(ValueError) as core:
        RULES["coefficient"].check(1.5)
    with pytest.raises(ValueError) as here:
        example.apply_coefficient_rule("l1", 1.5)
    assert str(here.value) == str(core.value) == "The coefficient must be between 0 and 1 (inclusive); got 1.5."


# --- issue 16: rankings, the article's claims, the five steps as code that runs -----------------------------

def test_true_rankings():
    assert example.ranking("l1") == ("w3", "w1", "w5", "w2", "w4")
    assert example.ranking("sensitivity") == ("w3", "w5", "w1", "w2", "w4")  # the article says w3 > w1 > w5 …
    assert example.rankings() == {"l1": example.ranking("l1"), "sensitivity": example.ranking("sensitivity")}
    assert example.ranking_text(example.ranking("sensitivity")) == "w3 > w5 > w1 > w2 > w4"
    with pytest.raises(ValueError):
        example.ranking("l2")


def test_side_by_side_at_the_articles_coefficient():
    both = example.side_by_side(0.3)
    assert (both["l1"].threshold, both["l1"].pruned) == (0.18, ())
    assert (both["sensitivity"].threshold, both["sensitivity"].pruned) == (0.12, ("w2", "w4"))


def test_article_claims_against_the_computed_answers():
    claims = {c.topic: c for c in example.article_claims()}
    assert (claims["Maximum sensitivity"].claim, claims["Maximum sensitivity"].computed) == ("0.6", "0.4")
    threshold = claims["Threshold at coefficient 0.3"]
    assert (threshold.claim, threshold.computed, threshold.correct) == ("0.3 × 0.6 = 0.18", "0.3 × 0.4 = 0.12", False)
    pruned = claims["Pruned weights (sensitivity)"]
    assert (pruned.claim, pruned.computed, pruned.correct) == ("{w4}", "{w2, w4}", False)
    assert claims["Its own threshold 0.18 on the sensitivity column"].computed == "{w2, w4}"
    assert claims["Its own threshold 0.18 on the L1 column"].computed == "nothing"
    assert claims["L1 ranking"].correct is True
    ranking = claims["Sensitivity ranking"]
    assert (ranking.claim, ranking.computed, ranking.correct) == (
        "w3 > w1 > w5 > w2 > w4", "w3 > w5 > w1 > w2 > w4", False)
    frame = example.claims_table()
    assert list(frame.columns) == ["topic", "the article says", "computed", "correct", "why"]
    assert frame["correct"].tolist() == [False, False, False, False, False, True, False]


def test_the_articles_code_really_fails():
    kernel = np.ones((4, 3), np.float32)
    with pytest.raises(AttributeError):
        kernel.abs()
    with pytest.raises(np.exceptions.AxisError):
        np.abs(kernel.flatten()).mean(axis=1)
    import inspect

    import keras
    assert "initial_weights" not in inspect.signature(keras.Model.fit).parameters
    assert len(example.CODE_ERRORS) == 3


def test_step_code_fills_in_the_settings():
    assert [s.name for s in example.STEPS] == ["Train", "Score", "Threshold", "Prune", "Retrain"]
    code = example.step_code(example.STEPS[3], criterion="magnitude", coefficient=0.25)
    assert 'pc.PruneSpec(criterion="magnitude", rule="coefficient", value=0.25)' in code
    assert "epochs=2)" in example.step_code(example.STEPS[4], epochs=2)
    assert example.program(train=False).startswith("import prune_core as pc\n\n# 2. Score")
    for bad in (dict(criterion="nope"), dict(coefficient=1.5), dict(epochs=-1), dict(epochs=1.5)):
        with pytest.raises(ValueError):
            example.step_code(example.STEPS[1], **bad)


@pytest.fixture(scope="module")
def tiny():
    import keras

    from prune_core.io.data import Dataset
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="relu", name="hidden"),
                              keras.layers.Dense(3, activation="softmax", name="out")])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)
    return model, Dataset("tiny", "test", x[:32], y[:32], x[32:], y[32:], class_names=("0", "1", "2"))


@pytest.mark.parametrize("criterion", ["magnitude", "sensitivity"])
def test_run_steps_runs_the_shown_code_and_matches_the_library(tiny, criterion):
    import prune_core as pc

    model, ds = tiny
    before = [w.copy() for w in model.get_weights()]
    outcome = example.run_steps(model, ds, criterion=criterion, coefficient=0.3, epochs=1)
    direct = pc.prune(model, pc.PruneSpec(criterion=criterion, rule="coefficient", value=0.3), data=ds)
    assert outcome.sparsity == pytest.approx(direct.sparsity, abs=0)
    assert set(outcome.thresholds) == set(direct.table["layer"])
    for layer, threshold in zip(direct.table["layer"], direct.table["threshold"]):
        assert outcome.thresholds[layer] == pytest.approx(float(threshold), rel=1e-6)
    assert outcome.final_sparsity >= outcome.sparsity - 1e-9  # pruned weights stayed zero while retraining
    assert not outcome.trained
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # the caller's model is untouched
