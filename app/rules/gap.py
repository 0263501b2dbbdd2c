"""The gap between the kernel's view (RSS) and the allocator's (heap in use), and its trend.

gap = VmRSS - heap in use, where heap in use is the sum of malloc_usable_size
over the blocks the program holds. What else is resident fills the gap: code
and libraries, stacks, memory the program maps itself (a runtime's own heap,
CPython's small-object arenas), allocator metadata, and pages the allocator
keeps after free() because the chunks around them are still in use or it
caches them for reuse.

The rule is the guide's "Decision Rule: Stable vs Growing Gap"
(../shared/guide/memory-metrics.txt): a stable gap is allocator overhead; a
gap that grows while the heap does not is freed memory that is never
returned, a structural leak. memtop's thresholds, over the samples in the
chart's window (least-squares slopes):

- a trend needs at least 20 s of history in the window (samples are kept
  when a figure changes, so a still process has one: its line is flat);
- the gap is *growing* (or *shrinking*) when its slope is at least
  max(0.5 MiB/min, 0.05 % of the mean RSS per minute) up (or down), else
  *stable* (the guide's growing example, 300 MB to 800 MB in five hours of a
  2.1 GB process, is 1.7 MiB/min against a threshold of 1.1 there), and
  only when the fitted line moves the gap over the window by more than
  twice the scatter of the gap around it (bursts of malloc and free make
  the gap jump; noise is not a trend);
- "structural leak suspected": the gap grows, RSS itself grows (by at least
  half the threshold) and the heap grows less than a quarter as fast as the
  gap (or not at all): the guide's "heap usage is stable but RSS grows" (its
  example: heap +20 MB/h against a gap of +100 MB/h).
  A gap that grows because the program freed memory (heap down, RSS flat)
  is not a leak: it is the retained case below;
- "freed memory retained": now, the gap is at least 64 MiB and larger than
  the heap itself (RSS over twice the heap): the allocator (or a runtime
  outside malloc) holds more than the program does. malloc_trim(0) clears
  it for glibc when it is freed-but-kept memory (feasibility.md §A4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memtop.views.step_line import even_grid, read_at, window_times

MIB = 1 << 20
MIN_SPAN = 20.0
SLOPE_FLOOR = 0.5 * MIB / 60  # bytes per second
SLOPE_SHARE = 0.0005 / 60  # of the mean RSS, per second
RETAINED_FLOOR = 64 * MIB
GRID = 60  # moments the step line is read at for the slopes

LEAK = "structural leak suspected"
RETAINED = "freed memory retained"


@dataclass(frozen=True, slots=True)
class GapVerdict:
    """The gap now, its trend over the window, and what memtop makes of it."""

    gap: int | None
    trend: str | None  # "growing", "shrinking", "stable"; None without enough history
    gap_slope: float | None  # bytes per second
    heap_slope: float | None
    flag: str | None  # LEAK, RETAINED or None

    def describe(self) -> str:
        """One line for the chart: slope in MiB/min, trend, flag."""
        if self.gap is None:
            return ""
        parts = []
        if self.gap_slope is not None and self.trend is not None:
            parts.append(f"gap {self.gap_slope * 60 / MIB:+.1f} MiB/min ({self.trend})")
        else:
            parts.append("gap trend: needs 20 s of samples")
        if self.flag:
            parts.append(f"‼ {self.flag}")
        return "  ".join(parts)


def slope(times: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of values over times (per second), None when it is undefined."""
    n = len(times)
    if n < 2:
        return None
    mean_t = sum(times) / n
    mean_v = sum(values) / n
    var = sum((t - mean_t) ** 2 for t in times)
    if var <= 0:
        return None
    return sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values)) / var


def scatter(times: Sequence[float], values: Sequence[float], rate: float) -> float:
    """Root-mean-square distance of values from their least-squares line of slope ``rate``."""
    mean_t, mean_v = sum(times) / len(times), sum(values) / len(values)
    return (sum((v - mean_v - rate * (t - mean_t)) ** 2 for t, v in zip(times, values)) / len(values)) ** 0.5


def analyse(times: Sequence[float], rss: Sequence[int | None], heap: Sequence[int | None], now: float, window: float) -> GapVerdict:
    """The verdict for step samples (each value holds until the next) over ``[now - window, now]``."""
    points = [(t, r, h) for t, r, h in zip(times, rss, heap) if r is not None and h is not None]
    if not points:
        return GapVerdict(None, None, None, None, None)
    _t, rss_now, heap_now = points[-1]
    gap_now = rss_now - heap_now
    # Step samples: the one in force at the window's start counts from there,
    # and the last one holds until now (a flat line is a still process).
    first, starts = window_times([t for t, _r, _h in points], now, window)
    inside = points[first:]
    span = starts[-1] - starts[0]
    trend = gap_slope = heap_slope = None
    if span >= MIN_SPAN:
        # Samples are stored when a figure changes: weigh time, not samples,
        # by reading the step line at evenly spaced moments.
        grid = even_grid(starts[0], span, GRID)
        at = [p for p in read_at(starts, inside, grid) if p is not None]  # none is: the grid starts at a step
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
            moved = abs(gap_slope) * span > 2 * scatter(grid, gaps, gap_slope)
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

