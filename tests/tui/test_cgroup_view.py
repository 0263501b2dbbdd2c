"""The cgroup view driven with keys (Textual Pilot): the tree, the filter, new events, the container line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from memtop.tui import app as dashboard
from memtop.collectors.models import ContainerLimit, Snapshot
from memtop.state.model import MemtopModel, Reading
from memtop.state.session import CGROUPS_EVERY, CONTAINER_EVERY, LiveSession, Scheduler
from memtop.tui.app import MemtopApp
from memtop.tui.messages import CgroupsWanted, SnapshotReady
from memtop.tui.screens.cgroups import CgroupScreen
from memtop.tui.screens.main import MainScreen
from memtop.widgets.cgroup_table import CgroupTable, cgroup_cell
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.system_pane import SystemPane

from tests.cgroup_fixtures import with_cgroups
from tests.dashboard_fixtures import MIB, made


class Recording(MemtopApp):
    """Remembers what the screens asked the app to read."""

    CSS_PATH = str(Path(dashboard.__file__).with_name("memtop.tcss"))  # relative paths follow the subclass

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(MemtopModel(), snapshot=snapshot)
        self.cgroup_reads: list[bool] = []

    def on_cgroups_wanted(self, message: CgroupsWanted) -> None:
        self.cgroup_reads.append(message.on)


def main_of(app: MemtopApp) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def table_pids(app: MemtopApp) -> set[int | None]:
    return {r.pid for r in main_of(app).query_one(ProcessTable).rows}


async def open_view(app: MemtopApp, pilot) -> CgroupTable:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.press("c")
    await pilot.pause()
    assert isinstance(app.screen, CgroupScreen)
    return app.screen.query_one(CgroupTable)


async def move_to(pilot, table: CgroupTable, path: str) -> None:  # type: ignore[no-untyped-def]
    while table.selected.path != path:
        await pilot.press("down")


async def test_view_shows_the_tree_with_usage_limits_and_pss() -> None:
    app = Recording(with_cgroups())
    async with app.run_test(size=(160, 45)) as pilot:
        table = await open_view(app, pilot)
        assert app.cgroup_reads == [True]  # the tree is read while the view is open
        rows = table.rows
        assert [r.path for r in rows][:3] == ["/", "/system.slice", "/system.slice/postgresql.service"]  # by usage
        depth = {r.path: r.depth for r in rows}
        assert depth["/user.slice/user-1000.slice/session-3.scope/train"] == 4
        pg = next(r for r in rows if r.path == "/system.slice/postgresql.service")
        assert [cgroup_cell(pg, k) for k in ("current", "limit", "use", "pss", "other")] == ["600Mi", "1.0Gi", "59%", "510Mi", "90.0Mi"]
        scope = next(r for r in rows if r.path.endswith("session-3.scope"))
        assert scope.pss is not None and scope.pss.pss == (3 + 120 + 80) * MIB  # its members and its child's
        assert cgroup_cell(scope, "limit") == "512Mi" and cgroup_cell(scope, "oom_kill") == "1"
        root = rows[0]
        assert cgroup_cell(root, "pss").startswith("≥")  # init's PSS is unreadable: a lower bound
        await move_to(pilot, table, "/user.slice/user-1000.slice")
        details = str(app.screen.query_one("#cg-details").render())
        assert "usage 500.0 MiB of 512.0 MiB (98%)" in details
        assert "memory.max 512.0 MiB" in details and "oom_kill 1" in details
        assert "usage - PSS = 297.0 MiB: page cache, kernel memory" in details
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.cgroup_reads == [True, False]  # closed: no more tree reads


async def test_enter_filters_to_the_subtree_and_escape_clears() -> None:
    app = Recording(with_cgroups())
    async with app.run_test(size=(160, 45)) as pilot:
        table = await open_view(app, pilot)
        await move_to(pilot, table, "/user.slice/user-1000.slice/session-3.scope")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert table_pids(app) == {200, 201, 202}  # members and the child cgroup's member
        totals = str(main_of(app).query_one("#totals").render())
        assert "3 processes in cgroup /user.slice/user-1000.slice/session-3.scope" in totals
        await pilot.press("t")  # the tree view keeps the filter
        assert {201, 202} <= table_pids(app)
        await pilot.press("t", "escape")
        assert len(table_pids(app)) == 9
        await pilot.press("c")
        await pilot.pause()
        await move_to(pilot, app.screen.query_one(CgroupTable), "/system.slice")
        await pilot.press("enter")
        await pilot.pause()
        assert table_pids(app) == {100, 300, 301, 302, 400}


async def test_new_events_are_marked_until_marked_seen() -> None:
    app = Recording(with_cgroups(oom_kills=1))
    async with app.run_test(size=(160, 45)) as pilot:
        table = await open_view(app, pilot)
        assert not any(r.new for r in table.rows)  # counts from before the view opened are not new
        app.post_message(SnapshotReady(Reading(with_cgroups(oom_kills=3))))
        await pilot.pause()
        marked = {r.path: r.new for r in table.rows if r.new}
        assert marked == {
            "/user.slice/user-1000.slice": (("oom", 2), ("oom_kill", 2)),
            "/user.slice/user-1000.slice/session-3.scope": (("oom", 2), ("oom_kill", 2)),
        }
        row = next(r for r in table.rows if r.path == "/user.slice/user-1000.slice")
        assert cgroup_cell(row, "name").strip().startswith("▲ ")  # a glyph, not colour alone
        assert cgroup_cell(row, "new") == "▲ oom+2 oom_kill+2"
        index = table.rows.index(row)
        line = "".join(seg.text for seg in table.render_line(index + 1))
        assert "▲ user-1000.slice" in line and "▲ oom+2 oom_kill+2" in line
        assert "▲ 2 with new events" in str(app.screen.query_one("#cg-title").render())
        await pilot.press("m")  # mark seen
        assert not any(r.new for r in table.rows)


async def test_no_cgroup_fs_and_not_yet_read() -> None:
    app = Recording(made())  # cgroup_hierarchy from a capture, cgroups not read
    async with app.run_test(size=(100, 30)) as pilot:
        await open_view(app, pilot)
        assert "reading the cgroup tree" in str(app.screen.query_one("#cg-title").render())
        app.post_message(SnapshotReady(Reading(replace(made(), cgroup_hierarchy=None))))
        await pilot.pause()
        assert "no cgroup file system" in str(app.screen.query_one("#cg-title").render())
        assert app.screen.query_one(CgroupTable).rows == ()


async def test_container_limit_in_the_system_pane() -> None:
    limit = ContainerLimit("/docker/abc", 2, 300 * MIB, 512 * MIB)
    app = Recording(with_cgroups(container=limit))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        pane = "\n".join(str(r) for r in main_of(app).query_one(SystemPane).render().renderables)  # type: ignore[attr-defined]
        assert "container 300.0 MiB of 512.0 MiB (58.6%)" in pane
        assert "OOM killer enforces this limit of cgroup abc" in pane
    app = Recording(with_cgroups())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        pane = "\n".join(str(r) for r in main_of(app).query_one(SystemPane).render().renderables)  # type: ignore[attr-defined]
        assert "container" not in pane  # not in a limited cgroup: nothing said


async def test_cgroup_column_on_very_wide_terminals_only() -> None:
    app = Recording(with_cgroups())
    async with app.run_test(size=(250, 45)) as pilot:  # the table gets 186 beside the side panes
        await pilot.pause()
        table = main_of(app).query_one(ProcessTable)
        header = "".join(seg.text for seg in table.render_line(0))
        assert "CGROUP" in header
        first = "".join(seg.text for seg in table.render_line(1))
        assert "…" + "/system.slice/postgresql.service"[-27:] in first  # pid 300 first by PSS; the path's end
    app = Recording(with_cgroups())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert "CGROUP" not in "".join(seg.text for seg in main_of(app).query_one(ProcessTable).render_line(0))


def test_cgroup_column_keeps_the_end_of_long_paths() -> None:
    from memtop.widgets.process_table import _tail

    assert _tail("/a/b", 10) == "/a/b"
    cut = _tail("/system.slice/docker-0123456789abcdef.scope", 12)
    assert len(cut) == 12 and cut.startswith("…") and cut.endswith("abcdef.scope"[-11:])
    assert _tail(None, 5) == ""


class CountingCollector:
    """Says which cgroup reads each pass asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, object]] = []

    def collect(self, policy: Scheduler, thp: object = True, cgroups: bool = True, container: object = True) -> Snapshot:
        self.calls.append((cgroups, container))
        limit = ContainerLimit("/c", 2, 1, 2) if container is True else container
        return replace(made(()), container=limit)  # type: ignore[arg-type]


