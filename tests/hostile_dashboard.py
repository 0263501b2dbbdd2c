"""The dashboard on one tree under a Pilot, run as ``python -m tests.hostile_dashboard ROOT``.

A subprocess of tests/test_hostile_trees.py: a tree that hangs memtop is
killed by the test's timeout instead of hanging the test run. Prints
``OK`` and exits 0 when the dashboard showed the tree (or said in one line
why it cannot, exit 2, as ``memtop --root`` does); anything else is a failure
the test reports with this process's output.
"""

from __future__ import annotations

import asyncio
import sys


async def _drive(root: str) -> int:
    from memtop.collectors.paths import HostPaths
    from memtop.collectors.snapshot import Collector, HostError
    from memtop.state.monitor import Monitor
    from memtop.state.options import StartOptions
    from memtop.tui.app import MemtopApp
    from memtop.widgets.process_table import ProcessTable

    from tests.waiting import pilot_until

    try:
        collector = Collector(HostPaths.from_root(root))
    except HostError as exc:
        print(f"refused: {exc}")
        return 2
    monitor = Monitor.build(collector, StartOptions(frozen=True), own_stats=False)
    app = MemtopApp(monitor.model, monitor)
    async with app.run_test(size=(160, 45)) as pilot:
        main = app.main_screen
        assert main is not None
        await pilot_until(pilot, lambda: app.model.snapshot is not None or bool(getattr(main, "error", None)), timeout=30,
                          what="the first pass of the tree, or its failure on screen")
        if app.model.snapshot is None:
            print("failed pass shown")
            return 0
        rows = app.screen.query_one(ProcessTable).rows
        for row in rows:
            for name, value in row.values.items():
                assert value is None or value >= 0, f"pid {row.pid}: {name} {value} on screen"
        # Every screen a reader opens on a tree: the process, the cgroups, the tree view, THP, diagnoses.
        for keys in (("enter",), ("escape",), ("c",), ("escape",), ("t",), ("t",), ("T",), ("escape",),
                     ("d",), ("escape",), ("question_mark",), ("escape",)):
            await pilot.press(*keys)
            await pilot.pause()
    print("OK")
    return 0


def main() -> int:
    return asyncio.run(_drive(sys.argv[1]))


if __name__ == "__main__":
    sys.exit(main())
