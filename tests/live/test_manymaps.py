"""A real process with ~65,000 mappings (bench/manymaps.py, feasibility.md §D) in the drill-down.

Opens it from the dashboard, sorts and scrolls; the read and the parse must
run off the event loop: the thread they ran on is asserted, not a time.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from memtop.collectors import smaps
from memtop.collectors.host import load_facts, user_lookup
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_maps import read_process_maps
from memtop.state.maps_source import MapsSource
from memtop.tables.mapping_rows import TABLE_FIELDS
from memtop.tui.screens.process import ProcessScreen
from memtop.widgets.mappings_table import MappingsTable

from tests.conftest import new_app
from tests.dashboard_fixtures import made
from tests.waiting import pilot_until

HELPER = Path(__file__).resolve().parents[2] / "bench" / "manymaps.py"
PAGES = 65_000


@pytest.fixture(scope="module")
def manymaps() -> Iterator[int]:
    if int(Path("/proc/sys/vm/max_map_count").read_text()) < PAGES + 200:  # the interpreter maps ~60 more
        pytest.skip("vm.max_map_count too low for 65,000 mappings")
    child = subprocess.Popen([sys.executable, str(HELPER), str(PAGES)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        assert line == "ready", line
        yield child.pid
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=30)


async def test_65k_mappings_open_sort_and_scroll_with_the_parse_off_the_event_loop(
        manymaps: int, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed_on: list[threading.Thread] = []
    real_parse = smaps.parse_smaps

    def parse(raw: bytes, fields=None):  # type: ignore[no-untyped-def]
        parsed_on.append(threading.current_thread())
        return real_parse(raw, fields)

    monkeypatch.setattr(smaps, "parse_smaps", parse)  # read_mappings looks it up at call time
    paths = HostPaths()
    facts = load_facts(paths)
    users = user_lookup(facts, True)
    first = read_process_maps(paths, manymaps, users)
    assert first.process is not None
    parsed_on.clear()
    app = new_app(made((first.process,)), pid=manymaps)
    app.maps_source = MapsSource(
        lambda pid, start: read_process_maps(paths, pid, users, start), True,
        lambda pid, start: read_process_maps(paths, pid, users, start, fields=TABLE_FIELDS),  # the quick first paint
    )
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, ProcessScreen)
        # A loaded machine may take seconds; the loop stays free meanwhile.
        await pilot_until(pilot, lambda: screen.analysis is not None, timeout=30, interval=0.01)
        assert screen.analysis is not None
        assert parsed_on and threading.main_thread() not in parsed_on
        await pilot_until(pilot, lambda: not screen.partial, timeout=30, interval=0.01)  # then the full read, every field
        assert not screen.partial and len(parsed_on) >= 2 and threading.main_thread() not in parsed_on
        assert screen.maps is not None and screen.maps.mappings and screen.maps.mappings[0].vmflags
        assert screen.analysis.count >= PAGES
        table = screen.query_one(MappingsTable)
        anon = next(r for r in table.rows if r.key == ("p", "anon", "[anon]"))
        assert anon.maps >= PAGES  # 65k mappings: one row in the grouped view
        await pilot.press("g")  # raw: every mapping a row
        assert len(table.rows) == screen.analysis.count
        await pilot.press("end")
        assert table.cursor == len(table.rows) - 1
        assert table.top >= len(table.rows) - table.size.height
        await pilot.press("home", "pagedown", "pagedown")
        assert table.cursor > 0
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("end", "enter")  # the last sort field: address
        await pilot.pause()
        starts = [r.start for r in table.rows[:1000]]
        assert starts == sorted(starts)
        await pilot.press("I")
        starts = [r.start for r in table.rows[:1000]]
        assert starts == sorted(starts, reverse=True)