def test_live_session_reads_the_tree_only_when_asked_and_the_limit_seldom() -> None:
    collector = CountingCollector()
    session = LiveSession(collector, Scheduler(interval=1.0, clock=lambda: 0.0))  # type: ignore[arg-type]
    for _ in range(3):
        session.collect()
    session.cgroups = True
    session.collect()
    # Every CGROUPS_EVERY-th pass reads it for the diagnoses (the first one too); while the view is open, every pass.
    assert [c for c, _l in collector.calls] == [True, False, False, True]
    session.cgroups = False
    assert [session.collect() and collector.calls[-1][0] for _ in range(CGROUPS_EVERY)].count(True) == 1
    limits = [l for _c, l in collector.calls]
    assert limits[0] is True  # looked up on the first pass ...
    assert all(isinstance(l, ContainerLimit) for l in limits[1:])  # ... then only its usage is read
    for _ in range(CONTAINER_EVERY - 4 - CGROUPS_EVERY):
        session.collect()
    session.collect()
    assert collector.calls[-1][1] is True  # and looked up again every CONTAINER_EVERY passes


async def test_help_of_the_view_lists_its_keys_and_columns() -> None:
    app = Recording(with_cgroups())
    async with app.run_test(size=(120, 40)) as pilot:
        await open_view(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = str(app.screen.query_one("#help Static").render())
        assert "Show the processes of this cgroup" in text and "Take the event counts as seen" in text
        assert "NON-PSS" in text and "9223372036854771712" in text
        await pilot.press("escape")
        assert isinstance(app.screen, CgroupScreen)
