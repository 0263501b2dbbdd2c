"""The dashboard driven with keys, the way a person does (Textual Pilot)."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from memtop.collectors.models import Snapshot
from memtop.state import give_way
from memtop.state.failures import FailureLog
from memtop.state.model import MemtopModel, Reading
from memtop.state.monitor import Monitor, Session
from memtop.state.options import StartOptions
from memtop.state.session import Scheduler
from memtop.tui.app import MemtopApp
from memtop.tui.messages import SnapshotReady
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.modals import HelpScreen
from memtop.tui.screens.signal_list import SignalListScreen
from memtop.widgets.process_table import ProcessTable

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES, at, made, proc
from tests.waiting import pilot_until


def app_for(snapshot: Snapshot | None = None, **options: object) -> MemtopApp:
    return new_app(snapshot or made(), **options)  # type: ignore[arg-type]


def scripted(session: Session) -> Monitor:
    """A monitor whose passes a test scripts, every 0.1 s."""
    return Monitor(MemtopModel(StartOptions(interval=0.1)), session, Scheduler(interval=0.1), own_stats=False)


def table(app: MemtopApp) -> ProcessTable:
    return app.screen.query_one(ProcessTable) if isinstance(app.screen, MainScreen) else app.screen_stack[1].query_one(ProcessTable)


def pids(app: MemtopApp) -> list[int | None]:
    return [r.pid for r in table(app).rows]


def selected(app: MemtopApp) -> int | None:
    row = table(app).selected
    return None if row is None else row.pid


def main_screen(app: MemtopApp) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


async def test_sorted_by_pss_with_unreadable_last() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert pids(app) == [300, 201, 202, 301, 302, 400, 100, 200, 1]
        assert selected(app) == 300
        await pilot.press("I")
        assert pids(app) == [200, 100, 400, 302, 301, 202, 201, 300, 1]  # unreadable stays last
        assert selected(app) == 300  # the selection follows the process, not the row


async def test_sort_menu_and_memory_key() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("up", "enter")  # from pss, one up is rss
        await pilot.pause()
        assert main_screen(app).view.sort == "rss"
        assert pids(app)[0] == 300 and pids(app)[-1] == 1  # init: PSS n/a, but its RSS (2 MiB) is known
        await pilot.press("M")
        assert main_screen(app).view.sort == "pss"


async def test_selection_follows_pid_across_resorts_and_refreshes() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")
        assert selected(app) == 202
        await pilot.press("I")
        assert selected(app) == 202
        bigger = tuple(replace(p, pss=900 * MIB) if p.pid == 202 else p for p in PROCESSES)
        app.post_message(SnapshotReady(Reading(made(bigger))))
        await pilot.pause()
        assert selected(app) == 202 and pids(app)[-2] == 202  # inverted: the biggest just before n/a


async def test_filter_enter_cancel_clear_and_no_match() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"PYTHON")
        assert pids(app) == [201, 202]  # live, case-insensitive
        await pilot.press("enter")
        assert app.focused is table(app) and selected(app) == 201
        await pilot.press("escape")  # with the table focused: clears the filter
        assert len(pids(app)) == len(PROCESSES)
        await pilot.press("slash", "3", "0", "1")  # digits also match the pid exactly
        assert 301 in pids(app)
        await pilot.press("escape")  # in the input: cancels and clears
        assert len(pids(app)) == len(PROCESSES)
        assert not main_screen(app).query_one("#filter").display
        await pilot.press("slash", *"zzz", "enter")
        assert pids(app) == []
        assert main_screen(app).query_one("#filter").display  # stays open on no match
        assert "no match" in str(main_screen(app).query_one("#totals").render())


async def test_pause_freezes_display_but_not_collection() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("z")
        assert main_screen(app).paused
        fewer = tuple(p for p in PROCESSES if p.pid != 300)
        app.post_message(SnapshotReady(Reading(made(fewer))))
        await pilot.pause()
        assert 300 in pids(app)  # display frozen
        assert not any(r.exited for r in table(app).rows)
        await pilot.press("z")
        # The newest snapshot shows on resume; 300 was selected, so it stays, marked exited.
        assert [r.pid for r in table(app).rows if r.exited] == [300]


async def test_tree_expand_collapse() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        rows = table(app).rows
        assert [r.pid for r in rows][:1] == [1]
        depth = {r.pid: r.depth for r in rows}
        assert depth[200] == 2 and depth[201] == 3
        # Siblings ordered by their subtree's PSS: postgres (510) before sshd (209).
        order = [r.pid for r in rows if r.depth == 1]
        assert order[:2] == [300, 100]
        while selected(app) != 200:
            await pilot.press("down")
        await pilot.press("minus")
        row = table(app).selected
        assert row.collapsed and row.members == 3 and 201 not in pids(app)
        assert row.values["pss"] == (3 + 120 + 80) * MIB  # a folded subtree shows its sum
        await pilot.press("plus")
        assert 201 in pids(app)


async def test_group_cycles_program_user_list() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("g")
        rows = table(app).rows
        assert rows[0].name == "postgres" and rows[0].members == 3 and rows[0].values["pss"] == 510 * MIB
        await pilot.press("g")
        assert [r.name for r in table(app).rows][:2] == ["postgres", "alice"]
        await pilot.press("g")
        assert main_screen(app).view.mode == "list" and pids(app)[0] == 300


async def test_help_is_built_from_the_bindings() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("Static").render())
        for expected in ("Filter by name", "Invert the sort order", "PSS", "USS", "over-counts"):
            assert expected in text
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


def _start(pid: int) -> int:
    """The start time /proc gives a real child (the signal is sent only to that process)."""
    from pathlib import Path

    from memtop.collectors.procfs import parse_stat

    return parse_stat(Path(f"/proc/{pid}/stat").read_bytes()).starttime


async def test_kill_confirmation_sends_sigterm_to_our_child() -> None:
    child = subprocess.Popen(["sleep", "60"])
    try:
        mine = proc(child.pid, "sleep", 2, user="root", cmd="sleep 60", start=_start(child.pid))
        app = app_for(made((*PROCESSES, mine)), pid=child.pid)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            assert selected(app) == child.pid
            await pilot.press("f9")
            await pilot.pause()
            assert isinstance(app.screen, SignalListScreen)
            assert "would free about 1.0 MiB" in str(app.screen.query_one("#signal-text").render())
            await pilot.press("enter")  # SIGTERM is the highlighted default
            await pilot.pause()
        assert child.wait(timeout=5) == -15
    finally:
        child.kill()
        child.wait()


async def test_kill_cancel_leaves_the_process() -> None:
    child = subprocess.Popen(["sleep", "60"])
    try:
        app = app_for(made((*PROCESSES, proc(child.pid, "sleep", 1))), pid=child.pid)
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            await pilot.press("f9", "escape")
            await pilot.pause()
            assert isinstance(app.screen, MainScreen)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


async def test_exited_selection_stays_marked_until_the_user_moves() -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        assert selected(app) == 201
        app.post_message(SnapshotReady(Reading(made(tuple(p for p in PROCESSES if p.pid != 201)))))
        await pilot.pause()
        row = table(app).selected
        assert row.pid == 201 and row.exited
        await pilot.press("down")
        assert 201 not in pids(app)


@pytest.mark.parametrize("size", [(80, 24), (60, 16)])
async def test_small_terminals(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(*size)
        await pilot.pause()
        await pilot.press("down", "t", "g", "question_mark", "escape")
        assert isinstance(app.screen, MainScreen)
        assert table(app).size.width <= size[0]


async def test_slow_collector_never_overlaps_and_keys_still_work() -> None:
    release = threading.Event()
    entered = threading.Event()
    active = 0
    peak = 0
    threads: set[int] = set()
    lock = threading.Lock()
    snapshot = made()

    class SlowSession:
        cgroups = False

        def collect(self) -> tuple[Snapshot, dict]:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            threads.add(threading.get_ident())
            entered.set()
            release.wait(10)
            with lock:
                active -= 1
            return snapshot, {}

    app = new_app(monitor=scripted(SlowSession()))
    async with app.run_test(size=(160, 45)) as pilot:  # on_mount starts the loop
        await pilot.pause()
        app.collect_loop()  # a second start replaces the first worker mid-pass
        assert entered.wait(10)
        # The collector is blocked inside a pass: the UI still answers keys.
        await pilot.press("I")
        assert main_screen(app).view.reverse
        release.set()
        await pilot_until(pilot, lambda: app.monitor.passes >= 2)
        assert peak == 1  # never two passes at once
        assert threading.get_ident() not in threads  # /proc was read off the event loop
        release.set()


async def test_a_key_pressed_during_a_pass_makes_the_pass_give_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17, goal 3: the collection thread sleeps (releasing the GIL) while the loop answers a key."""
    monkeypatch.setattr(give_way, "HOLD", 60.0)  # a loaded machine may take long to draw the key: the allowance ends it
    second, release = threading.Event(), threading.Event()
    waited: list[float] = []
    snapshot = made()

    class TickingSession:
        cgroups = False

        def collect(self) -> tuple[Snapshot, dict]:
            way = monitor.scheduler.give_way
            way.begin()
            if waited:  # the second pass: the test presses a key while it is under way
                second.set()
                release.wait(10)
            for _ in range(5000):  # what reading 5,000 processes' stat files does
                way.tick()
            waited.append(way.waited)
            return snapshot, {}

    monitor = scripted(TickingSession())
    app = new_app(monitor=monitor)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot_until(pilot, second.is_set)  # not second.wait(): the loop must run to start the pass
        assert waited[0] == 0  # no key: the first pass did not pause
        await pilot.press("I")
        release.set()
        await pilot_until(pilot, lambda: len(waited) >= 2)
        assert waited[1] == give_way.MAX_PER_PASS  # the pass under way gave way, for its allowance at most


