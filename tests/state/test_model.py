"""The model without an app: what the recorder, the exporter and ``memtop --json`` build on."""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from memtop.collectors.models import HeapCounters, Snapshot, WorkingSet
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector
from memtop.state.heap_sources import HeapSources
from memtop.state.model import GROWTH_EVERY, Focus, MemtopModel, Reading
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions, step_interval
from memtop.state.process_history import DEFAULT_WINDOW, next_window
from memtop.state.session import Scheduler

from tests.cgroup_fixtures import with_cgroups
from tests.dashboard_fixtures import MIB, PROCESSES, FakeHeap, at, growing, made

GIB = 1 << 30
PY = next(p for p in PROCESSES if p.pid == 201)


def preloaded(time: float, rss_mib: int, heap_mib: int) -> Snapshot:
    """train.py (pid 201) at ``rss_mib`` with the preload library's heap figure."""
    heap = HeapCounters(pid=201, source="preload", starttime=PY.starttime, in_use=heap_mib * MIB, peak=None,
                        allocs=None, frees=None)
    return replace(at(time, processes=growing(rss_mib)), heaps=(heap,))


def test_ingest_returns_what_it_derived_and_the_model_keeps_it() -> None:
    model = MemtopModel()
    first = model.ingest(Reading(at(0.0, {"thp_fault_alloc": 100}), {("p", 201, PY.starttime): 5.0}, 1.5, 42 * MIB))
    assert first.snapshot.time == 0.0 and first.reading.rates == {("p", 201, PY.starttime): 5.0}
    assert first.reading.own_cpu == 1.5 and first.reading.own_rss == 42 * MIB
    assert first.heaps == {} and first.verdicts == {} and not first.run_ended
    assert [d.id for d in first.diagnoses] == ["all-clear"]
    rate = {line.name: line.rate for line in first.thp.counters}
    assert rate["thp_fault_alloc"] is None  # one reading: no rate yet
    second = model.ingest(at(2.0, {"thp_fault_alloc": 130}))  # a bare snapshot is a reading too
    assert {line.name: line.rate for line in second.thp.counters}["thp_fault_alloc"] == 15.0
    assert model.last is second and model.snapshot is second.snapshot and model.diagnoses == second.diagnoses
    assert model.thp_view(second.snapshot) is second.thp  # built once per snapshot


def test_a_growing_gap_is_judged_from_the_history_and_diagnosed() -> None:
    model = MemtopModel()
    for t in range(0, 31, 2):
        done = model.ingest(preloaded(float(t), 100 + 3 * t, 80))
    verdict = done.verdicts[201]
    assert verdict.trend == "growing" and verdict.gap == (100 + 90 - 80) * MIB
    assert done.heaps == {201: 80 * MIB}
    assert "heap-gap-growing" in {d.id for d in done.diagnoses}
    # Only instrumented and watched processes get a history; the others none.
    assert model.history.samples(PY.key) and not model.history.samples((202, 100))


def test_the_focus_decides_whose_history_is_kept_and_what_the_next_pass_reads() -> None:
    model = MemtopModel()
    model.show({201, 202}, (201, PY.starttime))
    assert model.focus == Focus(frozenset({201, 202}), (201, PY.starttime)) and model.focus.pid == 201
    model.drill(300)
    assert model.focus.pid == 300  # the process screen's process is read first
    model.ingest(at(0.0))
    assert {k[0] for k in [(201, 100), (202, 100), (300, 100), (400, 100)] if model.history.samples(k)} == {201, 202, 300}
    # The selected process exits: its history stays while it is selected...
    model.ingest(at(1.0, processes=tuple(p for p in PROCESSES if p.pid != 201)))
    assert model.history.samples(PY.key)
    # ...and goes when the selection moves on.
    model.show({202}, (202, 100))
    model.ingest(at(2.0, processes=tuple(p for p in PROCESSES if p.pid != 201)))
    assert not model.history.samples(PY.key)


