"""Snapshots for dashboard tests: made by hand (known numbers) or from captured trees."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from memtop.collectors.heap import HeapReading
from memtop.collectors.models import ProcessMemory, Snapshot
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector

MIB = 1 << 20
CAPTURES = Path(__file__).resolve().parent / "fixtures" / "captures"


def proc(pid: int, name: str, pss: int | None, *, ppid: int = 1, user: str = "root", rss: int | None = None,
         uss: int | None = None, cmd: str | None = None, start: int = 100) -> ProcessMemory:
    """A process with sizes in MiB (None: unreadable)."""
    def mib(v: int | None) -> int | None:
        return None if v is None else v * MIB

    rss = rss if rss is not None else (pss or 1) * 2
    return ProcessMemory(
        pid=pid, ppid=ppid, starttime=start, name=name, cmdline=tuple((cmd or f"/usr/bin/{name}").split()),
        uid=0 if user == "root" else 1000, user=user, state="S", threads=1, kernel_thread=False,
        rss=mib(rss), pss=mib(pss), uss=mib(uss if uss is not None else (None if pss is None else pss // 2)),
        swap=0, anon=mib(rss // 2), file=mib(rss // 2), shmem=0, hugetlb=0, vsize=mib(rss * 4),
        anon_huge=0, oom_score=pid % 1000, oom_score_adj=0, memory_time=0.0 if pss is not None else None,
        error=None if pss is not None else "permission denied: needs root or the same user",
    )


#: A small machine: a tree under pid 1, two users, one unreadable process.
PROCESSES = (
    proc(1, "init", None, ppid=0),
    proc(100, "sshd", 6, ppid=1),
    proc(200, "bash", 3, ppid=100, user="alice"),
    proc(201, "python3", 120, ppid=200, user="alice", cmd="python3 train.py --epochs 10"),
    proc(202, "python3", 80, ppid=200, user="alice", cmd="python3 serve.py"),
    proc(300, "postgres", 400, ppid=1, user="postgres"),
    proc(301, "postgres", 60, ppid=300, user="postgres"),
    proc(302, "postgres", 50, ppid=300, user="postgres"),
    proc(400, "nginx", 12, ppid=1),
)


def captured(name: str = "vm-6.18-root") -> Snapshot:
    return Collector(HostPaths.from_root(CAPTURES / name), clock=lambda: 0.0).collect()


def made(processes: tuple[ProcessMemory, ...] = PROCESSES) -> Snapshot:
    """The captured host's system view with hand-made processes."""
    return replace(captured(), processes=processes, reconciliation=None)


def at(time: float, counters: dict[str, int] | None = None, processes: tuple[ProcessMemory, ...] = PROCESSES) -> Snapshot:
    """``made()`` at ``time`` with some /proc/vmstat counters set (a sequence gives rates)."""
    base = made(processes)
    vmstat = dict(base.vmstat)
    vmstat.update(counters or {})
    return replace(base, time=time, vmstat=tuple(vmstat.items()))


def growing(rss_mib: int, heap_mib: int | None = None) -> tuple[ProcessMemory, ...]:
    """PROCESSES with train.py (pid 201) at ``rss_mib`` of RSS, half of it anonymous."""
    return tuple(
        replace(p, rss=rss_mib * MIB, anon=rss_mib * MIB // 2) if p.pid == 201 else p for p in PROCESSES
    )


class FakeHeap:
    """An allocator that reports a fixed heap, standing in for mallinfo2."""

    SOURCE = "test allocator"
    reason = None

    def __init__(self, in_use: int) -> None:
        self.in_use = in_use

    def read(self) -> HeapReading:
        return HeapReading(self.in_use, self.SOURCE)
