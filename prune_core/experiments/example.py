"""The classic five-weight teaching table, and the coefficient rule applied to it by hand-checkable numbers.

A weight is pruned where its score is strictly below ``coefficient × max(score)``.

>>> r = apply_coefficient_rule("l1", 0.5)
>>> r.threshold, r.pruned
(0.3, ('w4',))
>>> apply_coefficient_rule("sensitivity", 0.75).pruned   # threshold 0.3: w5 (0.3) is kept
('w1', 'w2', 'w4')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..methods.criteria import get_criterion
from ..methods.masks import keep_mask
from ..methods.rules import RULES

WEIGHTS = ("w1", "w2", "w3", "w4", "w5")
ABS = (0.5, 0.3, 0.6, 0.2, 0.4)
L1_TERM = ABS  # |w| summed over one weight is |w| itself
SENSITIVITY = (0.2, 0.1, 0.4, 0.05, 0.3)
COLUMNS = {"l1": L1_TERM, "sensitivity": SENSITIVITY}
CRITERIA = tuple(COLUMNS)
# Thresholds are rounded to this many decimals so that products of short decimals land on the value a
# teacher computes by hand: in binary floats 0.75 × 0.4 is 0.30000000000000004, which would wrongly prune
# w5 (0.3) under the strict rule. Table values and coefficients have at most a few decimals, so 9 is safe.
THRESHOLD_DECIMALS = 9


def table() -> pd.DataFrame:
    """The teaching table as data: weight, abs, L1 term, sensitivity."""
    return pd.DataFrame({"weight": WEIGHTS, "abs": ABS, "L1 term": L1_TERM, "sensitivity": SENSITIVITY})


def check_coefficient(coefficient: float) -> float:
    """The coefficient as a float in [0, 1]: the coefficient rule's own validator (the same message as the
    core and the CLI give); ValueError otherwise."""
    return RULES["coefficient"].check(coefficient)


def check_maximum(maximum: float) -> float:
    """A finite maximum > 0, as float; else ValueError."""
    m = float(maximum)
    if not math.isfinite(m) or m <= 0:
        raise ValueError(f"The maximum score must be a finite number > 0, got {maximum!r}.")
    return m


def example_threshold(coefficient: float, maximum: float) -> float:
    """``coefficient × maximum``, rounded to THRESHOLD_DECIMALS (see there why).

    >>> example_threshold(0.75, 0.4), example_threshold(0.3, 0.6)
    (0.3, 0.18)
    """
    return round(check_coefficient(coefficient) * check_maximum(maximum), THRESHOLD_DECIMALS)


@dataclass(frozen=True)
class ExampleResult:
    """The coefficient rule applied to one column of the teaching table."""

    criterion: str
    coefficient: float
    maximum: float
    max_given: bool
    threshold: float
    pruned: tuple[str, ...]
    kept: tuple[str, ...]
    table: pd.DataFrame  # weight, abs, L1 term, sensitivity, score, pruned (bool)

    def to_dict(self) -> dict:
        """JSON-ready: threshold, pruned, kept, and each row."""
        rows = [{"weight": r["weight"], "score": float(r["score"]), "pruned": bool(r["pruned"])}
                for r in self.table.to_dict("records")]
        return {"criterion": self.criterion, "coefficient": self.coefficient, "maximum": self.maximum,
                "max_given": self.max_given, "threshold": self.threshold, "pruned": list(self.pruned),
                "kept": list(self.kept), "rows": rows}


def apply_coefficient_rule(criterion: str, coefficient: float, maximum: float | None = None) -> ExampleResult:
    """Prune where score < coefficient × max (strict) on the "l1" or "sensitivity" column.

    ``maximum`` defaults to the column's maximum; give it explicitly to see the rule against another scale.
    The threshold uses the same formula as ``thresholds.coefficient_threshold`` (and is rounded: see
    THRESHOLD_DECIMALS); kept/pruned comes from ``masks.keep_mask``, the comparison every real model goes through.

    >>> apply_coefficient_rule("l1", 0.5, maximum=1.0).pruned
    ('w2', 'w4', 'w5')
    """
    if criterion not in COLUMNS:
        raise ValueError(f"Unknown criterion {criterion!r}: use one of {', '.join(CRITERIA)}.")
    scores = np.asarray(COLUMNS[criterion], dtype=np.float64)
    max_given = maximum is not None
    top = check_maximum(maximum) if max_given else float(scores.max())
    threshold = example_threshold(coefficient, top)
    keep = np.asarray(keep_mask(scores, threshold), dtype=bool)
    frame = table()
    frame["score"] = scores
    frame["pruned"] = ~keep
    return ExampleResult(
        criterion=criterion, coefficient=float(coefficient), maximum=top, max_given=max_given, threshold=threshold,
        pruned=tuple(w for w, k in zip(WEIGHTS, keep) if not k), kept=tuple(w for w, k in zip(WEIGHTS, keep) if k),
        table=frame,
    )


# --- rankings, both columns at one coefficient ------------------------------------------------------------

def ranking(criterion: str) -> tuple[str, ...]:
    """The weights from most to least important under one column (ties: table order).

    >>> ranking("l1"), ranking("sensitivity")
    (('w3', 'w1', 'w5', 'w2', 'w4'), ('w3', 'w5', 'w1', 'w2', 'w4'))
    """
    if criterion not in COLUMNS:
        raise ValueError(f"Unknown criterion {criterion!r}: use one of {', '.join(CRITERIA)}.")
    scores = COLUMNS[criterion]
    order = sorted(range(len(WEIGHTS)), key=lambda i: (-scores[i], i))
    return tuple(WEIGHTS[i] for i in order)


def rankings() -> dict[str, tuple[str, ...]]:
    """{criterion: ranking} for every column."""
    return {c: ranking(c) for c in CRITERIA}


def ranking_text(order) -> str:
    """'w3 > w5 > w1 > w2 > w4'."""
    return " > ".join(order)


def side_by_side(coefficient: float) -> dict[str, ExampleResult]:
    """The coefficient rule on every column at the same coefficient, each against its own maximum.

    >>> {c: r.pruned for c, r in side_by_side(0.3).items()}
    {'l1': (), 'sensitivity': ('w2', 'w4')}
    """
    return {c: apply_coefficient_rule(c, coefficient) for c in CRITERIA}


# --- the classic article's claims, next to what the table gives ------------------------------------------

# What the article (shared/seed/pruning-article-zh.md, section 4.3) says about the table above.
ARTICLE_TITLE = "剪枝技术：如何识别和移除神经网络中的冗余部分"
ARTICLE_TITLE_EN = "Pruning techniques: how to identify and remove the redundant parts of a neural network"
ARTICLE_SECTION = "4.3"
ARTICLE_COEFFICIENT = 0.3
ARTICLE_MAX_SENSITIVITY = 0.6
ARTICLE_THRESHOLD = 0.18
ARTICLE_PRUNED = ("w4",)
ARTICLE_RANKINGS = {"l1": ("w3", "w1", "w5", "w2", "w4"), "sensitivity": ("w3", "w1", "w5", "w2", "w4")}


@dataclass(frozen=True)
class Claim:
    """One statement of the article and the answer computed from the table."""

    topic: str
    claim: str
    computed: str
    correct: bool
    why: str


def set_text(weights) -> str:
    return "{" + ", ".join(weights) + "}" if weights else "nothing"


def article_claims() -> list[Claim]:
    """The article's claims about the five-weight table, each next to the computed answer.

    >>> [c.correct for c in article_claims()]
    [False, False, False, False, False, True, False]
    """
    coefficient = ARTICLE_COEFFICIENT
    sens = apply_coefficient_rule("sensitivity", coefficient)
    at_claimed_sens = apply_coefficient_rule("sensitivity", coefficient, ARTICLE_MAX_SENSITIVITY)
    at_claimed_l1 = apply_coefficient_rule("l1", coefficient)  # the L1 column's max is 0.6: threshold 0.18 too
    max_abs = max(ABS)
    claimed_threshold = example_threshold(coefficient, ARTICLE_MAX_SENSITIVITY)
    claims = [
        Claim("Maximum sensitivity", f"{ARTICLE_MAX_SENSITIVITY:g}", f"{sens.maximum:g}",
              sens.maximum == ARTICLE_MAX_SENSITIVITY,
              f"{max_abs:g} is the largest |w| (w3); the largest sensitivity is {sens.maximum:g} (also w3)."),
        Claim(f"Threshold at coefficient {coefficient:g}",
              f"{coefficient:g} × {ARTICLE_MAX_SENSITIVITY:g} = {ARTICLE_THRESHOLD:g}",
              f"{coefficient:g} × {sens.maximum:g} = {sens.threshold:g}",
              sens.threshold == ARTICLE_THRESHOLD, "The maximum must come from the column being thresholded."),
        Claim("Pruned weights (sensitivity)", set_text(ARTICLE_PRUNED), set_text(sens.pruned),
              sens.pruned == ARTICLE_PRUNED,
              f"Sensitivities below {sens.threshold:g}: " + ", ".join(
                  f"{w} ({s:g})" for w, s in zip(WEIGHTS, SENSITIVITY) if w in sens.pruned) + "."),
        Claim(f"Its own threshold {claimed_threshold:g} on the sensitivity column", set_text(ARTICLE_PRUNED),
              set_text(at_claimed_sens.pruned), at_claimed_sens.pruned == ARTICLE_PRUNED,
              f"Even with {claimed_threshold:g}, w2 ({SENSITIVITY[1]:g}) is below it as well as w4."),
        Claim(f"Its own threshold {claimed_threshold:g} on the L1 column", set_text(ARTICLE_PRUNED),
              set_text(at_claimed_l1.pruned), at_claimed_l1.pruned == ARTICLE_PRUNED,
              f"|w4| = {ABS[3]:g} is not below {claimed_threshold:g}: the L1 rule prunes nothing at this "
              "coefficient."),
        Claim("L1 ranking", ranking_text(ARTICLE_RANKINGS["l1"]), ranking_text(ranking("l1")),
              ARTICLE_RANKINGS["l1"] == ranking("l1"), "Correct: |w| sorted from largest to smallest."),
        Claim("Sensitivity ranking", ranking_text(ARTICLE_RANKINGS["sensitivity"]),
              ranking_text(ranking("sensitivity")), ARTICLE_RANKINGS["sensitivity"] == ranking("sensitivity"),
              f"w5 ({SENSITIVITY[4]:g}) is more sensitive than w1 ({SENSITIVITY[0]:g}): the article copied the "
              "L1 ranking."),
    ]
    return claims


def claims_table() -> pd.DataFrame:
    """article_claims() as a frame: topic, the article says, computed, correct, why."""
    return pd.DataFrame([{"topic": c.topic, "the article says": c.claim, "computed": c.computed,
                          "correct": c.correct, "why": c.why} for c in article_claims()])


# The article's TensorFlow code: what fails when it runs (checked by tests/test_example.py).
CODE_ERRORS = (
    ("nn.layers[0].get_weights()[0].abs()", "a NumPy array has no .abs() method",
     "np.abs(kernel) — or pc.CRITERIA['magnitude'].scores(model)"),
    ("get_weights()[0].flatten() … np.abs(weights).mean(axis=1)",
     "a flattened kernel is 1-D: axis 1 does not exist (AxisError)",
     "score the 2-D kernel; for neurons reduce over the input axis (axis=0)"),
    ("nn.fit(x_train, y_train, epochs=5, initial_weights=pruned_weights)",
     "Keras' fit() has no initial_weights argument (TypeError); a fresh Sequential starts from random weights",
     "fine-tune the pruned model itself, re-applying the mask after every batch: pc.run_oneshot"),
)


# --- from the article to code that runs -------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One of the article's five steps: what it does, its code there, and the prune_core code that does it."""

    name: str
    does: str
    article: str
    code: str  # a template: {criterion!r}, {coefficient!r}, {epochs!r}


