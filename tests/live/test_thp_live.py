"""THP counters: the per-size refresh on a fixture tree, and real huge-page faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.collectors.thp import may_fault, read_thp, refresh_stats
from memtop.state.counters import counter_values
from memtop.state.session import LiveSession, Scheduler

from tests.dashboard_fixtures import CAPTURES
from tests.live.test_live_proc import children

THP = Path("/sys/kernel/mm/transparent_hugepage")


def test_refresh_rereads_only_the_sizes_that_can_fault(tmp_path: Path) -> None:
    root = tmp_path / "host"
    shutil.copytree(CAPTURES / "vm-6.18-root" / "sys" / "kernel", root / "sys" / "kernel")
    sys_root = root / "sys"
    state = read_thp(sys_root)
    assert state is not None and state.sizes and state.enabled == "madvise"
    sizes = dict(state.sizes)
    assert sizes["2048kB"].enabled == "inherit" and may_fault(sizes["2048kB"], state.enabled)
    assert sizes["64kB"].enabled == "never" and not may_fault(sizes["64kB"], state.enabled)
    thp_dir = sys_root / "kernel" / "mm" / "transparent_hugepage"
    (thp_dir / "hugepages-2048kB" / "stats" / "anon_fault_alloc").write_text("4242\n")
    (thp_dir / "hugepages-64kB" / "stats" / "anon_fault_alloc").write_text("99\n")
    (thp_dir / "enabled").write_text("always madvise [never]\n")  # policies are not re-read
    fresh = refresh_stats(sys_root, state)
    after = dict(fresh.sizes or ())
    assert dict(after["2048kB"].stats)["anon_fault_alloc"] == 4242
    assert dict(after["64kB"].stats)["anon_fault_alloc"] == dict(sizes["64kB"].stats)["anon_fault_alloc"]
    assert fresh.enabled == "madvise"


def test_refresh_without_sysfs_keeps_the_state(tmp_path: Path) -> None:
    state = read_thp(CAPTURES / "vm-6.18-root" / "sys")
    assert state is not None
    assert refresh_stats(tmp_path / "nothing", state) is state


HUGE_FAULTS = """
import mmap, os, sys
size = 64 << 20
m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)  # private: anon THP, not shmem
m.madvise(mmap.MADV_HUGEPAGE)
for off in range(0, size, 4096):
    m[off] = 1
os.write(1, f"READY {os.getpid()}\\n".encode())
sys.stdin.read()
"""


def _thp_enabled() -> str | None:
    try:
        text = (THP / "enabled").read_text()
    except OSError:
        return None
    return text[text.index("[") + 1 : text.index("]")]


@pytest.mark.skipif(_thp_enabled() in (None, "never"), reason=f"THP is {_thp_enabled() or 'absent'} on this host: no huge-page faults")
def test_huge_page_faults_make_thp_fault_alloc_rise() -> None:
    # A live session as the dashboard runs it: the second pass reuses the
    # THP policies and re-reads only the stats of the sizes that can fault.
    collector = Collector(HostPaths(), Options(pids=(1,)))
    session = LiveSession(collector, Scheduler(interval=1.0))
    before, _ = session.collect()
    with children(HUGE_FAULTS, 1) as pids:
        after, _ = session.collect()
        child = Collector(HostPaths(), Options(pids=tuple(pids))).collect(thp=False).processes[0]
    old, new = counter_values(before), counter_values(after)
    # 64 MiB holds at least 31 aligned 2 MiB ranges; other processes can only add.
    assert new["thp_fault_alloc"] - old["thp_fault_alloc"] >= 16
    if "2048kB:anon_fault_alloc" in old:  # 6.9+: per-size stats, refreshed between full reads
        assert new["2048kB:anon_fault_alloc"] - old["2048kB:anon_fault_alloc"] >= 16
    assert child.anon_huge is not None and child.anon_huge >= 16 * 2 * (1 << 20)
