#!/usr/bin/env python3
"""Where one refresh of the live dashboard spends its time, measured in-process (prints figures; not a test).

Usage (from the repo, in its venv):
  .venv/bin/python bench/refresh.py [--refreshes 60] [--size 200x50] [--mode fixture|live|both]
                                    [--pace 1.0] [--rounds 3]

The dashboard runs headless (Textual's run_test: everything but the terminal write) and is fed
--refreshes readings, one after the other:

* fixture: the captured tree (tests/fixtures/captures/vm-6.18-root, ~70 processes) in simulated
  time, 1 s apart, the way a host at rest moves: a few processes' RSS/PSS change each pass (the
  selected one among them), the others are the same records (the live session reuses them),
  the free/available figures and a few THP counters move, and a short-lived process comes and
  goes every other pass (the process count changes every pass).  No /proc is read.
* live: this host, through memtop's own Monitor (the Scheduler and its PSS rule), one pass
  every --pace seconds, as the app's collection loop does.

Each phase is timed in CPU time of the thread that runs it (time.thread_time), *exclusive* of
the phases nested in it, by wrapping these functions for the run:

  collection    Monitor.read (the /proc pass; live only)
  model         MemtopModel.ingest (history, rates, THP view, diagnoses)
  screen        MainScreen's refresh (header, totals, panes, selection), less the phases below
  rows          ProcessView.rows (filter, sort, the rows of the table)
  chart         HeapChart._draw (the chart's lines; plotext builds counted apart)
  widget render render_line / render of memtop's widgets and Textual's own (Footer...)
  layout        Compositor.reflow (a layout pass of the screen)
  compositor    Compositor.render_update (cutting and joining strips), less widget render
  other         the rest of the process's CPU over the run: message dispatch, asyncio, timers

CPU ms per refresh = phase total / refreshes; medians over --rounds.  Counts per refresh: layout
passes, plotext builds, widget refresh() calls, lines the compositor drew.  The machine is
shared: compare figures within one run (before/after: run this on both trees).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/ holds the fixture snapshots

PHASES = ("collection", "model", "screen", "rows", "chart", "widget render", "layout", "compositor", "other")


class Phases:
    """Exclusive CPU time per phase (per thread), by wrapping functions."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self._local = threading.local()
        self._undo: list[tuple[type, str, Any]] = []

    def wrap(self, owner: type, name: str, phase: str) -> None:
        original = owner.__dict__[name]
        phases = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            stack = getattr(phases._local, "stack", None)
            if stack is None:
                stack = phases._local.stack = []
            start = time.thread_time()
            stack.append(0.0)  # time of nested phases
            try:
                return original(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                nested = stack.pop()
                phases.total[phase] += spent - nested
                phases.count[phase] += 1
                if stack:
                    stack[-1] += spent

        timed.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def counter(self, owner: type, name: str, what: str, amount: Callable[..., int] = lambda *a, **k: 1) -> None:
        original = owner.__dict__[name]
        phases = self

        def counted(*args: Any, **kwargs: Any) -> Any:
            phases.count[what] += amount(*args, **kwargs)
            return original(*args, **kwargs)

        setattr(owner, name, counted)
        self._undo.append((owner, name, original))

    def undo(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


def instrument(phases: Phases) -> None:
    from textual._compositor import Compositor
    from textual.widget import Widget

    from memtop.state.model import MemtopModel
    from memtop.state.monitor import Monitor
    from memtop.tables.process_view import ProcessView
    from memtop.tui.screens.main import MainScreen
    from memtop.widgets.heap_chart import HeapChart
    import memtop.tui.app  # noqa: F401 - every widget class imported before the walk below

    phases.wrap(Monitor, "read", "collection")
    phases.wrap(MemtopModel, "ingest", "model")
    for name in ("_model_changed", "refresh_view", "show_error"):
        phases.wrap(MainScreen, name, "screen")
    phases.wrap(ProcessView, "rows", "rows")
    phases.wrap(HeapChart, "_draw", "chart")
    phases.wrap(Compositor, "reflow", "layout")
    phases.wrap(Compositor, "render_update", "compositor")
    seen: set[type] = set()
    todo: list[type] = [Widget]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        for name in ("render_line", "render", "_render_content"):
            if name in cls.__dict__:
                phases.wrap(cls, name, "widget render")
    phases.counter(Widget, "refresh", "widget refresh() calls")


def fixture_readings(n: int) -> tuple[Any, list[Any]]:
    """The captured tree moving as a quiet host does (see the module's doc)."""
    from memtop.state.model import Reading
    from tests.dashboard_fixtures import captured, proc

    base = captured("vm-6.18-root")
    # The capture holds a handful of user processes: made ones bring it to ~70, as on this host.
    made = tuple(proc(1000 + k, f"svc{k % 9}", 5 + k % 40, ppid=1 if k % 4 == 0 else 1000 + k - k % 4,
                      user=("root", "alice", "postgres")[k % 3], start=200 + k) for k in range(66))
    base = replace(base, processes=base.processes + made)
    procs = tuple(p for p in base.processes if p.pss is not None)
    movers = sorted(procs, key=lambda p: -(p.pss or 0))[:6]
    mover_pids = {p.pid for p in movers}
    vmstat = dict(base.vmstat)
    readings = []
    current = {p.pid: p for p in base.processes}
    system = base.system
    for i in range(n + 1):
        for k, p in enumerate(movers):
            wobble = ((i * (k + 3)) % 17) * 4096 * (k + 1)
            current[p.pid] = replace(p, rss=(p.rss or 0) + wobble, pss=(p.pss or 0) + wobble // 2,
                                     uss=(p.uss or 0) + wobble // 4, memory_time=float(i))
        counters = dict(vmstat)
        for name in ("thp_fault_alloc", "thp_fault_fallback", "pgfault"):
            if name in counters:
                counters[name] = counters[name] + 7 * i
        free = (system.free or 0) + (i % 5) * 300 * 1024
        sysmem = replace(system, free=free, available=(system.available or 0) + (i % 5) * 300 * 1024)
        # A busy host's churn: a short-lived process (a shell, a compiler) every other pass.
        churn = (proc(5000 + i, "sh", 1 + i % 3, start=1000 + i),) if i % 2 else ()
        snap = replace(base, time=float(i), processes=tuple(current[p.pid] for p in base.processes) + churn,
                       vmstat=tuple(counters.items()), system=sysmem)
        readings.append(Reading(snap, {}, 1.0 + (i % 3) * 0.1, 60 * (1 << 20) + i * 4096))
    assert mover_pids
    return movers[0].pid, readings


def run_once(mode: str, refreshes: int, size: tuple[int, int], pace: float) -> tuple[dict[str, float], dict[str, float], int]:
    """One headless run: (CPU ms per refresh by phase, counts per refresh, processes shown)."""
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.snapshot import Collector
    from memtop.state.options import StartOptions
    from memtop.state.monitor import Monitor
    from memtop.tui.messages import SnapshotReady
    from memtop.widgets.heap_chart import HeapChart
    from tests.conftest import new_app

    phases = Phases()
    shown = [0]

    async def run() -> None:
        monitor = None
        if mode == "fixture":
            pid, readings = fixture_readings(refreshes)
            app = new_app(readings[0].snapshot, pid=pid)
        else:
            monitor = Monitor.build(Collector(HostPaths()), StartOptions(interval=pace))
            app = new_app(model=monitor.model)
        async with app.run_test(size=size) as pilot:
            if monitor is not None:
                app.post_message(SnapshotReady(await asyncio.to_thread(monitor.read)))  # the first, full pass
            else:
                app.post_message(SnapshotReady(readings[0]))
            await pilot.pause()
            await pilot.pause()
            instrument(phases)
            builds = app.screen.query_one(HeapChart).builds
            try:
                cpu = time.process_time()
                for i in range(1, refreshes + 1):
                    started = time.monotonic()
                    if monitor is not None:
                        reading = await asyncio.to_thread(monitor.read)
                    else:
                        reading = readings[i]
                    app.post_message(SnapshotReady(reading))
                    await pilot.pause()
                    if pace and monitor is not None:
                        await asyncio.sleep(max(pace - (time.monotonic() - started), 0))
                cpu = time.process_time() - cpu
            finally:
                phases.undo()
            phases.count["plotext builds"] = app.screen.query_one(HeapChart).builds - builds
            shown[0] = len(app.screen.snapshot.processes) if getattr(app.screen, "snapshot", None) else 0
        measured = sum(phases.total[p] for p in PHASES if p != "other")
        phases.total["other"] = max(cpu - measured, 0.0)

    asyncio.run(run())
    ms = {p: phases.total[p] * 1000 / refreshes for p in PHASES}
    counts = {k: phases.count[k] / refreshes for k in ("layout", "plotext builds", "widget refresh() calls", "widget render")}
    return ms, counts, shown[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--refreshes", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", default="200x50")
    ap.add_argument("--mode", choices=("fixture", "live", "both"), default="both")
    ap.add_argument("--pace", type=float, default=1.0, help="seconds between live passes (the refresh interval)")
    a = ap.parse_args()
    width, height = (int(v) for v in a.size.split("x"))
    modes = ("fixture", "live") if a.mode == "both" else (a.mode,)
    for mode in modes:
        runs = [run_once(mode, a.refreshes, (width, height), a.pace) for _ in range(a.rounds)]
        print(f"\n{mode}: {a.refreshes} refreshes at {width}x{height}, {runs[0][2]} processes; "
              f"CPU ms per refresh, median [min-max] of {a.rounds} rounds")
        totals = [sum(r[0].values()) for r in runs]
        for phase in (*PHASES, "total"):
            xs = totals if phase == "total" else [r[0][phase] for r in runs]
            print(f"  {phase:<14} {statistics.median(xs):8.3f}  [{min(xs):.3f}-{max(xs):.3f}]")
        for key in runs[0][1]:
            xs = [r[1][key] for r in runs]
            label = "render calls" if key == "widget render" else key
            print(f"  per refresh: {label:<24} {statistics.median(xs):8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
