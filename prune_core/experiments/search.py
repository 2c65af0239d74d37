"""Recipe search: the best one-shot recipe for a target sparsity from a small, stated grid — criterion × retraining
strategy × learning rate — by successive halving: every candidate gets 1 epoch, the better half 2, the better
half of those 4 … up to the budget (each round retrains from the dense model with its budget, so a candidate's
number in a round is exactly what its spec gives). Candidates run through an executor (here or on Ray,
:mod:`prune_core.experiments.executor`) and are reported as they finish.

>>> halving_rounds(2, 8), halving_rounds(4, 12), halving_rounds(1, 5)
([(1, 8), (2, 4)], [(1, 12), (2, 6), (4, 3)], [(1, 5)])
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

from ..io.data import as_arrays
from ..measure.metrics import evaluate
from ..spec import PruneSpec, RunSpec
from ..train.callbacks import Progress
from .sweeps import _model_of, _ship

GRID = {"criteria": ("magnitude", "taylor", "wanda"), "strategies": ("finetune", "rewind-lr"),
        "learning_rates": (1e-3, 1e-2)}
COLUMNS = ("round", "epochs", "criterion", "retrain", "learning_rate", "pruned_accuracy", "final_accuracy",
           "sparsity", "seconds", "advanced")


@dataclass(frozen=True)
class Candidate:
    """One recipe of the grid: how to score, how to retrain, at which learning rate."""

    criterion: str
    retrain: str
    learning_rate: float

    def spec(self, target: float, epochs: int, *, scope: str = "global", seed: int = 0, batch_size: int = 32) -> RunSpec:
        """The one-shot RunSpec this recipe runs with ``epochs`` (the CLI's and the app's spec for the same recipe)."""
        return RunSpec(mode="oneshot", prune=PruneSpec(criterion=self.criterion, rule="sparsity", scope=scope,
                                                       value=float(target), seed=seed),
                       epochs=int(epochs), batch_size=batch_size, learning_rate=float(self.learning_rate), seed=seed,
                       retrain=self.retrain, compact=False, latency_repeats=0).validate()


def grid_candidates(grid: dict | None = None) -> list[Candidate]:
    """Every combination of the grid's criteria, strategies and learning rates, in that order."""
    grid = {**GRID, **(grid or {})}
    return [Candidate(c, s, float(lr)) for c, s, lr in
            itertools.product(grid["criteria"], grid["strategies"], grid["learning_rates"])]


def halving_rounds(budget: int, candidates: int) -> list[tuple[int, int]]:
    """[(epochs, candidates run)] per round: epochs double up to ``budget`` while the candidates halve (rounded up)."""
    if budget < 1 or candidates < 1:
        raise ValueError("The budget must be at least 1 epoch and the grid hold at least one candidate.")
    rounds, epochs, alive = [], 1, candidates
    while True:
        rounds.append((min(epochs, budget), alive))
        if epochs >= budget or alive == 1:
            return rounds
        epochs, alive = epochs * 2, math.ceil(alive / 2)


def recipe_task(shared: dict, payload: dict) -> dict:
    """One candidate at one budget (a task for an executor): its one-shot run from the dense model; the numbers."""
    from . import api

    started = time.perf_counter()
    model, _ = _model_of(shared)
    candidate = Candidate(payload["criterion"], payload["retrain"], payload["learning_rate"])
    spec = candidate.spec(payload["target"], payload["epochs"], scope=payload["scope"], seed=payload["seed"],
                          batch_size=payload["batch_size"])
    result = api.run(model, shared["data"], spec, dense_accuracy=shared.get("dense_accuracy"))
    return {"pruned_accuracy": result.pruned_accuracy, "final_accuracy": result.final_accuracy,
            "sparsity": result.sparsity, "nonzero_params": result.nonzero_params,
            "gzip_bytes": result.gzip_bytes, "seconds": time.perf_counter() - started}


@dataclass
class SearchResult:
    """Every candidate of every round (``frame``), the best recipe and its spec."""

    target: float
    frame: object  # DataFrame[COLUMNS]
    best: Candidate
    best_accuracy: float
    spec: RunSpec
    dense_accuracy: float
    rounds: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"target": self.target, "dense_accuracy": self.dense_accuracy, "best": asdict(self.best),
                "best_accuracy": self.best_accuracy, "spec": self.spec.to_dict(), "rounds": self.rounds,
                "candidates": self.frame.to_dict(orient="records")}


