"""The heap-vs-RSS chart's samples, and the points the chart draws of them (no textual)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memtop.views.step_line import bucket_ends, read_at


@dataclass(frozen=True, slots=True)
class HeapSeries:
    """Samples of one process, each value holding from its time until the next sample."""

    label: str
    times: tuple[float, ...]
    rss: tuple[int | None, ...]
    anon: tuple[int | None, ...]
    heap: tuple[int | None, ...]
    heap_note: str  # where the heap figure comes from, or why there is none
    now: float
    window: float
    exited: bool = False
    verdict: str = ""  # the gap's slope and trend, and a flag (app/rules/gap.py)
    alarm: bool = False  # the verdict flags a structural leak or retained memory
    #: One-off heap samples (gdb, key H): (time, heap in use), drawn as marked points, never joined.
    points: tuple[tuple[float, int], ...] = ()


def resample(times: Sequence[float], values: Sequence[int | None], now: float, window: float, n: int) -> list[float]:
    """The value in force at the end of each of ``n`` equal buckets over the window (0 before any)."""
    return [float(v) if v is not None else 0.0 for v in read_at(times, values, bucket_ends(now, window, n))]


def column_extremes(times: Sequence[float], values: Sequence[int | None], now: float, window: float, n: int,
                    quantum: float) -> tuple[tuple[int, int, int], ...]:
    """Per each of ``n`` equal buckets over the window: the lowest, highest and last value in force
    during it, in steps of ``quantum`` (-1: no value).

    What a step line draws in a column at that resolution: its dots run from the lowest to the
    highest value, and the next column starts from the last. A sample that moves inside a bucket
    changes this even when the value at the bucket's end (``resample``) does not (issue 17: the
    chart is rebuilt only when this changes).
    """
    start = now - window
    out: list[tuple[int, int, int]] = []
    i, count = 0, len(times)
    current = -1  # the value in force
    while i < count and times[i] <= start:
        value = values[i]
        current = -1 if value is None else int(value / quantum)
        i += 1
    for bucket in range(n):
        end = start + window * (bucket + 1) / n
        low = high = current
        while i < count and times[i] <= end:
            value = values[i]
            current = -1 if value is None else int(value / quantum)
            low, high = min(low, current), max(high, current)
            i += 1
        out.append((low, high, current))
    return tuple(out)


def steps(times: Sequence[float], values: Sequence[int | None], now: float, window: float) -> tuple[list[float], list[float]]:
    """Points of a step line over the window, x in seconds before now (negative)."""
    start = now - window
    xs: list[float] = []
    ys: list[float] = []
    current: int | None = None
    for time, value in zip(times, values):
        if time <= start:
            current = value  # in force when the window begins
            continue
        if current is not None:
            if not xs:
                xs.append(-window)
                ys.append(float(current))
            xs.append(time - now)  # the old value holds up to this sample
            ys.append(float(current))
        if value is not None:
            xs.append(time - now)
            ys.append(float(value))
        current = value
    if current is not None:
        if not xs:
            xs.append(-window)
            ys.append(float(current))
        xs.append(0.0)
        ys.append(float(current))
    return xs, ys


def thin(xs: list[float], ys: list[float], window: float, buckets: int) -> tuple[list[float], list[float]]:
    """At most four points per column: the first, lowest, highest and last, in time order.

    plotext's cost grows with the points drawn; more than a column can show
    changes nothing on screen, and keeping each column's extremes keeps its spikes.
    """
    if len(xs) <= 4 * buckets:
        return xs, ys
    out_x: list[float] = []
    out_y: list[float] = []
    start = 0
    while start < len(xs):
        column = min(int((xs[start] + window) / window * buckets), buckets - 1)
        end = start
        while end + 1 < len(xs) and min(int((xs[end + 1] + window) / window * buckets), buckets - 1) == column:
            end += 1
        picks = sorted({start, end, min(range(start, end + 1), key=ys.__getitem__), max(range(start, end + 1), key=ys.__getitem__)})
        out_x.extend(xs[i] for i in picks)
        out_y.extend(ys[i] for i in picks)
        start = end + 1
    return out_x, out_y
