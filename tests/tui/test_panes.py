"""The THP panel and the heap-vs-RSS chart, driven the way a person does (Pilot)."""

from __future__ import annotations

from dataclasses import replace

import plotext

from memtop.collectors.models import Snapshot
from memtop.tui.app import MemtopApp
from memtop.state.heap_sources import NOT_INSTRUMENTED, HeapSources
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.thp_help import ThpHelpScreen
from memtop.views.heap_series import resample, steps
from memtop.widgets.heap_chart import HeapChart
from memtop.views.thp import STALL_MARK
from memtop.widgets.thp_panel import ThpPanel

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, FakeHeap, at, growing, made


def app_for(first: Snapshot, heap: HeapSources | None = None) -> MemtopApp:
    return new_app(first, heap=heap)


def panel(app: MemtopApp) -> ThpPanel:
    return app.screen.query_one(ThpPanel)


def chart(app: MemtopApp) -> HeapChart:
    return app.screen.query_one(HeapChart)


def text(widget: ThpPanel | HeapChart) -> str:
    return "\n".join(line.text.strip() for line in widget.render_lines(widget.region.reset_offset) if line.text.strip())  # type: ignore[attr-defined]


async def post(app: MemtopApp, pilot, snap: Snapshot) -> None:  # type: ignore[no-untyped-def]
    app.post_message(SnapshotReady(Reading(snap)))
    await pilot.pause()


async def test_rates_show_after_two_snapshots_across_a_reset() -> None:
    app = app_for(at(0.0, {"thp_fault_alloc": 1000}))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert panel(app).view is not None
        assert panel(app).view.counters[0].rate is None  # one snapshot: no rate yet
        await post(app, pilot, at(2.0, {"thp_fault_alloc": 1064}))
        assert panel(app).view.counters[0].rate == 32.0
        await post(app, pilot, at(3.0, {"thp_fault_alloc": 5}))  # reset
        line = panel(app).view.counters[0]
        assert (line.name, line.rate, line.window) == ("thp_fault_alloc", 5.0, 69)


async def test_a_compaction_stall_alerts_at_once_and_the_alert_fades() -> None:
    app = app_for(at(0.0, {"compact_stall": 40}))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert not panel(app).has_class("-stalling")
        await post(app, pilot, at(1.0, {"compact_stall": 43}))
        assert panel(app).has_class("-stalling")
        shown = text(panel(app))
        assert f"{STALL_MARK} COMPACTION STALLS: 3 in the last 60 s · stalling now" in shown
        await post(app, pilot, at(20.0, {"compact_stall": 43}))
        shown = text(panel(app))
        assert "COMPACTION STALLS: 3 in the last 60 s" in shown and "stalling now" not in shown
        await post(app, pilot, at(62.0, {"compact_stall": 43}))
        assert not panel(app).has_class("-stalling")
        assert STALL_MARK not in text(panel(app))


