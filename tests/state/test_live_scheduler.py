"""The cost-aware policy: whose smaps_rollup is read each refresh, and what the others keep."""

from __future__ import annotations

from dataclasses import replace

from memtop.collectors.models import Snapshot
from memtop.collectors.process_build import CgroupCache, build_process
from memtop.collectors.processes import NOT_READ, RawProcess
from memtop.collectors.procfs import Stat, parse_stat
from memtop.state.session import LiveSession, Scheduler

from tests.dashboard_fixtures import PROCESSES, made


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stat(pid: int, rss: int = 100, faults: int = 5, start: int = 1) -> Stat:
    return Stat(pid=pid, name="x", state="S", ppid=1, flags=0, threads=1, starttime=start, faults=faults, rss_pages=rss)


def tick(scheduler: Scheduler, stats: list[Stat], cost: float = 0.001) -> set[int]:
    """One pass: which pids get their rollup read."""
    scheduler.begin()
    read = set()
    for s in stats:
        if scheduler.want(s.pid, s):
            scheduler.record(s.pid, s, cost)
            read.add(s.pid)
    scheduler.end()
    return read


def test_first_sight_reads_everyone_then_only_what_moved() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock)
    procs = [stat(p) for p in (10, 11, 12)]
    assert tick(sched, procs) == {10, 11, 12}
    clock.now += 1
    assert tick(sched, procs) == set()  # nothing cheap moved
    clock.now += 1
    assert tick(sched, [stat(10), stat(11, faults=9), stat(12, rss=101)]) == {11, 12}


def test_visible_and_selected_every_refresh() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock)
    procs = [stat(p) for p in (10, 11, 12)]
    tick(sched, procs)
    sched.visible = frozenset({10})
    sched.selected = 12
    clock.now += 1
    assert tick(sched, procs) == {10, 12}


def test_everyone_at_least_every_max_age() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock, max_age=60)
    procs = [stat(p) for p in (10, 11)]
    tick(sched, procs)
    clock.now += 59
    assert tick(sched, procs) == set()
    clock.now += 1
    assert tick(sched, procs) == {10, 11}


def test_budget_defers_changed_processes_by_one_refresh_at_most() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, budget=0.02, clock=clock)  # 20 ms a refresh
    procs = [stat(p) for p in range(10, 20)]
    tick(sched, procs, cost=0.008)  # each costs 8 ms
    clock.now += 1
    moved = [stat(p, faults=99) for p in range(10, 20)]
    first = tick(sched, moved, cost=0.008)
    assert len(first) == 2  # 2 x 8 ms fit in 20 ms
    clock.now += 1
    second = tick(sched, moved, cost=0.008)
    assert second == set(range(10, 20)) - first  # the deferred ones, at the latest now


def test_exited_processes_are_forgotten_and_pid_reuse_is_a_new_process() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock)
    tick(sched, [stat(10)])
    clock.now += 1
    tick(sched, [])
    assert sched.seen == {}
    assert tick(sched, [stat(10, start=2)]) == {10}


class FakeCollector:
    """Yields prepared snapshots; marks processes the policy skipped as not read."""

    def __init__(self, snaps: list[Snapshot]) -> None:
        self.snaps = snaps

    def collect(self, policy: Scheduler, thp: object = True, **_cgroups: object) -> Snapshot:
        snap = self.snaps.pop(0)
        out = []
        for p in snap.processes:
            s = stat(p.pid, rss=(p.rss or 0) // 4096, faults=p.faults, start=p.starttime)
            if policy.want(p.pid, s):
                policy.record(p.pid, s, 0.0)
                out.append(replace(p, memory_time=None if p.pss is None else snap.time))
            else:
                out.append(replace(p, pss=None, uss=None, memory_time=None, error=NOT_READ))
        return replace(snap, processes=tuple(out))


def test_skipped_processes_keep_their_last_values_with_their_age() -> None:
    first = replace(made(), time=100.0)
    grown = tuple(replace(p, rss=(p.rss or 0) + 8192 * 4096, faults=1) if p.pid == 201 else p for p in PROCESSES)
    second = replace(made(grown), time=101.0)
    clock = Clock()
    session = LiveSession(FakeCollector([first, second]), Scheduler(interval=1.0, clock=clock))  # type: ignore[arg-type]
    snap1, _ = session.collect()
    clock.now += 1
    snap2, rates = session.collect()
    by_pid = {p.pid: p for p in snap2.processes}
    assert by_pid[300].pss == next(p.pss for p in snap1.processes if p.pid == 300)
    assert by_pid[300].memory_time == 100.0 and by_pid[300].error is None  # old value, with its age
    assert by_pid[201].memory_time == 101.0  # its RSS moved: read again
    assert rates[("p", 201, 100)] == 8192 * 4096  # bytes per second over one second
    assert by_pid[1].pss is None and by_pid[1].error and "permission denied" in by_pid[1].error


def test_unchanged_processes_are_reused_whole_and_changed_ones_read() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock, max_age=60)
    record = PROCESSES[3]
    key = (record.pid, 1)
    sched.previous = {key: record}
    still = stat(record.pid)
    sched.begin()
    assert sched.reuse(record.pid, still) is None  # first sight: read it
    sched.record(record.pid, still, 0.001)
    sched.end()
    clock.now += 1
    sched.begin()
    assert sched.reuse(record.pid, still) is record  # nothing moved: kept, no file read
    assert sched.reuse(record.pid, stat(record.pid, faults=6)) is None  # it touched memory
    sched.end()
    sched.visible = frozenset({record.pid})
    sched.begin()
    assert sched.reuse(record.pid, stat(record.pid, faults=6)) is None  # on screen: fresh every refresh
    sched.end()
    sched.visible = frozenset()
    clock.now += 60
    sched.begin()
    assert sched.reuse(record.pid, stat(record.pid, faults=6)) is None  # a minute old: read again
    sched.end()


