"""What memtop says when it cannot measure: the kernel's own words to root, refusals before any act (issue 13, item 10)."""

from __future__ import annotations

import errno
import os
from dataclasses import replace
from pathlib import Path

import pytest

import memtop.collectors.processes as processes
from memtop.cli import main
from memtop.collectors.paths import HostPaths
from memtop.collectors.processes import DENIED, ROOT_REFUSED, ProcessReader
from memtop.collectors.snapshot import Collector, Options
from memtop.collectors.working_set import Refused
from memtop.output.report import footnotes
from memtop.state.working_sets import measure_once
from memtop.tables.process_rows import ViewState, totals
from memtop.tables.process_view import totals_line

from tests.dashboard_fixtures import CAPTURES, captured

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"


@pytest.fixture
def refusing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel refuses every smaps_rollup with EACCES, as it does pid 1 in a sandbox even to root."""
    real = processes.read_record

    def read_record(dir_fd: int | None, name: str) -> bytes:
        if name.endswith("/smaps_rollup"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(dir_fd, name)

    monkeypatch.setattr(processes, "read_record", read_record)


def _read_pid_1(uid: int, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(os, "geteuid", lambda: uid)
    live_like = HostPaths(proc=HOSTS / "basic" / "proc", sys=HOSTS / "basic" / "sys", live=True)
    with ProcessReader(live_like, lambda _uid: "root") as reader:
        proc, _ = reader.read(1)
    assert proc is not None and proc.pss is None and proc.error is not None
    return proc.error


def test_root_refused_hears_what_the_kernel_said_not_needs_root(refusing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    error = _read_pid_1(0, monkeypatch)
    assert "needs root" not in error
    assert ROOT_REFUSED in error and "Permission denied (EACCES)" in error


def test_a_user_refused_is_told_it_needs_root(refusing: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _read_pid_1(1000, monkeypatch) == DENIED


def test_the_report_and_the_totals_line_say_needs_root_only_where_it_is_the_reason() -> None:
    snap = captured()
    root_refused = replace(snap.processes[0], pss=None, uss=None, error=f"smaps_rollup {ROOT_REFUSED}: Permission denied (EACCES)")
    notes = footnotes(snap, [root_refused])
    assert not any("needs root" in n for n in notes)
    assert any("even to root" in n for n in notes)
    line = totals_line(totals([root_refused]), ViewState(), 1, None)
    assert "needs root" not in line and "PSS n/a for 1 (Enter: why)" in line
    denied = replace(root_refused, error=DENIED)
    assert "PSS n/a for 1 (needs root)" in totals_line(totals([denied]), ViewState(), 1, None)


def test_wss_refuses_before_saying_measuring() -> None:
    said: list[str] = []
    collector = Collector(HostPaths.from_root(CAPTURES / "vm-6.18-root"), Options())
    with pytest.raises(Refused):
        measure_once(collector, 1084, 0.1, said.append)
    assert said == []


def test_wss_of_a_kernel_thread_refuses_before_measuring(capsys: pytest.CaptureFixture[str]) -> None:
    live_kthread = Path("/proc/2/stat")
    if not live_kthread.exists() or b"kthreadd" not in live_kthread.read_bytes():
        pytest.skip("no kthreadd at pid 2 here")
    assert main(["--wss", "2", "--wss-window", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "measuring" not in err and "kernel thread" in err


def test_maps_of_a_kernel_thread_says_so_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--maps", "2", "--root", str(HOSTS / "kthread")]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "kernel thread" in out.err and "total" not in out.err