STEPS = (
    Step("Train", "Train the dense network.", "nn.fit(x_train, y_train, epochs=5)",
         "from prune_core.train.fit import train_model\n"
         "model, trained = train_model(model, data, epochs={train_epochs!r})  # a trained copy; .history per epoch"),
    Step("Score", "Give every weight an importance score.",
         "importance_scores = nn.layers[0].get_weights()[0].abs().mean(axis=1)",
         "scores = pc.CRITERIA[\"{criterion}\"].scores(model, data)  # {{layer: kernel-shaped scores}}"),
    Step("Threshold", "Threshold = coefficient × the largest score (per layer).",
         "threshold = 0.1  # section 4.3: 0.3 × 0.6 = 0.18, with 0.6 the wrong maximum",
         "keep, thresholds = pc.RULES[\"coefficient\"].select(scores, {coefficient!r})  # {{layer: threshold}}"),
    Step("Prune", "Zero every weight whose score is strictly below the threshold.",
         "pruned_indices = [i for i, s in enumerate(importance_scores) if s < threshold]",
         "spec = pc.PruneSpec(criterion=\"{criterion}\", rule=\"coefficient\", value={coefficient!r})\n"
         "result = pc.prune(model, spec, data=data)  # .masks, .model (masked copy), .table, .sparsity"),
    Step("Retrain", "Fine-tune with the pruned weights held at zero.",
         "nn.fit(x_train, y_train, epochs=5, initial_weights=pruned_weights)",
         "run = pc.run_oneshot(model, result.masks, data, epochs={epochs!r})  # pruned weights stay exactly 0\n"
         "run.dense_accuracy, run.pruned_accuracy, run.final_accuracy, run.sparsity"),
)


