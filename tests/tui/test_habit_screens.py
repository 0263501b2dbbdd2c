"""The screens of issue 18 on their own: open files (l), environment (e), signal list (F9), user choice (u), setup (F2).

Each is pushed by a small host app, as the dashboard pushes it; keys and
clicks as a user gives them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import OptionList

from memtop.collectors.paths import HostPaths
from memtop.tables.process_rows import ViewState, build_rows
from memtop.tui.screens.process_files import EnvironmentScreen, OpenFilesScreen
from memtop.tui.screens.setup import ColumnList, SetupScreen
from memtop.tui.screens.signal_list import SignalListScreen
from memtop.tui.screens.user_choice import UserScreen
from memtop.views.columns import DEFAULT_COLUMNS
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.text_table import TextTable

from tests.dashboard_fixtures import PROCESSES, proc
from tests.collectors.test_open_files_environ import tree
from tests.processes import proc_tree, start_reporter
from tests.waiting import pilot_until


class Host(App[None]):
    """Pushes one screen and keeps what it returned."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "app" / "tui" / "memtop.tcss")

    def __init__(self, screen: Any) -> None:
        super().__init__()
        self.first = screen
        self.result: Any = "none"

    def on_mount(self) -> None:
        def keep(value: Any) -> None:
            self.result = value

        self.push_screen(self.first, keep)


async def _settle(pilot: Any, screen: Any) -> TextTable:
    """The listing once its read (in a thread) is done: polled, not given a fixed 2 s (issue 13, item 11)."""
    table = screen.query_one(TextTable)
    await pilot_until(pilot, lambda: not str(screen.query_one("#listing-status").render()).startswith("reading "),
                      what="the listing's read")
    return table


async def test_open_files_lists_link_targets_and_escape_goes_back(tmp_path: Path) -> None:
    paths, _ = tree(tmp_path)
    p = replace(proc(42, "srv", 10), starttime=777)
    app = Host(OpenFilesScreen(p, paths))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await _settle(pilot, app.screen)
        assert [r.cells[0] for r in table.rows] == ["0", "3", "4", "5", "6"]
        assert "5 descriptors" in str(app.screen.query_one("#listing-status").render())
        await pilot.click(TextTable, offset=(2, 3))  # a click selects the row under it
        assert table.cursor == 2
        await pilot.press("escape")
        assert app.result is None


async def test_environment_is_redacted_and_a_gone_process_says_so(tmp_path: Path) -> None:
    paths, proc_dir = tree(tmp_path)
    (proc_dir / "environ").write_bytes(b"HOME=/root\0DB_PASSWORD=hunter2\0")
    app = Host(EnvironmentScreen(replace(proc(42, "srv", 10), starttime=777), paths))
    async with app.run_test(size=(100, 30)) as pilot:
        table = await _settle(pilot, app.screen)
        assert [r.cells for r in table.rows][0] == ("HOME", "/root")
        assert "hunter2" not in repr(table.rows) and table.rows[1].muted
    app = Host(EnvironmentScreen(replace(proc(42, "srv", 10), starttime=1), paths))
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app.screen)
        assert "has exited" in str(app.screen.query_one("#listing-status").render())


async def test_the_signal_list_starts_on_sigterm_and_sends_the_chosen_signal_to_every_target() -> None:
    children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
    try:
        from memtop.collectors.procfs import parse_stat

        targets = []
        for child in children:
            start = parse_stat(Path(f"/proc/{child.pid}/stat").read_bytes()).starttime
            targets.append(replace(proc(child.pid, "sleeper", 10), starttime=start))
        app = Host(SignalListScreen(targets, HostPaths()))
        async with app.run_test(size=(100, 40)) as pilot:
            options = app.screen.query_one(OptionList)
            assert options.get_option_at_index(options.highlighted or 0).id == "SIGTERM"
            assert "2 tagged processes" in str(app.screen.query_one("#signal-text").render())
            assert "Killing would free about 10.0 MiB" in str(app.screen.query_one("#signal-text").render())
            await pilot.press("up", "up", "up", "up", "up", "up")  # SIGKILL, six above SIGTERM
            await pilot.press("enter")
            await pilot.pause()
        assert [r.error for r in app.result] == [None, None]
        for child in children:
            assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        for child in children:
            child.kill()
            child.wait()


