"""Pictures of key H (pytest-textual-snapshot): the question, and a gdb sample in the chart.

Fixture snapshots only (clock from 0) and a stand-in for gdb: nothing depends on this host.
"""

from __future__ import annotations

import pytest

from memtop.tui.app import MemtopApp
from memtop.state.heap_sources import HeapSources
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady

from tests.conftest import new_app
from tests.dashboard_fixtures import at, growing
from tests.tui.test_heap_sample_screen import FakeSampler


def make_app() -> MemtopApp:
    heap = HeapSources(sampler=FakeSampler())
    return new_app(at(0.0, processes=growing(100)), pid=201, heap=heap)


async def ask(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press("H")


async def sampled(pilot) -> None:  # type: ignore[no-untyped-def]
    await ask(pilot)
    await pilot.press("shift+tab", "enter")  # Sample (Cancel has the focus)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    for t in range(2, 41, 2):  # RSS grows after the sample; the point stays where it was taken
        pilot.app.post_message(SnapshotReady(Reading(at(float(t), processes=growing(100 + t)))))
        await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


def test_the_question(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=ask)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_a_gdb_sample_in_the_chart(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size, run_before=sampled)
