#!/usr/bin/env python3
"""What one key press costs the dashboard at N processes, in-process (prints figures; not a test).

Usage (from the repo, in its venv):
  .venv/bin/python bench/keys.py [--procs 5000] [--presses 20] [--size 200x50] [--profile I|refresh]

The dashboard runs headless (Textual's run_test: everything but the terminal write) on a snapshot
of N made processes (tests/dashboard_fixtures.proc, PSS all different). Each press calls the key's
action directly, then lays out and draws every visible line with the compositor (as
bench/drilldown.py does: Textual would on its next frame), and times that in wall and CPU time:
I (invert), M (sort by PSS), s-less sorts by RSS and by COMMAND, Down, PgDn. A refresh (a new
snapshot where 1 % of the processes changed, the others the same records, as the live session
reuses them) is timed the same way for comparison. Median and max over --presses. ``--profile``
I (or refresh) adds a cProfile of the I presses (or the refreshes): top functions by cumulative time. bench/live.py measures the
same key end to end through tmux; this says where its time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/ holds the fixture helpers


def render(app) -> None:  # type: ignore[no-untyped-def]
    """Lay out and draw every visible line now (Textual would on its next frame)."""
    screen = app.screen
    screen._refresh_layout(app.size)
    screen._compositor.render_full_update()


def processes(n: int) -> tuple:  # type: ignore[type-arg]
    from tests.dashboard_fixtures import proc

    users = ("root", "alice", "postgres", "www-data")
    return tuple(proc(1000 + k, f"worker{k % 37}", 1 + (k * 7919) % 4999, ppid=1, user=users[k % 4],
                      cmd=f"/usr/bin/worker{k % 37} --id {k} --pool {k % 11}", start=100 + k) for k in range(n))


async def run(n: int, presses: int, size: tuple[int, int], profile_key: str) -> dict[str, list[tuple[float, float]]]:
    from memtop.state.model import Reading
    from memtop.tui.messages import SnapshotReady
    from memtop.widgets.process_table import ProcessTable
    from tests.conftest import new_app
    from tests.dashboard_fixtures import made

    procs = processes(n)
    snap = replace(made(procs), time=1.0)
    app = new_app(snap)
    out: dict[str, list[tuple[float, float]]] = {}
    prof = cProfile.Profile() if profile_key else None
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(ProcessTable)

        async def key(name: str, action: Callable[[], object], profiled: bool = False) -> None:
            await pilot.pause()
            w, c = time.perf_counter(), time.process_time()
            if profiled and prof is not None:
                prof.enable()
            action()
            render(app)
            if profiled and prof is not None:
                prof.disable()
            out.setdefault(name, []).append((time.perf_counter() - w, time.process_time() - c))

        current = list(procs)
        for i in range(presses):
            await key("I (invert)", screen.action_invert, profiled=profile_key == "I")
            await key("M (sort by PSS)", lambda: screen.action_sort_by("pss"))
            await key("sort by RSS", lambda: screen.action_sort_by("rss"))
            await key("sort by COMMAND", lambda: screen.action_sort_by("command"))
            await key("M again (PSS)", lambda: screen.action_sort_by("pss"))
            await key("Down", lambda: table.action_move(1))
            await key("PgDn", lambda: table.action_page(1))
            for k in range(i, n, 100):  # 1 % of the processes moved
                current[k] = replace(current[k], rss=(current[k].rss or 0) + 4096 * (i + 1), memory_time=2.0 + i)
            reading = Reading(replace(snap, time=2.0 + i, processes=tuple(current)), {}, 1.0, 50 << 20)
            await key("refresh (1 % moved)", lambda: app.on_snapshot_ready(SnapshotReady(reading)),
                      profiled=profile_key == "refresh")
    if prof is not None:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        print(buf.getvalue())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=5000)
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--size", default="200x50")
    ap.add_argument("--profile", choices=("I", "refresh"), help="cProfile the I presses or the refreshes")
    a = ap.parse_args()
    width, height = (int(v) for v in a.size.split("x"))
    out = asyncio.run(run(a.procs, a.presses, (width, height), a.profile or ""))
    print(f"{a.procs} processes, {width}x{height}, {a.presses} presses each: wall ms median [max], CPU ms median")
    for name, xs in out.items():
        wall = [w * 1000 for w, _ in xs]
        cpu = [c * 1000 for _, c in xs]
        print(f"  {name:<22} {statistics.median(wall):7.1f} [{max(wall):6.1f}]   CPU {statistics.median(cpu):7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
