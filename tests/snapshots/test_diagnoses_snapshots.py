"""Pictures of the diagnosis line, the diagnoses panel (d) and the working-set box (w), from fixture data."""

from __future__ import annotations

from dataclasses import replace

import pytest

from memtop.collectors.models import WorkingSet
from memtop.tui.app import MemtopApp
from memtop.state.heap_sources import HeapSources
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady

from tests.cgroup_fixtures import with_cgroups
from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES

GIB = 1 << 30


def sequence() -> list:  # type: ignore[type-arg]
    """A limited cgroup with new OOM kills, compaction stalls, available low."""
    out = []
    for t in range(4):
        snap = with_cgroups(1 if t < 2 else 3)
        assert snap.system is not None
        vmstat = dict(snap.vmstat)
        vmstat.update({"compact_stall": 7 + (2 if t >= 2 else 0), "pswpin": 3000 * t})
        out.append(replace(snap, time=float(t), vmstat=tuple(vmstat.items()),
                           system=replace(snap.system, available=2 * GIB, free=300 * MIB)))
    return out


def make_app() -> MemtopApp:
    snaps = sequence()
    return new_app(snaps[0], pid=201, heap=HeapSources(None))


async def feed(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for snap in sequence()[1:]:
        pilot.app.post_message(SnapshotReady(Reading(snap)))
        await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_diagnoses_panel(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size, run_before=feed, press=["d"])


def test_main_screen_with_a_critical_diagnosis(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=feed)


async def measured(pilot) -> None:  # type: ignore[no-untyped-def]
    await feed(pilot)
    p = next(p for p in PROCESSES if p.pid == 201)
    pilot.app.model.working_sets.results[p.key] = WorkingSet(
        201, p.starttime, "python3", 5.0, 1.0, 190 * MIB, p.rss, 64 * MIB, 2 * GIB,
        limit=512 * MIB, cgroup="/user.slice/user-1000.slice", cgroup_current=500 * MIB)
    await pilot.press("w")
    await pilot.pause()


def test_working_set_box_with_a_result_that_does_not_fit(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(120, 35), run_before=measured)
