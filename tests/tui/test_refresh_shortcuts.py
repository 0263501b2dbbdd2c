"""Every shortcut that spares a refresh its work still shows each moved figure within that refresh (issue 17).

The screen is read as a terminal shows it (tests/terminal.py applies every
update the compositor sends, partial ones included), and after each refresh it
is compared with a repaint of everything from scratch: a line that was not
marked for repaint would keep its old text on the terminal and differ.
"""

from __future__ import annotations

from dataclasses import replace

from memtop.state.model import Reading
from memtop.tui.app import MemtopApp
from memtop.tui.messages import SnapshotReady
from memtop.views.heap_series import HeapSeries
from memtop.widgets.heap_chart import HeapChart
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.status_header import StatusHeader

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES, at, proc
from tests.terminal import Terminal
from tests.waiting import pilot_until

SIZE = (200, 50)


def from_scratch(app: MemtopApp) -> str:
    """The screen with every widget repainted (no line kept from an earlier paint)."""
    for widget in app.screen.walk_children():
        widget._set_dirty()
        widget._styles_cache.clear()
    fresh = Terminal(*app.size)
    fresh.apply(app, app.screen._compositor.render_update(full=True))
    return fresh.text


def painted(app: MemtopApp) -> bool:
    """Nothing waits to be painted: what a widget marked for repaint went to the terminal."""
    screen = app.screen
    return not (screen._dirty_widgets or screen._layout_required or screen._repaint_required
                or screen._compositor._dirty_regions)


async def watch(app: MemtopApp, pilot: object) -> Terminal:
    """A terminal fed from now on, holding the whole screen to begin with."""
    terminal = Terminal.attach(app)
    app.screen.refresh()
    await pilot_until(pilot, lambda: terminal.updates and painted(app), what="the first paint")
    return terminal


async def shown(app: MemtopApp, pilot: object, reading: Reading) -> None:
    """One refresh with ``reading``, painted (a loaded machine may take a while to get there)."""
    app.post_message(SnapshotReady(reading))
    await pilot_until(pilot, lambda: app.screen.snapshot is reading.snapshot and painted(app), what="the refresh painted")


def moved(pid: int, pss_mib: int, processes: tuple = PROCESSES) -> tuple:
    return tuple(replace(p, pss=pss_mib * MIB) if p.pid == pid else p for p in processes)


async def test_moved_figures_new_and_exited_rows_reach_the_terminal_in_one_refresh() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        table = app.screen.query_one(ProcessTable)
        layouts = []
        refresh = table.refresh
        table.refresh = lambda *a, layout=False, **k: layouts.append(layout) or refresh(*a, layout=layout, **k)  # type: ignore[method-assign]
        newcomer = proc(500, "redis-server", 70, start=900)
        steps = [
            moved(202, 81),  # a figure moves, the order stays
            moved(202, 81) + (newcomer,),  # a process starts between others: the rows below it move down
            moved(202, 95) + (newcomer,),
            moved(202, 95),  # it exits: the last line empties
            tuple(p for p in moved(202, 95) if p.pid != 400),
        ]
        for i, processes in enumerate(steps, 1):
            await shown(app, pilot, Reading(at(float(i), processes=processes)))
            screen = terminal.text
            assert screen == from_scratch(app), f"step {i}: the terminal kept an old line"
            want = "95.0Mi" if i >= 3 else "81.0Mi"
            assert want in screen
            assert ("redis-server" in screen) == (processes[-1] is newcomer)
            assert ("nginx" in screen) == (i < 5)
        # The row count changed four times; the scrollbar never came or went: no layout pass.
        assert True not in layouts


async def test_the_header_repaints_when_its_text_changes_and_only_then() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
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
        terminal = await watch(app, pilot)
        for i, processes in enumerate((many, many[:-1], PROCESSES, many), 1):
            await shown(app, pilot, Reading(at(float(i), processes=processes)))
            assert terminal.text == from_scratch(app), f"step {i}"
            table = app.screen.query_one("#table")
            assert table.show_vertical_scrollbar == (len(processes) > 40)


async def test_thp_counters_that_move_reach_the_terminal_every_refresh() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        for i in range(1, 6):
            await shown(app, pilot, Reading(at(float(i), {"thp_fault_alloc": 10 * i * i, "compact_stall": i // 3})))
            assert terminal.text == from_scratch(app), f"step {i}"
            line = next(terminal.line(y) for y in range(terminal.height) if "thp_fault_alloc " in terminal.line(y))
            assert f"{10 * i * i}" in line.split("thp_fault_alloc")[1].split()[1]  # the window total, drawn


async def test_a_one_second_spike_inside_a_chart_column_is_drawn() -> None:
    """30 minutes on ~100 columns: 17 s a column. A spike that starts and ends between two column
    ends moves no column's last value, but its dots are drawn: the chart must be rebuilt."""
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = app.screen.query_one(HeapChart)
        n = 1800
        base = [100 * MIB] * n
        base[100] = 300 * MIB  # the same peak (and scale) before and after
        flat = HeapSeries(label="x (7)", times=tuple(float(t) for t in range(n)), rss=tuple(base),
                          anon=(50 * MIB,) * n, heap=(None,) * n, heap_note="heap: n/a", now=float(n), window=float(n))
        spiked = list(base)
        spiked[1000] = 250 * MIB
        spike = replace(flat, rss=tuple(spiked))
        chart.show(flat)
        before = [t.plain for t in chart._texts]
        chart.show(spike)
        shown = [t.plain for t in chart._texts]
        chart._plot_cache, chart._key = None, ()
        chart.show(spike)  # from scratch
        assert shown == [t.plain for t in chart._texts]
        assert shown != before
