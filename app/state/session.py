"""Cost-aware live collection: whose smaps_rollup to read each refresh, and history.

PSS and USS need smaps_rollup, which makes the kernel walk the page tables:
a full pass over 2,000 processes costs ~0.4 s of CPU (perf-baseline.md), half
a core at one pass a second. Even the small files (status, cmdline, cgroup,
oom_*) cost a third of a core there when read for everyone every second
(bench/live.py). So every refresh reads stat for the processes on screen
and the selected one, and for the others by turns: every ``stat_every``
refreshes (the dashboard: every other one, half of them each time; at 2,000
processes the stat reads were most of a pass), each keeping its last record
and rate in between. A process whose stat shows no change (resident pages,
page faults, state, threads, name) keeps its last record whole; the others
get their small files, and smaps_rollup only for
- the selected process, every refresh;
- the rows on screen, every refresh unless the process's stat line is the
  same bytes as the last refresh's (it did not run a clock tick, fault a
  page or change its RSS or VmSize): then at least every ``VISIBLE_KEEP``
  refreshes, so its PSS is never old enough to be marked stale (three);
- a process whose RSS or page-fault count moved since its last read, within
  two refreshes (the next one if the CPU budget allows);
- every other process at least every ``max_age`` seconds;
- a process seen for the first time.
The others keep their last values, each with its age (``memory_time``).

A process that did not run can still see its PSS move: another process
sharing its pages forked, exited or unmapped them, or khugepaged collapsed
its pages. On screen that reaches it within ``VISIBLE_KEEP`` refreshes; the
rows on screen of a host at rest are mostly such processes, and re-reading
their seven files every refresh was half of memtop's CPU at rest (issue 17).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from memtop.collectors.models import ContainerLimit, ProcessMemory, Snapshot, ThpState
from memtop.collectors.processes import NOT_READ
from memtop.collectors.procfs import Stat
from memtop.collectors.snapshot import Collector, reconcile
from memtop.state.give_way import GiveWay

#: smaps_rollup fields a skipped process keeps from its last read.
MEMORY_FIELDS = (
    "pss", "uss", "swap_pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty", "anon_huge",
    "referenced", "locked", "memory_time",
)

Key = tuple[int, int]

#: A row on screen whose stat line did not change keeps its record for fewer
#: than this many refreshes (the table marks PSS older than three as stale).
VISIBLE_KEEP = 2.5

#: The dashboard reads the stat of a process not on screen every n-th pass:
#: its row, the totals and the sort order are at most one refresh later than
#: the rows a person looks at; a process whose pid was reused within that
#: refresh shows its predecessor's record for one refresh.
OFF_SCREEN_EVERY = 2

#: Read the THP sysfs files on every n-th pass only.
THP_EVERY = 10

#: Look up which cgroup limits memtop itself on every n-th pass only (limits
#: change rarely); that cgroup's usage is one file, read every pass.
CONTAINER_EVERY = 30

#: Read the memory cgroup tree on every n-th pass even while the cgroup view
#: is closed: the diagnoses watch limits and OOM kills (~0.18 ms per cgroup).
CGROUPS_EVERY = 5


@dataclass
class _Seen:
    time: float
    rss_pages: int
    faults: int
    cost: float
    waiting: int = 0  # refreshes it has waited since a change was noticed


@dataclass
class Scheduler:
    """The MemoryPolicy of a live session (see the module docstring)."""

    interval: float
    budget: float = 0.02  # share of one CPU for reads beyond the visible rows
    max_age: float = 60.0
    clock: Callable[[], float] = time.monotonic
    visible: frozenset[int] = frozenset()
    selected: int | None = None
    #: Read the stat of a process neither on screen nor selected every n-th pass (1: every pass).
    stat_every: int = 1
    seen: dict[Key, _Seen] = field(default_factory=dict)
    previous: dict[Key, ProcessMemory] = field(default_factory=dict)
    signatures: dict[Key, tuple[object, ...]] = field(default_factory=dict)
    #: The hash of each pid's last stat line (not the bytes: ~300 B a process, 1.5 MiB at 5,000).
    stat_hashes: dict[int, int] = field(default_factory=dict)
    _by_pid: dict[int, ProcessMemory] = field(default_factory=dict)
    reads: int = 0
    reused: int = 0
    #: Of this pass's kept records, those whose stat was not even read (``skip``).
    unread: set[Key] = field(default_factory=set)
    #: Hidden kernel threads by pid, with their thread count: skipped like the others.
    kernel: dict[int, int] = field(default_factory=dict)
    _kernel_now: dict[int, int] = field(default_factory=dict)
    _passes: int = 0
    _now: float = 0.0
    _spent: float = 0.0
    _alive: set[Key] = field(default_factory=set)
    #: The event loop holds passes back while keys are pressed (give_way.py).
    give_way: GiveWay = field(default_factory=GiveWay)

    def begin(self) -> None:
        self.give_way.begin()
        self._now = self.clock()
        self._spent = 0.0
        self.reads = 0
        self.reused = 0
        self.unread = set()
        self._alive = set()
        self._kernel_now = {}
        self._passes += 1

    def end(self) -> None:
        for table in (self.seen, self.signatures):
            if len(table) > len(self._alive):
                for key in [k for k in table if k not in self._alive]:
                    del table[key]  # exited: forget it
        if len(self.stat_hashes) > len(self._alive):
            alive = {pid for pid, _start in self._alive}
            self.stat_hashes = {pid: h for pid, h in self.stat_hashes.items() if pid in alive}
        self.kernel = self._kernel_now  # a kernel thread not listed this pass has exited

    def remember(self, records: dict[Key, ProcessMemory]) -> None:
        """This pass's records: what unchanged processes will keep next time."""
        self.previous = records
        self._by_pid = {pid: proc for (pid, _start), proc in records.items()}

    def skip(self, pid: int) -> ProcessMemory | int | None:
        every = self.stat_every
        if every <= 1 or (pid + self._passes) % every == 0 or pid in self.visible or pid == self.selected:
            return None  # its turn, or on screen
        threads = self.kernel.get(pid)
        if threads is not None:
            self._kernel_now[pid] = threads
            return threads
        kept = self._by_pid.get(pid)
        if kept is None:
            return None  # new: read it now
        key = (pid, kept.starttime)
        entry = self.seen.get(key)
        if entry is None or self._now - entry.time >= self.max_age:
            return None  # never read (a zombie, an error) or its rollup is due
        self._alive.add(key)
        self.reused += 1
        self.unread.add(key)
        return kept

    def kernel_thread(self, pid: int, threads: int) -> None:
        self._kernel_now[pid] = threads

    def reuse_raw(self, pid: int, raw_stat: bytes) -> ProcessMemory | None:
        # An idle process's stat does not change at all from one second to the
        # next: compare the bytes and skip even the parse (2,000 a second). They
        # are compared by their 64-bit SipHash: two different stat lines of one
        # pid hashing alike is a 2**-64 chance, and would keep a record one pass.
        self.give_way.tick()
        digest = hash(raw_stat)
        before = self.stat_hashes.get(pid)
        self.stat_hashes[pid] = digest
        kept = self._by_pid.get(pid)
        if before != digest or kept is None or not self._may_keep(pid, (pid, kept.starttime), unchanged=True):
            return None
        self._alive.add((pid, kept.starttime))
        self.reused += 1
        return kept

    def reuse(self, pid: int, stat: Stat) -> ProcessMemory | None:
        key = (pid, stat.starttime)
        self._alive.add(key)
        signature = (stat.rss_pages, stat.faults, stat.state, stat.threads, stat.name, stat.ppid)
        before = self.signatures.get(key)
        self.signatures[key] = signature
        kept = self.previous.get(key)
        if before != signature or kept is None or not self._may_keep(pid, key):
            return None
        self.reused += 1
        return kept

    def _may_keep(self, pid: int, key: Key, unchanged: bool = False) -> bool:
        """Not selected, and its rollup younger than max_age (off screen) or
        VISIBLE_KEEP refreshes (on screen, its stat line ``unchanged``)."""
        entry = self.seen.get(key)
        if entry is None or pid == self.selected:
            return False
        if pid in self.visible:
            return unchanged and self._now - entry.time < VISIBLE_KEEP * self.interval
        return self._now - entry.time < self.max_age

    def want(self, pid: int, stat: Stat) -> bool:
        key = (pid, stat.starttime)
        self._alive.add(key)
        entry = self.seen.get(key)
        if entry is None or pid in self.visible or pid == self.selected:
            return True
        if self._now - entry.time >= self.max_age:
            return True
        if stat.rss_pages == entry.rss_pages and stat.faults == entry.faults:
            return False
        if entry.waiting >= 1 or self._spent + entry.cost <= self.budget * self.interval:
            self._spent += entry.cost
            return True
        entry.waiting += 1  # changed, over budget: at the latest on the next refresh
        return False

    def record(self, pid: int, stat: Stat, seconds: float) -> None:
        self.reads += 1
        self.seen[(pid, stat.starttime)] = _Seen(self._now, stat.rss_pages, stat.faults, seconds)


