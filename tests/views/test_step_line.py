"""One step-line reading for the chart and the rules (views/step_line.py), checked against what each did before.

The four readers below are the implementations that stood in rules/gap.py,
state/diagnosis_watch.py, state/process_history.py and views/heap_series.py
before they shared views/step_line.py (at 4227876), kept verbatim as oracles:
on any history in time order, each caller gives exactly what it gave then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from memtop.rules.diagnosis_model import GROWTH_FLOOR, GROWTH_SCATTER, GROWTH_SHARE, GROWTH_SPAN
from memtop.rules.gap import GRID, LEAK, MIN_SPAN, RETAINED, RETAINED_FLOOR, SLOPE_FLOOR, SLOPE_SHARE, GapVerdict, analyse, slope
from memtop.state.diagnosis_watch import steady_growth
from memtop.state.process_history import ProcessHistory, Sample
from memtop.views.heap_series import resample
from memtop.views.step_line import bucket_ends, even_grid, first_in_force, read_at, window_times

MIB = 1 << 20


# -- the oracles: the code as it was ------------------------------------------------
def old_analyse(times: Sequence[float], rss: Sequence[int | None], heap: Sequence[int | None], now: float, window: float) -> GapVerdict:
    """rules/gap.py analyse()."""
    points = [(t, r, h) for t, r, h in zip(times, rss, heap) if r is not None and h is not None]
    if not points:
        return GapVerdict(None, None, None, None, None)
    _t, rss_now, heap_now = points[-1]
    gap_now = rss_now - heap_now
    start = now - window
    # Step samples: the one in force at the window's start counts from there,
    # and the last one holds until now (a flat line is a still process).
    inside = [(max(t, start), r, h) for t, r, h in points if t > start]
    before = [p for p in points if p[0] <= start][-1:]
    if before:
        inside.insert(0, (start, before[0][1], before[0][2]))
    inside.append((now, rss_now, heap_now))
    span = inside[-1][0] - inside[0][0]
    trend = gap_slope = heap_slope = None
    if span >= MIN_SPAN:
        # Samples are stored when a figure changes: weigh time, not samples,
        # by reading the step line at evenly spaced moments.
        grid = [inside[0][0] + span * i / (GRID - 1) for i in range(GRID)]
        starts = [t for t, _r, _h in inside]
        at = [inside[bisect_right(starts, moment) - 1] for moment in grid]
        gaps = [float(r - h) for _t, r, h in at]
        gap_slope = slope(grid, gaps)
        heap_slope = slope(grid, [float(h) for _t, _r, h in at])
        rss_slope = slope(grid, [float(r) for _t, r, _h in at])
        if gap_slope is not None:
            mean_rss = sum(r for _t, r, _h in at) / len(at)
            threshold = max(SLOPE_FLOOR, SLOPE_SHARE * mean_rss)
            # A program that allocates and frees in bursts makes the gap jump
            # up and down; a trend must also carry the gap further over the
            # window than twice that scatter around the fitted line.
            mean_t, mean_g = sum(grid) / len(grid), sum(gaps) / len(gaps)
            scatter = (sum((g - mean_g - gap_slope * (t - mean_t)) ** 2 for t, g in zip(grid, gaps)) / len(gaps)) ** 0.5
            moved = abs(gap_slope) * span > 2 * scatter
            trend = "stable"
            if moved and gap_slope >= threshold:
                trend = "growing"
            elif moved and gap_slope <= -threshold:
                trend = "shrinking"
            if (trend == "growing" and heap_slope is not None and heap_slope < gap_slope / 4
                    and rss_slope is not None and rss_slope >= threshold / 2):
                return GapVerdict(gap_now, trend, gap_slope, heap_slope, LEAK)
    flag = RETAINED if gap_now >= RETAINED_FLOOR and gap_now > heap_now else None
    return GapVerdict(gap_now, trend, gap_slope, heap_slope, flag)


def old_steady_growth(times: Sequence[float], rss: Sequence[int | None], now: float, window: float) -> tuple[float, float] | None:
    """state/diagnosis_watch.py steady_growth()."""
    points = [(t, r) for t, r in zip(times, rss) if r is not None]
    start = now - window
    inside = [(max(t, start), r) for t, r in points if t > start]
    before = [p for p in points if p[0] <= start][-1:]
    if before:
        inside.insert(0, (start, before[0][1]))
    if not inside:
        return None
    inside.append((now, inside[-1][1]))
    span = inside[-1][0] - inside[0][0]
    if span < GROWTH_SPAN:
        return None
    n = 60
    grid = [inside[0][0] + span * i / (n - 1) for i in range(n)]
    values: list[float] = []
    j = 0
    for moment in grid:
        while j + 1 < len(inside) and inside[j + 1][0] <= moment:
            j += 1
        values.append(float(inside[j][1]))
    rate = slope(grid, values)
    if rate is None:
        return None
    mean = sum(values) / n
    mean_t = sum(grid) / n
    scatter = (sum((v - mean - rate * (t - mean_t)) ** 2 for t, v in zip(grid, values)) / n) ** 0.5
    if rate >= max(GROWTH_FLOOR, GROWTH_SHARE * mean) and rate * span > GROWTH_SCATTER * scatter:
        return rate, span
    return None


def old_chart_samples(kept: Sequence[Sample], now: float, window: float) -> list[Sample]:
    """state/process_history.py series(): the samples the chart gets."""
    start = now - window
    shown = [s for s in kept if s.time > start]
    before = [s for s in kept if s.time <= start][-1:]
    return before + shown


def old_resample(times: Sequence[float], values: Sequence[int | None], now: float, window: float, n: int) -> list[float]:
    """views/heap_series.py resample() (the chart's sparklines and its redraw key)."""
    out: list[float] = []
    index = -1
    for bucket in range(n):
        end = now - window + window * (bucket + 1) / n
        while index + 1 < len(times) and times[index + 1] <= end:
            index += 1
        value = values[index] if index >= 0 else None
        out.append(float(value) if value is not None else 0.0)
    return out


# -- histories as memtop keeps them: in time order, ties allowed, holes (None) ----------
times_st = st.lists(st.one_of(st.integers(0, 400).map(float), st.floats(0, 400)), max_size=40).map(sorted)
size = st.one_of(st.none(), st.integers(0, 64).map(lambda m: m * MIB), st.integers(0, 1 << 40))
windows = st.sampled_from([10.0, 30.0, 60.0, 300.0, 900.0]) | st.floats(1, 1000)


@st.composite
def histories(draw: st.DrawFn, columns: int) -> tuple[list[float], list[list[int | None]], float, float]:
    times = draw(times_st)
    cols = [draw(st.lists(size, min_size=len(times), max_size=len(times))) for _ in range(columns)]
    now = (times[-1] if times else 0.0) + draw(st.sampled_from([0.0, 1.0, 30.0]) | st.floats(0, 500))
    return times, cols, now, draw(windows)


@given(histories(2))
def test_the_gap_verdict_is_what_rules_gap_gave(case: tuple[list[float], list[list[int | None]], float, float]) -> None:
    times, (rss, heap), now, window = case
    assert analyse(times, rss, heap, now, window) == old_analyse(times, rss, heap, now, window)


@given(st.lists(st.integers(0, 100).map(lambda m: m * MIB), min_size=2, max_size=40), st.floats(0.5, 20),
       st.floats(60, 900), st.integers(0, 50))
def test_the_gap_verdict_agrees_on_growing_gaps(rss: list[int], step: float, window: float, heap_mib: int) -> None:
    rss.sort()  # a gap that grows: where trends and flags are found, not only "stable"
    times = [i * step for i in range(len(rss))]
    heap = [heap_mib * MIB] * len(rss)
    now = times[-1] + step
    assert analyse(times, rss, heap, now, window) == old_analyse(times, rss, heap, now, window)


@given(histories(1))
def test_steady_growth_is_what_the_diagnosis_watch_gave(case: tuple[list[float], list[list[int | None]], float, float]) -> None:
    times, (rss,), now, window = case
    assert steady_growth(times, rss, now, window) == old_steady_growth(times, rss, now, window)


@given(st.lists(st.integers(0, 100).map(lambda m: 100 * MIB + m * MIB), min_size=2, max_size=40), st.floats(0.5, 20),
       st.floats(60, 900))
def test_steady_growth_agrees_on_growing_histories(rss: list[int], step: float, window: float) -> None:
    rss.sort()  # rising: where a growth is found, not only refused
    times = [i * step for i in range(len(rss))]
    now = times[-1] + step
    assert steady_growth(times, list(rss), now, window) == old_steady_growth(times, list(rss), now, window)


@given(histories(3))
def test_the_chart_gets_the_samples_process_history_gave(case: tuple[list[float], list[list[int | None]], float, float]) -> None:
    times, (rss, anon, heap), now, window = case
    history = ProcessHistory()
    key = (7, 1)
    history.reserve(key, 64)
    for t, r, a, h in zip(times, rss, anon, heap):
        history.add(key, Sample(t, r, a, h))  # kept when a figure changes, as the sampler's are
    kept = history.samples(key)
    series = history.series(key, now, window, "")
    assert series is not None
    want = old_chart_samples(kept, now, window)
    assert series.times == tuple(s.time for s in want) and series.heap == tuple(s.heap for s in want)
    assert list(kept[first_in_force(kept, now - window, key=lambda s: s.time):]) == want


@given(histories(1), st.integers(1, 200))
def test_the_sparkline_reads_what_heap_series_read(case: tuple[list[float], list[list[int | None]], float, float],
                                                    n: int) -> None:
    times, (values,), now, window = case
    assert resample(times, values, now, window, n) == old_resample(times, values, now, window, n)


def test_a_step_line_read_over_a_window() -> None:
    times = [0.0, 10.0, 20.0]
    first, steps = window_times(times, now=40.0, window=25.0)  # the window starts at 15: 10.0's value is in force
    assert first == 1 and steps == [15.0, 20.0, 40.0]
    assert read_at(steps, ["b", "c"], [15.0, 19.9, 20.0, 40.0, 41.0]) == ["b", "b", "c", "c", "c"]
    assert read_at(times, [1, 2, 3], [-1.0]) == [None]  # before the first sample
    assert first_in_force(times, -5.0) == 0 and first_in_force(times, 10.0) == 1
    assert even_grid(0.0, 10.0, 3) == [0.0, 5.0, 10.0]
    assert bucket_ends(10.0, 10.0, 4) == [2.5, 5.0, 7.5, 10.0]
