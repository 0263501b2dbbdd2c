"""Pictures of the cgroup view (pytest-textual-snapshot), on hand-made data only.

No clock, hostname or live data on screen: the snapshot is a capture's with
hand-made processes and cgroups. One OOM kill arrives after the view opened,
so the picture shows the ▲ marks. Regenerate with
`pytest tests/test_cgroup_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

import pytest

from memtop.collectors.models import ContainerLimit
from memtop.tui.app import MemtopApp
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady

from tests.cgroup_fixtures import with_cgroups
from tests.conftest import new_app
from tests.dashboard_fixtures import MIB


def make_app() -> MemtopApp:
    return new_app(with_cgroups(oom_kills=1))


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_cgroup_view_with_a_new_oom_kill(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def oom_after_opening(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        pilot.app.post_message(SnapshotReady(Reading(with_cgroups(oom_kills=2))))
        await pilot.pause()
        for _ in range(7):  # down to user-1000.slice: its details below the tree
            await pilot.press("down")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=oom_after_opening)


def test_filtered_to_a_cgroup_with_container_line(snap_compare) -> None:  # type: ignore[no-untyped-def]
    limit = ContainerLimit("/docker/abc", 2, 300 * MIB, 512 * MIB)
    app = new_app(with_cgroups(container=limit))

    async def filter_to_postgres(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("down", "down", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(200, 45), run_before=filter_to_postgres)
