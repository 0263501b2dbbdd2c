"""memtop serve's collection: the dashboard's model, fed on its own schedule, each pass published as a Frame.

The Monitor (memtop.state.monitor) runs one pass of the dashboard's live
session: stat for every process, smaps_rollup only for a process seen for
the first time, one whose RSS or page faults moved (under a CPU budget), and
every other at least every 60 s. Nobody looks at rows here (the model's focus
is empty), so no process is read every pass for being on screen. The model
derives the diagnoses and gap verdicts as it does for the dashboard; the
cgroup tree is read every pass.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

from memtop.collectors.models import Snapshot
from memtop.collectors.processes import DENIED
from memtop.collectors.snapshot import Collector
from memtop.state.model import Ingested, MemtopModel
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions
from memtop.state.working_sets import WorkingSets

from memtop.export.collector import FrameCollector
from memtop.export.families import Frame


def frame_of(done: Ingested, seconds: float | None, rollups: int | None, passes: int,
             rollups_total: int | None = None) -> Frame:
    """What the exporter serves of one ingested pass: the snapshot and the model's derivations."""
    return Frame(done.snapshot, done.diagnoses, done.heaps, done.verdicts, pass_seconds=seconds, rollups=rollups,
                 passes=passes, rollups_total=rollups_total)


class Passes:
    """One frame per call of ``step``: a pass of the monitor, ingested by the model, timed."""

    def __init__(self, collector: Collector, interval: float, frozen: bool = False) -> None:
        # own_stats off: the exporter's own CPU and memory are process_* of prometheus_client.
        self.monitor = Monitor.build(collector, StartOptions(interval=interval, frozen=frozen), own_stats=False)
        self.monitor.want_cgroups(True)  # served every pass (~0.18 ms per cgroup)
        self.rollups_total = 0

    @property
    def passes(self) -> int:
        return self.monitor.passes

    def step(self) -> Frame:
        started = time.perf_counter()
        done = self.monitor.step()
        seconds = time.perf_counter() - started
        reads = self.monitor.scheduler.reads
        self.rollups_total += reads
        return frame_of(done, seconds, reads, self.monitor.passes, self.rollups_total)


def once(collector: Collector, live: bool = True) -> Frame:
    """One full read (every smaps_rollup, the cgroup tree) through the model: ``memtop --once --openmetrics``.

    As ``memtop --json``: one snapshot has no rates or trends; the working sets
    memtop keeps (w, --wss) count on the live host.
    """
    sets = WorkingSets(collector.paths if live else None, None)
    model = MemtopModel(StartOptions(frozen=not live), working_sets=sets)
    started = time.perf_counter()
    snap = collector.collect(cgroups=True, container=True)
    seconds = time.perf_counter() - started
    return frame_of(model.ingest(snap), seconds, sum(1 for p in snap.processes if p.memory_time is not None), 1)


def denied(snap: Snapshot) -> int:
    """Processes whose smaps_rollup the kernel refused to memtop (another user's, without root)."""
    return sum(1 for p in snap.processes if p.error is not None and DENIED in p.error)


@dataclass
class Loop:
    """A pass every monitor interval, each published, until SIGTERM, SIGINT or SIGHUP."""

    passes: Passes
    collector: FrameCollector
    #: A captured tree (--root): one pass, served until stopped.
    frozen: bool = False
    log: Callable[[str], None] = field(default=lambda line: print(f"memtop serve: {line}", file=sys.stderr, flush=True))
    stop: threading.Event = field(default_factory=threading.Event)

    def publish(self, frame: Frame) -> None:
        self.collector.publish(frame)

    @contextmanager
    def stopping(self) -> Iterator[None]:
        """SIGTERM, SIGINT and SIGHUP set ``stop`` while inside: a pass under way ends, then the loop does."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def run(self, first_at: float | None = None) -> None:
        """Serve until stopped; ``first_at``: when (monitor clock) a pass already published began."""
        monitor = self.passes.monitor
        if first_at is not None:
            if self.stop.wait(None if self.frozen else monitor.pause_after(first_at)):
                return
        while not self.stop.is_set():
            started = monitor.clock()
            try:
                self.publish(self.passes.step())
            except Exception as exc:  # noqa: BLE001 - one failed pass: said, the last frame served, retried
                self.log(f"a collection pass failed ({type(exc).__name__}: {exc}); serving the last one, retrying")
            self.stop.wait(monitor.pause_after(started))

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stop.set()
