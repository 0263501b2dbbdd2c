"""The real thing: a memory cgroup made on this machine, with a limit and a process in it.

The child cgroup is made under the cgroup the test runs in (v1 memory or v2),
so it needs root, or a delegated v2 subtree with the memory controller
enabled; elsewhere the test is skipped with the reason. Everything made is
removed again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtop.rules.cgroup_usage import pss_sums
from memtop.collectors.cgroup_tree import CgroupReader
from memtop.collectors.models import UNLIMITED
from memtop.collectors.paths import HostPaths
from memtop.collectors.procfs import memory_cgroup, parse_cgroup
from memtop.collectors.snapshot import Collector

from tests.waiting import wait_until

MIB = 1 << 20

#: Joins the cgroup first (so every page it then touches is charged there),
#: touches N MiB of anonymous memory, says so, and waits for stdin to close.
CHILD = """
import sys
with open(sys.argv[1], "w") as f:
    f.write("0")  # cgroup.procs: "0" means the writing process
block = bytearray(int(sys.argv[2]) << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
print("ready", flush=True)
sys.stdin.read()
"""


def _made_cgroup(name: str) -> tuple[CgroupReader, str, Path]:
    reader = CgroupReader(HostPaths(), os.sysconf("SC_PAGE_SIZE"))
    if reader.mount is None or reader.top is None:
        pytest.skip(f"no usable memory cgroup hierarchy here ({reader.note or 'no cgroup fs mounted'})")
    text = Path("/proc/self/cgroup").read_text()
    found = memory_cgroup(parse_cgroup(text))
    if found is None:
        pytest.skip("this process is in no memory cgroup")
    own = found[1]
    directory = reader.directory(own)
    if directory is None or not directory.is_dir():
        pytest.skip(f"our cgroup {own} is outside the mounted hierarchy (a cgroup namespace)")
    if reader.mount.version == 2:
        control = (directory / "cgroup.subtree_control").read_text().split()
        if "memory" not in control:
            pytest.skip(f"cgroup v2: memory is not enabled in {own}'s cgroup.subtree_control (not delegated)")
    child = directory / name
    try:
        child.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot create a cgroup under {directory}: {exc.strerror}")
    path = own.rstrip("/") + "/" + name
    return reader, path, child


def _limit(reader: CgroupReader, child: Path, limit: int) -> None:
    if reader.mount is not None and reader.mount.version == 1:
        (child / "memory.limit_in_bytes").write_text(str(limit))
    else:
        (child / "memory.max").write_text(str(limit))
        if (child / "memory.swap.max").exists():
            (child / "memory.swap.max").write_text("0")  # an OOM, not swapping


def _remove(child: Path) -> None:
    def removed() -> bool:
        try:
            child.rmdir()
        except OSError:
            return False
        return True

    try:  # the kernel empties cgroup.procs a moment after the exit
        wait_until(removed, interval=0.05, what="the kernel to empty the cgroup")  # the default timeout: a loaded machine is slow
    except AssertionError:
        child.rmdir()  # raises the kernel's reason


@pytest.fixture
def limited() -> Iterator[tuple[CgroupReader, str, Path]]:
    reader, path, child = _made_cgroup(f"memtop-test-{os.getpid()}")
    try:
        yield reader, path, child
    finally:
        _remove(child)


def test_usage_limit_and_attribution_of_a_real_cgroup(limited: tuple[CgroupReader, str, Path]) -> None:
    reader, path, child = limited
    _limit(reader, child, 96 * MIB)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(child / "cgroup.procs"), "24"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        snap = Collector(HostPaths()).collect()
        assert snap.cgroups is not None
        found = {c.path: c for c in snap.cgroups}
        assert path in found, f"{path} not among {sorted(found)}"
        mine = found[path]
        assert mine.max == 96 * MIB
        assert isinstance(mine.effective_max, int) and mine.effective_max <= 96 * MIB
        assert mine.current is not None and 24 * MIB <= mine.current <= 96 * MIB
        assert mine.procs == (proc.pid,)
        member = next(p for p in snap.processes if p.pid == proc.pid)
        assert member.cgroup == path  # /proc/PID/cgroup agrees with cgroup.procs
        sums = pss_sums(snap.cgroups, snap.processes)
        assert sums[path].processes == 1 and sums[path].pss == member.pss
        assert member.pss is not None and member.pss >= 24 * MIB
        # Attribution upward: the parent's subtree holds the child's PSS too.
        parent = path.rsplit("/", 1)[0] or "/"
        assert parent in sums and sums[parent].pss >= sums[path].pss
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


def test_an_oom_kill_is_counted(limited: tuple[CgroupReader, str, Path]) -> None:
    reader, path, child = limited
    _limit(reader, child, 32 * MIB)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(child / "cgroup.procs"), "128"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9, proc.stderr[-300:]  # SIGKILL from the OOM killer
    record = reader.read(child, path)
    assert record is not None
    events = dict(record.events)
    if "oom_kill" not in events:
        pytest.skip("kernel before 4.13: memory.oom_control has no oom_kill")
    assert events["oom_kill"] == 1
    assert record.max == 32 * MIB and record.max != UNLIMITED
    if reader.mount is not None and reader.mount.version == 1:
        assert events["failcnt"] > 0  # usage hit the limit before the kill
    else:
        assert events["max"] > 0 and events["oom"] >= 1