def _check_step_settings(criterion: str, coefficient: float, epochs: int, train_epochs: int) -> tuple:
    get_criterion(criterion)
    coefficient = check_coefficient(coefficient)
    for name, value, low in (("epochs", epochs, 0), ("train_epochs", train_epochs, 1)):
        if isinstance(value, bool) or int(value) != value or int(value) < low:
            raise ValueError(f"{name} must be a whole number ≥ {low}, got {value!r}.")
    return criterion, coefficient, int(epochs), int(train_epochs)


def step_code(step: Step, *, criterion: str = "sensitivity", coefficient: float = ARTICLE_COEFFICIENT,
              epochs: int = 1, train_epochs: int = 5) -> str:
    """The step's prune_core code with these settings filled in (exactly what :func:`run_steps` runs).

    >>> print(step_code(STEPS[2], coefficient=0.3))
    keep, thresholds = pc.RULES["coefficient"].select(scores, 0.3)  # {layer: threshold}
    """
    criterion, coefficient, epochs, train_epochs = _check_step_settings(criterion, coefficient, epochs, train_epochs)
    return step.code.format(criterion=criterion, coefficient=coefficient, epochs=epochs, train_epochs=train_epochs)


def program(*, train: bool = True, **settings) -> str:
    """All steps as one script (``import prune_core as pc`` first); ``train=False`` leaves out step 1."""
    steps = STEPS if train else STEPS[1:]
    return "import prune_core as pc\n\n" + "\n\n".join(f"# {i}. {s.name}: {s.does}\n{step_code(s, **settings)}"
                                                     for i, s in enumerate(steps, start=1 if train else 2))


