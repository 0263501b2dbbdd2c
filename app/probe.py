"""Publish a Python program's heap figures for memtop: two lines in the program.

    import memtop.probe
    memtop.probe.start()

A daemon thread samples glibc's mallinfo2 (in use = uordblks + hblkhd, free
inside the heap, mmapped), ``sys.getallocatedblocks()`` (a count of Python's
live blocks, not bytes: pymalloc's small objects live in arenas it mmaps
itself, invisible to mallinfo2, feasibility.md §A1) and tracemalloc's
current/peak when tracemalloc runs, and writes them into
``$MEMTOP_HEAP_DIR/memtop-heap.<pid>`` (default /dev/shm) in the preload
library's format with source = 2 and the probe block of
memtop.collectors.heap_block. memtop reads it like the library's file.

mallinfo2 walks every free chunk under the arena locks (15.6 ms at 1M free
chunks, feasibility.md §A3), so the probe times its own CPU cost and
stretches its period to keep it under 1 % of a CPU, down to one sample a
second. Without mallinfo2 (glibc < 2.33, musl) it publishes the rest and the
file says malloc's view is missing.

Importing this module imports no UI (no textual, rich or plotext): only the
standard library and memtop's small format modules.
"""

from __future__ import annotations

import atexit
import mmap
import os
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from memtop.collectors.heap import OwnHeap
from memtop.collectors.heap_block import BLOCK_NSLOTS, BLOCK_OFFSET, BlockFigures, pack_block
from memtop.collectors.heap_shm import FILE_SIZE, HEADER, MAGIC, NO_HEAP, PREFIX, VERSION, default_directory
from memtop.collectors.safe_open import judge

__all__ = ["BUDGET", "MAX_INTERVAL", "Probe", "next_interval", "smoothed", "start", "stop"]

SOURCE = 2
#: Share of one CPU the probe may use.
BUDGET = 0.01
#: The slowest it goes, whatever a sample costs: one a second.
MAX_INTERVAL = 1.0
SLOT0 = struct.Struct("<qQQI")  # live nalloc nfree tid


def next_interval(base: float, cost: float) -> float:
    """The period after a sample, given the smoothed CPU ``cost`` of one (s) and the period asked for (``base``).

    The asked-for period while a sample costs under BUDGET of it; else
    cost / BUDGET, so the probe keeps to its share of a CPU; never slower
    than MAX_INTERVAL unless the program asked for slower itself.
    """
    return min(max(MAX_INTERVAL, base), max(base, cost / BUDGET))


def smoothed(previous: float, spent: float, samples: int) -> float:
    """The cost per sample after one that took ``spent`` CPU seconds (the ``samples``-th): a moving average."""
    return spent if samples == 1 else 0.7 * previous + 0.3 * spent


