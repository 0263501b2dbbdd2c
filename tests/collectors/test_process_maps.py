"""read_process_maps on the fixture trees: mappings, or the reason there are none."""

from __future__ import annotations

from pathlib import Path

from memtop.collectors.host import load_facts, user_lookup
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_build import KTHREAD, ZOMBIE
from memtop.collectors.process_maps import NO_SMAPS, read_process_maps, status_size
from memtop.collectors.processes import DENIED

from tests.dashboard_fixtures import CAPTURES


def read(root: Path, pid: int, starttime: int | None = None):  # type: ignore[no-untyped-def]
    paths = HostPaths.from_root(root)
    facts = load_facts(paths)
    return read_process_maps(paths, pid, user_lookup(facts, False), starttime, facts.denied)


def test_mappings_status_and_record(hosts: Path) -> None:
    maps = read(hosts / "no-rollup", 900)
    assert maps.process is not None and maps.process.name == "bash" and not maps.exited
    assert maps.error is None and maps.mappings is not None
    assert [m.kind for m in maps.mappings] == ["file", "heap", "lib", "stack"]
    assert status_size(maps.status, "VmRSS") == maps.process.rss
    assert maps.read_seconds >= 0


def test_a_reused_pid_is_the_process_having_exited(hosts: Path) -> None:
    first = read(hosts / "no-rollup", 900)
    assert first.starttime is not None
    again = read(hosts / "no-rollup", 900, first.starttime + 1)
    assert again.exited and again.process is None and again.mappings is None


def test_why_there_are_no_mappings(hosts: Path) -> None:
    denied = read(CAPTURES / "vm-6.18-user", 1084)
    assert denied.error == DENIED and denied.mappings is None and denied.process is not None
    assert status_size(denied.status, "VmRSS") is not None  # status stays readable
    assert read(hosts / "basic", 1).error == NO_SMAPS
    zombie = read(hosts / "zombie", 4242)
    assert zombie.error == ZOMBIE and zombie.mappings is None and not zombie.exited
    kthread = read(hosts / "kthread", 2)
    assert kthread.error == KTHREAD and kthread.mappings == ()
    assert read(hosts / "vanished", 200).exited  # listed, its stat gone
    assert read(hosts / "basic", 99999).exited
