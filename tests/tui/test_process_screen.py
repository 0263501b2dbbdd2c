"""The drill-down screen driven with keys (Textual Pilot), on scripted reads and captured trees."""

from __future__ import annotations

import threading
from dataclasses import replace

from memtop.collectors.host import load_facts, user_lookup
from memtop.collectors.models import Snapshot
from memtop.collectors.paths import HostPaths
from memtop.collectors.process_maps import read_process_maps
from memtop.tui.app import MemtopApp
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.mapping_detail import MappingDetailScreen
from memtop.tui.screens.sort_keys import SortScreen
from memtop.state.maps_source import MapsSource
from memtop.tui.screens.process import ProcessScreen
from memtop.widgets.mappings_table import MappingsTable

from tests.conftest import new_app
from tests.dashboard_fixtures import CAPTURES, PROCESSES, captured, made
from tests.maps_fixtures import FakeSource
from tests.waiting import pilot_until

PYTHON = next(p for p in PROCESSES if p.pid == 201)


def app_with(source: FakeSource | MapsSource, snapshot: Snapshot | None = None) -> MemtopApp:
    app = new_app(snapshot or made())
    app.maps_source = source.source() if isinstance(source, FakeSource) else source
    return app


async def open_screen(app: MemtopApp, pilot, *keys: str) -> ProcessScreen:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press(*keys, "enter")
    screen = app.screen
    assert isinstance(screen, ProcessScreen)
    await pilot_until(pilot, lambda: screen.reads, what="the first read of the process")
    return screen


def rows(app: MemtopApp) -> list[tuple[object, ...]]:
    return [r.key for r in app.screen.query_one(MappingsTable).rows]


def labels(app: MemtopApp) -> list[str]:
    return [r.label for r in app.screen.query_one(MappingsTable).rows]


def status(app: MemtopApp) -> str:
    return str(app.screen.query_one("#maps-status").render())


def header(app: MemtopApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("#proc-header Static"))


async def test_enter_opens_the_process_grouped_by_kind_with_its_figures() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        assert screen.proc.pid == 201
        text = header(app)
        assert "python3" in text and "pid 201" in text and "python3 train.py" in text
        assert "VmPeak 58.6M" in text and "THP allowed" in text and "PSS 120M" in text
        kinds = [r.label for r in screen.query_one(MappingsTable).rows if r.level == 0]
        assert kinds == ["heap", "stacks", "anonymous", "libraries (.so)", "other files", "shared memory and memfd", "special"]
        lib = next(r for r in screen.query_one(MappingsTable).rows if r.label.endswith("libc.so.6"))
        assert lib.maps == 2 and lib.pss == 156 * 1024 and lib.uss == 40 * 1024
        assert "11 mappings" in status(app)


async def test_sort_invert_and_sort_menu() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "down")
        libs = [label for label in labels(app) if ".so" in label and "(" not in label]
        assert libs == ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6"]  # PSS 400K > 156K
        await pilot.press("I")
        libs = [label for label in labels(app) if ".so" in label and "(" not in label]
        assert libs == ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SortScreen)
        await pilot.press("down", "enter")  # from pss, one down is rss
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.sort == "rss" and not app.screen.reverse


async def test_g_toggles_raw_mappings() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "down")
        grouped = rows(app)
        await pilot.press("g")
        raw = rows(app)
        assert len(raw) == 11 and all(k[0] == "m" for k in raw)
        assert raw[0] == ("m", 0x7F0000000000)  # biggest PSS first
        assert "raw  sort pss" in status(app)
        await pilot.press("g")
        assert rows(app) == grouped


