"""Every screen's footer, as the terminal shows it, holds whole keys only: at 80x24 it ended on "f9 K"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.screen import Screen

from memtop.tui.app import MemtopApp
from memtop.tui.screens.cgroups import CgroupScreen
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.process import ProcessScreen
from memtop.tui.screens.replay import ReplayScreen
from memtop.tui.screens.setup import SetupScreen
from memtop.widgets.key_footer import PALETTE, KeyFooter, fitting

from tests.cgroup_fixtures import with_cgroups
from tests.conftest import new_app
from tests.dashboard_fixtures import PROCESSES
from tests.maps_fixtures import FakeSource
from tests.terminal import Terminal
from tests.tui.test_replay import replay_app, utc  # noqa: F401  (utc: the fixture)
from tests.waiting import pilot_until

PYTHON = next(p for p in PROCESSES if p.pid == 201)


def footer_line(app: MemtopApp) -> str:
    """The footer's line as a terminal shows it, every widget painted afresh."""
    terminal = Terminal(*app.size)
    terminal.apply(app, app.screen._compositor.render_update(full=True))
    return terminal.line(app.size[1] - 1)


def entries(app: MemtopApp) -> tuple[list[str], set[str]]:
    """The footer's entries left of the palette's key as shown, and every key of the footer written whole."""
    keys = app.screen.query_one(KeyFooter).children
    whole = {f"{k.key_display} {k.description}" for k in keys if not k.has_class(PALETTE)}  # type: ignore[attr-defined]
    left, bar, palette = footer_line(app).partition("▏")
    assert bar and palette.strip() == "^p palette", footer_line(app)
    return re.split(r"\s{2,}", left.strip()), whole


def opened(app: MemtopApp) -> MemtopApp:
    app.maps_source = FakeSource(PYTHON).source()
    return app


@pytest.mark.parametrize(("size", "keys", "screen", "first"), [
    ((80, 24), (), MainScreen, ["⏎ Details", "? Help", "q Quit", "/ Filter", "s Sort"]),
    ((60, 24), (), MainScreen, ["⏎ Details", "? Help", "q Quit", "/ Filter", "s Sort"]),
    ((80, 24), ("enter",), ProcessScreen, ["⏎ Details", "? Help", "esc Back", "/ Filter", "s Sort"]),
    ((80, 24), ("c",), CgroupScreen, ["⏎ Its processes", "esc Back"]),
    ((80, 24), ("f2",), SetupScreen, ["f10 Save", "esc Cancel"]),
])
async def test_the_footer_shows_whole_keys_most_used_first(size: tuple[int, int], keys: tuple[str, ...],
                                                           screen: type[Screen[object]], first: list[str]) -> None:
    app = opened(new_app(with_cgroups()))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot_until(pilot, lambda: isinstance(app.screen, screen) and app.screen.query(KeyFooter)
                          and app.screen.query_one(KeyFooter).children, what="the screen's footer")
        await pilot.pause()
        shown, whole = entries(app)
        assert all(entry in whole for entry in shown), shown
        assert shown[:len(first)] == first, shown


def test_keys_are_kept_in_order_up_to_the_first_that_does_not_fit() -> None:
    assert fitting([11, 8, 8], 27) == 3
    assert fitting([11, 8, 8], 26) == 2
    assert fitting([11, 20, 3], 20) == 1  # a short key after one left out is left out too: the order holds
    assert fitting([], 80) == 0 and fitting([5], 0) == 0


async def test_the_replay_footer_keeps_its_keys_that_move_in_time(tmp_path: Path, utc: None) -> None:
    app = replay_app(tmp_path, at=9)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.query_one(KeyFooter).children,
                          what="the replay's footer")
        await pilot.pause()
        shown, whole = entries(app)
        assert all(entry in whole for entry in shown), shown
        assert shown[:6] == ["⏎ Details", "? Help", "q Quit", ", ◀ sample", ". sample ▶", "b Go to"], shown
