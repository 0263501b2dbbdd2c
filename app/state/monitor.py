"""The headless driver: one cost-aware pass over the host, fed to the model.

``Monitor.read`` runs one pass of the live session (state/session.py decides
whose smaps_rollup to read and what to keep) for what the model's focus says
a person looks at, and returns a ``Reading``; ``Monitor.step`` ingests it
too. The dashboard runs ``read`` in a worker thread and ingests on its event
loop; a consumer without a UI (the recorder, the exporter) calls ``step``, or
iterates ``run``, on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import psutil

from memtop.collectors.heap import OwnHeap
from memtop.collectors.models import Snapshot
from memtop.collectors.snapshot import Collector

from memtop.instrument.run import RunChild
from memtop.state.heap_sources import HeapSources
from memtop.state.model import Ingested, MemtopModel, Reading
from memtop.state.options import StartOptions
from memtop.state.session import LiveSession, Scheduler
from memtop.state.working_sets import WorkingSets


class Session(Protocol):
    """One pass of collection (LiveSession; tests script one)."""

    cgroups: bool

    def collect(self) -> tuple[Snapshot, dict[tuple[object, ...], float]]: ...


class Monitor:
    """Collects pass after pass with a Scheduler and feeds the model."""

    def __init__(self, model: MemtopModel, session: Session, scheduler: Scheduler, *, frozen: bool = False,
                 own_stats: bool = True, collector: Collector | None = None) -> None:
        """``frozen``: a captured tree, read once; ``own_stats``: measure memtop's own CPU and RSS."""
        self.model = model
        self.session = session
        self.scheduler = scheduler
        self.frozen = frozen
        #: The host the passes read (the process screen reads mappings from it too).
        self.collector = collector
        self.passes = 0
        self._me = psutil.Process() if own_stats else None
        # A cancelled worker cannot stop its thread mid-read: this lock makes a
        # replacement loop wait for it, so two passes never run at once.
        self._lock = threading.Lock()

    @classmethod
    def build(cls, collector: Collector, options: StartOptions = StartOptions(), *, heap: HeapSources | None = None,
              run: RunChild | None = None, own_stats: bool = True, clock: Callable[[], float] = time.monotonic,
              stat_every: int = 1) -> Monitor:
        """A model and its monitor for a host.

        Live (not ``options.frozen``): memtop's own glibc heap is a heap
        source and working sets can be measured; ``run``: the program
        `memtop run` started is watched. ``heap`` replaces the heap sources.
        ``stat_every``: read a process not on screen every n-th pass (session.py).
        """
        live = not options.frozen
        heap = heap if heap is not None else HeapSources(OwnHeap() if live else None)
        sets = WorkingSets(collector.paths if live else None, collector.cgroups if live else None)
        model = MemtopModel(options, heap=heap, working_sets=sets, own_pid=heap.own_pid)
        if run is not None:
            model.watch_run(run, collector)
        scheduler = Scheduler(interval=options.interval, clock=clock, stat_every=stat_every)
        session = LiveSession(collector, scheduler)
        if options.frozen:
            session.cgroups = True  # a captured tree gets one pass: it must hold the cgroups too
        return cls(model, session, scheduler, frozen=options.frozen, own_stats=own_stats, collector=collector)

    @property
    def interval(self) -> float:
        """Seconds between passes."""
        return self.scheduler.interval

    @interval.setter
    def interval(self, seconds: float) -> None:
        self.scheduler.interval = seconds

    @property
    def clock(self) -> Callable[[], float]:
        return self.scheduler.clock

    def key_pressed(self) -> None:
        """A person pressed a key: the pass under way gives way to the event loop for a moment (give_way.py)."""
        self.scheduler.give_way.hold()

    def want_cgroups(self, on: bool) -> None:
        """Read the whole memory cgroup tree every pass (a view of it is open), or every few."""
        self.session.cgroups = on

    def read(self) -> Reading:
        """One pass (blocking: run it off an event loop). Never two at once."""
        with self._lock:
            focus = self.model.focus
            self.scheduler.visible = focus.visible
            self.scheduler.selected = focus.pid
            if self._me is not None and self.passes == 0:
                self._me.cpu_percent()  # start its CPU clock
            snap, rates = self.session.collect()
            self.passes += 1
            cpu = rss = None
            if self._me is not None:
                # The first pass reads everything: its CPU is not a steady cost.
                cpu = self._me.cpu_percent() if self.passes > 1 else None
                rss = self._me.memory_info().rss
            return Reading(snap, rates, cpu, rss)

    def step(self) -> Ingested:
        """One pass, ingested by the model."""
        return self.model.ingest(self.read())

    def pause_after(self, started: float) -> float:
        """Seconds to wait after a pass begun at ``started``: the rest of the interval, at least a quarter of it."""
        interval = self.interval
        return max(interval - (self.clock() - started), interval / 4)

    def run(self, count: int | None = None, stop: threading.Event | None = None) -> Iterator[Ingested]:
        """Pass after pass, each ingested, until ``count`` passes or ``stop`` is set (a frozen tree: one).

        A pass that raises ends the iteration with its exception.
        """
        done = 0
        while True:
            started = self.clock()
            yield self.step()
            done += 1
            if self.frozen or (count is not None and done >= count):
                return
            pause = self.pause_after(started)
            if stop is not None:
                if stop.wait(pause):
                    return
            else:
                time.sleep(pause)