def _starttime() -> int:
    stat = Path("/proc/self/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _traced() -> tuple[int, int] | None:
    """tracemalloc's (current, peak) when it runs; _tracemalloc is built in, cheap to import."""
    import _tracemalloc

    return _tracemalloc.get_traced_memory() if _tracemalloc.is_tracing() else None


class Probe:
    """One process's publisher; ``start()`` makes and runs the module's one instance."""

    def __init__(self, interval: float = 0.1, directory: Path | None = None,
                 cpu_clock: Callable[[], float] = time.thread_time) -> None:
        """``cpu_clock``: the CPU time a sample is measured with (this thread's; tests give a fake one)."""
        self.cpu_clock = cpu_clock
        self.base_interval = max(float(interval), 0.01)
        self.interval = self.base_interval
        self.directory = directory if directory is not None else default_directory()
        self.path = self.directory / f"{PREFIX}{os.getpid()}"
        self.heap = OwnHeap(own_namespace=True)
        self.error: str | None = None  # why nothing is published, when it is not
        self.samples = 0
        self.cost = 0.0  # smoothed CPU seconds per sample
        self.peak = 0
        self._pid = os.getpid()
        self._seq = 0
        self._view: mmap.mmap | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- file ---------------------------------------------------------------
    def open(self) -> bool:
        """Create and map the file; False (with ``error``) when it cannot or must not."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError:
            fd = -1
        except OSError as exc:
            self.error = f"cannot open {self.path}: {exc.strerror}"
            return False
        if fd >= 0:
            try:
                # /dev/shm is everyone's: a file another user planted under this name (a FIFO, or a
                # regular file they could truncate under the mapping: SIGBUS here) is not ours to use.
                why = judge(os.fstat(fd), owners={os.geteuid()})
                if why is not None:
                    self.error = f"refused {self.path}: {why}"
                    return False
                head = os.pread(fd, HEADER.size, 0)
                # The preload library already speaks for this very process: leave its file alone.
                if len(head) == HEADER.size:
                    magic, _v, source, pid, _n, start, *_rest = HEADER.unpack(head)
                    if magic == MAGIC and source == 1 and pid == self._pid and start == _starttime():
                        self.error = "the preload library already publishes this process's heap"
                        return False
            finally:
                os.close(fd)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            self.error = f"cannot create {self.path}: {exc.strerror}"
            return False
        why = judge(os.fstat(fd), owners={os.geteuid()})  # planted between the two opens
        if why is not None:
            os.close(fd)
            self.error = f"refused {self.path}: {why}"
            return False
        try:
            os.fchmod(fd, 0o644)  # memtop may run as another user: it must read it
            os.ftruncate(fd, FILE_SIZE)
            view = mmap.mmap(fd, FILE_SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as exc:
            self.error = f"cannot map {self.path}: {exc.strerror}"
            return False
        finally:
            os.close(fd)
        flags = 0 if self.heap.available else NO_HEAP
        HEADER.pack_into(view, 0, MAGIC, VERSION, SOURCE, self._pid, BLOCK_NSLOTS, _starttime(), 0, 1, flags)
        struct.pack_into("<Q", view, 48, 1)  # generation
        self._view = view
        return True

    def close(self) -> None:
        """Unmap and remove the file (only the process that made it: not a forked child)."""
        view, self._view = self._view, None
        if view is not None:
            view.close()
        if os.getpid() == self._pid:
            try:
                os.unlink(self.path)
            except OSError:
                pass

    # -- sampling -----------------------------------------------------------
    def figures(self) -> BlockFigures:
        info = self.heap.info()
        traced = _traced()
        return BlockFigures(
            time=time.time(),
            arena=None if info is None else int(info.arena),
            uordblks=None if info is None else int(info.uordblks),
            hblkhd=None if info is None else int(info.hblkhd),
            fordblks=None if info is None else int(info.fordblks),
            keepcost=None if info is None else int(info.keepcost),
            blocks=sys.getallocatedblocks(),
            traced=None if traced is None else traced[0],
            traced_peak=None if traced is None else traced[1],
            cost=self.cost,
            interval=self.interval,
        )

    def sample(self) -> None:
        """Take and publish one sample, then set the next period from what it cost."""
        view = self._view
        if view is None:
            return
        began = self.cpu_clock()
        fig = self.figures()
        live = (fig.uordblks or 0) + (fig.hblkhd or 0)
        self.peak = max(self.peak, live)
        # Seqlock: odd while writing, so a reader never takes half a block.
        self._seq += 1
        struct.pack_into("<Q", view, BLOCK_OFFSET + 8, self._seq)
        view[BLOCK_OFFSET:BLOCK_OFFSET + 256] = pack_block(fig, self._seq)
        SLOT0.pack_into(view, 64, live, 0, 0, threading.get_native_id())
        struct.pack_into("<Q", view, 32, self.peak)
        self._seq += 1
        struct.pack_into("<Q", view, BLOCK_OFFSET + 8, self._seq)
        spent = self.cpu_clock() - began
        self.samples += 1
        self.cost = smoothed(self.cost, spent, self.samples)
        self.interval = next_interval(self.base_interval, self.cost)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except (OSError, ValueError):  # the mapping went away (stop, fork): end quietly
                return

    def start(self) -> bool:
        if self._thread is not None:
            return True
        if not self.open():
            return False
        self.sample()  # something to read at once
        self._thread = threading.Thread(target=self._run, name="memtop-probe", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
        self.close()


_probe: Probe | None = None
_lock = threading.Lock()


def start(interval: float = 0.1, directory: str | os.PathLike[str] | None = None) -> Probe:
    """Start publishing (idempotent): at most every ``interval`` s, slower when a sample is costly.

    Never raises for memtop's sake: when the file cannot be written the
    returned probe's ``error`` says why and the program runs on.
    """
    global _probe
    with _lock:
        if _probe is not None and _probe._pid == os.getpid() and _probe.error is None:
            return _probe
        probe = Probe(interval, Path(directory) if directory is not None else None)
        probe.start()
        _probe = probe
        atexit.register(probe.stop)
        return probe


def stop() -> None:
    """Stop publishing and remove the file."""
    global _probe
    with _lock:
        if _probe is not None:
            _probe.stop()
            _probe = None


def _forked() -> None:
    # The thread does not survive fork; the child must neither write nor
    # remove the parent's file (close() checks the pid).
    global _probe
    if _probe is not None:
        _probe._stop.set()
        _probe._thread = None
        _probe = None


os.register_at_fork(after_in_child=_forked)