def search_recipe(model, data, target: float, *, budget: int = 2, grid: dict | None = None, scope: str = "global",
                  seed: int = 0, batch_size: int = 32, executor=None, progress: Progress | None = None,
                  on_candidate: Callable[[dict], None] | None = None, task=None) -> SearchResult:
    """The best recipe of ``grid`` (default :data:`GRID`: 3 criteria × 2 strategies × 2 learning rates) for
    ``target`` sparsity (weights, ``scope`` global by default) within ``budget`` epochs, by successive halving.

    Every candidate of every round is a row of ``frame`` (``advanced``: whether it ran in the next round) and is
    passed to ``on_candidate`` as it finishes; the best is the highest final accuracy of the last round (ties: grid
    order). ``task``: the function a candidate runs (default :func:`recipe_task`; tests give a fake one).
    """
    import pandas as pd

    from .executor import TaskFailed

    candidates = grid_candidates(grid)
    rounds = halving_rounds(int(budget), len(candidates))
    x, y, x_test, y_test = as_arrays(data)
    dense_accuracy = evaluate(model, x_test, y_test).accuracy
    runner, _, shared = _ship(model, executor, dict(data=(x, y, x_test, y_test), dense_accuracy=dense_accuracy), None,
                              progress, f"the model and {len(candidates)} candidates")
    total, done, rows, alive = sum(n for _, n in rounds), [0], [], candidates
    settings = dict(target=float(target), scope=scope, seed=seed, batch_size=batch_size)
    for number, (epochs, _) in enumerate(rounds, start=1):
        payloads = [dict(criterion=c.criterion, retrain=c.retrain, learning_rate=c.learning_rate, epochs=epochs,
                         **settings) for c in alive]

        def on_result(i, out, number=number, epochs=epochs, payloads=payloads):
            done[0] += 1
            c = payloads[i]
            row = {"round": number, "epochs": epochs, "criterion": c["criterion"], "retrain": c["retrain"],
                   "learning_rate": c["learning_rate"], "pruned_accuracy": float("nan"),
                   "final_accuracy": float("nan"), "sparsity": float("nan"), "seconds": float("nan")}
            if isinstance(out, TaskFailed):
                row["failed"] = out.reason
            else:
                row.update(out)
            if on_candidate:
                on_candidate(row)
            if progress:
                text = row.get("failed") or f"{row['final_accuracy']:.2%}"
                progress(done[0] / total, f"round {number}, {epochs} epoch(s): {c['criterion']}, {c['retrain']}, "
                                          f"lr {c['learning_rate']:g} → {text}")
            return row

        got: dict[int, dict] = {}
        runner.map(task or recipe_task, payloads, shared=shared,
                   on_result=lambda i, out, f=on_result: got.__setitem__(i, f(i, out)))
        ranked = sorted(range(len(alive)), key=lambda i: (-_score(got[i]), i))
        keep = set(ranked[:math.ceil(len(alive) / 2)]) if number < len(rounds) else set()
        for i in range(len(alive)):
            rows.append({**got[i], "advanced": i in keep})
        best_index = ranked[0]
        best, best_accuracy = alive[best_index], got[best_index]["final_accuracy"]
        alive = [alive[i] for i in sorted(keep)]
    frame = pd.DataFrame(rows, columns=list(COLUMNS) + (["failed"] if any("failed" in r for r in rows) else []))
    spec = best.spec(target, rounds[-1][0], scope=scope, seed=seed, batch_size=batch_size)
    return SearchResult(target=float(target), frame=frame, best=best, best_accuracy=float(best_accuracy), spec=spec,
                        dense_accuracy=dense_accuracy, rounds=[list(r) for r in rounds])


def spec_code(spec: RunSpec) -> str:
    """The Python that runs ``spec`` with the library (what the app shows for a found recipe).

    >>> print(spec_code(Candidate("magnitude", "rewind-lr", 0.01).spec(0.95, 2)))
    pc.run(model, data, pc.RunSpec(mode="oneshot", prune=pc.PruneSpec(criterion="magnitude", rule="sparsity",
           scope="global", value=0.95, seed=0), epochs=2, learning_rate=0.01, retrain="rewind-lr", seed=0))
    """
    p = spec.prune
    return (f'pc.run(model, data, pc.RunSpec(mode="{spec.mode}", prune=pc.PruneSpec(criterion="{p.criterion}", '
            f'rule="{p.rule}",\n       scope="{p.scope}", value={p.value:g}, seed={p.seed}), epochs={spec.epochs}, '
            f'learning_rate={spec.learning_rate:g}, retrain="{spec.retrain}", seed={spec.seed}))')


def rounds_sentence(budget: int, candidates: int) -> str:
    """How much training a search costs, in words.

    >>> rounds_sentence(2, 12)
    '12 candidates × 1 epoch, then the best 6 × 2 epochs: 24 epochs of training in all.'
    """
    rounds = halving_rounds(budget, candidates)
    parts = [f"{n} candidates × {e} epoch{'s' if e > 1 else ''}" if i == 0 else
             f"the best {n} × {e} epoch{'s' if e > 1 else ''}" for i, (e, n) in enumerate(rounds)]
    total = sum(e * n for e, n in rounds)
    return ", then ".join(parts) + f": {total} epochs of training in all."


def _score(row: dict) -> float:
    value = row.get("final_accuracy", float("nan"))
    return -1.0 if value != value else float(value)
