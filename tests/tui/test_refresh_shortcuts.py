"""Every shortcut that spares a refresh its work still shows each moved figure within that refresh (issue 17).

The screen is read as a terminal shows it (tests/terminal.py applies every
update the compositor sends, partial ones included), and after each refresh it
is compared with a repaint of everything from scratch: a line that was not
marked for repaint would keep its old text on the terminal and differ.
"""

from __future__ import annotations

from dataclasses import replace

from textual.strip import Strip

from memtop.state.model import Reading
from memtop.tui.app import MemtopApp
from memtop.tui.messages import SnapshotReady
from memtop.views.format import human
from memtop.views.heap_series import HeapSeries
from memtop.widgets.heap_chart import HeapChart
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.status_header import StatusHeader
from memtop.widgets.system_pane import SystemPane

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES, at, proc
from tests.terminal import Terminal
from tests.waiting import pilot_until

SIZE = (200, 50)


def from_scratch(app: MemtopApp) -> str:
    """The screen with every widget repainted (no line kept from an earlier paint)."""
    panes = []
    for widget in app.screen.walk_children():
        if isinstance(widget, SystemPane):  # its lines drawn again from its figures, its own strips untouched
            width = widget.size.width
            lines = [strip for line in widget._build(width) for strip in widget._line_strips(line, width)]
            widget.render_line = lambda y, lines=lines, w=widget: lines[y] if y < len(lines) else Strip.blank(w.size.width)
            panes.append(widget)
        widget._set_dirty()
        widget._styles_cache.clear()
    fresh = Terminal(*app.size)
    fresh.apply(app, app.screen._compositor.render_update(full=True))
    for widget in panes:
        del widget.render_line
        widget._set_dirty()
        widget._styles_cache.clear()
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


def free_at(i: int, mib: int) -> Reading:
    snap = at(float(i))
    system = replace(snap.system, free=mib * MIB, available=(mib + 500) * MIB)
    return Reading(replace(snap, system=system))


async def test_system_figures_that_move_reach_the_terminal_and_only_their_lines_repaint() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        pane = app.screen.query_one(SystemPane)
        repainted: list[object] = []
        refresh = pane.refresh
        pane.refresh = lambda *regions, **k: repainted.append(regions or "all") or refresh(*regions, **k)  # type: ignore[method-assign]
        for i, mib in enumerate((300, 301, 301, 700), 1):
            repainted.clear()
            await shown(app, pilot, free_at(i, mib))
            if i == 3:
                assert repainted == []  # nothing moved
            elif i > 1:
                assert repainted and "all" not in repainted  # the lines that changed, not the pane
            assert f"free {human(mib * MIB)}" in terminal.text
            assert terminal.text == from_scratch(app), f"step {i}"


async def test_system_pane_follows_a_new_theme_and_a_shorter_screen() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        await shown(app, pilot, free_at(1, 1000))
        before = app.screen.query_one(SystemPane)._flat[2]
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot_until(pilot, lambda: app.screen.query_one(SystemPane)._flat[2] != before and painted(app),
                          what="the pane in the new theme")
        assert terminal.text == from_scratch(app)
        pane = app.screen.query_one(SystemPane)
        kept = list(pane._flat)
        pane._styles = None  # every style looked up afresh: the colours of the new theme
        width = pane.size.width
        assert kept == [strip for line in pane._build(width) for strip in pane._line_strips(line, width)]
        await pilot.resize_terminal(200, 30)  # compact: the legend on one line
        await pilot_until(pilot, lambda: painted(app) and terminal.text == from_scratch(app), what="the compact pane")


async def test_a_row_whose_figures_move_below_the_precision_shown_is_not_repainted_then_is() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        table = app.screen.query_one(ProcessTable)
        repainted: list[object] = []
        refresh = table.refresh
        table.refresh = lambda *regions, **k: repainted.append(regions or "all") or refresh(*regions, **k)  # type: ignore[method-assign]

        def nudged(extra: int) -> tuple:
            return tuple(replace(p, rss=(p.rss or 0) + extra) if p.pid == 202 else p for p in PROCESSES)

        await shown(app, pilot, Reading(at(1.0, processes=nudged(4096))))  # 160 MiB + 4 KiB: still "160Mi"
        assert repainted == []
        assert terminal.text == from_scratch(app)
        await shown(app, pilot, Reading(at(2.0, processes=nudged(3 * MIB))))  # 163 MiB: a new figure
        assert len(repainted) == 1 and repainted[0] != "all"
        assert "163Mi" in terminal.text
        assert terminal.text == from_scratch(app)


