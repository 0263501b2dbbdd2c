"""THP/compaction counter history: rates, resets, the window, the stall count (no UI)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memtop.state.counters import BUCKETS, CounterHistory, counter_values
from memtop.views.thp import CORE_COUNTERS

from tests.dashboard_fixtures import at


def test_first_reading_is_a_baseline_then_rates_per_second() -> None:
    history = CounterHistory()
    history.add(10.0, {"thp_fault_alloc": 100})
    assert history.line("thp_fault_alloc").rate is None
    history.add(12.0, {"thp_fault_alloc": 130})
    line = history.line("thp_fault_alloc")
    assert line.rate == 15.0 and line.window == 30
    assert sum(line.spark) * (history.window / BUCKETS) == 30


def test_a_counter_that_goes_down_was_reset_and_counts_from_zero() -> None:
    history = CounterHistory()
    history.add(0.0, {"compact_stall": 500})
    history.add(1.0, {"compact_stall": 510})
    history.add(2.0, {"compact_stall": 4})  # reset: 4 events since
    line = history.line("compact_stall")
    assert line.rate == 4.0
    assert line.window == 14
    history.add(3.0, {"compact_stall": 6})
    assert history.line("compact_stall").rate == 2.0


def test_events_leave_the_window() -> None:
    history = CounterHistory(window=60.0)
    history.add(0.0, {"compact_stall": 0})
    history.add(1.0, {"compact_stall": 3})
    assert history.line("compact_stall").window == 3
    history.add(30.0, {"compact_stall": 3})
    assert history.line("compact_stall").window == 3
    history.add(61.5, {"compact_stall": 3})
    assert history.line("compact_stall").window == 0
    assert history.line("compact_stall").rate == 0


def test_the_same_snapshot_twice_adds_nothing() -> None:
    history = CounterHistory()
    history.add(5.0, {"thp_fault_alloc": 1})
    history.add(6.0, {"thp_fault_alloc": 3})
    history.add(6.0, {"thp_fault_alloc": 3})
    assert history.line("thp_fault_alloc").rate == 2.0


def test_view_lists_core_counters_and_any_other_that_moves() -> None:
    history = CounterHistory()
    snaps = [
        at(0.0, {"thp_fault_alloc": 0, "thp_fault_fallback": 0, "thp_split_pmd": 7}),
        at(1.0, {"thp_fault_alloc": 30, "thp_fault_fallback": 10, "thp_split_pmd": 9}),
    ]
    for snap in snaps:
        history.add(snap.time, counter_values(snap))
    view = history.view(snaps[-1])
    names = [c.name for c in view.counters]
    assert names[: len(CORE_COUNTERS)] == list(CORE_COUNTERS)
    assert "thp_split_pmd" in names  # moved
    assert "compact_daemon_wake" not in names  # present but still
    assert view.fallback_ratio == 10 / 40
    assert view.stalls == 0 and not view.stalling


def test_a_counter_this_kernel_lacks_is_marked_absent() -> None:
    history = CounterHistory()
    history.add(0.0, {"thp_fault_alloc": 0})
    history.add(1.0, {"thp_fault_alloc": 1})
    assert not history.line("thp_fault_fallback_charge").present
    assert history.line("thp_fault_alloc").present


def test_per_size_counters_are_keyed_by_size() -> None:
    snap = at(0.0)
    values = counter_values(snap)
    assert values["thp_fault_alloc"] == dict(snap.vmstat)["thp_fault_alloc"]
    assert "2048kB:anon_fault_alloc" in values


@given(st.lists(st.tuples(st.floats(0.01, 100), st.integers(0, 10**12)), min_size=1, max_size=40))
def test_rates_are_never_negative_and_window_sums_the_deltas(steps: list[tuple[float, int]]) -> None:
    history = CounterHistory(window=1e9)
    time = 0.0
    before: int | None = None
    expected = 0
    for gap, value in steps:
        time += gap
        history.add(time, {"c": value})
        if before is not None:
            expected += value - before if value >= before else value
        before = value
        line = history.line("c")
        assert line.rate is None or line.rate >= 0
        assert all(v >= 0 for v in line.spark)
    assert history.line("c").window == expected
