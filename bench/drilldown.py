#!/usr/bin/env python3
"""The drill-down screen's costs, for a small process and one with ~65,000 mappings (prints figures; not a test).

Usage (from the repo, in its venv): python bench/drilldown.py [--rounds 3] [--pages 65000]

Each target is a helper process (bench/manymaps.py): PAGES=8 gives a small Python process (~70
mappings), PAGES=65000 one with ~65,060 (feasibility.md §D). The dashboard runs headless (Textual's
run_test, 160x45) on a snapshot holding that process, which is selected; then:
- Enter -> screen: from pressing Enter to the process screen mounted and drawn with its header
  (what memtop knew from the dashboard), to the mappings table drawn (the first smaps read,
  parsing only the table's fields, in a thread, then one frame), and to every field read (the
  full read that follows at once: a mapping's details wait for it);
- per refresh: one re-read in its thread (read + parse + rows: off the event loop, so this is
  CPU time per period, not a stall), and the part on the event loop (new rows into the table,
  header, status);
- keys: the action a key runs plus laying out and drawing every visible line (forced with
  the compositor, not waiting for Textual's frame timer): PgDn, End (scroll); I (invert), M
  (sort by PSS), g (grouped <-> raw, 65k rows); and one key through Pilot for comparison
  (Pilot adds its own waits for idle); and PgDn while a re-read runs in its thread (the
  GIL is shared: the loop's work is slowed, not blocked).
Every figure is the median over --rounds (min and max beside it). The machine is shared:
others' work inflates the numbers; `uptime`'s load is printed.
Goals (issue 5): on screen < 1 s at 65k mappings, < 50 ms for a typical process; scroll and sort < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memtop.collectors.host import load_facts, user_lookup  # noqa: E402
from memtop.collectors.paths import HostPaths  # noqa: E402
from memtop.collectors.process_maps import read_process_maps  # noqa: E402
from memtop.state.maps_source import MapsSource
from memtop.tables.mapping_rows import TABLE_FIELDS
from memtop.tui.screens.process import ProcessScreen  # noqa: E402
from memtop.widgets.mappings_table import MappingsTable  # noqa: E402
from memtop.widgets.process_table import ProcessTable  # noqa: E402
from tests.conftest import new_app  # noqa: E402
from tests.dashboard_fixtures import made  # noqa: E402

Figures = dict[str, list[float]]


def render(app) -> None:  # type: ignore[no-untyped-def]
    """Lay out and draw every visible line now (Textual would on its next frame)."""
    screen = app.screen
    screen._refresh_layout(app.size)
    screen._compositor.render_full_update()


async def one_round(pid: int, figures: Figures) -> None:
    paths = HostPaths()
    facts = load_facts(paths)
    users = user_lookup(facts, True)
    first = read_process_maps(paths, pid, users)
    assert first.process is not None
    app = new_app(made((first.process,)), pid=pid)
    # As memtop reads a process (maps_source.source_for): a quick first read of the table's fields.
    app.maps_source = MapsSource(
        lambda p, start: read_process_maps(paths, p, users, start), True,
        lambda p, start: read_process_maps(paths, p, users, start, fields=TABLE_FIELDS),
    )
    loop_costs: list[float] = []
    read_costs: list[float] = []
    real_show = ProcessScreen.show
    real_read = ProcessScreen._read

    def show(self, maps, analysis):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        real_show(self, maps, analysis)
        loop_costs.append(time.perf_counter() - t)

    smaps_costs: list[float] = []

    def read(self, quick=False):  # type: ignore[no-untyped-def]
        out = real_read(self, quick)
        read_costs.append(out[2])
        smaps_costs.append(out[0].read_seconds)
        return out

    ProcessScreen.show = show  # type: ignore[method-assign]
    ProcessScreen._read = read  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            main = app.screen
            t0 = time.perf_counter()
            main.query_one(ProcessTable).action_activate()  # what Enter does, without Pilot's own waits
            while not (isinstance(app.screen, ProcessScreen) and app.screen.is_mounted):
                await asyncio.sleep(0.001)
            screen = app.screen
            render(app)
            figures["enter -> screen with header"].append(time.perf_counter() - t0)
            while screen.analysis is None:
                await asyncio.sleep(0.001)
            render(app)
            figures["enter -> mappings drawn"].append(time.perf_counter() - t0)
            while screen.partial or len(read_costs) < 2:  # the full read after the quick first one
                await asyncio.sleep(0.002)
            figures["enter -> every field read"].append(time.perf_counter() - t0)
            shown = len(loop_costs)
            screen.poll()  # one more read now: a refresh
            while len(read_costs) < 3 or len(loop_costs) <= shown:
                await asyncio.sleep(0.002)
            await pilot.pause()
            figures["refresh: read+parse+rows (thread)"].append(read_costs[-1])
            figures["  of which smaps read+parse"].append(smaps_costs[-1])
            figures["refresh: on the event loop"].append(loop_costs[-1])
            table = screen.query_one(MappingsTable)

            async def key(name: str, action: Callable[[], object]) -> None:
                await pilot.pause()
                t = time.perf_counter()
                action()
                render(app)
                figures[name].append(time.perf_counter() - t)
                t = time.perf_counter()

            await key("g: grouped -> raw", screen.action_toggle_raw)
            await key("PgDn (raw)", lambda: table.action_page(1))
            await key("End (raw)", lambda: table.action_edge(1))
            await key("I: invert (raw)", screen.action_invert)
            await key("M: sort by PSS (raw)", lambda: screen.action_sort_by("pss"))
            await key("g: raw -> grouped", screen.action_toggle_raw)
            figures["mappings"].append(float(screen.analysis.count if screen.analysis else 0))
            # A key while a re-read runs in its thread: the thread holds the GIL
            # between switch intervals, so the loop's work is slowed, not stopped.
            before = len(read_costs)
            screen.poll()
            await asyncio.sleep(min(0.3, read_costs[-1] / 3))
            t = time.perf_counter()
            table.action_page(1)
            render(app)
            busy = len(read_costs) == before  # still reading when the key was done
            figures["PgDn while a re-read runs"].append(time.perf_counter() - t)
            while len(read_costs) == before:
                await asyncio.sleep(0.005)
            if not busy:
                figures["PgDn while a re-read runs"].pop()  # the read ended first: not a measurement
            t = time.perf_counter()
            await pilot.press("I")  # end to end through Pilot, for comparison (Pilot waits on its own)
            render(app)
            figures["I through Pilot (includes its waits)"].append(time.perf_counter() - t)
    finally:
        ProcessScreen.show = real_show  # type: ignore[method-assign]
        ProcessScreen._read = real_read  # type: ignore[method-assign]


def run_target(pages: int, rounds: int) -> Figures:
    child = subprocess.Popen([sys.executable, str(REPO / "bench" / "manymaps.py"), str(pages)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    figures: Figures = {}
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for _ in range(rounds):
            figures.setdefault("mappings", [])
            for name in ("enter -> screen with header", "enter -> mappings drawn", "enter -> every field read",
                         "refresh: read+parse+rows (thread)",
                         "  of which smaps read+parse",
                         "refresh: on the event loop", "g: grouped -> raw", "PgDn (raw)", "End (raw)",
                         "I: invert (raw)", "M: sort by PSS (raw)", "g: raw -> grouped",
                         "PgDn while a re-read runs", "I through Pilot (includes its waits)"):
                figures.setdefault(name, [])
            asyncio.run(one_round(child.pid, figures))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)
    return figures


def report(title: str, figures: Figures) -> None:
    print(f"\n{title}: {int(figures['mappings'][0])} mappings")
    for name, values in figures.items():
        if name == "mappings" or not values:
            continue
        ms = [v * 1000 for v in values]
        print(f"  {name:<36} {statistics.median(ms):9.1f} ms   (min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=65_000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} on {os.cpu_count()} CPUs")
    report("small process", run_target(8, args.rounds))
    report("many mappings", run_target(args.pages, args.rounds))
    print(f"\nload average {os.getloadavg()[0]:.2f} after the run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