@dataclass(frozen=True)
class StepsOutcome:
    """What running the steps gave: per-layer thresholds, sparsity after pruning, the run's accuracies."""

    thresholds: dict
    sparsity: float
    dense_accuracy: float
    pruned_accuracy: float
    final_accuracy: float
    final_sparsity: float
    trained: bool


def run_steps(model, data, *, criterion: str = "sensitivity", coefficient: float = ARTICLE_COEFFICIENT,
              epochs: int = 1, train: bool = False, train_epochs: int = 5) -> StepsOutcome:
    """Run the steps' code exactly as :func:`step_code` shows it, on ``model`` and ``data`` (a Dataset).

    ``train=False`` (the default) starts from the given, already trained model. The caller's model is not
    changed (every step works on copies).
    """
    import prune_core as pc

    settings = dict(criterion=criterion, coefficient=coefficient, epochs=epochs, train_epochs=train_epochs)
    namespace = {"pc": pc, "model": model, "data": data}
    exec(compile(program(train=train, **settings), "<prune_core.experiments.example steps>", "exec"), namespace)  # noqa: S102
    run = namespace["run"]
    return StepsOutcome(thresholds={k: float(v) for k, v in namespace["thresholds"].items()},
                        sparsity=float(namespace["result"].sparsity), dense_accuracy=float(run.dense_accuracy),
                        pruned_accuracy=float(run.pruned_accuracy), final_accuracy=float(run.final_accuracy),
                        final_sparsity=float(run.sparsity), trained=bool(train))