async def test_the_stall_alert_also_shows_in_the_narrow_layout() -> None:
    app = app_for(at(0.0, {"compact_stall": 0}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await post(app, pilot, at(1.0, {"compact_stall": 2}))
        assert panel(app).compact
        assert text(panel(app)).startswith(f"{STALL_MARK} 2 COMPACTION STALLS/60s")
        assert panel(app).size.height == 1


async def test_without_thp_the_panel_says_so_and_shrinks() -> None:
    bare = made()
    no_thp = replace(bare, thp=None, vmstat=tuple((k, v) for k, v in bare.vmstat if not k.startswith(("thp_", "compact_"))))
    app = app_for(no_thp)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await post(app, pilot, replace(no_thp, time=1.0))
        assert "THP: not available here" in text(panel(app))
        assert panel(app).size.height <= 3
        # The chart takes the room the panel left.
        assert chart(app).size.height > 30


async def test_the_chart_follows_the_selection_and_keeps_each_process_past() -> None:
    app = app_for(at(0.0, processes=growing(100)))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#body").has_class("-wide")
        await pilot.press("down")  # from postgres 300 to train.py 201 (sorted by PSS)
        assert chart(app).series is not None and chart(app).series.label == "python3 (201)"
        for t, rss in ((1.0, 110), (2.0, 130), (3.0, 150)):
            await post(app, pilot, at(t, processes=growing(rss)))
        assert chart(app).series.rss[-4:] == (100 * MIB, 110 * MIB, 130 * MIB, 150 * MIB)
        assert chart(app).series.heap_note == NOT_INSTRUMENTED
        assert NOT_INSTRUMENTED in text(chart(app))
        await pilot.press("up")
        assert chart(app).series.label == "postgres (300)"
        await pilot.press("down")
        assert chart(app).series.rss[-1] == 150 * MIB  # its past, at once


async def test_the_chart_draws_on_its_own_figure_not_plotexts_shared_one() -> None:
    plotext.clf()
    plotext.plotsize(30, 6)
    plotext.title("someone else's plot")  # another user of plotext in the same process
    app = app_for(at(0.0, processes=growing(100)))
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            await pilot.press("down")
            for t, rss in ((1.0, 110), (2.0, 130)):
                await post(app, pilot, at(t, processes=growing(rss)))
            assert chart(app).builds >= 1 and "RSS" in text(chart(app))
        assert "someone else's plot" in plotext.build()  # the chart neither cleared nor drew on it
    finally:
        plotext.clf()


async def test_own_process_heap_line_and_the_gap() -> None:
    heap = HeapSources(FakeHeap(60 * MIB), own_pid=201)  # pretend train.py is memtop itself
    app = app_for(at(0.0, processes=growing(100)), heap)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await post(app, pilot, at(1.0, processes=growing(120)))
        series = chart(app).series
        assert series is not None and series.heap[-1] == 60 * MIB
        shown = text(chart(app))
        assert "heap 60.0 MiB" in shown and "gap RSS−heap 60.0 MiB" in shown
        assert "test allocator" in shown
        await pilot.press("up")  # another process: not instrumented
        assert chart(app).series.heap_note == NOT_INSTRUMENTED


async def test_small_layout_draws_two_sparklines_with_the_figures() -> None:
    heap = HeapSources(FakeHeap(30 * MIB), own_pid=201)
    app = app_for(at(0.0, processes=growing(100)), heap)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await post(app, pilot, at(1.0, processes=growing(100)))
        lines = text(chart(app)).splitlines()
        assert lines[0].startswith("heap ") and "30.0M" in lines[0]
        assert lines[1].startswith("RSS ") and "100M" in lines[1]


async def test_window_key_and_thp_help() -> None:
    app = app_for(at(0.0, {"thp_fault_alloc": 0}))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await post(app, pilot, at(1.0, {"thp_fault_alloc": 8}))
        assert app.model.chart_window == 300.0
        await pilot.press("W")
        assert app.model.chart_window == 900.0 and chart(app).series.window == 900.0
        await pilot.press("T")
        assert isinstance(app.screen, ThpHelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_letters_typed_in_the_filter_do_not_fire_pane_keys() -> None:
    app = app_for(at(0.0))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("slash", "W", "T")
        assert app.model.chart_window == 300.0 and isinstance(app.screen, MainScreen)


def test_steps_hold_each_value_until_the_next_sample() -> None:
    xs, ys = steps((0.0, 10.0), (5, 7), now=20.0, window=30.0)
    assert list(zip(xs, ys)) == [(-20.0, 5.0), (-10.0, 5.0), (-10.0, 7.0), (0.0, 7.0)]
    xs, ys = steps((0.0, 15.0), (5, 7), now=20.0, window=10.0)  # 5 was in force when the window began
    assert list(zip(xs, ys)) == [(-10.0, 5.0), (-5.0, 5.0), (-5.0, 7.0), (0.0, 7.0)]


def test_resample_takes_the_value_in_force_at_each_bucket_end() -> None:
    assert resample((0.0, 5.0), (1, 3), now=10.0, window=10.0, n=4) == [1.0, 3.0, 3.0, 3.0]  # the bucket ending at 5.0 sees the sample at 5.0
    assert resample((), (), now=10.0, window=10.0, n=2) == [0.0, 0.0]


async def test_p_hides_the_panes_and_the_table_takes_the_width() -> None:
    app = app_for(at(0.0))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#table")
        narrow = table.size.width
        await pilot.press("p")
        await pilot.pause()
        assert not app.screen.query_one("#side").display
        assert table.size.width > narrow + 50
        assert "ANON" in "".join(seg.text for seg in table.render_line(0))  # type: ignore[attr-defined]
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.query_one("#side").display and table.size.width == narrow


async def test_a_tiny_terminal_keeps_table_rows_and_p_brings_the_panes_back() -> None:
    app = app_for(at(0.0))
    async with app.run_test(size=(60, 16)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#table")
        assert app.screen.query_one("#body").has_class("-short") and not app.screen.query_one("#side").display
        assert table.size.height >= 2  # the header and at least one process
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.query_one("#side").display


async def test_memtops_own_gap_has_a_slope_but_no_leak_flag() -> None:
    # mallinfo2 misses CPython's object arenas: memtop's own gap grows with its objects.
    heap = HeapSources(FakeHeap(60 * MIB), own_pid=201)  # pretend train.py is memtop itself
    app = app_for(at(0.0, processes=growing(100)), heap)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        for t in range(2, 42, 2):
            await post(app, pilot, at(float(t), processes=growing(100 + 3 * t)))
        verdict = app.model.verdicts[201]
        assert verdict.trend == "growing" and verdict.flag is None
        assert "growing" in chart(app).series.verdict and not chart(app).series.alarm
