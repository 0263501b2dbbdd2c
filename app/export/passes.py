"""memtop serve's collection: cost-aware passes on their own schedule, each published as a Frame.

Each pass is one pass of the dashboard's live session (memtop.state.session):
stat for every process, smaps_rollup only for a process seen for the first
time, one whose RSS or page faults moved (under a CPU budget), and every
other at least every 60 s. Nobody looks at rows here, so no process is
read every pass for being on screen. The cgroup tree is read every pass.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

from memtop.collectors.models import Snapshot
from memtop.collectors.processes import DENIED
from memtop.collectors.snapshot import Collector
from memtop.rules.diagnoses import Signals, diagnose
from memtop.state.session import LiveSession, Scheduler

from memtop.export.collector import FrameCollector
from memtop.export.families import Frame


class Passes:
    """One frame per call of ``step``: a pass of the live session, timed."""

    def __init__(self, collector: Collector, interval: float) -> None:
        self.scheduler = Scheduler(interval=interval)
        self.session = LiveSession(collector, self.scheduler)
        self.session.cgroups = True  # the exporter serves them every pass (~0.18 ms per cgroup)
        self.passes = 0

    def step(self) -> Frame:
        started = time.perf_counter()
        snap, _rates = self.session.collect()
        self.passes += 1
        return Frame(snap, pass_seconds=time.perf_counter() - started, rollups=self.scheduler.reads,
                     passes=self.passes)


def once(collector: Collector) -> Frame:
    """One full read (every smaps_rollup, the cgroup tree) and what one snapshot says: ``memtop --once --openmetrics``."""
    started = time.perf_counter()
    snap = collector.collect(cgroups=True, container=True)
    seconds = time.perf_counter() - started
    # One snapshot: no history, so no rates, trends or gap verdicts (as --json).
    return Frame(snap, diagnose(snap, Signals()), pass_seconds=seconds,
                 rollups=sum(1 for p in snap.processes if p.memory_time is not None))


def denied(snap: Snapshot) -> int:
    """Processes whose smaps_rollup the kernel refused to memtop (another user's, without root)."""
    return sum(1 for p in snap.processes if p.error is not None and DENIED in p.error)


@dataclass
class Loop:
    """Passes every ``interval`` seconds, each published, until SIGTERM, SIGINT or SIGHUP."""

    passes: Passes
    collector: FrameCollector
    interval: float
    #: A captured tree (--root): one pass, served until stopped.
    frozen: bool = False
    log: Callable[[str], None] = field(default=lambda line: print(f"memtop serve: {line}", file=sys.stderr, flush=True))
    stop: threading.Event = field(default_factory=threading.Event)

    def publish(self, frame: Frame) -> None:
        self.collector.publish(frame)

    def run(self, first: Frame | None = None) -> None:
        """Serve until stopped; ``first`` is a pass already made (the start-up check's)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        try:
            if first is not None:
                self.publish(first)
                if self.stop.wait(None if self.frozen else self.interval):
                    return
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    self.publish(self.passes.step())
                except Exception as exc:  # noqa: BLE001 - one failed pass: said, the last frame served, retried
                    self.log(f"a collection pass failed ({type(exc).__name__}: {exc}); serving the last one, retrying")
                self.stop.wait(max(self.interval - (time.monotonic() - started), self.interval / 4))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        self.stop.set()
