"""Against the real /proc: child processes whose memory is known.

Each child writes its memory, says READY on stdout and waits for stdin to
close, so the figures are read while nothing moves.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from memtop.collectors.models import ProcessMemory
from memtop.collectors.paths import HostPaths
from memtop.collectors.smaps import read_mappings
from memtop.collectors.snapshot import Collector, Options

MIB = 1 << 20

pytestmark = pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs a Linux /proc")

PRIVATE_64 = """
import mmap, os, sys
if os.fork():  # the parent just waits: the measured process is the forked child
    os.wait(); sys.exit(0)
m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
m.madvise(mmap.MADV_NOHUGEPAGE) if hasattr(mmap, "MADV_NOHUGEPAGE") else None
for off in range(0, 64 << 20, 4096):
    m[off] = 1
os.write(1, f"READY {os.getpid()}\\n".encode())  # one write: lines never interleave
sys.stdin.read()
"""

SHARED_32 = """
import mmap, os, sys
m = mmap.mmap(-1, 32 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
pid = os.fork()
for off in range(0, 32 << 20, 4096):  # both processes touch every page
    m[off] = 1
os.write(1, f"READY {os.getpid()}\\n".encode())  # one write: lines never interleave
sys.stdin.read()
if pid:
    os.wait()
"""


@contextmanager
def children(code: str, count: int) -> Iterator[list[int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(count)]
        assert all(line.startswith("READY") for line in lines), lines
        pids = [int(line.split()[1]) for line in lines]
        yield pids
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def collect(pids: list[int]) -> dict[int, ProcessMemory]:
    snap = Collector(HostPaths(), Options(pids=tuple(pids))).collect()
    return {p.pid: p for p in snap.processes}


def test_private_64mib_after_fork_is_uss() -> None:
    with children(PRIVATE_64, 1) as pids:
        proc = collect(pids)[pids[0]]
    assert proc.error is None
    assert proc.uss is not None and proc.uss >= 64 * MIB
    assert proc.pss is not None and proc.pss >= proc.uss
    assert proc.rss is not None and proc.rss >= proc.pss


def test_shared_32mib_is_split_in_pss_and_absent_from_uss() -> None:
    with children(SHARED_32, 2) as pids:
        procs = collect(pids)
        regions = {pid: [m for m in read_mappings(Path("/proc"), pid) if m.size == 32 * MIB] for pid in pids}
    for pid in pids:
        (region,) = regions[pid]
        assert region.rss == 32 * MIB
        # Two sharers: each is charged half in PSS, nothing in USS.
        assert abs(region.pss - 16 * MIB) <= 4096
        assert region.uss == 0
        assert procs[pid].pss is not None and procs[pid].pss >= 16 * MIB
        # The 32 MiB region is not in USS (the interpreter's own pages are).
        assert procs[pid].uss is not None and procs[pid].uss < 16 * MIB


def test_rollup_matches_summed_smaps_within_a_kb_per_mapping() -> None:
    with children(PRIVATE_64, 1) as pids:
        pid = pids[0]
        # PSS of shared pages moves whenever any other process maps or unmaps
        # the same files (a busy machine starts Pythons all the time), so
        # compare only a smaps read framed by two identical rollups.
        for _attempt in range(20):
            before = collect(pids)[pid]
            maps = read_mappings(Path("/proc"), pid)
            after = collect(pids)[pid]
            if (before.pss, before.uss) == (after.pss, after.uss):
                break
        else:
            pytest.skip("the machine never held still for one smaps read")
        status = Path(f"/proc/{pid}/status").read_text()
    proc = before
    slack = 1024 * len(maps)
    assert proc.pss is not None and proc.uss is not None
    assert abs(proc.pss - sum(m.pss for m in maps)) <= slack
    assert abs(proc.uss - sum(m.uss for m in maps)) <= slack
    vmrss = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
    # VmRSS comes from per-CPU counters: close to, not always equal to, the summed Rss.
    assert abs(vmrss - sum(m.rss for m in maps)) <= 256 * 1024


def test_live_taxonomy_sums_to_memtotal() -> None:
    snap = Collector(HostPaths()).collect()
    system = snap.system
    assert system is not None and system.total is not None
    if system.overcount == 0:
        assert sum(p.bytes for p in system.taxonomy) == system.total
    assert system.available is not None and system.used == system.total - system.available


def test_exited_process_is_dropped_not_zeroed() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    snap = Collector(HostPaths(), Options(pids=(proc.pid,))).collect()
    assert snap.processes == ()
