"""The Textual app: schedules collection, owns history, hands snapshots to the screen.

One asyncio task collects: the blocking /proc reads run in a thread
(``asyncio.to_thread``), the result is posted as a replaceable message, and
the loop sleeps only after a pass has finished, so passes never overlap and
the event loop never waits on /proc. A pass that raises is shown and retried.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import psutil
from textual import work
from textual.app import App

from memtop.collectors.heap import OwnHeap
from memtop.collectors.models import ProcessMemory, Snapshot, WorkingSet
from memtop.collectors.snapshot import Collector
from memtop.views.heap_series import HeapSeries
from memtop.views.thp import ThpView

from memtop.state.counters import CounterHistory, counter_values
from memtop.rules.diagnoses import Diagnosis, Growth, Signals, diagnose
from memtop.state.diagnosis_watch import DiagnosisWatch, growth
from memtop.rules.gap import GapVerdict, analyse
from memtop.state.heap_sources import HeapSources
from memtop.state.session import LiveSession, Scheduler
from memtop.state.process_history import DEFAULT_WINDOW, WINDOWS, ProcessHistory
from memtop.instrument.run import RunChild
from memtop.state.run_watch import SAMPLE_HZ, RunWatch
from memtop.state.working_sets import WorkingSets
from memtop.tui.messages import CollectorFailed, SnapshotReady
from memtop.tui.screens.cgroups import CgroupScreen
from memtop.tui.screens.diagnoses import DiagnosesScreen
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.run_quit import QuitRunScreen

INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class StartOptions:
    """What the command line asked for."""

    interval: float = 1.0
    sort: str = "pss"
    text: str = ""
    pid: int | None = None
    frozen: bool = False  # --root: a captured tree, collected once


class MemtopApp(App[int]):
    """memtop's dashboard."""

    CSS_PATH = "memtop.tcss"
    TITLE = "memtop"

    def __init__(
        self,
        collector: Collector | None,
        options: StartOptions = StartOptions(),
        snapshot: Snapshot | None = None,
        own_stats: bool = True,
        clock: Callable[[], float] = time.monotonic,
        heap: HeapSources | None = None,
        run: RunChild | None = None,
    ) -> None:
        """``collector=None`` starts no task: tests post snapshots themselves.

        ``heap``: where heap-in-use figures come from (default: memtop's own
        glibc heap when collecting live, nothing for a captured tree).
        """
        super().__init__()
        self.options = options
        self.interval = options.interval
        self.collector = collector
        self.initial = snapshot
        self.own_stats = own_stats
        self.clock = clock
        self.scheduler = Scheduler(interval=options.interval, clock=clock)
        self.session = LiveSession(collector, self.scheduler) if collector is not None else None
        if self.session is not None and options.frozen:
            self.session.cgroups = True  # a captured tree gets one pass: it must hold the cgroups too
        self.passes = 0
        self._me = psutil.Process() if own_stats else None
        # A cancelled worker cannot stop its thread mid-read: this lock makes a
        # replacement loop wait for it, so two passes never run at once.
        self._pass_lock = threading.Lock()
        # History the panes draw from; fed on the event loop, one snapshot at a time.
        self.counters = CounterHistory()
        self.history = ProcessHistory()
        self.chart_window = DEFAULT_WINDOW
        live = collector is not None and not options.frozen
        self.heap = heap if heap is not None else HeapSources(OwnHeap() if live else None)
        self._thp_view: tuple[float, ThpView] | None = None
        #: The gap verdict of each process with a heap source, by pid (the table marks flags).
        self.verdicts: dict[int, GapVerdict] = {}
        #: The program `memtop run` started, when it did.
        self.run_watch = RunWatch(run, collector, self.history, self.heap) if run is not None and collector is not None else None
        #: The pid open in the process screen: read every refresh like the selected row.
        self.drilled: int | None = None
        #: How the process screen reads a process (tests set one; None: the collector's host).
        self.maps_source: object | None = None
        #: Working-set measurements (key w): only on the live host.
        self.working_sets = WorkingSets(collector.paths if live and collector else None, collector.cgroups if live and collector else None)
        #: What the diagnosis line and panel (d) say, rebuilt at each snapshot.
        self.diagnosis_watch = DiagnosisWatch()
        self.diagnoses: tuple[Diagnosis, ...] = ()
        self._growth: tuple[float, tuple[Growth, ...]] = (float("-inf"), ())

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.options))
        if self.initial is not None:
            self.post_message(SnapshotReady(self.initial, {}, None, None))
        if self.session is not None:
            self.collect_loop()
        if self.run_watch is not None and self.run_watch.child.not_instrumentable is None:
            self.set_interval(1 / SAMPLE_HZ, self.run_watch.sample)

    @work(exclusive=True, group="collect")
    async def collect_loop(self) -> None:
        assert self.session is not None
        session = self.session
        if self._me is not None:
            self._me.cpu_percent()  # start its CPU clock
        while True:
            started = self.clock()
            try:
                snap, rates = await asyncio.to_thread(self._one_pass, session)
            except Exception as exc:  # noqa: BLE001 - any failure is shown, then retried
                self.post_message(CollectorFailed(f"{type(exc).__name__}: {exc}"))
            else:
                self.passes += 1
                cpu = rss = None
                if self._me is not None:
                    cpu = self._me.cpu_percent()
                    rss = self._me.memory_info().rss
                    if self.passes == 1:
                        cpu = None  # the first pass reads everything: not a steady cost
                self.post_message(SnapshotReady(snap, rates, cpu, rss))
            if self.options.frozen:
                return
            elapsed = self.clock() - started
            await asyncio.sleep(max(self.interval - elapsed, self.interval / 4))

    def _one_pass(self, session: LiveSession) -> tuple[Snapshot, dict[tuple[object, ...], float]]:
        with self._pass_lock:
            return session.collect()

    @property
    def main_screen(self) -> MainScreen | None:
        """The dashboard screen, also while a help or signal screen is on top of it."""
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        snap = message.snapshot
        self.counters.add(snap.time, counter_values(snap))
        selected = self.scheduler.selected
        on_screen = self.scheduler.visible | ({selected} if selected is not None else set())
        screen = self.main_screen
        # The selected process keeps its history if it exits now: the screen
        # goes on showing it, marked, until the selection moves.
        keep = screen.selected.key if screen is not None and screen.selected is not None else None
        self.heap.update(snap)
        heaps = self.heap.read()
        self.history.record(snap.time, snap.processes, frozenset(on_screen | heaps.keys()), heaps, keep)
        self.verdicts = {pid: self.verdict(key) for pid, key in self._heap_keys(snap, heaps)}
        if self.run_watch is not None and self.run_watch.snapshot(snap):
            child = self.run_watch.child
            self.notify(f"{child.name} exited with status {child.returncode}; its history stays", timeout=10)
        self.update_diagnoses(snap)
        if screen is not None:
            screen.show(message)
        if isinstance(self.screen, CgroupScreen):
            self.screen.show(message.snapshot)
        if isinstance(self.screen, DiagnosesScreen):
            self.screen.show(self.diagnoses)

    def update_diagnoses(self, snap: Snapshot) -> None:
        """The diagnoses for this snapshot, from the app's histories (RSS trends every 5 s: they cost)."""
        self.diagnosis_watch.add(snap)
        if snap.time - self._growth[0] >= 5.0 or snap.time < self._growth[0]:
            self._growth = (snap.time, growth(self.history, snap.processes, snap.time, self.chart_window))
        signals = Signals(
            swap_in=self.diagnosis_watch.swap_in, thp=self.thp_view(snap), cgroups=self.diagnosis_watch.cgroups,
            oom_kills=self.diagnosis_watch.oom_kills, verdicts=self.verdicts, growth=self._growth[1],
            working_sets=self.working_sets.current(p.key for p in snap.processes),
            own_pid=self.heap.own_pid if self.session is not None else None,
        )
        self.diagnoses = diagnose(snap, signals)

    def working_set_done(self, result: WorkingSet) -> None:
        """A measurement ended: the diagnoses take it at once."""
        screen = self.main_screen
        if screen is not None and screen.snapshot is not None:
            self.update_diagnoses(screen.snapshot)
            screen.show_diagnoses()

    def on_collector_failed(self, message: CollectorFailed) -> None:
        if self.main_screen is not None:
            self.main_screen.show_error(message.error)

    def thp_view(self, snap: Snapshot) -> ThpView:
        """The THP panel's figures as of ``snap`` (built once per snapshot)."""
        if self._thp_view is None or self._thp_view[0] != snap.time:
            self._thp_view = (snap.time, self.counters.view(snap))
        return self._thp_view[1]

    def chart_series(self, proc: ProcessMemory, now: float, exited: bool) -> HeapSeries | None:
        """The heap-vs-RSS chart's samples for one process over the chosen window."""
        if not exited:
            self.history.track(proc, now, self.heap.read().get(proc.pid))
        series = self.history.series(proc.key, now, self.chart_window, self.heap.describe(proc.pid, now, proc.key), exited)
        if series is not None and proc.key in self.heap.points:
            series = replace(series, points=tuple(self.heap.points[proc.key]))
        if series is not None and any(h is not None for h in series.heap):
            verdict = self.verdict(proc.key)
            series = replace(series, verdict=verdict.describe(), alarm=verdict.flag is not None)
        return series

    def verdict(self, key: tuple[int, int]) -> GapVerdict:
        """The gap's trend and flag for one process over the chart's window."""
        samples = self.history.samples(key)
        now = samples[-1].time if samples else 0.0
        verdict = analyse([s.time for s in samples], [s.rss for s in samples], [s.heap for s in samples],
                          self.history.now or now, self.chart_window)
        if key[0] == self.heap.own_pid and self.heap.own is not None:
            # memtop's own heap is malloc only (mallinfo2): CPython's object
            # arenas are mmapped outside it, so its gap grows with every
            # Python object. The slope is shown; a leak flag would be false.
            verdict = replace(verdict, flag=None)
        return verdict

    @staticmethod
    def _heap_keys(snap: Snapshot, heaps: dict[int, int]) -> list[tuple[int, tuple[int, int]]]:
        if not heaps:
            return []
        return [(p.pid, p.key) for p in snap.processes if p.pid in heaps]

    def next_chart_window(self) -> float:
        self.chart_window = WINDOWS[(WINDOWS.index(self.chart_window) + 1) % len(WINDOWS)] if self.chart_window in WINDOWS else DEFAULT_WINDOW
        return self.chart_window

    @property
    def run_status(self) -> str | None:
        """The header's line about the program `memtop run` started."""
        return self.run_watch.child.status_line() if self.run_watch is not None else None

    async def action_quit(self) -> None:
        """Quit; first ask what to do with a program `memtop run` started that still runs."""
        watch = self.run_watch
        if watch is None:
            self.exit(0)
            return
        if watch.child.poll() is not None:
            self.exit(watch.child.returncode)
            return

        def chosen(answer: str | None) -> None:
            if answer == "stop":
                watch.child.stop()
                try:
                    watch.child.process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass  # it ignores SIGTERM: memtop leaves, it goes on
                self.exit(watch.child.poll() or 0)
            elif answer == "leave":
                self.exit(0)

        self.push_screen(QuitRunScreen(watch.child), chosen)

    def set_interval_seconds(self, seconds: float) -> None:
        self.interval = seconds
        self.scheduler.interval = seconds

    def want_cgroups(self, on: bool) -> None:
        """The cgroup view is open (or closed): read the cgroup tree each pass (or not)."""
        if self.session is not None:
            self.session.cgroups = on

    def track_on_screen(self, pids: frozenset[int], selected: int | None) -> None:
        """The screen tells which pids are on screen: their PSS is read every refresh."""
        self.scheduler.visible = pids
        self.scheduler.selected = self.drilled if self.drilled is not None else selected


def run_dashboard(collector: Collector, options: StartOptions, run: RunChild | None = None) -> int:
    # NO_COLOR is honoured by Textual itself; memtop shows no state by colour alone.
    # Thousands of long-lived records make the cyclic GC's full passes long
    # pauses that a key press can land behind; none of them forms a cycle.
    gc.freeze()
    gc.set_threshold(20_000, 50, 1_000)
    app = MemtopApp(collector, options, run=run)
    result = app.run()
    return result or 0
