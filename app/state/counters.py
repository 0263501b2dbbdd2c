"""History of the kernel's THP and compaction counters, turned into rates.

/proc/vmstat's thp_* and compact_* lines and the per-size
hugepages-<size>kB/stats files are event counters since boot. The panel
shows what they do *now*: events per second over the last refresh, events
in a sliding window, a sparkline of the window, and compaction stalls
counted over the last 60 s (mm/compaction.c counts compact_stall each time
an allocating task enters direct compaction, i.e. is blocked).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from memtop.collectors.models import Snapshot
from memtop.views.thp import CORE_COUNTERS, CounterLine, ThpView

#: The window of the sparklines, the totals and the stall count, in seconds.
WINDOW = 60.0
#: Sparkline buckets over the window.
BUCKETS = 20
#: Per-size counters shown as rates (transhuge.rst, "Monitoring usage").
SIZE_COUNTERS = ("anon_fault_alloc", "anon_fault_fallback")


def counter_values(snap: Snapshot) -> dict[str, int]:
    """The THP and compaction counters of a snapshot, per-size ones as ``<size>:<name>``."""
    values = {k: v for k, v in snap.vmstat if k.startswith(("thp_", "compact_"))}
    if snap.thp is not None and snap.thp.sizes:
        for size, state in snap.thp.sizes:
            for name, value in state.stats:
                values[f"{size}:{name}"] = value
    return values


@dataclass(frozen=True, slots=True)
class _Sample:
    time: float
    seconds: float  # since the sample before
    deltas: Mapping[str, int]  # only the counters that moved


class CounterHistory:
    """Deltas of every counter over the window; a counter that went down was reset."""

    def __init__(self, window: float = WINDOW) -> None:
        self.window = window
        self._last: dict[str, int] = {}
        self._last_time: float | None = None
        self._samples: deque[_Sample] = deque()

    def add(self, time: float, values: Mapping[str, int]) -> None:
        """One reading; the first only sets the baseline (no rate from one point)."""
        if self._last_time is not None and time <= self._last_time:
            return  # the same snapshot again (a paused or frozen view)
        deltas: dict[str, int] = {}
        for name, value in values.items():
            before = self._last.get(name)
            if before is None:
                continue  # new counter (a size appeared): baseline only
            # A counter below its last value restarted from zero (a size's
            # stats re-created, a replayed capture): count what it holds now.
            delta = value - before if value >= before else value
            if delta:
                deltas[name] = delta
        if self._last_time is not None:
            self._samples.append(_Sample(time, time - self._last_time, deltas))
        self._last = dict(values)
        self._last_time = time
        while self._samples and self._samples[0].time <= time - self.window:
            self._samples.popleft()

    def _events(self, name: str) -> int:
        return sum(s.deltas.get(name, 0) for s in self._samples)

    def line(self, name: str, label: str | None = None) -> CounterLine:
        """Rate over the last interval, events in the window, and the window as buckets."""
        samples = self._samples
        rate = None
        if samples:
            last = samples[-1]
            rate = last.deltas.get(name, 0) / last.seconds if last.seconds > 0 else None
        spark = [0.0] * BUCKETS
        if samples and self._last_time is not None:
            width = self.window / BUCKETS
            for sample in samples:
                moved = sample.deltas.get(name)
                if moved:
                    age = self._last_time - sample.time
                    index = BUCKETS - 1 - min(int(age / width), BUCKETS - 1)
                    spark[index] += moved / width
        return CounterLine(label or name, rate, self._events(name), tuple(spark), name in self._last)

    def moved(self) -> set[str]:
        """Counters with events in the window."""
        return {name for s in self._samples for name in s.deltas}

    @property
    def covered(self) -> float:
        """Seconds of history in the window so far."""
        return sum(s.seconds for s in self._samples)

    def view(self, snap: Snapshot) -> ThpView:
        """What the THP panel shows for this snapshot."""
        moved = self.moved()
        extra = sorted(n for n in moved if ":" not in n and n not in CORE_COUNTERS)
        counters = tuple(self.line(n) for n in (*CORE_COUNTERS, *extra))
        sizes: list[CounterLine] = []
        if snap.thp is not None and snap.thp.sizes:
            for size, state in snap.thp.sizes:
                if not state.stats:
                    continue
                for name in SIZE_COUNTERS:
                    key = f"{size}:{name}"
                    if key in moved:
                        sizes.append(self.line(key, f"{size} {name}"))
        alloc, fallback = self._events("thp_fault_alloc"), self._events("thp_fault_fallback")
        system = snap.system
        return ThpView(
            state=snap.thp,
            anon_huge=system.anon_huge if system else None,
            shmem_huge=system.shmem_huge if system else None,
            file_huge=system.file_huge if system else None,
            counters=counters,
            sizes=tuple(sizes),
            fallback_ratio=fallback / (alloc + fallback) if alloc + fallback else None,
            stalls=self._events("compact_stall"),
            stalling=bool(self._samples and self._samples[-1].deltas.get("compact_stall")),
            window=self.window,
            covered=self.covered,
            has_vmstat=bool(snap.vmstat),
        )

