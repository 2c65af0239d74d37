"""Schedules: exact polynomial-decay values, validation, iterative rounds, config round-trips."""

import pytest

from prune_core.train import schedules as sc


# --- the schedule object -------------------------------------------------------------------------

def test_polynomial_decay_values_exact():
    s = sc.PolynomialDecay(0.0, 0.75, begin_step=0, end_step=8, frequency=2)
    # 0.75 + (0 − 0.75)(1 − t/8)^3
    assert [s.sparsity(t) for t in (0, 2, 4, 6, 8, 9, 100)] == [0.0, 0.43359375, 0.65625, 0.73828125, 0.75, 0.75, 0.75]
    assert s.update_steps() == [0, 2, 4, 6, 8]
    assert [t for t in range(20) if s.should_prune(t)] == [0, 2, 4, 6, 8]


def test_polynomial_decay_offset_start_and_uneven_end():
    s = sc.PolynomialDecay(0.2, 0.6, begin_step=10, end_step=17, frequency=3)
    assert s.sparsity(5) == 0.0 and s.sparsity(10) == pytest.approx(0.2) and s.sparsity(17) == 0.6
    assert s.update_steps() == [10, 13, 16, 17]
    assert [t for t in range(30) if s.should_prune(t)] == [10, 13, 16, 17]
    assert s.sparsity(13) == pytest.approx(0.6 - 0.4 * (4 / 7) ** 3)
    values = [s.sparsity(t) for t in range(10, 18)]
    assert values == sorted(values)  # never decreases


@pytest.mark.parametrize("kwargs, message", [
    (dict(initial_sparsity=-0.1), "initial sparsity must be between 0 and 1"),
    (dict(final_sparsity=1.2), "final sparsity must be between 0 and 1"),
    (dict(final_sparsity=float("nan")), "final sparsity must be between 0 and 1"),
    (dict(initial_sparsity=0.9, final_sparsity=0.5), "at least the initial"),
    (dict(begin_step=-1), "begin step must be >= 0"),
    (dict(end_step=0), "must come after the begin step"),
    (dict(frequency=0), "at least 1 step"),
    (dict(frequency=2.5), "whole number"),
    (dict(power=0), "power must be a positive"),
])
def test_polynomial_decay_validates(kwargs, message):
    args = dict(initial_sparsity=0.0, final_sparsity=0.5, begin_step=0, end_step=10, frequency=1, power=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        sc.PolynomialDecay(**args)


def test_iterative_schedule_prunes_a_fraction_of_what_remains():
    assert sc.iterative_schedule(0.5, 3) == [0.5, 0.75, 0.875]
    assert sc.iterative_schedule(0.2, 2) == pytest.approx([0.2, 0.36])


# --- training with tiny models ----------------------------------------------------------------------


def test_final_below_initial_says_it_in_percent_as_the_sliders_show_it():
    with pytest.raises(ValueError) as info:
        sc.PolynomialDecay(0.95, 0.05, begin_step=0, end_step=10)
    assert str(info.value) == "The final sparsity (5%) must be at least the initial sparsity (95%)."


def test_schedules_round_trip_their_config():
    poly = sc.PolynomialDecay(0.1, 0.8, begin_step=2, end_step=50, frequency=4, power=2.0)
    assert poly.get_config() == {"initial_sparsity": 0.1, "final_sparsity": 0.8, "begin_step": 2, "end_step": 50,
                                 "frequency": 4, "power": 2.0}
    assert sc.PolynomialDecay.from_config(poly.get_config()) == poly
    constant = sc.ConstantSparsity(0.5, begin_step=3, end_step=9, frequency=3)
    assert sc.deserialize(sc.serialize(constant)) == constant
    assert sc.serialize(constant)["class_name"] == "ConstantSparsity"
    assert [constant.sparsity(t) for t in (0, 3, 100)] == [0.0, 0.5, 0.5]
    assert constant.update_steps() == [3, 6, 9]
    assert isinstance(poly, sc.PruningSchedule) and isinstance(constant, sc.PruningSchedule)


@pytest.mark.parametrize("config, message", [
    ({"class_name": "Cosine", "config": {}}, "Unknown pruning schedule 'Cosine'"),
    ({"class_name": "ConstantSparsity", "config": {"target_sparsity": 1.5}}, "target sparsity"),
    ({"class_name": "ConstantSparsity", "config": {"target_sparsity": 0.5, "begin_step": 5, "end_step": 2}},
     "end step"),
])
def test_deserialize_validates(config, message):
    with pytest.raises(ValueError, match=message):
        sc.deserialize(config)