def test_rss_growth_is_fitted_every_few_seconds_over_the_chart_window() -> None:
    model = MemtopModel()
    model.show({201}, None)
    for t in range(0, 121, 5):
        done = model.ingest(at(float(t), None, growing(100 + t)))
    assert done.diagnoses[0].id == "rss-growing" and model.growth[0].pid == 201
    fitted = model.growth
    model.ingest(at(121.0, None, growing(400)))  # within GROWTH_EVERY of the last fit: not refitted
    assert model.growth is fitted
    model.ingest(at(121.0 + GROWTH_EVERY, None, growing(400)))
    assert model.growth is not fitted


def test_swap_in_and_new_oom_kills_come_from_the_readings_before() -> None:
    model = MemtopModel()
    for t in range(4):
        done = model.ingest(at(float(t), {"pswpin": 1000 * t}))
    assert "swap-in" in {d.id for d in done.diagnoses}
    model = MemtopModel()
    model.ingest(replace(with_cgroups(1), time=0.0))
    done = model.ingest(replace(with_cgroups(3), time=1.0))
    assert (done.diagnoses[0].id, dict(done.diagnoses[0].numbers)["oom_kills"]) == ("cgroup-oom-kill", 2)


def test_a_working_set_result_is_diagnosed_between_snapshots() -> None:
    model = MemtopModel()
    assert model.rediagnose() == ()  # nothing ingested yet
    before = model.ingest(made())
    model.working_sets.results[PY.key] = WorkingSet(201, PY.starttime, "python3", 5.0, 0.0, 30 * GIB, PY.rss, 0, 19 * GIB)
    found = model.rediagnose()
    assert found[0].id == "working-set-too-large" and before.diagnoses[0].id == "all-clear"
    assert model.last is not None and model.last.diagnoses == found


def test_chart_series_start_a_history_and_follow_the_window() -> None:
    model = MemtopModel(heap=HeapSources(FakeHeap(60 * MIB), own_pid=201))
    model.ingest(at(0.0, processes=growing(100)))
    series = model.chart_series(PY, 0.0, exited=False)
    assert series is not None and series.window == DEFAULT_WINDOW and series.heap == (60 * MIB,)
    assert series.verdict is not None and not series.alarm  # memtop's own gap is never flagged
    model.chart_window = next_window(model.chart_window)
    series = model.chart_series(PY, 0.0, exited=False)
    assert series is not None and series.window == 900.0
    other = next(p for p in PROCESSES if p.pid == 400)
    assert not model.history.samples(other.key)
    assert model.chart_series(other, 0.0, exited=False) is not None  # selected: its history starts now


class CountedHeap(FakeHeap):
    """mallinfo2's stand-in, counting its calls (each walks every free chunk of memtop's heap)."""

    def __init__(self, in_use: int) -> None:
        super().__init__(in_use)
        self.reads = 0

    def read(self):  # noqa: ANN201 - as FakeHeap
        self.reads += 1
        return super().read()


def test_the_chart_of_a_tracked_process_reads_no_heap_of_its_own_and_still_follows_it() -> None:
    """One heap reading a refresh (ingest's): the chart of memtop itself used to read mallinfo2 again (issue 17)."""
    own = CountedHeap(60 * MIB)
    model = MemtopModel(heap=HeapSources(own, own_pid=201))
    for t, heap_mib in enumerate((60, 61, 75)):
        own.in_use = heap_mib * MIB
        model.ingest(at(float(t), processes=growing(100 + t)))
        reads = own.reads
        series = model.chart_series(PY, float(t), exited=False)
        assert own.reads == reads  # ingest read it; the chart reads nothing more
        assert series is not None and series.heap[-1] == heap_mib * MIB and series.rss[-1] == (100 + t) * MIB
    other = next(p for p in PROCESSES if p.pid == 400)
    reads = own.reads
    assert model.chart_series(other, 2.0, exited=False) is not None  # a history that starts now reads once
    assert own.reads == reads + 1