async def test_filter_then_two_step_escape_back_with_the_selection_kept() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        await pilot.press("slash", "l", "i", "b", "c", "full_stop")
        assert screen.text == "libc."
        assert labels(app) == ["libraries (.so)", "/usr/lib/x86_64-linux-gnu/libc.so.6"]
        await pilot.press("escape")  # closes the input and clears the filter
        assert screen.text == "" and isinstance(app.screen, ProcessScreen)
        await pilot.press("slash", "h", "e", "a", "p", "enter")  # Enter keeps it
        assert screen.text == "heap" and not screen.query_one("#maps-filter").display
        assert labels(app) == ["heap", "[heap]"]
        await pilot.press("escape")  # first Esc: the filter goes
        assert screen.text == "" and isinstance(app.screen, ProcessScreen)
        await pilot.press("escape")  # second: back
        assert isinstance(app.screen, MainScreen)
        assert app.screen.query_one("ProcessTable").selected.pid == 201


async def test_letters_typed_with_slash_go_into_the_filter() -> None:
    from textual import events

    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        for key, char in [("slash", "/"), *((c, c) for c in "stag")]:
            app.post_message(events.Key(key, char))
        await pilot_until(pilot, lambda: screen.text == "stag")
        await pilot.pause()
        assert screen.text == "stag" and isinstance(app.screen, ProcessScreen)  # "s" and "g" did nothing else
        assert not screen.raw


async def test_backspace_returns_and_the_scheduler_follows_the_open_process() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "down")
        assert app.model.focus.drilled == 201
        main = app.screen_stack[1]
        assert isinstance(main, MainScreen)
        main.query_one("ProcessTable").action_edge(1)  # the dashboard's cursor moves underneath
        app.post_message(SnapshotReady(Reading(made())))
        await pilot.pause()
        assert app.model.focus.pid == 201  # still read every refresh
        await pilot.press("backspace")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.model.focus.drilled is None


async def test_enter_on_a_mapping_explains_every_field_and_the_vmflags() -> None:
    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "down")
        await pilot.press("g", "home", "enter")  # the raw anonymous mapping with MADV_HUGEPAGE
        await pilot.pause()
        assert isinstance(app.screen, MappingDetailScreen)
        text = str(app.screen.query_one("Static").render())
        assert "Private_Dirty" in text and "mapped only here, modified" in text
        assert "AnonHugePages" in text and "transparent huge pages" in text
        assert "hg  THP advised (MADV_HUGEPAGE)" in text and "rd  readable" in text
        assert "THPeligible" in text
        await pilot.press("escape")
        assert isinstance(app.screen, ProcessScreen)
        await pilot.press("g", "home", "down", "down", "down", "down", "enter")  # the anonymous kind: 2 mappings
        await pilot.pause()
        text = str(app.screen.query_one("Static").render())
        assert "anonymous   kind anon   2 mappings" in text
        assert "1 of 2 mappings" in text  # THPeligible counted, not summed
        assert "hg  THP advised (MADV_HUGEPAGE)  (1 of 2)" in text and "nh  THP disabled (MADV_NOHUGEPAGE)  (1 of 2)" in text
        assert "9.8 MiB" in text  # Rss 8000 + 2000 kB summed
        assert "KernelPageSize       4.0 KiB" in text  # a page size is not summed


async def test_rows_that_grew_are_marked_and_the_change_since_opening_shown() -> None:
    source = FakeSource(PYTHON)
    app = app_with(source)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        source.grow = 512
        screen.poll()  # the next read now (the worker restarts)
        await pilot_until(pilot, lambda: screen.reads >= 2)
        heap = next(r for r in screen.query_one(MappingsTable).rows if r.label == "[heap]")
        assert heap.grew and heap.delta == 512 * 1024
        table = screen.query_one(MappingsTable)
        assert table.cell(heap, "mark", 160) == "▲" and table.cell(heap, "delta", 160) == "+512Ki"
        stack = next(r for r in table.rows if r.label == "[stack]")
        assert not stack.grew and table.cell(stack, "mark", 160) == ""


