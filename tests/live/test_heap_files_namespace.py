"""A memtop in a pid namespace sharing /dev/shm with the host removes none of the host's heap files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collectors.test_heap_shm import MIB, counter_file, own_starttime


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare for a pid namespace")
def test_a_memtop_in_a_pid_namespace_leaves_the_hosts_live_files_alone(tmp_path: Path) -> None:
    path = tmp_path / f"memtop-heap.{os.getpid()}"  # this live process's, named by its host pid
    path.write_bytes(counter_file(os.getpid(), own_starttime(), [(MIB, 1, 0)]))
    inside = ("from pathlib import Path; from memtop.collectors.heap_shm import HeapFiles; "
              f"files = HeapFiles(Path({str(tmp_path)!r})); print(files.sweeps, files.read(lambda: {{}}))")
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", inside],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "{}"]
    assert path.exists()  # before the fix: the pid is not in the namespace's /proc, so "stale", removed
