"""The selected row stays on screen when processes start and exit while the table is scrolled (issue 17 follow-up).

A new user found it (Home, I on a busy host): the selected process, last in
the inverted order, dropped below the visible rows on most refreshes while
processes came and went above it.
"""

from __future__ import annotations

from memtop.state.model import Reading
from memtop.widgets.process_table import ProcessTable

from tests.conftest import new_app
from tests.dashboard_fixtures import at, proc
from tests.terminal import Terminal
from tests.tui.test_refresh_shortcuts import from_scratch, shown, watch

SIZE = (160, 45)
STEADY = tuple(proc(1000 + i, f"steady{i}", i + 10) for i in range(150))


def churned(step: int) -> tuple:
    """The steady processes, and short-lived small ones: a few more or fewer each refresh."""
    born = tuple(proc(5000 + step * 10 + j, f"short{j}", 1, start=step) for j in range(step % 4))
    return STEADY + born


def line_of(terminal: Terminal, pid: int) -> int | None:
    return next((y for y in range(terminal.height) if terminal.line(y).lstrip().startswith(f"{pid} ")), None)


async def test_the_selected_row_stays_on_screen_while_rows_come_and_go_above_it() -> None:
    app = new_app(at(0.0, processes=churned(0)))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        table = app.screen.query_one(ProcessTable)
        await pilot.press("home", "I")  # the biggest process, now last
        biggest = STEADY[-1].pid
        for step in range(1, 9):
            await shown(app, pilot, Reading(at(float(step), processes=churned(step))))
            assert table.selected is not None and table.selected.pid == biggest
            assert terminal.text == from_scratch(app), f"step {step}: the terminal kept an old line"
            assert line_of(terminal, biggest) is not None, f"step {step}: the selected row is off screen"
