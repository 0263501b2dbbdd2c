"""memtop.probe's period as a rule (issue 13, item 11): a pure function of the cost, tested without a clock.

How long a sample really takes, and the period a real program gets, are
figures of a machine at a moment: bench/heap_sources.py prints them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.probe import BUDGET, MAX_INTERVAL, next_interval, smoothed


@pytest.mark.parametrize(("base", "cost", "period"), [
    (0.1, 0.0, 0.1),        # free: the asked-for period
    (0.1, 0.001, 0.1),      # 1 ms in 0.1 s is the budget exactly
    (0.1, 0.0015, 0.15),    # a busier sample: stretched to keep 1 % (the 0.150 s a loaded machine saw)
    (0.1, 0.004, 0.4),
    (0.1, 0.03, MAX_INTERVAL),  # 1 % would need 3 s: it stops at one a second
    (5.0, 0.03, 5.0),       # a program that asked for slower than 1 Hz keeps its period
    (5.0, 0.0, 5.0),
])
def test_the_period_for_a_cost(base: float, cost: float, period: float) -> None:
    assert next_interval(base, cost) == pytest.approx(period)


@given(st.floats(0.01, 100), st.floats(0, 10))
def test_the_period_keeps_to_the_budget_within_its_bounds(base: float, cost: float) -> None:
    period = next_interval(base, cost)
    assert base <= period <= max(base, MAX_INTERVAL)
    if period < max(base, MAX_INTERVAL):  # not held at the slowest: the budget holds
        assert cost <= BUDGET * period * (1 + 1e-9)


def test_the_cost_is_the_first_sample_then_a_moving_average() -> None:
    assert smoothed(0.0, 0.004, 1) == 0.004
    cost = 0.004
    for n in range(2, 40):
        cost = smoothed(cost, 0.03, n)
    assert cost == pytest.approx(0.03, rel=1e-4)