async def test_a_failing_collector_is_shown_logged_and_retried_later_each_time(tmp_path: Path) -> None:
    calls = 0
    again, go = threading.Event(), threading.Event()
    snapshot = made()

    class FlakySession:
        cgroups = False

        def collect(self) -> tuple[Snapshot, dict]:
            nonlocal calls
            calls += 1
            # Each retry waits until the test has read the screen.
            if calls == 2:
                again.wait(10)
            if calls <= 2:
                raise OSError(5, "Input/output error")
            go.wait(10)
            return snapshot, {}

    def header() -> str:
        return str(main_screen(app).query_one("#header").render())

    app = new_app(monitor=scripted(FlakySession()))
    app.failures = FailureLog(tmp_path / "state", stem="collect")
    log = tmp_path / "state" / "collect.log"
    async with app.run_test(size=(160, 45)) as pilot:
        # Shown on screen, with where the traceback is and when the next try comes (the interval: 0.1 s) ...
        await pilot_until(pilot, lambda: "next try in 0.1 s" in header())
        assert "collector: OSError: [Errno 5] Input/output error" in header() and str(log) in header()
        assert "Traceback (most recent call last)" in log.read_text()
        again.set()
        # ... then, failing again, twice as late (the header has room for one line: the file has the rest).
        await pilot_until(pilot, lambda: "next try in 0.2 s" in header())
        assert "the same again (1 in a row)" in log.read_text()
        go.set()
        await pilot_until(pilot, lambda: pids(app))
        # retried: the next pass worked (at a 0.1 s interval the one after it may have run by now)
        assert calls >= 3 and pids(app)[0] == 300
        assert "collector:" not in header() and app.failures.failures == 0