def test_an_unchanged_stat_line_skips_the_parse_a_changed_one_does_not() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock, max_age=60)
    record = PROCESSES[3]
    line = f"{record.pid} (x) S 1 1 1 0 -1 0 5 0 0 0 7 3 0 0 20 0 1 0 1 1000 100".encode()
    sched.begin()
    assert sched.reuse_raw(record.pid, line) is None  # first sight: parsed and read, as the reader does
    parsed = stat(record.pid, start=record.starttime)
    assert sched.reuse(record.pid, parsed) is None and sched.want(record.pid, parsed)
    sched.record(record.pid, parsed, 0.001)
    sched.remember({(record.pid, record.starttime): record})
    sched.end()
    clock.now += 1
    sched.begin()
    assert sched.reuse_raw(record.pid, line) is record  # the same bytes: kept without a parse
    assert sched.reuse_raw(record.pid, line.replace(b" 7 3 ", b" 8 3 ")) is None  # its CPU time moved
    sched.end()
    # What is kept per pid to compare is a hash, not the ~300 bytes of the line (issue 17, goal 4).
    assert all(isinstance(v, int) for v in sched.stat_hashes.values())


def test_workers_with_one_command_line_share_one_tuple() -> None:
    def built(pid: int, cmdline: bytes) -> tuple[str, ...]:
        stat = parse_stat(f"{pid} (php-fpm) S 1 1 1 0 -1 0 5 0 0 0 7 3 0 0 20 0 1 0 {pid} 1000 100".encode())
        raw = RawProcess(pid, stat, None, cmdline, None, None, None, None, None)
        return build_process(raw, lambda _uid: None, CgroupCache()).cmdline

    first, second = built(700, b"php-fpm: pool www\0"), built(701, b"php-fpm: pool www\0")
    assert first == second == ("php-fpm: pool www",) and first is second
    assert built(702, b"php-fpm: pool api\0") == ("php-fpm: pool api",)


def test_a_row_on_screen_that_did_not_run_is_read_every_third_refresh_and_at_once_when_it_moves() -> None:
    clock = Clock()
    sched = Scheduler(interval=1.0, clock=clock, max_age=60)
    record = PROCESSES[3]
    key = (record.pid, record.starttime)
    line = f"{record.pid} (x) S 1 1 1 0 -1 0 5 0 0 0 7 3 0 0 20 0 1 0 1 1000 100".encode()
    sched.visible = frozenset({record.pid})

    def refresh(raw: bytes) -> bool:
        """One pass over this process as the reader makes it: True when its files are read."""
        sched.begin()
        kept = sched.reuse_raw(record.pid, raw)
        if kept is None:
            parsed = stat(record.pid, start=record.starttime)
            assert sched.reuse(record.pid, parsed) is None and sched.want(record.pid, parsed)  # on screen
            sched.record(record.pid, parsed, 0.001)
        sched.remember({key: record})
        sched.end()
        clock.now += 1
        return kept is None

    # Its PSS may move while it sleeps (a sharer exits): never older than two refreshes,
    # so never marked stale (three), and read every third refresh instead of every one.
    assert [refresh(line) for _ in range(7)] == [True, False, False, True, False, False, True]
    assert refresh(line.replace(b" 7 3 ", b" 8 3 "))  # it ran: read at once
    sched.selected = record.pid
    assert all(refresh(line) for _ in range(3))  # the selected process: every refresh