class LiveSession:
    """Collects snapshots with a Scheduler: unchanged processes keep their last record, a rollup not
    read this pass keeps its last figures, and each pass gives the RSS change per second."""

    def __init__(self, collector: Collector, scheduler: Scheduler) -> None:
        self.collector = collector
        self.scheduler = scheduler
        self._reasons: dict[Key, str] = {}  # why a rollup could not be read (denied, ...)
        self._last: dict[Key, tuple[float, int]] = {}
        self._rates: dict[tuple[object, ...], float] = {}
        self._passes = 0
        self._thp: ThpState | None = None
        self._container: ContainerLimit | None = None
        #: Read the whole memory cgroup tree (7-9 files per cgroup) only while
        #: someone looks at it: the app sets this while the cgroup view is open.
        self.cgroups = False

    def collect(self) -> tuple[Snapshot, dict[tuple[object, ...], float]]:
        """One snapshot (run in a worker thread) and RSS change per second per process."""
        scheduler = self.scheduler
        scheduler.begin()
        # THP policies and khugepaged (~180 sysfs files in all) change seldom:
        # read them all now and then; in between only the stats of the sizes
        # that can fault, whose rates the THP panel shows every refresh.
        fresh_thp = self._passes % THP_EVERY == 0
        fresh_container = self._passes % CONTAINER_EVERY == 0
        snap = self.collector.collect(
            scheduler, thp=True if fresh_thp else self._thp,
            cgroups=self.cgroups or self._passes % CGROUPS_EVERY == 0,
            container=True if fresh_container else self._container,
        )
        self._passes += 1
        self._thp = snap.thp
        self._container = snap.container
        scheduler.end()
        previous = scheduler.previous
        procs: tuple[ProcessMemory, ...] = tuple(p if previous.get((p.pid, p.starttime)) is p else self._merge(p) for p in snap.processes)
        rates: dict[tuple[object, ...], float] = {}
        last: dict[Key, tuple[float, int]] = {}
        for proc in procs:
            if proc.rss is None:
                continue
            key = (proc.pid, proc.starttime)
            before = self._last.get(key)
            if before is not None and key in scheduler.unread:
                # Not read: its last rate stands (a sort by ΔRSS/s keeps its place), and
                # the next one spans the time since it was last read.
                last[key] = before
                rate = self._rates.get(("p", proc.pid, proc.starttime))
                if rate is not None:
                    rates[("p", proc.pid, proc.starttime)] = rate
                continue
            if before is not None and snap.time > before[0] and proc.rss != before[1]:
                rates[("p", proc.pid, proc.starttime)] = (proc.rss - before[1]) / (snap.time - before[0])
            last[key] = (snap.time, proc.rss)
        self._last = last
        self._rates = rates
        scheduler.remember({(p.pid, p.starttime): p for p in procs})
        if self._reasons:
            self._reasons = {k: v for k, v in self._reasons.items() if k in last}
        # The collector reconciled before older values were merged back in.
        rec = reconcile(snap.system, procs) if snap.system and snap.reconciliation else snap.reconciliation
        return replace(snap, processes=procs, reconciliation=rec), rates

    def _merge(self, proc: ProcessMemory) -> ProcessMemory:
        key = (proc.pid, proc.starttime)
        if proc.error is None or NOT_READ not in proc.error:
            if proc.memory_time is None and proc.error:
                self._reasons[key] = proc.error
            return proc
        rest = "; ".join(e for e in proc.error.split("; ") if e != NOT_READ) or None
        # The last record holds the last smaps_rollup figures (no second copy kept).
        kept = self.scheduler.previous.get(key)
        if kept is None or kept.memory_time is None:  # never read: say why it last failed, if it did
            return replace(proc, error=self._reasons.get(key, proc.error))
        return replace(proc, **{name: getattr(kept, name) for name in MEMORY_FIELDS}, error=rest)  # type: ignore[arg-type]
