"""What memtop remembers: every history, and what it derives from them, one snapshot at a time.

The one owner of history (issue 14). The dashboard, ``memtop --json``, the
recorder and the exporter feed snapshots in through ``MemtopModel.ingest``
and read what it derived, so each diagnosis, gap verdict and rate has one
code path. Nothing here imports textual or reads /proc or a clock: a
snapshot carries its own time, and the monitor (state/monitor.py) reads the
host. Not thread-safe: one thread ingests and reads (the dashboard's event
loop); ``Ingested`` is immutable and may be handed to another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from memtop.collectors.models import ProcessMemory, Snapshot
from memtop.views.heap_series import HeapSeries
from memtop.views.thp import ThpView

from memtop.rules.diagnoses import Diagnosis, Growth, Signals, diagnose
from memtop.rules.gap import GapVerdict, analyse
from memtop.state.counters import CounterHistory, counter_values
from memtop.state.diagnosis_watch import DiagnosisWatch, growth
from memtop.state.heap_sources import HeapSources
from memtop.state.options import StartOptions
from memtop.state.process_history import DEFAULT_WINDOW, ProcessHistory
from memtop.state.run_watch import RunWatch
from memtop.state.trends import history_slopes
from memtop.state.working_sets import WorkingSets

if TYPE_CHECKING:
    from memtop.collectors.snapshot import Collector
    from memtop.instrument.run import RunChild

Key = tuple[int, int]
#: RSS change per second, by table row key (("p", pid, starttime)).
Rates = Mapping[tuple[object, ...], float]

#: RSS trends are fitted at most this often (seconds of snapshot time): a fit
#: over every tracked history costs (bench/diagnoses.py).
GROWTH_EVERY = 5.0


@dataclass(frozen=True, slots=True)
class Reading:
    """What one collection pass read: what the model ingests, and what a recorder keeps to replay."""

    snapshot: Snapshot
    #: RSS change per second of the processes whose RSS moved (the live session derives it).
    rates: Rates = field(default_factory=dict)
    #: memtop's own CPU share (percent of one core) and RSS after the pass, when it measures itself.
    own_cpu: float | None = None
    own_rss: int | None = None


@dataclass(frozen=True, slots=True)
class Focus:
    """What a person looks at: read in full every pass, and given a history."""

    visible: frozenset[int] = frozenset()
    #: The selected row's process; it keeps its history if it exits while selected.
    selected: Key | None = None
    #: The process open in the process screen (Enter).
    drilled: int | None = None

    @property
    def pid(self) -> int | None:
        """The process read every pass besides the visible rows: the drilled one, else the selected one."""
        if self.drilled is not None:
            return self.drilled
        return self.selected[0] if self.selected is not None else None


@dataclass(frozen=True, slots=True)
class Ingested:
    """What the model made of one reading; immutable, so it may cross to another thread."""

    reading: Reading
    #: Heap in use by pid, of every continuously instrumented process (and memtop's own, live).
    heaps: Mapping[int, int]
    #: The gap verdict of each process with a heap figure, by pid.
    verdicts: Mapping[int, GapVerdict]
    diagnoses: tuple[Diagnosis, ...]
    #: The THP panel's figures: policy, counters as rates over the last minute, stalls.
    thp: ThpView
    #: The program `memtop run` started has just exited (true once).
    run_ended: bool = False

    @property
    def snapshot(self) -> Snapshot:
        return self.reading.snapshot


class MemtopModel:
    """Histories (THP counters, processes, heaps, swap-in, cgroups) and what is derived from them."""

    def __init__(self, options: StartOptions = StartOptions(), *, heap: HeapSources | None = None,
                 working_sets: WorkingSets | None = None, own_pid: int | None = None) -> None:
        """``heap``: where heap figures come from (default: the snapshots' counter files only).

        ``working_sets``: the measurements (default: none possible, no host);
        ``own_pid``: memtop's own process, left out of the heap and RSS findings.
        """
        self.options = options
        self.counters = CounterHistory()
        self.history = ProcessHistory()
        self.heap = heap if heap is not None else HeapSources()
        self.working_sets = working_sets if working_sets is not None else WorkingSets(None, None)
        self.own_pid = own_pid
        self.diagnosis_watch = DiagnosisWatch()
        #: The window of the heap-vs-RSS chart, of the gap verdicts and of the RSS trends (seconds).
        self.chart_window = DEFAULT_WINDOW
        self.focus = Focus()
        #: The program `memtop run` started, when it did.
        self.run_watch: RunWatch | None = None
        self.snapshot: Snapshot | None = None
        self.last: Ingested | None = None
        self.verdicts: dict[int, GapVerdict] = {}
        self.diagnoses: tuple[Diagnosis, ...] = ()
        self.growth: tuple[Growth, ...] = ()
        self._growth_time = float("-inf")
        self._thp_view: tuple[float, ThpView] | None = None
        self._slopes: tuple[float, dict[tuple[int, int], float]] | None = None

    def forget(self) -> None:
        """Drop every history and what was derived from it; keep the options, focus, chart window and working sets.

        A replay that jumps feeds the model again from a moment before the new one (history/replay.py);
        its heap figures come from the snapshots, so the heap sources start afresh too.
        """
        options, focus, window = self.options, self.focus, self.chart_window
        self.__init__(options, heap=HeapSources(), working_sets=self.working_sets, own_pid=self.own_pid)  # type: ignore[misc]
        self.focus, self.chart_window = focus, window

    # -- feeding ------------------------------------------------------------
    def ingest(self, reading: Reading | Snapshot) -> Ingested:
        """Add one snapshot to every history and derive the verdicts, the THP view and the diagnoses."""
        if isinstance(reading, Snapshot):
            reading = Reading(reading)
        snap = reading.snapshot
        self.counters.add(snap.time, counter_values(snap))
        focus = self.focus
        watched = focus.visible | ({focus.pid} if focus.pid is not None else frozenset())
        self.heap.update(snap)
        heaps = self.heap.read()
        # The selected process keeps its history if it exits now: the screen
        # goes on showing it, marked, until the selection moves.
        self.history.record(snap.time, snap.processes, frozenset(watched | heaps.keys()), heaps, focus.selected)
        self.verdicts = {p.pid: self.verdict(p.key) for p in snap.processes if p.pid in heaps} if heaps else {}
        ended = self.run_watch is not None and self.run_watch.snapshot(snap)
        self.snapshot = snap
        self.diagnosis_watch.add(snap)
        self._diagnose(snap)
        self.last = Ingested(reading, heaps, self.verdicts, self.diagnoses, self.thp_view(snap), ended)
        return self.last

    def rss_slopes(self, processes: Iterable[ProcessMemory]) -> dict[tuple[int, int], float]:
        """The GROW/m column: RSS slopes over the chart's window, recomputed at most every GROWTH_EVERY seconds."""
        now = self.snapshot.time if self.snapshot is not None else 0.0
        cached = self._slopes
        if cached is None or now - cached[0] >= GROWTH_EVERY or now < cached[0]:
            cached = self._slopes = (now, history_slopes(self.history, processes, now, self.chart_window))
        return cached[1]

    def rediagnose(self) -> tuple[Diagnosis, ...]:
        """The diagnoses again, between snapshots (a working-set measurement has just ended)."""
        if self.snapshot is not None:
            self._diagnose(self.snapshot)
            if self.last is not None:
                self.last = replace(self.last, diagnoses=self.diagnoses)
        return self.diagnoses

    def _diagnose(self, snap: Snapshot) -> None:
        if snap.time - self._growth_time >= GROWTH_EVERY or snap.time < self._growth_time:
            self._growth_time = snap.time
            self.growth = growth(self.history, snap.processes, snap.time, self.chart_window)
        watch = self.diagnosis_watch
        signals = Signals(
            swap_in=watch.swap_in, thp=self.thp_view(snap), cgroups=watch.cgroups, oom_kills=watch.oom_kills,
            system_oom_kills=watch.system_oom_kills,
            verdicts=self.verdicts, growth=self.growth, working_sets=self.working_sets.current(p.key for p in snap.processes),
            own_pid=self.own_pid,
        )
        self.diagnoses = diagnose(snap, signals)

    # -- what a person looks at ---------------------------------------------
    def show(self, visible: Iterable[int], selected: Key | None) -> None:
        """The rows on screen and the selected process: read every pass, and their history kept."""
        self.focus = replace(self.focus, visible=frozenset(visible), selected=selected)

    def drill(self, pid: int | None) -> None:
        """The process screen opened on ``pid`` (None: closed)."""
        self.focus = replace(self.focus, drilled=pid)

    def watch_run(self, child: RunChild, collector: Collector) -> RunWatch:
        """Follow the program `memtop run` started: a deep history, its 10 Hz samples, its end."""
        self.run_watch = RunWatch(child, collector, self.history, self.heap)
        return self.run_watch

    @property
    def run_status(self) -> str | None:
        """The header's line about the program `memtop run` started."""
        return self.run_watch.child.status_line() if self.run_watch is not None else None

    # -- derived views ------------------------------------------------------
    def thp_view(self, snap: Snapshot) -> ThpView:
        """The THP panel's figures as of ``snap`` (built once per snapshot)."""
        if self._thp_view is None or self._thp_view[0] != snap.time:
            self._thp_view = (snap.time, self.counters.view(snap))
        return self._thp_view[1]

    def chart_series(self, proc: ProcessMemory, now: float, exited: bool) -> HeapSeries | None:
        """The heap-vs-RSS chart's samples for one process over the chart's window.

        A process not tracked yet starts its history now (it was just selected).
        """
        if not exited and not self.history.tracks(proc.key):
            # Read a heap figure only for a history that starts now: the refresh's own was read by
            # ingest, and memtop's (mallinfo2) walks every free chunk of its heap (issue 17).
            self.history.track(proc, now, self.heap.read().get(proc.pid))
        series = self.history.series(proc.key, now, self.chart_window, self.heap.describe(proc.pid, now, proc.key), exited)
        if series is not None and proc.key in self.heap.points:
            series = replace(series, points=tuple(self.heap.points[proc.key]))
        if series is not None and any(h is not None for h in series.heap):
            verdict = self.verdict(proc.key)
            series = replace(series, verdict=verdict.describe(), alarm=verdict.flag is not None)
        return series

    def verdict(self, key: Key) -> GapVerdict:
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
