"""The OOM journal: the counter is the ground truth; a refused kernel log says why; the kills list reads well."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from memtop.collectors.kmsg import Kmsg, refusal
from memtop.collectors.oom import OomKill
from memtop.history.oom_journal import OomJournal, kill_entry, kill_lines
from memtop.history.timespec import describe_time

from tests.dashboard_fixtures import MIB, at


class Sink:
    def __init__(self) -> None:
        self.events: list[tuple[str, float, dict[str, Any]]] = []

    def event(self, kind: str, time: float, data: dict[str, Any]) -> None:
        self.events.append((kind, time, data))


def test_kills_the_log_did_not_show_are_counted() -> None:
    journal = OomJournal(live=False)
    sink = Sink()
    assert journal.poll(at(0.0, {"oom_kill": 3}), sink) == []  # the baseline
    lines = journal.poll(at(10.0, {"oom_kill": 5}), sink)
    assert lines == ["2 kill(s) counted by /proc/vmstat oom_kill that the kernel's log did not show"]
    assert sink.events[0][2]["unreported"] == 2
    assert "2 kill(s) counted" in kill_lines([sink.events[0][2]], describe_time)[0]


def test_dmesg_restrict_is_named(tmp_path: Path) -> None:
    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "sys" / "kernel" / "dmesg_restrict").write_text("1\n")
    why = refusal(PermissionError(errno.EPERM, "Operation not permitted"), Path("/dev/kmsg"), tmp_path)
    assert "kernel.dmesg_restrict=1" in why and "CAP_SYSLOG" in why
    assert "No such file" in Kmsg(tmp_path / "no-kmsg").refused  # type: ignore[operator]


def test_a_kill_keeps_the_victim_and_the_largest() -> None:
    kill = OomKill(usec=5, pid=201, name="python3", uid=1000, total_vm=None, anon_rss=100 * MIB, file_rss=0,
                   shmem_rss=0, pgtables=None, oom_score_adj=None, constraint="global")
    entry = kill_entry(kill, 1.0, at(0.0))
    assert entry["victim_pss"] == 120 * MIB and entry["victim_uss"] == 60 * MIB
    assert [t["pid"] for t in entry["top"]] == [300, 201, 202, 301, 302]
    (line,) = kill_lines([entry], describe_time)
    assert "python3 (pid 201, uid 1000) killed: the machine ran out of memory" in line
