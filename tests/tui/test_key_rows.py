"""A key press at many processes builds only the rows on screen, and the screen shows the right ones (issue 17).

The list view's rows are built as the table reads them (tables/process_rows.ListRows);
the screen is read as a terminal shows it (tests/terminal.py) after each key and each
refresh, and compared with the order an eager sort gives.
"""

from __future__ import annotations

from dataclasses import replace

from memtop.state.model import Reading
from memtop.widgets.process_table import ProcessTable

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, at, proc
from tests.terminal import Terminal
from tests.tui.test_refresh_shortcuts import SIZE, from_scratch, painted, shown, watch
from tests.waiting import pilot_until

MANY = tuple(proc(1000 + k, f"w{k}", 1 + (k * 37) % 997, start=k) for k in range(3000))


def pids_on_screen(terminal: Terminal) -> list[int]:
    lines = [terminal.line(y) for y in range(terminal.height)]
    head = next(i for i, line in enumerate(lines) if line.split()[:1] == ["PID"])
    out = []
    for line in lines[head + 1:]:
        words = line.split()[:2]
        if not words or not words[0].isdigit() or words[1:] == ["processes"]:  # the totals line: "3000 processes ..."
            break
        out.append(int(words[0]))
    return out


def window_of(shown_pids: list[int], ranked: list[int]) -> bool:
    """The rows on screen are a run of the expected order (the table scrolls to keep the cursor's row)."""
    if not shown_pids or shown_pids[0] not in ranked:
        return False
    start = ranked.index(shown_pids[0])
    return ranked[start:start + len(shown_pids)] == shown_pids


def order(procs: tuple, reverse: bool) -> list[int]:
    ranked = sorted(procs, key=lambda p: (-(p.pss or 0), p.pid))
    if reverse:  # ties stay by pid in either direction
        ranked = sorted(procs, key=lambda p: ((p.pss or 0), p.pid))
    return [p.pid for p in ranked]


async def test_invert_sort_and_refresh_at_3000_rows_show_the_right_rows_building_only_those() -> None:
    app = new_app(at(0.0, processes=MANY))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        table = app.screen.query_one(ProcessTable)
        cache = app.screen._table._cache._rows
        n = len(pids_on_screen(terminal))
        assert n > 20 and pids_on_screen(terminal) == order(MANY, False)[:n]
        await pilot.press("I")
        await pilot_until(pilot, lambda: painted(app) and window_of(pids_on_screen(terminal), order(MANY, True)),
                          what="the inverted order on screen")
        # The cursor stays on its process, now near the end (found by key, no row built for it).
        assert table.selected is not None and table.selected.pid == order(MANY, False)[0]
        assert table.cursor == order(MANY, True).index(order(MANY, False)[0])
        assert terminal.text == from_scratch(app)
        assert len(cache) <= 3 * (n + 1)  # the rows on screen (and the cursor's), not 3,000
        await pilot.press("I")
        await pilot_until(pilot, lambda: painted(app) and pids_on_screen(terminal) == order(MANY, False)[:n],
                          what="the first order again")
        # A refresh where the top process shrank and another grew: both moves reach the screen.
        top, other = order(MANY, False)[0], order(MANY, False)[500]
        moved = tuple(replace(p, pss=2000 * MIB) if p.pid == other else replace(p, pss=1 * MIB) if p.pid == top else p
                      for p in MANY)
        await shown(app, pilot, Reading(at(1.0, processes=moved)))
        # The cursor follows its process down (the table scrolls with it); the rows around it are right.
        assert window_of(pids_on_screen(terminal), order(moved, False)) and order(moved, False)[0] == other
        assert terminal.text == from_scratch(app)
        assert table.selected is not None and table.selected.pid == top  # the cursor follows its process
