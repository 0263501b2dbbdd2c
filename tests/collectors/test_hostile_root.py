"""A --root tree anyone may have built: FIFOs, links to devices, huge files, mountinfo that walks out (issue 13 item 6).

memtop runs in a child under a deadline: before issue 13 the FIFO cases hung
it forever and the huge file took all memory, which would have taken the
test run along.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memtop.collectors.cgroup_tree import CgroupReader
from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, HostError, Options

#: Long enough for a loaded 2-core machine; memtop on a fixture tree takes about a second.
DEADLINE = 60
#: The child's address space: a read without a cap of a 64 GiB file cannot fit.
MEMORY = 1 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def memtop(*args: str) -> subprocess.CompletedProcess[str]:
    """``memtop ARGS`` in a child: its output, or a failure saying it hung."""
    try:
        return subprocess.run([sys.executable, "-m", "memtop", *args], capture_output=True, text=True,
                              timeout=DEADLINE, stdin=subprocess.DEVNULL, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"memtop {' '.join(args)} hung for {DEADLINE} s")


def copy_tree(hosts: Path, tmp_path: Path, name: str = "basic") -> Path:
    dest = tmp_path / name
    shutil.copytree(hosts / name, dest)
    return dest


def plant_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


@pytest.mark.parametrize("mode", ["--json", "--once"])
def test_every_file_a_fifo_does_not_hang(hosts: Path, tmp_path: Path, mode: str) -> None:
    root = copy_tree(hosts, tmp_path)
    for path in [p for p in root.rglob("*") if p.is_file()]:
        plant_fifo(path)
    result = memtop(mode, "--root", str(root))
    no_traceback(result)


@pytest.mark.parametrize("name", ["proc/1234/smaps_rollup", "proc/1234/status", "proc/1234/stat", "proc/1234/cgroup",
                                  "proc/1234/cmdline", "proc/vmstat", "memtop-host.json"])
def test_one_fifo_costs_only_its_own_figure(hosts: Path, tmp_path: Path, name: str) -> None:
    root = copy_tree(hosts, tmp_path)
    if not (root / name).exists():
        pytest.skip(f"the basic tree has no {name}")
    plant_fifo(root / name)
    result = memtop("--json", "--root", str(root))
    no_traceback(result)
    assert result.returncode == 0 and '"schema": "memtop.snapshot/1"' in result.stdout


def test_a_rollup_linked_to_dev_zero_is_refused_with_its_reason(hosts: Path, tmp_path: Path) -> None:
    root = copy_tree(hosts, tmp_path)
    rollup = root / "proc" / "1234" / "smaps_rollup"
    rollup.unlink()
    rollup.symlink_to("/dev/zero")
    result = memtop("--json", "--root", str(root))
    no_traceback(result)
    assert result.returncode == 0
    assert "symbolic link" in result.stdout  # the process's error names why it has no PSS


def test_a_huge_rollup_is_refused_not_read(hosts: Path, tmp_path: Path) -> None:
    root = copy_tree(hosts, tmp_path)
    rollup = root / "proc" / "1234" / "smaps_rollup"
    os.truncate(rollup, 64 << 30)  # sparse: 64 GiB that take no disk
    result = memtop("--json", "--root", str(root))
    no_traceback(result)
    assert result.returncode == 0 and "larger than" in result.stdout


def _mountinfo(root: Path, point: str) -> None:
    (root / "proc" / "self" / "mountinfo").write_text(
        f"31 22 0:26 / {point} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n")


@pytest.mark.parametrize("point", ["/sys/../../../", "/sys/fs/../../..", "/../../etc"])
def test_a_mount_point_that_walks_out_of_the_tree_is_refused(hosts: Path, tmp_path: Path, point: str) -> None:
    root = copy_tree(hosts, tmp_path, "v2")
    _mountinfo(root, point)
    reader = CgroupReader(HostPaths.from_root(root), 4096)
    assert reader.top is None and reader.tree() is None
    assert reader.note is not None and "leads out of the tree" in reader.note


def test_a_link_in_the_tree_that_leads_out_is_refused(hosts: Path, tmp_path: Path) -> None:
    root = copy_tree(hosts, tmp_path, "v2")
    cgroup = root / "sys" / "fs" / "cgroup"
    shutil.rmtree(cgroup)
    outside = tmp_path / "outside"
    shutil.copytree(hosts / "v2" / "sys" / "fs" / "cgroup", outside)
    cgroup.symlink_to(outside)
    reader = CgroupReader(HostPaths.from_root(root), 4096)
    assert reader.top is None and reader.tree() is None


def test_a_cgroup_path_that_climbs_is_refused(hosts: Path, tmp_path: Path) -> None:
    root = copy_tree(hosts, tmp_path, "v2")
    reader = CgroupReader(HostPaths.from_root(root), 4096)
    assert reader.top is not None
    assert reader.directory("/system.slice/../../..") is None
    assert reader.directory("/system.slice") == reader.top / "system.slice"


def test_a_pid_directory_that_is_a_link_out_of_the_tree_is_not_listed(hosts: Path, tmp_path: Path) -> None:
    root = copy_tree(hosts, tmp_path)
    (root / "proc" / "4242").symlink_to(f"/proc/{os.getpid()}")  # the live test process, as if captured
    snap = Collector(HostPaths.from_root(root), Options()).collect()
    assert 4242 not in {p.pid for p in snap.processes} and 1234 in {p.pid for p in snap.processes}


def test_a_proc_that_is_a_link_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    (root / "proc").symlink_to("/proc")
    with pytest.raises(HostError, match="leads out of the tree"):
        Collector(HostPaths.from_root(root), Options())
    result = memtop("--json", "--root", str(root))
    no_traceback(result)
    assert result.returncode != 0 and "leads out of the tree" in result.stderr
