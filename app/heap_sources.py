"""Where a process's heap-in-use figure comes from, if anywhere.

For now only memtop itself (glibc mallinfo2, collectors/heap.py); other
processes need the preloaded counter library of `memtop run` (a later
issue), and the chart says "not instrumented" for them meanwhile.
"""

from __future__ import annotations

import os

from memtop.collectors.heap import OwnHeap

NOT_INSTRUMENTED = "heap: not instrumented"


class HeapSources:
    """Heap in use by pid, read by the app once per refresh."""

    def __init__(self, own: OwnHeap | None = None, own_pid: int | None = None) -> None:
        self.own = own
        self.own_pid = os.getpid() if own_pid is None else own_pid

    def read(self) -> dict[int, int]:
        """Heap in use of every instrumented process, by pid."""
        if self.own is None:
            return {}
        reading = self.own.read()
        return {} if reading is None else {self.own_pid: reading.in_use}

    def describe(self, pid: int) -> str:
        """The chart's note for one process: the source, or why there is none."""
        if pid == self.own_pid and self.own is not None:
            # malloc only: CPython's small-object arenas are mmapped directly,
            # so they sit in memtop's RSS-heap gap.
            return self.own.reason or f"heap: {self.own.SOURCE}"
        return NOT_INSTRUMENTED