async def test_keys_typed_in_one_burst_with_slash_land_in_the_filter() -> None:
    """A fast typist or a paste: "/bash" arrives at once, before the input is even laid out."""
    from textual import events

    app = app_for()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        for key, char in [("slash", "/"), *((c, c) for c in "sshd")]:
            app.post_message(events.Key(key, char))  # no pause between them
        await pilot_until(pilot, lambda: main_screen(app).query_one("#filter").value == "sshd")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)  # "s" and "h" did not open sort or help
        assert pids(app) == [100]


class Steady:
    """A live session that reads the fixture host every pass; the app's requests land here."""

    def __init__(self) -> None:
        self.cgroups = False
        self.snapshot = made()

    def collect(self) -> tuple[Snapshot, dict]:
        return self.snapshot, {}


async def test_the_screens_requests_reach_the_monitor_and_the_model() -> None:
    session = Steady()
    app = new_app(monitor=scripted(session))
    monitor = app.monitor
    assert monitor is not None
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot_until(pilot, lambda: monitor.passes)
        await pilot.pause()
        # The rows on screen and the selection: read in full every pass, with a history.
        focus = app.model.focus
        assert 300 in focus.visible and focus.selected == (300, 100)
        await pilot.press("down")
        await pilot.pause()
        assert app.model.focus.selected == (201, 100)
        # The next pass reads what the model says is on screen.
        await pilot_until(pilot, lambda: monitor.scheduler.selected == 201)
        assert 300 in monitor.scheduler.visible
        await pilot.press("left_square_bracket")  # slower
        await pilot.pause()
        assert monitor.interval == 0.2 and "every 0.2s" in str(main_screen(app).query_one("#header").render())
        await pilot.press("c")
        await pilot.pause()
        assert session.cgroups  # the cgroup view is open: the tree is read every pass
        await pilot.press("escape")
        await pilot.pause()
        assert not session.cgroups
        await pilot.press("W")
        await pilot.pause()
        assert app.model.chart_window == 900.0


async def test_a_model_fed_before_the_app_starts_is_shown_as_it_is() -> None:
    # A replay feeds the recorded readings to a model, then opens the dashboard on it.
    model = MemtopModel()
    for t in range(3):
        model.ingest(at(float(t), processes=tuple(p for p in PROCESSES if p.pid != 400)))
    app = new_app(model=model)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        assert pids(app) == [300, 201, 202, 301, 302, 100, 200, 1]
        assert main_screen(app).snapshot is model.snapshot and model.snapshot is not None and model.snapshot.time == 2.0
