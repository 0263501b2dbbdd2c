"""Issue 13's soak: what the dashboard keeps to draw faster is bounded by what is on screen, not by time."""

from __future__ import annotations

from dataclasses import replace

from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady
from memtop.tui.screens.main import MainScreen
from memtop.widgets.process_table import ProcessTable

from tests.conftest import new_app
from tests.dashboard_fixtures import PROCESSES, at
from tests.waiting import pilot_until


async def test_the_table_keeps_lines_of_current_rows_only() -> None:
    app = new_app(interval=0.1)
    async with app.run_test(size=(160, 45)) as pilot:
        for i in range(1, 121):  # every process's RSS moves every pass: a new Row each, a new line drawn
            moved = tuple(replace(p, rss=(p.rss or 0) + i * 4096) for p in PROCESSES)
            app.post_message(SnapshotReady(Reading(at(float(i), processes=moved))))
            await pilot.pause()
        screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        table = screen.query_one(ProcessTable)
        await pilot_until(pilot, lambda: app.model.snapshot is not None and app.model.snapshot.time == 120.0)
        await pilot.pause()
        # Before: every line ever drawn until 4,096 of them (~15 MiB of Strips and their caches).
        assert len(table._cache) <= 2 * len(table.rows) + 2  # noqa: SLF001 - the bound is the point
