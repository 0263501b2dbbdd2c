"""The table's derived columns outside the dashboard: ΔRSS/s, GROW/m and GAP from successive snapshots.

``memtop --once --sort ΔRSS/s`` and the repeating text mode (``--once
--interval S``) sort and show what the dashboard shows; these are the same
figures computed from the snapshots the command line reads, with no UI.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from memtop.collectors.models import ProcessMemory, Snapshot
from memtop.rules.gap import slope
from memtop.state.process_history import ProcessHistory
from memtop.views.step_line import first_in_force

#: GROW/m needs this much history (seconds), as the dashboard's trend does.
GROWTH_SPAN = 60.0
#: And looks back this far (the chart's default window).
GROWTH_WINDOW = 300.0
#: At most this many samples per process over the window (issue 13's soak: at
#: ``--json --interval 0.1`` a sample every pass was 3,000 per process, about
#: 130 MiB at 360 processes): samples closer than window / MAX_SAMPLES are
#: merged into the newest, so any interval costs what 1 s costs.
MAX_SAMPLES = 300

Key = tuple[int, int]


def rss_rates(before: Snapshot | None, now: Snapshot) -> dict[Key, float]:
    """Bytes per second of RSS change of each process in both snapshots (same pid and start time)."""
    if before is None or now.time <= before.time:
        return {}
    old = {p.key: p.rss for p in before.processes if p.rss is not None}
    span = now.time - before.time
    return {p.key: (p.rss - old[p.key]) / span for p in now.processes if p.rss is not None and p.key in old}


def heap_gaps(snap: Snapshot) -> dict[Key, float]:
    """RSS minus heap in use, for the processes with a heap source."""
    heaps = {h.pid: h.in_use for h in snap.heaps if h.in_use is not None}
    return {p.key: float(p.rss - heaps[p.pid]) for p in snap.processes if p.rss is not None and p.pid in heaps}


class RssTrend:
    """RSS samples of every process over the last GROWTH_WINDOW seconds; slopes for GROW/m.

    Bounded: at most MAX_SAMPLES + 2 samples for each running process (the newest replaces
    the one before it while they are closer than window / MAX_SAMPLES); exited ones are dropped.
    """

    def __init__(self, window: float = GROWTH_WINDOW) -> None:
        self.window = window
        self.spacing = window / MAX_SAMPLES
        self._samples: dict[Key, deque[tuple[float, int]]] = {}

    def __len__(self) -> int:
        """Samples held, all processes together."""
        return sum(len(s) for s in self._samples.values())

    def add(self, snap: Snapshot) -> None:
        alive = set()
        for proc in snap.processes:
            if proc.rss is None:
                continue
            alive.add(proc.key)
            samples = self._samples.setdefault(proc.key, deque())
            if len(samples) >= 2 and snap.time - samples[-2][0] < self.spacing:
                samples[-1] = (snap.time, proc.rss)  # the newest figure, without one more sample
            else:
                samples.append((snap.time, proc.rss))
            while samples and samples[0][0] < snap.time - self.window:
                samples.popleft()
        for key in set(self._samples) - alive:
            del self._samples[key]

    def slopes(self) -> dict[Key, float]:
        """Least-squares RSS slope in bytes per second, for processes with GROWTH_SPAN of history."""
        out = {}
        for key, samples in self._samples.items():
            if len(samples) >= 2 and samples[-1][0] - samples[0][0] >= GROWTH_SPAN:
                rate = slope([t for t, _ in samples], [float(r) for _, r in samples])
                if rate is not None:
                    out[key] = rate
        return out


def history_slopes(history: ProcessHistory, processes: Iterable[ProcessMemory], now: float, window: float) -> dict[Key, float]:
    """GROW/m on the dashboard: the RSS slope (bytes/s) over the window of each process memtop keeps
    a history of, from GROWTH_SPAN of it on (the samples in the window found by bisection)."""
    out = {}
    start = now - window
    for proc in processes:
        samples = history.samples(proc.key)
        if len(samples) < 2:
            continue
        inside = samples[first_in_force(samples, start, key=lambda s: s.time):]
        points = [(s.time, float(s.rss)) for s in inside if s.rss is not None]
        if len(points) < 2 or points[-1][0] - points[0][0] < GROWTH_SPAN:
            continue
        rate = slope([t for t, _ in points], [r for _, r in points])
        if rate is not None:
            out[proc.key] = rate
    return out
