"""Where a process's heap-in-use figure comes from, if anywhere.

memtop itself: glibc mallinfo2 (collectors/heap.py). Any other process:
the counter files the collector reads into ``Snapshot.heaps``: the
preloaded library's (`memtop run`, or LD_PRELOAD by hand) and
``memtop.probe``'s, both continuous; and the one-off samples of the gdb
attach (key H), which are points in time, never a line. Others say
"not instrumented" and how to change that.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from memtop.collectors.models import HeapCounters, HeapDetail, Snapshot
from memtop.collectors.paths import HostPaths
from memtop.views.format import age, human

if TYPE_CHECKING:
    # `memtop --json` never reads its own heap (ctypes stays unloaded there) nor
    # attaches gdb (subprocess and the attach checks are imported by the sampler).
    from memtop.collectors.attach_target import Attacher
    from memtop.collectors.heap import OwnHeap
    from memtop.instrument.attach import AttachResult

NOT_INSTRUMENTED = "heap: not instrumented (memtop run -- CMD)"
PRELOAD = "heap: preload counters"
GDB = "gdb"

Key = tuple[int, int]
#: gdb samples kept per process (each is a key press).
MAX_POINTS = 64


def probe_note(detail: HeapDetail | None) -> str:
    """The probe's figures beyond the heap: Python's view, tracemalloc, free in heap, the rate."""
    if detail is None:
        return "heap: memtop.probe"
    parts = ["heap: probe (mallinfo2)" if detail.in_use is not None else "heap: probe"]
    if detail.python_blocks is not None:
        parts.append(f"Python {detail.python_blocks:,} blocks (a count)")
    if detail.traced is not None:
        parts.append(f"tracemalloc {human(detail.traced)}, peak {human(detail.traced_peak)}")
    if detail.free_in_heap is not None:
        parts.append(f"free in heap {human(detail.free_in_heap)}")
    if detail.mmapped is not None:
        parts.append(f"mmapped {human(detail.mmapped)}")
    if detail.interval is not None:
        parts.append(f"every {detail.interval:.1f} s")
    parts.extend(detail.missing)
    return " · ".join(parts)


class HeapSampler(Protocol):
    """Takes one-off heap samples (key H); tests give a stand-in.

    A process is named by its pid and the start time the table showed: a pid
    passed to another process since is refused, never sampled (issue 13).
    """

    def __call__(self, pid: int, starttime: int) -> AttachResult:
        """One sample of the process (pid, starttime) (blocking: run it off the event loop)."""
        ...

    def refusal(self, pid: int, starttime: int) -> str | None:
        """Why it would not be sampled, found before asking the user anything; None: go ahead."""
        ...


class GdbSampler:
    """The real sampler: gdb attached once (instrument/attach.py), after the checks that need no gdb."""

    def __init__(self, paths: HostPaths = HostPaths(), gdb: str | None = None, me: Attacher | None = None) -> None:
        """``paths``: the live host's; ``gdb``: its path (default: found on PATH); ``me``: who attaches (default: memtop)."""
        self.paths = paths
        self.gdb = gdb
        self.me = me

    def __call__(self, pid: int, starttime: int) -> AttachResult:
        from memtop.instrument.attach import sample_heap

        return sample_heap(pid, self.paths, self.gdb, me=self.me, starttime=starttime)

    def refusal(self, pid: int, starttime: int) -> str | None:
        from memtop.instrument.attach import refusal as attach_refusal
        from memtop.instrument.identity import changed

        moved = changed(self.paths, pid, starttime)
        if moved is not None:
            return f"not sampled: {moved}"
        return attach_refusal(pid, self.paths, self.gdb, self.me)


class HeapSources:
    """Heap in use by pid, read by the model once per snapshot; gdb samples by process."""

    def __init__(self, own: OwnHeap | None = None, own_pid: int | None = None, sampler: HeapSampler | None = None) -> None:
        """``sampler``: takes the gdb samples (default: GdbSampler)."""
        self.own = own
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.published: dict[int, HeapCounters] = {}
        #: Why a process has no heap figure although it was meant to (memtop run of a static binary, ...).
        self.reasons: dict[int, str] = {}
        #: gdb samples (time, heap in use) by process, oldest first.
        self.points: dict[Key, list[tuple[float, int]]] = {}
        #: The last attach's outcome by pid, when it gave no figures (a refusal, a failure).
        self.attach_notes: dict[int, str] = {}
        #: Pids a gdb sample is being taken of (one at a time each).
        self.attaching: set[int] = set()
        #: Takes one gdb sample of a pid (blocking).
        self.sampler: HeapSampler = sampler if sampler is not None else GdbSampler()

    def refusal(self, pid: int, starttime: int) -> str | None:
        """Why H cannot sample the process (pid, starttime) (asked before the question)."""
        return self.sampler.refusal(pid, starttime)

    def record_attach(self, key: Key, result: AttachResult) -> None:
        """The outcome of one H: a point for the chart, or the reason there is none."""
        self.attaching.discard(key[0])
        in_use = result.in_use
        if result.figures is not None and in_use is not None:
            self.add_point(key, result.figures.time, in_use)
            self.attach_notes.pop(key[0], None)
        else:
            self.attach_notes[key[0]] = result.message

    def update(self, snap: Snapshot) -> None:
        """The counters the collector found in this snapshot (gdb samples join the points)."""
        self.published = {h.pid: h for h in snap.heaps}
        for h in snap.heaps:
            if h.source == GDB and h.detail is not None and h.in_use is not None:
                self.add_point((h.pid, h.starttime), h.detail.time, h.in_use)
        alive = {p.key for p in snap.processes}
        if snap.processes:
            for key in [k for k in self.points if k not in alive]:
                del self.points[key]

    def add_point(self, key: Key, time: float, in_use: int) -> None:
        """One gdb sample (from H now, or a file an earlier H left)."""
        points = self.points.setdefault(key, [])
        if any(abs(t - time) < 1e-3 for t, _v in points):
            return
        points.append((time, in_use))
        points.sort()
        del points[:-MAX_POINTS]

    def read(self) -> dict[int, int]:
        """Heap in use of every continuously instrumented process, by pid (gdb samples are not a line)."""
        out = {pid: h.in_use for pid, h in self.published.items() if h.in_use is not None and h.source != GDB}
        if self.own is not None:
            reading = self.own.read()
            if reading is not None:
                out[self.own_pid] = reading.in_use
        return out

    def describe(self, pid: int, now: float | None = None, key: Key | None = None) -> str:
        """The chart's note for one process: the source, or why there is none."""
        counters = self.published.get(pid)
        if counters is not None and counters.refused is not None:
            return counters.refused  # a figure that cannot be true is said, not drawn
        if counters is not None and counters.source == "probe":
            return probe_note(counters.detail)
        if counters is not None and counters.source != GDB:
            return PRELOAD
        if pid in self.reasons:
            return self.reasons[pid]
        if pid == self.own_pid and self.own is not None:
            # malloc only: CPython's small-object arenas are mmapped directly,
            # so they sit in memtop's RSS-heap gap.
            return self.own.reason or f"heap: {self.own.SOURCE}"
        points = self.points.get(key) if key is not None else None
        if points:
            when, value = points[-1]
            ago = f", {age(now - when)} ago" if now is not None else ""
            note = f"heap: gdb sample {human(value)}{ago} (H samples again)"
            return f"{note} · {self.attach_notes[pid]}" if pid in self.attach_notes else note
        if pid in self.attach_notes:
            return f"heap: {self.attach_notes[pid]}"
        return NOT_INSTRUMENTED
