"""A history kept as a step line, read over a window: the one implementation the chart and the rules share.

memtop stores a sample only when a figure changes (state/process_history.py),
so each value holds from its time until the next sample, and a still process
has one sample however long it is watched. Reading such a history over the
window ``[now - window, now]`` takes the sample in force at the window's start
(the last one at or before it) and those after it, and the last one holds
until ``now``. Reading it at evenly spaced moments weighs time, not samples:
a value that held for a minute counts a minute. The chart's sparklines, the
heap gap's slopes (rules/gap.py), steady RSS growth (state/diagnosis_watch.py)
and the chart's samples (state/process_history.py) all read it this way.

Times are in order (oldest first), as every history memtop keeps is.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

V = TypeVar("V")


def first_in_force(samples: Sequence[Any], start: float, key: Callable[[Any], float] | None = None) -> int:
    """Index of the first sample that matters from ``start`` on: the last one at or before it, else the first.

    ``key``: the time of a sample (None: the samples are times).
    """
    return max(bisect_right(samples, start, key=key) - 1, 0)


def window_times(times: Sequence[float], now: float, window: float) -> tuple[int, list[float]]:
    """The step line over ``[now - window, now]``: (index of its first sample, the step times).

    The step times are the samples' times from that index on, the first moved
    up to the window's start if it came before, then ``now``, where the last
    value ends: one more time than samples (the last sample holds until now).
    """
    start = now - window
    first = first_in_force(times, start)
    steps = [t if t > start else start for t in times[first:]]
    steps.append(now)
    return first, steps


def read_at(times: Sequence[float], values: Sequence[V], moments: Sequence[float]) -> list[V | None]:
    """The value in force at each of ``moments`` (ascending): the last sample at or before it, None before any.

    ``times`` may be one longer than ``values`` (window_times' end): the last
    value then holds up to and at that time.
    """
    out: list[V | None] = []
    index = -1
    last = len(values) - 1
    for moment in moments:
        while index < last and times[index + 1] <= moment:
            index += 1
        out.append(values[index] if index >= 0 else None)
    return out


def even_grid(start: float, span: float, n: int) -> list[float]:
    """``n`` moments evenly spaced from ``start`` to ``start + span`` (both included; n >= 2)."""
    return [start + span * i / (n - 1) for i in range(n)]


def bucket_ends(now: float, window: float, n: int) -> list[float]:
    """The ends of ``n`` equal buckets over ``[now - window, now]`` (the last is ``now``)."""
    return [now - window + window * (bucket + 1) / n for bucket in range(n)]
