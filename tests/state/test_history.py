"""Per-process history (bounded, changes only) and memtop's own heap source."""

from __future__ import annotations

import ctypes
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from memtop.collectors.heap import OwnHeap
from memtop.state.heap_sources import NOT_INSTRUMENTED, HeapSources
from memtop.state.process_history import ProcessHistory
from memtop.views.heap_series import resample, steps, thin

from tests.dashboard_fixtures import MIB, PROCESSES

TRAIN = next(p for p in PROCESSES if p.pid == 201)


def sized(rss_mib: int) -> tuple:  # type: ignore[type-arg]
    return tuple(replace(p, rss=rss_mib * MIB) if p.pid == 201 else p for p in PROCESSES)


def test_only_changes_are_stored_and_processes_on_screen_start_a_history() -> None:
    history = ProcessHistory()
    history.record(0.0, PROCESSES, frozenset({201}))
    history.record(1.0, PROCESSES, frozenset({201}))
    history.record(2.0, sized(300), frozenset())  # scrolled off: still sampled
    assert [s.time for s in history.samples(TRAIN.key)] == [0.0, 2.0]
    assert history.samples((300, 100)) == ()  # never on screen
    assert len(history) == 1


def test_exited_processes_are_dropped_unless_kept() -> None:
    history = ProcessHistory()
    history.record(0.0, PROCESSES, frozenset({201, 202}))
    gone = tuple(p for p in PROCESSES if p.pid not in (201, 202))
    history.record(1.0, gone, frozenset(), keep=TRAIN.key)
    assert history.samples(TRAIN.key) and not history.samples((202, 100))
    history.record(2.0, gone, frozenset())
    assert not history.samples(TRAIN.key)


def test_capacity_and_process_count_are_bounded() -> None:
    history = ProcessHistory(capacity=5, max_processes=2)
    for t in range(20):
        history.record(float(t), sized(100 + t), frozenset({201}))
    assert len(history.samples(TRAIN.key)) == 5
    history.record(20.0, PROCESSES, frozenset({100, 200, 300}))
    assert len(history) == 2


def test_series_starts_with_the_value_in_force_at_the_window_start() -> None:
    history = ProcessHistory()
    for t, rss in ((0.0, 100), (100.0, 200), (250.0, 300)):
        history.record(t, sized(rss), frozenset({201}))
    series = history.series(TRAIN.key, now=300.0, window=60.0, heap_note="x")
    assert series is not None
    assert series.times == (100.0, 250.0) and series.rss == (200 * MIB, 300 * MIB)
    assert history.series((999, 1), 300.0, 60.0, "x") is None


def test_own_heap_follows_mallocs() -> None:
    own = OwnHeap()
    if not own.available:
        assert own.reason and "mallinfo2" in own.reason
        return
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    before = own.read()
    block = libc.malloc(64 * MIB)  # above the mmap threshold: counted in hblkhd
    try:
        during = own.read()
    finally:
        libc.free(block)
    assert before is not None and during is not None
    assert during.in_use - before.in_use >= 64 * MIB


def test_without_mallinfo2_the_heap_says_why() -> None:
    own = OwnHeap("libmemtop-no-such-libc.so")  # as on musl: no mallinfo2 to call
    assert not own.available and own.read() is None
    assert own.reason is not None and "glibc >= 2.33" in own.reason
    sources = HeapSources(own, own_pid=42)
    assert sources.read() == {} and sources.describe(42) == own.reason
    assert sources.describe(43) == NOT_INSTRUMENTED


samples = st.lists(st.tuples(st.floats(0, 1000), st.one_of(st.none(), st.integers(0, 1 << 40))), max_size=30)


@given(samples, st.floats(1, 2000), st.integers(1, 200))
def test_resample_and_steps_stay_inside_the_window_and_the_values(points: list, window: float, n: int) -> None:  # type: ignore[type-arg]
    points.sort(key=lambda p: p[0])
    times = tuple(t for t, _v in points)
    values = tuple(v for _t, v in points)
    now = 1000.0
    known = {float(v) for v in values if v is not None} | {0.0}
    out = resample(times, values, now, window, n)
    assert len(out) == n and set(out) <= known
    xs, ys = steps(times, values, now, window)
    assert len(xs) == len(ys)
    assert all(-window <= x <= 0 for x in xs) and xs == sorted(xs)
    assert set(ys) <= known


@given(st.lists(st.tuples(st.floats(-300, 0), st.floats(0, 1e12)), min_size=1, max_size=400), st.integers(1, 50))
def test_thin_keeps_each_columns_extremes_and_the_ends(points: list, buckets: int) -> None:  # type: ignore[type-arg]
    points.sort(key=lambda p: p[0])
    xs = [x for x, _y in points]
    ys = [y for _x, y in points]
    out_x, out_y = thin(xs, ys, 300.0, buckets)
    assert len(out_x) == len(out_y) <= max(len(xs), 4 * buckets)
    assert out_x == sorted(out_x)
    assert (out_x[0], out_y[0]) == (xs[0], ys[0]) and (out_x[-1], out_y[-1]) == (xs[-1], ys[-1])
    assert max(out_y) == max(ys) and min(out_y) == min(ys)
