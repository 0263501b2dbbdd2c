"""Replay navigation under a Pilot: step, jump, go to a typed time, next OOM kill, the kills list; what was not recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtop.history.replay import Replay
from memtop.history.store import History
from memtop.tui.replay_app import ReplayApp
from memtop.tui.screens.process import ProcessScreen
from memtop.tui.screens.replay import NOT_RECORDED, KillsScreen, ReplayScreen
from memtop.widgets.status_header import StatusHeader

from tests.dashboard_fixtures import MIB
from tests.history.recordings import START, STEP, growth_snapshots, record_replayable
from tests.waiting import pilot_until


@pytest.fixture()
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC: the cursor's text does not depend on the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def replay_app(tmp_path: Path, at: int | None = None) -> ReplayApp:
    path = record_replayable(tmp_path / "h.sqlite", growth_snapshots(12), kill_at=8, key_every=35.0)
    replay = Replay(History(path))
    replay.goto(len(replay.history) - 1 if at is None else at)
    return ReplayApp(replay)


def shown(app: ReplayApp) -> tuple[float, int]:
    screen = app.screen
    assert isinstance(screen, ReplayScreen) and screen.snapshot is not None
    train = next(p for p in screen.snapshot.processes if p.pid == 201)
    return screen.snapshot.time - START, (train.rss or 0) // MIB


async def test_navigation(tmp_path: Path, utc: None) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.snapshot is not None)
        assert shown(app) == (110.0, 210)
        assert "sample 12/12" in (app.screen.query_one(StatusHeader).info.replay or "")
        await pilot.press("comma")
        await pilot_until(pilot, lambda: shown(app) == (100.0, 200))
        await pilot.press("left_curly_bracket")  # a minute back
        await pilot_until(pilot, lambda: shown(app) == (40.0, 140))
        await pilot.press("left_parenthesis")  # an hour back: the start
        await pilot_until(pilot, lambda: shown(app) == (0.0, 100))
        await pilot.press("full_stop")
        await pilot_until(pilot, lambda: shown(app) == (STEP, 110))
        await pilot.press("right_curly_bracket")
        await pilot_until(pilot, lambda: shown(app) == (70.0, 170))
        await pilot.press("b")
        await pilot.press(*"-30s", "enter")
        await pilot_until(pilot, lambda: shown(app) == (80.0, 180))
        await pilot.press("b")
        await pilot.press(*"12:00:25", "enter")  # the sample at or before 25 s
        await pilot_until(pilot, lambda: shown(app) == (20.0, 120))
        await pilot.press("b")
        await pilot.press(*"garbage", "enter")  # said, nothing moves
        await pilot.pause()
        assert shown(app) == (20.0, 120)
        await pilot.press("o")  # the OOM kill recorded 1 s after sample 8
        await pilot_until(pilot, lambda: shown(app) == (80.0, 180))
        await pilot.press("O")
        await pilot_until(pilot, lambda: isinstance(app.screen, KillsScreen))
        assert isinstance(app.screen, KillsScreen)
        assert "python3 (pid 202, uid 1000) killed" in app.screen.lines[0]
        assert "last recorded: PSS 80.0 MiB" in app.screen.lines[0]


async def test_what_was_not_recorded_says_so(tmp_path: Path, utc: None) -> None:
    app = replay_app(tmp_path)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot_until(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.snapshot is not None)
        await pilot.press("w")
        await pilot_until(pilot, lambda: any("not recorded" in str(n.message) for n in app._notifications))
        await pilot.press("enter")  # a process's mappings
        await pilot_until(pilot, lambda: isinstance(app.screen, ProcessScreen) and app.screen.error is not None)
        assert isinstance(app.screen, ProcessScreen) and app.screen.error == NOT_RECORDED
