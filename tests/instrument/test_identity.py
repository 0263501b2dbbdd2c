"""A pid's identity (instrument/identity.py) and F9's send without pidfds (issue 13, item 4)."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pytest

from memtop.collectors.paths import HostPaths
from memtop.instrument import signals
from memtop.instrument.identity import changed, started, starttime

from tests.processes import proc_tree, start_reporter


def paths_for(root: Path) -> HostPaths:
    return HostPaths(proc=root / "proc", sys=root / "sys", live=True)


def clock(seconds_after_boot: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(1_700_000_000 + seconds_after_boot))


def test_the_same_process_passes_and_another_or_none_is_said(tmp_path: Path) -> None:
    proc_tree(tmp_path, 42, start=4200)
    paths = paths_for(tmp_path)
    assert starttime(paths, 42) == 4200 and changed(paths, 42, 4200) is None
    assert changed(paths, 42, 100) == f"pid 42 is now a different process (started {clock(42)}, not {clock(1)})"
    assert changed(paths, 43, 4200) == "pid 43 has exited"


@pytest.mark.parametrize("text", [b"", b"garbage", b"42 (x) S 1 2 3\n", b"\xff" * 100])
def test_a_stat_that_is_not_one_names_no_process(tmp_path: Path, text: bytes) -> None:
    proc_tree(tmp_path, 42, start=4200)
    (tmp_path / "proc" / "42" / "stat").write_bytes(text)
    assert starttime(paths_for(tmp_path), 42) is None and changed(paths_for(tmp_path), 42, 4200) == "pid 42 has exited"


def test_without_a_boot_time_a_start_is_said_after_boot(tmp_path: Path) -> None:
    (tmp_path / "proc").mkdir()
    hz = os.sysconf("SC_CLK_TCK")
    assert started(paths_for(tmp_path), 90 * hz) == "90 s after boot"


def test_without_pidfds_the_check_comes_right_before_kill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pidfds(pid: int) -> int:
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfds)
    b = start_reporter()
    try:
        proc_tree(tmp_path, b.pid, start=4900)  # another process holds the pid now
        sent = signals.send(paths_for(tmp_path), b.pid, 4200, "sleeper", int(signal.SIGTERM))
        assert sent.error is not None and sent.error.endswith("nothing sent") and b.received() == []
        now = starttime(HostPaths(), b.pid)
        assert now is not None
        assert signals.send(HostPaths(), b.pid, now, "sleeper", int(signal.SIGTERM)).error is None
        assert b.received() == ["SIGTERM"]
    finally:
        b.stop()
