"""Help names every key its screen binds (as Textual merged them), once, written as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from memtop.tui.screens.modals import HelpScreen, _key_label

from tests.cgroup_fixtures import with_cgroups
from tests.conftest import new_app
from tests.dashboard_fixtures import PROCESSES
from tests.maps_fixtures import FakeSource
from tests.tui.test_replay import replay_app, utc  # noqa: F401  (utc: the fixture)
from tests.waiting import pilot_until

PYTHON = next(p for p in PROCESSES if p.pid == 201)


def bound(screen: Screen[object]) -> list[Binding]:
    """The keys the screen answers with a description: Textual's merge of its classes' bindings, not Screen's own."""
    textual = set(Screen._merge_bindings().key_to_bindings)
    return [b for key, bindings in type(screen)._merge_bindings().key_to_bindings.items() if key not in textual
            for b in bindings if b.tooltip or b.description]


def listed(lines: list[str], binding: Binding) -> bool:
    """A help line says what the key does, the key among those it names ("  ?, h, F1    Help")."""
    what = f" {binding.tooltip or binding.description}"
    return any(line.startswith("  ") and line.endswith(what) and _key_label(binding.key) in line[2:-len(what)].strip().split(", ")
               for line in lines)


def dashboard(tmp_path: Path) -> App[None]:
    app = new_app(with_cgroups())
    app.maps_source = FakeSource(PYTHON).source()
    return app


@pytest.mark.parametrize(("make", "keys"), [
    (dashboard, ()),
    (dashboard, ("enter",)),
    (dashboard, ("c",)),
    (lambda tmp_path: replay_app(tmp_path, at=9), ()),
], ids=["main", "process", "cgroups", "replay"])
async def test_help_lists_every_key_of_its_screen(make, keys: tuple[str, ...], tmp_path: Path, utc: None) -> None:  # type: ignore[no-untyped-def]
    app = make(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()
        owner = app.screen
        await pilot.press("question_mark")
        await pilot_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        lines = str(app.screen.query_one("Static").render()).splitlines()
        missing = [b for b in bound(owner) if not listed(lines, b)]
        assert not missing, [(b.key, b.description) for b in missing]
        assert lines.count("  ctrl+p             command palette") == 1
        assert not {"comma", "full_stop", "curly_bracket", "parenthesis"} & {w.strip(",") for line in lines for w in line.split()}
