"""What the diagnoses need from history, kept by the model one snapshot at a time.

The swap-in rate (pswpin of /proc/vmstat is a page counter since boot), the
last memory cgroup tree read (the live session reads it every few passes,
not only while the cgroup view is open) and the OOM kills each cgroup had
when memtop first saw it, so only new ones are reported. The rest comes from
the model's other histories (THP counters, gap verdicts, process samples).
"""

from __future__ import annotations

from collections import deque
from operator import attrgetter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from memtop.collectors.models import CgroupMemory, ProcessMemory, Snapshot

from memtop.rules.diagnosis_model import GROWTH_FLOOR, GROWTH_SCATTER, GROWTH_SHARE, GROWTH_SPAN, SWAP_WINDOW, Growth
from memtop.rules.gap import scatter, slope
from memtop.views.step_line import even_grid, first_in_force, read_at, window_times

if TYPE_CHECKING:  # the JSON report uses the watch and never imports textual
    from memtop.state.process_history import ProcessHistory


_time = attrgetter("time")


class DiagnosisWatch:
    """Swap-in over the last SWAP_WINDOW seconds, the last cgroup tree, new OOM kills."""

    def __init__(self) -> None:
        self._swap: deque[tuple[float, int]] = deque()
        self.cgroups: tuple[CgroupMemory, ...] | None = None
        self._baseline: dict[str, int] | None = None
        self.oom_kills: dict[str, int] = {}
        #: /proc/vmstat oom_kill since the first snapshot: every kill, read every pass (the cgroups are not).
        self.system_oom_kills = 0
        self._vm_kills: int | None = None

    def add(self, snap: Snapshot) -> None:
        vmstat = dict(snap.vmstat)
        pswpin = vmstat.get("pswpin")
        kills_now = vmstat.get("oom_kill")
        if kills_now is not None:
            if self._vm_kills is None or kills_now < self._vm_kills:
                self._vm_kills = kills_now - self.system_oom_kills  # the first reading is the baseline
            self.system_oom_kills = kills_now - self._vm_kills
        if pswpin is not None and (not self._swap or snap.time > self._swap[-1][0]):
            self._swap.append((snap.time, pswpin * snap.page_size))
            while len(self._swap) > 2 and self._swap[1][0] <= snap.time - SWAP_WINDOW:
                self._swap.popleft()
        if snap.cgroups is not None:
            self.cgroups = snap.cgroups
            kills = {c.path: c.event("oom_kill") or 0 for c in snap.cgroups}
            if self._baseline is None:
                self._baseline = kills  # kills before memtop started are not news
            else:
                for path, count in kills.items():
                    before = self._baseline.setdefault(path, 0)  # a cgroup new since then: all its kills are
                    if count < before:
                        self._baseline[path] = count  # a cgroup re-created under the same name
                self.oom_kills = {p: n - self._baseline[p] for p, n in kills.items() if n > self._baseline[p]}

    @property
    def swap_in(self) -> float | None:
        """Bytes per second read back from swap, over up to the last SWAP_WINDOW seconds."""
        if len(self._swap) < 2:
            return None
        (t0, v0), (t1, v1) = self._swap[0], self._swap[-1]
        if t1 <= t0 or v1 < v0:
            return None
        return (v1 - v0) / (t1 - t0)


def growth(history: ProcessHistory, processes: Iterable[ProcessMemory], now: float, window: float) -> tuple[Growth, ...]:
    """The processes with a history whose RSS grows steadily over the window.

    Only the samples in the window (and the one in force at its start) are
    looked at, found by bisection; a process whose RSS rose less than the
    slope floor allows over GROWTH_SPAN is skipped before any fit
    (bench/diagnoses.py: 256 histories of 2,048 samples).
    """
    found = []
    start = now - window
    for proc in processes:
        samples = history.samples(proc.key)
        if len(samples) < 3 or proc.rss is None:
            continue
        inside = samples[first_in_force(samples, start, key=_time):]
        first, last = inside[0].rss, inside[-1].rss
        if first is None or last is None or last - first < GROWTH_FLOOR * GROWTH_SPAN:
            continue
        steady = steady_growth([s.time for s in inside], [s.rss for s in inside], now, window)
        if steady is not None:
            found.append(Growth(proc.pid, proc.name, proc.rss, steady[0], steady[1]))
    found.sort(key=lambda g: -g.slope)
    return tuple(found)


def steady_growth(times: Sequence[float], rss: Sequence[int | None], now: float, window: float) -> tuple[float, float] | None:
    """(slope in bytes/s, span) when RSS grows steadily over ``[now - window, now]``, else None.

    Step samples (each holds until the next), read at evenly spaced moments
    (views/step_line.py), so a still process's one sample weighs its time.
    """
    points = [(t, r) for t, r in zip(times, rss) if r is not None]
    if not points:
        return None
    first, starts = window_times([t for t, _r in points], now, window)
    span = starts[-1] - starts[0]
    if span < GROWTH_SPAN:
        return None
    n = 60
    grid = even_grid(starts[0], span, n)
    values = [float(r) for r in read_at(starts, [r for _t, r in points[first:]], grid) if r is not None]
    rate = slope(grid, values)
    if rate is None:
        return None
    mean = sum(values) / n
    if rate >= max(GROWTH_FLOOR, GROWTH_SHARE * mean) and rate * span > GROWTH_SCATTER * scatter(grid, values, rate):
        return rate, span
    return None
