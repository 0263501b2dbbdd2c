"""Pictures of the THP panel and the heap-vs-RSS chart (pytest-textual-snapshot).

A fixed sequence of fixture snapshots (clock from 0): THP faults and
fallbacks moving, two compaction stalls, and train.py (pid 201) growing
while its preload counters report a flat heap (a structural leak).
Nothing depends on this host.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from memtop.collectors.models import HeapCounters, Snapshot
from memtop.tui.app import MemtopApp
from memtop.state.heap_sources import HeapSources
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, at, growing

SEQUENCE = [
    (float(t), {"thp_fault_alloc": 100 + 40 * t, "thp_fault_fallback": 5 * t, "compact_stall": 7 + (2 if t >= 20 else 0)}, 100 + 3 * t)
    for t in range(0, 31, 2)
]


#: train.py's heap as the preload library publishes it: 80 MiB, flat.
HEAP = HeapCounters(pid=201, source="preload", starttime=100, in_use=80 * MIB, peak=None, allocs=1000, frees=10)


def snapshot(time: float, counters: dict[str, int], rss: int) -> Snapshot:
    return replace(at(time, counters, growing(rss)), heaps=(HEAP,))


def make_app() -> MemtopApp:
    return new_app(snapshot(*SEQUENCE[0]), pid=201, heap=HeapSources())


async def feed(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for step in SEQUENCE[1:]:
        pilot.app.post_message(SnapshotReady(Reading(snapshot(*step))))
        await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_panes_with_stalls_and_a_growing_process(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size, run_before=feed)


def test_thp_counters_explained(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=feed, press=["T"])
