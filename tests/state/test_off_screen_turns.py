"""Processes not on screen are read every other refresh, by turns (issue 17, goal 2): what that keeps true.

A real ProcessReader on a copy of a fixture tree, its files changed between
passes as a process's would be.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from memtop.collectors.paths import HostPaths
from memtop.collectors.snapshot import Collector, Options
from memtop.state.session import LiveSession, Scheduler

HOSTS = Path(__file__).resolve().parents[1] / "fixtures" / "hosts"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tree(tmp_path: Path, name: str = "basic") -> Path:
    shutil.copytree(HOSTS / name, tmp_path / name)
    return tmp_path / name


def grow(root: Path, pid: int, rss_kb: int) -> None:
    """The process ran and faulted pages in: its stat (minor faults) and status (VmRSS) change."""
    base = root / "proc" / str(pid)
    head, _paren, rest = (base / "stat").read_text().rpartition(")")
    fields = rest.split(" ")  # "", state, ppid, pgrp, session, tty, tpgid, flags, minflt, ...
    fields[8] = str(int(fields[8]) + 1)
    (base / "stat").write_text(head + ")" + " ".join(fields))
    status = (base / "status").read_text()
    (base / "status").write_text(re.sub(r"VmRSS:\s+\d+ kB", f"VmRSS:\t{rss_kb} kB", status))


def session(root: Path, clock: Clock, every: int = 2) -> tuple[LiveSession, Scheduler]:
    scheduler = Scheduler(interval=1.0, clock=clock, stat_every=every)
    return LiveSession(Collector(HostPaths.from_root(root), Options(), clock=clock), scheduler), scheduler


def rss(live: LiveSession, clock: Clock, pid: int) -> tuple[int | None, dict[tuple[object, ...], float]]:
    """One pass a second later: ``pid``'s RSS and the pass's rates."""
    clock.now += 1
    snap, rates = live.collect()
    return next(p.rss for p in snap.processes if p.pid == pid), rates


def test_a_row_on_screen_is_read_every_refresh_one_off_screen_within_two(tmp_path: Path) -> None:
    root, clock = tree(tmp_path), Clock()
    live, scheduler = session(root, clock)
    live.collect()
    scheduler.visible = frozenset({1})
    unread = []
    for _ in range(4):
        rss(live, clock, 1)
        unread.append({pid for pid, _start in scheduler.unread})
    assert all(1 not in pids for pids in unread)  # on screen: its stat every refresh
    assert set().union(*unread) == {1234, 1300}  # off screen: left unread on some refreshes...
    assert all(not unread[i] & unread[i + 1] for i in range(3))  # ...never on two in a row
    grow(root, 1, 9_000)
    assert rss(live, clock, 1)[0] == 9_000 * 1024  # ...on screen: at the next refresh
    for pid in (1234, 1300):
        grow(root, pid, 77_000)
        seen = [rss(live, clock, pid)[0] for _ in range(2)]
        assert seen[-1] == 77_000 * 1024  # off screen: within two refreshes


def test_every_one_reads_every_process_every_refresh(tmp_path: Path) -> None:
    """``memtop record`` and the exporter: no turns (their one sample a pass is the record)."""
    root, clock = tree(tmp_path), Clock()
    live, scheduler = session(root, clock, every=1)
    live.collect()
    for _ in range(3):
        rss(live, clock, 1300)
        assert scheduler.unread == set()


def test_the_selected_process_is_read_every_refresh(tmp_path: Path) -> None:
    root, clock = tree(tmp_path), Clock()
    live, scheduler = session(root, clock)
    live.collect()
    scheduler.selected = 1300
    for step in range(4):
        grow(root, 1300, 50_000 + step)
        assert rss(live, clock, 1300)[0] == (50_000 + step) * 1024


def test_a_rate_over_a_refresh_left_unread_spans_both_seconds(tmp_path: Path) -> None:
    root, clock = tree(tmp_path), Clock()
    live, scheduler = session(root, clock)
    live.collect()
    for _ in range(2):  # to the pass that leaves 1300 unread
        rss(live, clock, 1300)
        if any(pid == 1300 for pid, _start in scheduler.unread):
            break
    else:
        raise AssertionError("1300 was read on two refreshes in a row")
    grow(root, 1300, 25_000 + 2_000)  # +2,000 kB since it was last read, two seconds ago
    value, rates = rss(live, clock, 1300)
    assert value == 27_000 * 1024
    assert rates[("p", 1300, 6000)] == 1_000 * 1024  # per second: over two, not one
    grow(root, 1300, 29_000)
    _value, rates = rss(live, clock, 1300)  # its turn passes: the last rate stands (a sort by it holds)
    assert {pid for pid, _start in scheduler.unread} >= {1300} and rates[("p", 1300, 6000)] == 1_000 * 1024


def test_a_new_process_is_read_at_once_and_an_exited_one_leaves(tmp_path: Path) -> None:
    root, clock = tree(tmp_path), Clock()
    live, _scheduler = session(root, clock)
    live.collect()
    shutil.copytree(root / "proc" / "1300", root / "proc" / "1302")
    stat = root / "proc" / "1302" / "stat"
    stat.write_text(stat.read_text().replace("1300 (Web Content)", "1302 (Web Content)", 1))
    for _ in range(2):  # whichever turn: new pids are read on the pass that lists them
        clock.now += 1
        snap, _ = live.collect()
        assert 1302 in {p.pid for p in snap.processes}
    shutil.rmtree(root / "proc" / "1234")
    clock.now += 1
    snap, _ = live.collect()
    assert 1234 not in {p.pid for p in snap.processes}


def test_a_hidden_kernel_thread_is_known_without_reading_its_stat_every_refresh(tmp_path: Path) -> None:
    root, clock = tree(tmp_path, "kthread"), Clock()
    live, scheduler = session(root, clock)
    first, _ = live.collect()
    clock.now += 1
    live.collect()
    kthreads = set(scheduler.kernel)
    assert kthreads == {2, 14} and not kthreads & {p.pid for p in first.processes}
    for pid in kthreads:  # they exit: noticed on their next turn, not before
        (root / "proc" / str(pid) / "stat").unlink()
    known = []
    for _ in range(2):
        clock.now += 1
        snap, _ = live.collect()
        known.append(set(scheduler.kernel))
        assert {p.pid for p in snap.processes} == {p.pid for p in first.processes}  # still hidden
    assert known == [kthreads, set()]  # the third pass is not their turn (pid + pass is odd), the fourth is
