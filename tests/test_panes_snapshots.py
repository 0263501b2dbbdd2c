"""Pictures of the THP panel and the heap-vs-RSS chart (pytest-textual-snapshot).

A fixed sequence of fixture snapshots (clock from 0): THP faults and
fallbacks moving, two compaction stalls, and train.py (pid 201) growing
while a stand-in allocator reports its heap. Nothing depends on this host.
"""

from __future__ import annotations

import pytest

from memtop.dashboard import MemtopApp, StartOptions
from memtop.heap_sources import HeapSources
from memtop.messages import SnapshotReady

from .dashboard_fixtures import MIB, at, growing
from .test_panes import FakeHeap

SEQUENCE = [
    (float(t), {"thp_fault_alloc": 100 + 40 * t, "thp_fault_fallback": 5 * t, "compact_stall": 7 + (2 if t >= 20 else 0)}, 100 + 3 * t)
    for t in range(0, 31, 2)
]


def make_app() -> MemtopApp:
    first_time, counters, rss = SEQUENCE[0]
    heap = HeapSources(FakeHeap(80 * MIB), own_pid=201)
    return MemtopApp(None, StartOptions(pid=201), snapshot=at(first_time, counters, growing(rss)), own_stats=False, heap=heap)


async def feed(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for time, counters, rss in SEQUENCE[1:]:
        pilot.app.post_message(SnapshotReady(at(time, counters, growing(rss)), {}, None, None))
        await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_panes_with_stalls_and_a_growing_process(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size, run_before=feed)


def test_thp_counters_explained(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=feed, press=["T"])
