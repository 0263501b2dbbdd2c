"""Every shortcut that spares a refresh its work still shows each moved figure within that refresh (issue 17).

The screen is read as a terminal shows it (tests/terminal.py applies every
update the compositor sends, partial ones included), and after each refresh it
is compared with a repaint of everything from scratch: a line that was not
marked for repaint would keep its old text on the terminal and differ.
"""

from __future__ import annotations

from dataclasses import replace

from textual._compositor import Compositor

from memtop.state.model import Reading
from memtop.tui.app import MemtopApp
from memtop.tui.messages import SnapshotReady
from memtop.widgets.status_header import StatusHeader

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES, at, proc
from tests.terminal import Terminal

SIZE = (200, 50)


def from_scratch(app: MemtopApp) -> str:
    """The screen with every widget repainted (no line kept from an earlier paint)."""
    for widget in app.screen.walk_children():
        widget._set_dirty()
        widget._styles_cache.clear()
    fresh = Terminal(*app.size)
    fresh.apply(app, app.screen._compositor.render_update(full=True))
    return fresh.text


async def shown(app: MemtopApp, pilot: object, reading: Reading) -> None:
    app.post_message(SnapshotReady(reading))
    await pilot.pause()  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def moved(pid: int, pss_mib: int, processes: tuple = PROCESSES) -> tuple:
    return tuple(replace(p, pss=pss_mib * MIB) if p.pid == pid else p for p in processes)


async def test_moved_figures_new_and_exited_rows_reach_the_terminal_in_one_refresh(monkeypatch) -> None:
    layouts = []
    reflow = Compositor.reflow
    monkeypatch.setattr(Compositor, "reflow", lambda self, *a, **k: layouts.append(1) or reflow(self, *a, **k))
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal.attach(app)
        app.screen.refresh()
        await pilot.pause()
        newcomer = proc(500, "redis-server", 70, start=900)
        steps = [
            moved(202, 81),  # a figure moves, the order stays
            moved(202, 81) + (newcomer,),  # a process starts between others: the rows below it move down
            moved(202, 95) + (newcomer,),
            moved(202, 95),  # it exits: the last line empties
            tuple(p for p in moved(202, 95) if p.pid != 400),
        ]
        layouts.clear()
        for i, processes in enumerate(steps, 1):
            await shown(app, pilot, Reading(at(float(i), processes=processes)))
            screen = terminal.text
            assert screen == from_scratch(app), f"step {i}: the terminal kept an old line"
            want = "95.0Mi" if i >= 3 else "81.0Mi"
            assert want in screen
            assert ("redis-server" in screen) == (processes[-1] is newcomer)
            assert ("nginx" in screen) == (i < 5)
        # The row count changed four times; the scrollbar never came or went: no layout pass.
        assert layouts == []


async def test_the_header_repaints_when_its_text_changes_and_only_then() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal.attach(app)
        header = app.screen.query_one(StatusHeader)
        await shown(app, pilot, Reading(at(1.0), {}, 2.0, 60 * MIB))
        assert "CPU 2.0%" in terminal.line(0)
        repaints = []
        refresh = header.refresh
        header.refresh = lambda *a, **k: repaints.append(1) or refresh(*a, **k)  # type: ignore[method-assign]
        await shown(app, pilot, Reading(at(2.0), {}, 2.01, 60 * MIB + 1000))  # same text at the precision shown
        assert repaints == []
        assert header.info.own_cpu == 2.01  # kept all the same
        await shown(app, pilot, Reading(at(3.0), {}, 2.06, 60 * MIB + 1000))  # 2.1 %: the next refresh shows it
        assert repaints
        assert "CPU 2.1%" in terminal.line(0)
        assert terminal.text == from_scratch(app)


async def test_rows_past_the_screen_bring_the_scrollbar_and_take_it_away() -> None:
    many = PROCESSES + tuple(proc(600 + k, f"worker{k}", 1, start=950 + k) for k in range(60))
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal.attach(app)
        for i, processes in enumerate((many, many[:-1], PROCESSES, many), 1):
            await shown(app, pilot, Reading(at(float(i), processes=processes)))
            assert terminal.text == from_scratch(app), f"step {i}"
            table = app.screen.query_one("#table")
            assert table.show_vertical_scrollbar == (len(processes) > 40)


async def test_thp_counters_that_move_reach_the_terminal_every_refresh() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = Terminal.attach(app)
        for i in range(1, 6):
            await shown(app, pilot, Reading(at(float(i), {"thp_fault_alloc": 10 * i * i, "compact_stall": i // 3})))
            assert terminal.text == from_scratch(app), f"step {i}"
            line = next(terminal.line(y) for y in range(terminal.height) if "thp_fault_alloc " in terminal.line(y))
            assert f"{10 * i * i}" in line.split("thp_fault_alloc")[1].split()[1]  # the window total, drawn
