#!/usr/bin/env python3
"""Render the dashboard from fixture data into screenshots/ (SVG, and PNG where a converter exists).

Usage: python screenshots/render.py   (from the repo, with the test extra installed)
"""

from __future__ import annotations

import asyncio
import shutil
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memtop.tui.screens.process import ProcessScreen  # noqa: E402
from tests.cgroup_fixtures import with_cgroups  # noqa: E402
from tests.conftest import new_app  # noqa: E402
from tests.dashboard_fixtures import made  # noqa: E402
from tests.maps_fixtures import FakeSource  # noqa: E402
from tests.snapshots.test_diagnoses_snapshots import feed as feed_findings, make_app as make_findings, measured  # noqa: E402
from tests.snapshots.test_panes_snapshots import feed, make_app  # noqa: E402
from tests.tui.test_replay import replay_app  # noqa: E402
from tests.waiting import pilot_until  # noqa: E402

#: name, terminal size, keys; "live" shots are fed 30 s of fixture snapshots
#: first (THP faults, two compaction stalls, a process growing beside its heap).
SHOTS = (
    ("main-160x45", (160, 45), (), True),
    ("main-80x24", (80, 24), (), True),
    ("tree-160x45", (160, 45), ("t",), False),
    ("group-by-program-160x45", (160, 45), ("g",), False),
    ("help-120x40", (120, 40), ("question_mark",), False),
    ("setup-120x40", (120, 40), ("f2", "end", "space", "f7"), False),
    ("signals-120x40", (120, 40), ("space", "space", "f9"), False),
    ("thp-counters-160x45", (160, 45), ("T",), True),
    ("cgroups-160x45", (160, 45), ("c", "down", "down"), False),
    ("process-160x45", (160, 45), ("down", "enter"), False),
    ("process-80x24", (80, 24), ("down", "enter"), False),
    ("mapping-details-120x45", (120, 45), ("down", "enter", "g", "home", "enter"), False),
    # Fed a limited cgroup with new OOM kills, compaction stalls, swap-in and low available memory.
    ("diagnoses-160x45", (160, 45), ("d",), True),
    ("working-set-120x35", (120, 35), (), True),
    # memtop --replay over a fixture-built recording (a process growing, an OOM kill), at its 10th sample.
    ("replay-160x45", (160, 45), (), False),
)


async def shoot(name: str, size: tuple[int, int], keys: tuple[str, ...], live: bool, out: Path) -> Path:
    if name.startswith("replay"):
        with tempfile.TemporaryDirectory() as tmp:
            return await _shoot(replay_app(Path(tmp), at=9), name, size, keys, out)
    snapshot = with_cgroups() if name.startswith("cgroups") else made()
    findings = name.startswith(("diagnoses", "working-set"))
    app = (make_findings() if findings else make_app()) if live else new_app(snapshot)
    app.maps_source = FakeSource(next(p for p in made().processes if p.pid == 201)).source()
    return await _shoot(app, name, size, keys, out, live, findings)


async def _shoot(app: Any, name: str, size: tuple[int, int], keys: tuple[str, ...], out: Path, live: bool = False,
                 findings: bool = False) -> Path:
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if name.startswith("working-set"):
            await measured(pilot)  # a result kept for python3 (201), then w
        elif findings:
            await feed_findings(pilot)
        elif live:
            await feed(pilot)
        for key in keys:
            await pilot.press(key)
            # The process screen reads its mappings in a thread.
            await pilot_until(pilot, lambda: not isinstance(app.screen, ProcessScreen) or app.screen.reads)
        await pilot.pause()
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(out))
    return path


def main() -> int:
    os.environ["TZ"] = "UTC"  # the replay's time cursor shows the fixture's times, not this machine's zone
    time.tzset()
    out = REPO / "screenshots"
    out.mkdir(exist_ok=True)
    converter = shutil.which("rsvg-convert")
    for name, size, keys, live in SHOTS:
        svg = asyncio.run(shoot(name, size, keys, live, out))
        print(svg.relative_to(REPO))
        if converter:
            # rsvg draws &#160; with no width: hand it ordinary, preserved spaces.
            text = svg.read_text().replace("&#160;", " ").replace("<svg ", '<svg xml:space="preserve" ', 1)
            png = svg.with_suffix(".png")
            subprocess.run([converter, "-o", str(png)], input=text.encode(), check=True)
            print(png.relative_to(REPO))
    if not converter:
        print("no rsvg-convert (apt-get install librsvg2-bin): SVG only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
