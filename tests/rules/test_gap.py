"""Gap analysis: RSS minus heap in use, its slope and the guide's decision rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from memtop.rules.gap import LEAK, RETAINED, analyse, slope

MIB = 1 << 20


def series(points: list[tuple[float, int, int]]) -> tuple[list[float], list[int | None], list[int | None]]:
    return [t for t, _r, _h in points], [r * MIB for _t, r, _h in points], [h * MIB for _t, _r, h in points]


def test_a_stable_gap_is_overhead() -> None:
    # The guide's "stable gap": heap moves with load, RSS with it, the gap stays.
    points = [(float(t), 2100 + (t % 7), 1800 + (t % 7)) for t in range(0, 300, 5)]
    verdict = analyse(*series(points), now=300.0, window=300.0)
    assert verdict.trend == "stable" and verdict.flag is None
    assert verdict.gap == 300 * MIB


def test_a_gap_growing_while_the_heap_is_flat_is_a_structural_leak() -> None:
    points = [(float(t), 2100 + t // 10, 1800) for t in range(0, 120, 2)]  # +6 MiB/min of RSS, heap flat
    verdict = analyse(*series(points), now=120.0, window=300.0)
    assert verdict.trend == "growing" and verdict.flag == LEAK
    assert verdict.gap_slope is not None and abs(verdict.gap_slope * 60 / MIB - 6.0) < 0.5
    assert "MiB/min (growing)" in verdict.describe() and LEAK in verdict.describe()


def test_growth_of_the_heap_itself_is_not_a_leak_of_the_allocator() -> None:
    points = [(float(t), 200 + t // 2, 100 + t // 2) for t in range(0, 120, 2)]
    verdict = analyse(*series(points), now=120.0, window=300.0)
    assert verdict.trend == "stable" and verdict.flag is None


def test_freed_but_kept_memory_is_flagged_and_clears_after_trim() -> None:
    # feasibility.md §A4: heap 17.6 MiB against RSS 1001 MiB, then malloc_trim(0): RSS 58 MiB.
    kept = [(0.0, 1001, 1000), (30.0, 1001, 18)]
    verdict = analyse(*series(kept), now=60.0, window=300.0)
    assert verdict.flag == RETAINED and verdict.gap is not None and verdict.gap > 900 * MIB
    trimmed = [*kept, (61.0, 58, 18)]
    assert analyse(*series(trimmed), now=90.0, window=300.0).flag is None


def test_too_little_history_gives_no_trend() -> None:
    verdict = analyse(*series([(0.0, 100, 50), (5.0, 110, 50)]), now=10.0, window=300.0)
    assert verdict.trend is None and verdict.gap == 60 * MIB
    assert "needs 20 s" in verdict.describe()
    assert analyse([], [], [], now=0.0, window=60.0).gap is None


def test_a_still_process_is_stable_from_one_sample() -> None:
    verdict = analyse(*series([(0.0, 100, 90)]), now=40.0, window=300.0)
    assert verdict.trend == "stable" and verdict.gap_slope == 0.0


@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), max_size=50), st.floats(-10, 10), st.floats(-1e3, 1e3))
def test_slope_recovers_a_line(noise: list, a: float, b: float) -> None:  # type: ignore[type-arg]
    times = [float(i) for i in range(20)]
    fitted = slope(times, [a * t + b for t in times])
    assert fitted is not None and abs(fitted - a) < 1e-6 * max(1.0, abs(a))
    assert slope([1.0, 1.0], [2.0, 3.0]) is None


@given(st.lists(st.tuples(st.floats(0, 1000), st.integers(0, 1 << 40), st.integers(0, 1 << 40)), max_size=60), st.floats(1, 2000))
def test_analyse_never_fails(points: list, window: float) -> None:  # type: ignore[type-arg]
    points.sort(key=lambda p: p[0])
    verdict = analyse([t for t, _r, _h in points], [r for _t, r, _h in points], [h for _t, _r, h in points], 1000.0, window)
    assert verdict.trend in (None, "growing", "shrinking", "stable")
    assert verdict.gap is None or verdict.gap == points[-1][1] - points[-1][2]


def test_the_guides_growing_example_is_flagged() -> None:
    # Hour 1: heap 1.8 GB, RSS 2.1 GB; hour 6: heap 1.9 GB, RSS 2.7 GB (memory-metrics.txt).
    hours = [(h * 3600.0, 2100 + (h - 1) * 120, 1800 + (h - 1) * 20) for h in range(1, 7)]
    verdict = analyse(*series(hours), now=6 * 3600.0, window=6 * 3600.0)
    assert verdict.trend == "growing" and verdict.flag == LEAK


def test_a_heap_that_grows_with_the_gap_is_not_a_structural_leak() -> None:
    # A plain leak that also pins pages: heap +1 MiB/s, gap +0.5 MiB/s.
    points = [(float(t), 100 + t * 3 // 2, 50 + t) for t in range(0, 60, 2)]
    verdict = analyse(*series(points), now=60.0, window=300.0)
    assert verdict.trend == "growing" and verdict.flag is None


def test_bursts_of_malloc_and_free_are_noise_not_a_trend() -> None:
    # Heap jumps between 0 and 2 MiB at random moments, RSS stays: the gap scatters.
    import random

    rng = random.Random(7)
    points = [(float(t), 100, 2 * rng.randint(0, 1)) for t in range(0, 24)]
    verdict = analyse(*series(points), now=24.0, window=300.0)
    assert verdict.trend == "stable"