async def test_the_process_exiting_keeps_the_last_data() -> None:
    source = FakeSource(PYTHON)
    app = app_with(source)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        before = rows(app)
        source.exited = True
        screen.poll()
        await pilot_until(pilot, lambda: screen.exited)
        assert "EXITED" in status(app) and "has exited" in status(app)
        assert rows(app) == before  # the last mappings stay
        calls = len(source.calls)
        await pilot.pause(0.1)  # something that must not happen: nothing to wait for, a while to let it
        assert len(source.calls) == calls  # no more reads


async def test_permission_denied_says_why_and_keeps_the_status_figures() -> None:
    tree = CAPTURES / "vm-6.18-user"
    paths = HostPaths.from_root(tree)
    facts = load_facts(paths)
    users = user_lookup(facts, False)
    source = MapsSource(lambda pid, start: read_process_maps(paths, pid, users, start, facts.denied), live=False)
    snap = captured("vm-6.18-user")
    app = app_with(source, snap)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        main = app.screen
        assert isinstance(main, MainScreen)
        assert main.query_one("ProcessTable").select_key(("p", 1084))
        screen = await open_screen(app, pilot)
        assert screen.proc.pid == 1084 and screen.analysis is None
        assert "smaps not readable" in status(app) and "as root" in status(app)
        assert "VmRSS -" not in header(app) and "VmRSS" in header(app)  # status is readable
        assert rows(app) == []


def test_live_denial_names_the_owner_and_the_fix(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from memtop.explain import smaps_fields as smaps_doc

    monkeypatch.setattr(smaps_doc.os, "geteuid", lambda: 1000)
    text = smaps_doc.denied_help(replace(PYTHON, user="alice", uid=4242), live=True)
    assert "belongs to alice" in text and "sudo memtop" in text
    monkeypatch.setattr(smaps_doc.os, "geteuid", lambda: 0)  # root refused: not about the owner
    text = smaps_doc.denied_help(replace(PYTHON, user="alice", uid=4242), live=True)
    assert "CAP_SYS_PTRACE" in text and "sudo memtop" not in text


def test_the_parse_runs_in_the_worker_thread_not_the_event_loop_thread() -> None:
    """Checked with a real process in tests/test_manymaps.py; here the source is scripted."""
    seen: list[threading.Thread] = []
    source = FakeSource(PYTHON)
    original = source.read

    def read(pid: int, start: int | None):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread())
        return original(pid, start)

    import asyncio

    async def run() -> None:
        app = app_with(MapsSource(read))
        async with app.run_test(size=(160, 45)) as pilot:
            await open_screen(app, pilot, "down")

    asyncio.run(run())
    assert seen and all(t is not threading.main_thread() for t in seen)


async def test_enter_on_a_process_without_rollup_says_why_in_the_header() -> None:
    init = next(p for p in PROCESSES if p.pid == 1)
    app = app_with(FakeSource(init, error="permission denied: needs root or the same user"))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "end")
        text = header(app)
        assert "init" in text and "pid 1 " in text
        assert "n/a: permission denied" in text and "PSS -" in text
        assert "smaps not readable" in status(app)


async def test_help_lists_the_screens_keys_and_the_mapping_columns() -> None:
    from memtop.tui.screens.modals import HelpScreen

    app = app_with(FakeSource(PYTHON))
    async with app.run_test(size=(160, 45)) as pilot:
        await open_screen(app, pilot, "down")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        assert "Raw mappings, or grouped by kind and path" in text and "ΔRSS" in text and "MAPS" in text
        assert "NAME" not in text  # not the process table's columns
        await pilot.press("escape")
        assert isinstance(app.screen, ProcessScreen)


async def test_a_process_gone_before_the_first_read_says_so() -> None:
    source = FakeSource(PYTHON, exited=True)
    app = app_with(source)
    async with app.run_test(size=(160, 45)) as pilot:
        screen = await open_screen(app, pilot, "down")
        assert screen.exited and screen.analysis is None
        assert "has exited; no mappings were read" in status(app)
        assert "python3 train.py" in header(app)  # what the dashboard knew stays
