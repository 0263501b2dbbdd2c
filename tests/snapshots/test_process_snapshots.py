"""Pictures of the drill-down screen (pytest-textual-snapshot), on fixture data only.

The process and its mappings are scripted (tests/maps_fixtures.py); nothing
depends on the clock or this host: the read costs 0 ms and the refresh
period shown is the 2 s floor. Regenerate with `--snapshot-update` after
reading snapshot_report.html.
"""

from __future__ import annotations

import pytest

from memtop.tui.app import MemtopApp
from memtop.tui.screens.process import ProcessScreen

from tests.conftest import new_app
from tests.dashboard_fixtures import PROCESSES, made
from tests.maps_fixtures import FakeSource
from tests.waiting import pilot_until

PYTHON = next(p for p in PROCESSES if p.pid == 201)


def make_app() -> MemtopApp:
    app = new_app(made())
    app.maps_source = FakeSource(PYTHON).source()
    return app


def opened(*keys: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot_until(pilot, lambda: isinstance(pilot.app.screen, ProcessScreen) and pilot.app.screen.reads)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
def test_process_screen_grouped(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=size, run_before=opened())


def test_process_screen_raw(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(160, 45), run_before=opened("g"))


def test_mapping_details(snap_compare) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(), terminal_size=(120, 45), run_before=opened("g", "home", "enter"))
