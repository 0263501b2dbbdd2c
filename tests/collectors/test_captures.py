"""Trimmed captures of this project's machine (memtop capture, then pruned).

vm-6.18-root was taken as root, vm-6.18-user as an unprivileged user on the
same machine moments later. Both hold pid 1 (whose smaps_rollup even root may
not read there), two shells, a perl holding an 8 MiB string (written twice:
the literal and the variable) and two kernel threads. See their memtop-host.json.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from memtop.collectors.paths import HostPaths
from memtop.collectors.processes import DENIED
from memtop.collectors.snapshot import Collector, Options

CAPTURES = Path(__file__).resolve().parents[1] / "fixtures" / "captures"
MIB = 1 << 20


def collect(name: str, **options: object):
    return Collector(HostPaths.from_root(CAPTURES / name), Options(**options), clock=lambda: 0.0).collect()  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["vm-6.18-root", "vm-6.18-user"])
def test_capture_replays(name: str) -> None:
    snap = collect(name)
    assert (snap.hostname, snap.kernel, snap.page_size) == ("vm", "6.18.44-fc-v669", 4096)
    assert snap.system is not None and snap.system.overcount == 0
    assert sum(p.bytes for p in snap.system.taxonomy) == snap.system.total
    assert snap.thp is not None and snap.thp.enabled == "madvise"
    assert snap.thp.sizes is not None and dict(snap.thp.sizes)["2048kB"].enabled is not None
    assert snap.cgroup_hierarchy == "v1 memory at /sys/fs/cgroup/memory"
    assert [p.pid for p in snap.processes] == [1, 1084, 2347, 20421]  # kernel threads left out
    for proc in snap.processes:
        assert proc.rss is not None and proc.rss > 0  # status is world-readable
        assert proc.cgroup is not None and proc.cgroup.startswith("/")
        assert len(proc.cmdline) == 1  # cut to argv[0] by capture
    assert snap.hidden_processes == 0


def test_root_capture_has_pss_and_uss() -> None:
    procs = {p.pid: p for p in collect("vm-6.18-root").processes}
    perl = procs[20421]
    assert perl.user == "root" and perl.name == "perl" and perl.error is None
    assert perl.uss is not None and perl.uss >= 16 * MIB
    assert perl.pss is not None and perl.uss <= perl.pss <= perl.rss  # type: ignore[operator]
    assert procs[1].pss is None and procs[1].error == DENIED


def test_user_capture_says_permission_denied_never_zero() -> None:
    for proc in collect("vm-6.18-user").processes:
        assert proc.pss is None and proc.uss is None
        assert proc.error == DENIED


def test_kernel_threads_on_request() -> None:
    snap = collect("vm-6.18-root", kernel_threads=True)
    kthreads = [p for p in snap.processes if p.kernel_thread]
    assert {p.name for p in kthreads} == {"kthreadd", "ksoftirqd/0"}
    assert all(p.rss is None and p.pss is None and p.error for p in kthreads)
