"""Where a process's heap-in-use figure comes from, if anywhere.

memtop itself: glibc mallinfo2 (collectors/heap.py). Any other process:
the counter files of the preloaded library (`memtop run`, or LD_PRELOAD by
hand), which the collector reads into ``Snapshot.heaps``. Others say
"not instrumented" and how to change that.
"""

from __future__ import annotations

import os

from memtop.collectors.heap import OwnHeap
from memtop.collectors.models import HeapCounters, Snapshot

NOT_INSTRUMENTED = "heap: not instrumented (memtop run -- CMD)"
PRELOAD = "heap: preload counters"


class HeapSources:
    """Heap in use by pid, read by the app once per refresh."""

    def __init__(self, own: OwnHeap | None = None, own_pid: int | None = None) -> None:
        self.own = own
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.published: dict[int, HeapCounters] = {}
        #: Why a process has no heap figure although it was meant to (memtop run of a static binary, ...).
        self.reasons: dict[int, str] = {}

    def update(self, snap: Snapshot) -> None:
        """The counters the collector found in this snapshot."""
        self.published = {h.pid: h for h in snap.heaps}

    def read(self) -> dict[int, int]:
        """Heap in use of every instrumented process, by pid."""
        out = {pid: h.in_use for pid, h in self.published.items()}
        if self.own is not None:
            reading = self.own.read()
            if reading is not None:
                out[self.own_pid] = reading.in_use
        return out

    def describe(self, pid: int) -> str:
        """The chart's note for one process: the source, or why there is none."""
        if pid in self.published:
            return PRELOAD
        if pid in self.reasons:
            return self.reasons[pid]
        if pid == self.own_pid and self.own is not None:
            # malloc only: CPython's small-object arenas are mmapped directly,
            # so they sit in memtop's RSS-heap gap.
            return self.own.reason or f"heap: {self.own.SOURCE}"
        return NOT_INSTRUMENTED
