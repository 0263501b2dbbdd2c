#!/usr/bin/env python3
"""What the THP panel and the heap-vs-RSS chart cost per refresh (prints figures; not a test).

Usage (from the repo, in its venv): .venv/bin/python bench/panes.py [--refreshes 120] [--rounds 3]

1. The chart alone: one plotext build of a 5-minute, 1 s series (RSS, RssAnon and heap all
   moving: 300 steps each) at the size the 160x45 layout gives it, timed over many builds.
2. The dashboard, headless (Textual's run_test), fed --refreshes snapshots 1 s apart in
   simulated time: THP counters moving every refresh and the selected process's RSS and heap
   changing every refresh (the worst case: the chart is rebuilt every time). CPU time of this
   process (time.process_time: every thread) per refresh, with the panes shown and with them
   hidden (display: none), at 160x45 (panes beside the table) and 80x24 (a line and two
   sparklines under it). The difference is what the panes cost; at a 1 s refresh, N ms per
   refresh is N/10 % of one core.

Figures are medians over --rounds; the machine is shared, so compare within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/ holds the fixture snapshots

from memtop.collectors.heap import HeapReading  # noqa: E402
from memtop.state.heap_sources import HeapSources  # noqa: E402
from memtop.state.model import Reading  # noqa: E402
from memtop.tui.messages import SnapshotReady  # noqa: E402
from memtop.views.heap_series import HeapSeries  # noqa: E402
from memtop.widgets.heap_chart import HeapChart  # noqa: E402
from tests.conftest import new_app  # noqa: E402
from tests.dashboard_fixtures import MIB, at, growing  # noqa: E402


class SteppingHeap:
    """A heap source whose figure moves every read, as a busy allocator's does."""

    SOURCE = "bench"
    reason = None

    def __init__(self) -> None:
        self.n = 0

    def read(self) -> HeapReading:
        self.n += 1
        return HeapReading((50 + self.n % 40) * MIB, self.SOURCE)


def chart_build_ms(builds: int) -> float:
    """One plotext build of a full 300-step window, in ms (median of ``builds``)."""
    times = tuple(float(t) for t in range(300))
    series = HeapSeries(
        label="bench (1)", times=times,
        rss=tuple((100 + t % 50) * MIB for t in range(300)),
        anon=tuple((80 + t % 30) * MIB for t in range(300)),
        heap=tuple((50 + t % 40) * MIB for t in range(300)),
        heap_note="heap: bench", now=300.0, window=300.0,
    )
    out: list[float] = []

    async def run() -> None:
        app = new_app(at(0.0))
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            chart = app.screen.query_one(HeapChart)
            for i in range(builds):
                chart.series = replace(series, now=300.0 + i * 10)  # a new picture each time
                start = time.perf_counter()
                chart.set_lines(chart._draw())  # what a change of the samples costs
                out.append((time.perf_counter() - start) * 1000)

    asyncio.run(run())
    return statistics.median(out)


def dashboard_ms(size: tuple[int, int], panes: bool, refreshes: int) -> tuple[float, int]:
    """CPU ms per refresh of the whole dashboard, and how many chart builds it made."""
    result: list[float] = []
    builds = [0]
    snaps = [  # built beforehand: reading the fixture tree is not the dashboard's cost
        at(float(i), {"thp_fault_alloc": 40 * i, "thp_fault_fallback": 3 * i, "compact_stall": i // 10}, growing(100 + i % 37))
        for i in range(1, refreshes + 1)
    ]

    async def run() -> None:
        heap = HeapSources(SteppingHeap(), own_pid=201)  # type: ignore[arg-type]
        app = new_app(at(0.0, processes=growing(100)), pid=201, heap=heap)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            if not panes:
                app.screen.query_one("#side").display = False
            await pilot.pause()
            start = time.process_time()
            for snap in snaps:
                app.post_message(SnapshotReady(Reading(snap)))
                await pilot.pause()
            result.append((time.process_time() - start) * 1000 / refreshes)
            builds[0] = app.screen.query_one(HeapChart).builds

    asyncio.run(run())
    return result[0], builds[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refreshes", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--builds", type=int, default=50)
    a = ap.parse_args()
    print(f"chart: one redraw (plotext build + strips), 3 series x 300 steps, 160x45 layout: {chart_build_ms(a.builds):.1f} ms (median of {a.builds})")
    print(f"dashboard, headless, {a.refreshes} refreshes 1 s apart (simulated), every figure moving; CPU ms per refresh, median of {a.rounds}:")
    print(f"{'size':>8} {'panes':>8} {'no panes':>9} {'panes cost':>11} {'= % CPU at 1 s':>15} {'chart builds':>13}")
    for size in ((160, 45), (80, 24)):
        with_panes: list[float] = []
        without: list[float] = []
        built = 0
        for _ in range(a.rounds):
            ms, built = dashboard_ms(size, True, a.refreshes)
            with_panes.append(ms)
            without.append(dashboard_ms(size, False, a.refreshes)[0])
        on, off = statistics.median(with_panes), statistics.median(without)
        print(f"{size[0]}x{size[1]:<5} {on:>8.2f} {off:>9.2f} {on - off:>11.2f} {(on - off) / 10:>14.2f}% {built:>13}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