def test_replay_feeds_the_same_readings_to_a_new_model_and_gets_the_same_answers() -> None:
    recorded = [Reading(preloaded(float(t), 100 + 3 * t, 80)) for t in range(0, 31, 2)]
    live = MemtopModel()
    answers = [live.ingest(r) for r in recorded]
    replay = MemtopModel()
    again = [replay.ingest(r) for r in recorded]
    assert [(a.verdicts, a.diagnoses, a.thp) for a in again] == [(a.verdicts, a.diagnoses, a.thp) for a in answers]


def test_options_step_through_the_offered_intervals() -> None:
    assert StartOptions().interval == 1.0
    assert step_interval(1.0, 1) == 2.0 and step_interval(0.3, -1) == 0.1 and step_interval(10.0, 1) == 10.0


# -- the monitor: one pass, fed to the model ---------------------------------------
class Scripted:
    """A live session whose passes are fixture snapshots."""

    cgroups = False

    def __init__(self, snaps: list[Snapshot]) -> None:
        self.snaps = snaps
        self.focus: list[tuple[frozenset[int], int | None]] = []
        self.scheduler = Scheduler(interval=0.01, clock=lambda: 0.0)

    def collect(self) -> tuple[Snapshot, dict[tuple[object, ...], float]]:
        self.focus.append((self.scheduler.visible, self.scheduler.selected))
        return self.snaps.pop(0), {("p", 201, PY.starttime): 1.0}


def test_the_monitor_reads_what_the_model_looks_at_and_feeds_it() -> None:
    session = Scripted([at(float(t), {"thp_fault_alloc": 10 * t}) for t in range(3)])
    model = MemtopModel()
    monitor = Monitor(model, session, session.scheduler, own_stats=False)
    model.show({201, 300}, (300, 100))
    model.drill(201)
    done = list(monitor.run(count=3))
    assert [d.snapshot.time for d in done] == [0.0, 1.0, 2.0] and monitor.passes == 3
    assert session.focus == [(frozenset({201, 300}), 201)] * 3  # the scheduler read the model's focus
    assert done[-1].reading.rates == {("p", 201, PY.starttime): 1.0} and done[-1].reading.own_cpu is None
    assert model.last is done[-1]
    monitor.interval = 0.5
    assert session.scheduler.interval == 0.5 and monitor.pause_after(0.0) == 0.5
    monitor.want_cgroups(True)
    assert session.cgroups


def test_run_stops_when_told() -> None:
    session = Scripted([at(float(t)) for t in range(100)])
    monitor = Monitor(MemtopModel(), session, session.scheduler, own_stats=False)
    stop = threading.Event()
    seen = 0
    for _done in monitor.run(stop=stop):
        seen += 1
        if seen == 2:
            stop.set()
    assert seen == 2


def test_a_captured_tree_is_read_once_with_its_cgroups(hosts: Path) -> None:
    collector = Collector(HostPaths.from_root(hosts / "basic"), clock=lambda: 5.0)
    monitor = Monitor.build(collector, StartOptions(frozen=True), own_stats=False)
    (done,) = list(monitor.run())  # frozen: one pass, no sleep
    assert {p.pid for p in done.snapshot.processes} == {1, 1234, 1300}
    assert monitor.session.cgroups and monitor.model.heap.own is None  # memtop's own heap is not the tree's
    assert monitor.model.working_sets.paths is None  # nothing to measure in a capture
    assert monitor.model.own_pid == monitor.model.heap.own_pid


def test_a_live_monitor_measures_itself(hosts: Path) -> None:
    collector = Collector(HostPaths.from_root(hosts / "basic"), clock=lambda: 5.0)
    monitor = Monitor.build(collector, StartOptions(interval=0.1))
    first, second = monitor.read(), monitor.read()
    assert first.own_cpu is None and second.own_cpu is not None  # the first pass is not a steady cost
    assert second.own_rss is not None and second.own_rss > 10 * MIB
    assert monitor.model.heap.own is not None  # live: memtop's own heap is a source


@pytest.mark.parametrize("module", ["memtop.state.model", "memtop.state.monitor", "memtop.cli"])
def test_no_textual_without_a_ui(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
