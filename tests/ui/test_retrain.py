"""ui.retrain's headline numbers: a streams-mode run states what it removed, not the zeros its compact model lacks."""

from types import SimpleNamespace

import pytest

from ui.retrain import headline, rate_text


def _result(**settings):
    return SimpleNamespace(dense_accuracy=0.9, mode="oneshot", pruned_accuracy=0.5, final_accuracy=0.85, sparsity=0.0,
                           params=56_256, gzip_bytes=200_000, dense={"params": 71_562, "gzip_bytes": 260_000},
                           settings=settings)


def test_a_streams_run_shows_the_parameters_it_removed():
    shown = {m.label: m for m in headline(_result(streams=True))}
    assert "Sparsity" not in shown
    removed = shown["Parameters removed"]
    assert (removed.value, removed.delta) == (f"{1 - 56_256 / 71_562:.1%}", "56,256 of 71,562 left") == ("21.4%", "56,256 of 71,562 left")
    assert shown["gzip size"].delta == f"{200_000 / 260_000 - 1:+.1%} vs dense"


def test_a_masked_run_shows_its_sparsity():
    shown = {m.label: m for m in headline(_result())}
    assert shown["Sparsity"].value == "0.0%" and "Parameters removed" not in shown


@pytest.mark.parametrize("rate, rounds, text", [
    (3e-3, [], "learning rate 0.003"),
    (1e-3, [{"learning_rate": 1e-3}, {"learning_rate": 1e-3}], "learning rate 0.001"),
    ("auto", [{"learning_rate": r} for r in (1e-3, 1e-3, 1e-3, 1e-3, 3e-3, 3e-3, 3e-3, 3e-3, 1e-2)],
     "learning rate by round (Auto): 0.001 (rounds 1–4), 0.003 (rounds 5–8), 0.01 (round 9)"),
])
def test_the_summary_says_the_learning_rate_the_run_used(rate, rounds, text):
    assert rate_text(SimpleNamespace(settings={"learning_rate": rate}, rounds=rounds)) == text