async def test_table_lines_follow_a_new_theme() -> None:
    """The table keeps its lines' strips (and its base style) between refreshes: a new theme draws them again."""
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        await watch(app, pilot)
        table = app.screen.query_one(ProcessTable)
        before = table._painted[2]
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot_until(pilot, lambda: painted(app) and table._painted.get(2) is not before, what="the table repainted")
        shown_now = table._painted[2]
        table._cache.clear()
        table._base = None
        assert table._render_line(2) == shown_now  # drawn afresh in the new theme: the same
        assert shown_now != before


async def test_the_chart_moves_a_column_at_a_time_and_a_new_sample_that_moves_a_dot_is_drawn_at_once() -> None:
    """The chart's time axis steps by whole dot columns and its y axis tops at a round figure
    (issue 17): a refresh inside a column that brings a sample moving no dot rebuilds nothing; a
    sample that moves a dot, or time passing a column boundary, is drawn in that refresh, the
    same as a chart drawn from scratch."""
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        chart = app.screen.query_one(HeapChart)
        window = 300.0
        columns = max(max(chart.size.width - 2, 20) - 8, 1) * 2
        step = window / columns
        start = 100.25 * step  # a quarter into a column
        ramp = [(start - 199 + k, 100 * MIB + k * MIB // 4) for k in range(200)]  # rising: any shift of the axis moves dots

        def series(now: float, samples: list[tuple[float, int]]) -> HeapSeries:
            n = len(samples)
            return HeapSeries(label="x (7)", times=tuple(t for t, _v in samples), rss=tuple(v for _t, v in samples),
                              anon=(50 * MIB,) * n, heap=(None,) * n, heap_note="heap: n/a", now=now, window=window)

        def fresh(s: HeapSeries) -> list[str]:
            chart._plot_cache, chart._key = None, ()
            chart.show(s)
            return [t.plain for t in chart._texts]

        chart.show(series(start, ramp))
        builds = chart.builds
        soon = start + step / 4  # a refresh later, inside the same column
        same = ramp + [(soon, ramp[-1][1] + 4096)]  # 4 KiB more (a new peak): no dot moves
        chart.show(series(soon, same))
        assert chart.builds == builds
        assert [t.plain for t in chart._texts] == fresh(series(soon, same))
        jump = ramp + [(soon, ramp[-1][1] + 60 * MIB)]  # a sample that moves the last column's dots: drawn at once
        chart.show(series(soon, jump))
        drawn = [t.plain for t in chart._texts]
        assert drawn != fresh(series(soon, same))
        assert drawn == fresh(series(soon, jump))
        later = 101.01 * step  # past the column's end: the line moves a column left
        chart.show(series(soon, same))
        builds = chart.builds
        chart.show(series(later, same))
        assert chart.builds == builds + 1
        assert [t.plain for t in chart._texts] == fresh(series(later, same))
        far = later + 20 * step  # twenty columns on: the ramp has visibly moved left
        chart.show(series(far, same))
        assert [t.plain for t in chart._texts] != fresh(series(later, same))


async def test_the_pss_reconciliation_does_not_call_unreadable_processes_memory_unmapped() -> None:
    # As a non-root user most processes are unreadable: their memory is in the gap, and the
    # line said "mapped by no process" of it all (a new user's report).
    from memtop.collectors.models import Reconciliation

    readable = Reconciliation(pss_sum=80 * MIB, anon_shmem_mapped=500 * MIB, difference=420 * MIB, unreadable=0)
    app = new_app(replace(at(0.0), reconciliation=readable))
    async with app.run_test(size=SIZE) as pilot:
        terminal = await watch(app, pilot)
        assert "420.0 MiB mapped by no process" in terminal.text
        await shown(app, pilot, Reading(replace(at(1.0), reconciliation=replace(readable, unreadable=99))))
        assert "PSS of the readable processes 80.0 MiB" in terminal.text
        assert "420.0 MiB outside it (99 unreadable processes" in terminal.text
        assert "mapped by no process" not in terminal.text


async def test_at_80_columns_the_header_drops_the_kernel_release_before_memtops_own_figures() -> None:
    app = new_app(at(0.0))
    async with app.run_test(size=(80, 24)) as pilot:
        terminal = await watch(app, pilot)
        await shown(app, pilot, Reading(at(1.0), {}, 2.0, 60 * MIB))
        kernel = app.screen.query_one(StatusHeader).info.kernel
        assert "RSS 60.0 MiB" in terminal.line(0) and kernel not in terminal.line(0)
    app = new_app(at(0.0))
    async with app.run_test(size=SIZE) as pilot:  # where it fits, the kernel release is there
        terminal = await watch(app, pilot)
        await shown(app, pilot, Reading(at(1.0), {}, 2.0, 60 * MIB))
        kernel = app.screen.query_one(StatusHeader).info.kernel
        assert kernel and kernel in terminal.line(0) and "RSS 60.0 MiB" in terminal.line(0)