async def test_a_reused_pid_is_never_signalled_and_the_user_is_told_why(tmp_path: Path) -> None:
    # The table showed A (started at tick 4200); A exited and B, started 7 s
    # later, took its pid: the reader seam (a /proc tree) says so, while the
    # real process at that pid stands for B and says whether it got a signal.
    b = start_reporter()
    try:
        a = replace(proc(b.pid, "sleeper", 10), starttime=4200)
        proc_tree(tmp_path, b.pid, start=4900)
        paths = HostPaths(proc=tmp_path / "proc", sys=tmp_path / "sys", live=True)
        app = Host(SignalListScreen([a], paths))
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("enter")  # SIGTERM, the default
            await pilot.pause()
            said = [str(n.message) for n in app._notifications]
        assert b.received() == []  # nothing sent to B
        then, now = (time.strftime("%H:%M:%S", time.localtime(1_700_000_000 + t)) for t in (42, 49))
        why = f"pid {b.pid} is now a different process (started {now}, not {then}): nothing sent"
        assert app.result[0].error == why
        assert said == [f"sleeper: {why}"]
    finally:
        b.stop()


async def test_a_process_gone_from_its_pid_is_said_and_nothing_is_sent(tmp_path: Path) -> None:
    b = start_reporter()
    try:
        a = replace(proc(b.pid, "sleeper", 10), starttime=4200)
        (tmp_path / "proc").mkdir()  # no /proc/PID: the pid names nothing
        app = Host(SignalListScreen([a], HostPaths(proc=tmp_path / "proc", sys=tmp_path / "sys", live=True)))
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("enter")
            await pilot.pause()
        assert app.result[0].error == f"pid {b.pid} has exited: nothing sent"
        assert b.received() == []
    finally:
        b.stop()


async def test_the_process_asked_about_is_signalled_when_it_still_holds_its_pid() -> None:
    b = start_reporter()
    try:
        from memtop.instrument.identity import starttime

        me = replace(proc(b.pid, "sleeper", 10), starttime=starttime(HostPaths(), b.pid) or -1)
        app = Host(SignalListScreen([me], HostPaths()))
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("enter")
            await pilot.pause()
        assert app.result[0].error is None and b.received() == ["SIGTERM"]
    finally:
        b.stop()


async def test_escape_sends_nothing() -> None:
    app = Host(SignalListScreen([proc(os.getpid(), "me", 1)], HostPaths()))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("escape")
    assert app.result is None


async def test_user_choice_lists_users_by_memory_and_returns_the_one_chosen() -> None:
    app = Host(UserScreen(PROCESSES, ""))
    async with app.run_test(size=(100, 30)) as pilot:
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels[0] == "all users" and labels[1].startswith("postgres") and labels[2].startswith("alice")
        await pilot.press("down", "down", "enter")
    assert app.result == "alice"


async def test_setup_toggles_moves_and_previews_columns() -> None:
    rows = build_rows(PROCESSES, ViewState())
    app = Host(SetupScreen(DEFAULT_COLUMNS, rows, 95))
    async with app.run_test(size=(120, 45)) as pilot:
        screen = app.screen
        preview = screen.query_one(ProcessTable)
        assert preview.chosen == DEFAULT_COLUMNS and len(preview.rows) == len(rows)
        await pilot.press("space")  # PID out
        assert "pid" not in screen.chosen and preview.chosen == screen.chosen
        await pilot.press("end", "space")  # the last column offered (NAME) in, at the end
        assert screen.chosen[-1] == "name"
        await pilot.press("f7")  # NAME moves up one
        assert screen.chosen[-2:] == ("name", "command")
        columns = screen.query_one(ColumnList)
        assert columns.column == "user" or columns.rows[0].key == ("c", "user")
        await pilot.click(ColumnList, offset=(1, 1), times=2)  # a double click on USER toggles it out
        assert "user" not in screen.chosen and columns.column == "user"  # the cursor follows it
        assert "no room now for" in str(screen.query_one("#setup-fit").render())
        await pilot.press("f10")
    assert isinstance(app.result, tuple) and app.result[-2:] == ("name", "command")


async def test_setup_escape_keeps_the_columns() -> None:
    app = Host(SetupScreen(DEFAULT_COLUMNS, [], 95))
    async with app.run_test(size=(120, 45)) as pilot:
        await pilot.press("space", "escape")
    assert app.result is None
