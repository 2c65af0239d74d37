"""Recipe search (prune_core.experiments.search): successive halving keeps the better half each round and returns
the best candidate of its grid (a fake trainer with known scores), reports every candidate, and its best spec is the
one-shot run the library gives (a tiny model, real training)."""

import pytest

from prune_core.experiments import search
from tests.tiny import tiny_data, trained_tiny_net

BASE = {("magnitude", "finetune", 1e-3): 0.90, ("magnitude", "finetune", 1e-2): 0.80,
        ("magnitude", "rewind-lr", 1e-3): 0.70, ("magnitude", "rewind-lr", 1e-2): 0.85,
        ("taylor", "finetune", 1e-3): 0.60, ("taylor", "finetune", 1e-2): 0.88,
        ("taylor", "rewind-lr", 1e-3): 0.50, ("taylor", "rewind-lr", 1e-2): 0.40}


def fake_task(shared, payload):
    """Known accuracies: the base, plus 0.05 per epoch for rewind-lr at 1e-2 only (it overtakes with budget)."""
    key = (payload["criterion"], payload["retrain"], payload["learning_rate"])
    bonus = 0.05 * payload["epochs"] if key == ("magnitude", "rewind-lr", 1e-2) else 0.0
    return {"pruned_accuracy": 0.3, "final_accuracy": BASE[key] + bonus, "sparsity": payload["target"],
            "seconds": 0.0}


@pytest.fixture(scope="module")
def setting():
    data = tiny_data()
    return trained_tiny_net(data), data


def test_successive_halving_keeps_the_better_half_and_returns_the_best(setting):
    model, data = setting
    seen = []
    grid = {"criteria": ("magnitude", "taylor"), "learning_rates": (1e-3, 1e-2)}
    result = search.search_recipe(model, data, 0.9, budget=4, grid=grid, task=fake_task, on_candidate=seen.append)
    assert result.rounds == [[1, 8], [2, 4], [4, 2]]
    frame = result.frame
    assert len(frame) == len(seen) == 14
    first = frame[frame["round"] == 1]
    assert first[first["advanced"]]["final_accuracy"].tolist() == pytest.approx([0.90, 0.80, 0.90, 0.88])  # rewind 1e-2: 0.85 + 0.05
    second = frame[frame["round"] == 2]
    assert second["final_accuracy"].tolist() == pytest.approx([0.90, 0.80, 0.95, 0.88])
    assert second[second["advanced"]]["criterion"].tolist() == ["magnitude", "magnitude"]
    assert frame[frame["round"] == 3]["final_accuracy"].tolist() == pytest.approx([0.90, 1.05])
    assert result.best == search.Candidate("magnitude", "rewind-lr", 1e-2) and result.best_accuracy == pytest.approx(1.05)
    assert (result.spec.prune.criterion, result.spec.retrain, result.spec.learning_rate, result.spec.epochs,
            result.spec.prune.value, result.spec.prune.scope) == ("magnitude", "rewind-lr", 0.01, 4, 0.9, "global")


def test_the_best_spec_is_the_one_shot_run_the_library_gives(setting):
    import prune_core as pc

    model, data = setting
    grid = {"criteria": ("magnitude",), "strategies": ("finetune",), "learning_rates": (1e-3, 1e-2)}
    seen = []
    result = search.search_recipe(model, data, 0.5, budget=2, grid=grid, on_candidate=seen.append)
    assert result.rounds == [[1, 2], [2, 1]] and len(result.frame) == 3
    again = pc.run(model, data, result.spec)
    assert again.final_accuracy == result.best_accuracy
    # each candidate carries its size for the Compare chart: the last one is the best's run
    assert (seen[-1]["nonzero_params"], seen[-1]["gzip_bytes"]) == (again.nonzero_params, again.gzip_bytes)
    assert result.frame["sparsity"].tolist() == pytest.approx([0.5] * 3, abs=0.01)


def test_a_budget_below_one_epoch_is_refused(setting):
    model, data = setting
    with pytest.raises(ValueError, match="at least 1 epoch"):
        search.search_recipe(model, data, 0.9, budget=0)
