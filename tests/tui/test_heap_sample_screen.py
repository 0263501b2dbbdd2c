"""Key H as a person uses it (Pilot): the question, cancel, the sample in the chart, a refusal."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from memtop.collectors.attach_target import Attacher
from memtop.collectors.paths import HostPaths
from memtop.instrument.attach import AttachResult
from memtop.collectors.heap_block import BlockFigures
from memtop.tui.app import MemtopApp
from memtop.state.heap_sources import GdbSampler, HeapSources
from memtop.tui.screens.heap_sample import HeapSampleScreen
from memtop.tui.screens.main import MainScreen

from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, at, growing, proc
from tests.processes import attachable_tree, gdb_stand_in
from tests.tui.test_panes import app_for, chart, post, text


class FakeSampler:
    """Stands in for gdb: records the pids asked for, answers with ``result``."""

    def __init__(self, result: AttachResult | None = None) -> None:
        self.asked: list[int] = []
        self.starttimes: list[int] = []
        self.result = result

    def refusal(self, pid: int, starttime: int) -> str | None:
        return None  # it answers for itself, with ``result``

    def __call__(self, pid: int, starttime: int) -> AttachResult:
        self.asked.append(pid)
        self.starttimes.append(starttime)
        if self.result is not None:
            return self.result
        figures = BlockFigures(time=1.0, arena=70 * MIB, uordblks=50 * MIB, hblkhd=10 * MIB, fordblks=5 * MIB, cost=0.1)
        return AttachResult(pid, "heap sampled through gdb in 100 ms (tid 201 in read)", figures, thread="tid 201 in read")


def setup(sampler: FakeSampler) -> MemtopApp:
    heap = HeapSources(sampler=sampler)
    return app_for(at(1.0, processes=growing(100)), heap)


async def test_h_asks_first_and_cancel_attempts_nothing() -> None:
    sampler = FakeSampler()
    app = setup(sampler)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")  # train.py, pid 201
        await pilot.press("H")
        assert isinstance(app.screen, HeapSampleScreen) and app.screen.proc.pid == 201
        question = str(app.screen.query_one("#heap-sample-text").render())
        assert "paused for tens of milliseconds" in question and "pid 201" in question
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, MainScreen) and sampler.asked == []
        assert chart(app).series is not None and chart(app).series.points == ()


async def test_enter_alone_pauses_nothing_cancel_has_the_focus() -> None:
    sampler = FakeSampler()
    app = setup(sampler)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.press("H")
        assert isinstance(app.screen, HeapSampleScreen) and app.screen.focused is not None
        assert app.screen.focused.id == "cancel"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert isinstance(app.screen, MainScreen) and sampler.asked == []


async def test_confirmed_the_sample_joins_the_chart_as_a_marked_point_with_its_age() -> None:
    sampler = FakeSampler()
    app = setup(sampler)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.press("H")
        await pilot.press("shift+tab", "enter")  # Sample, left of Cancel (the focus)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sampler.asked == [201] and sampler.starttimes == [100]  # the process the question named
        series = chart(app).series
        assert series is not None and series.points == ((1.0, 60 * MIB),)
        assert all(h is None for h in series.heap)  # a point, not a line
        shown = text(chart(app))
        assert "heap ◆ 60.0 MiB" in shown and "gap RSS−heap 40.0 MiB" in shown and "gdb, 0 s ago" in shown
        assert "◆◆ heap (gdb)" in shown  # the legend of the plotted point
        await post(app, pilot, at(31.0, processes=growing(100)))
        assert "gdb, 30 s ago" in text(chart(app))
        # H again samples again (a second question, a second point).
        sampler.result = AttachResult(201, "ok", BlockFigures(time=31.0, uordblks=55 * MIB, hblkhd=0))
        await pilot.press("H")
        await pilot.press("shift+tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sampler.asked == [201, 201]
        assert chart(app).series.points == ((1.0, 60 * MIB), (31.0, 55 * MIB))
        await pilot.press("up")  # another process: no points
        assert chart(app).series.points == ()


async def test_a_refusal_is_said_and_nothing_is_drawn() -> None:
    refusal = AttachResult(201, "not sampled: a static binary: no libc.so to call mallinfo2 in", refused=True)
    sampler = FakeSampler(refusal)
    app = setup(sampler)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.press("H")
        await pilot.press("shift+tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert sampler.asked == [201]
        assert chart(app).series.points == ()
        assert "static binary" in chart(app).series.heap_note
        assert any("static binary" in str(n.message) for n in app._notifications)


async def test_h_is_text_while_the_filter_is_open() -> None:
    sampler = FakeSampler()
    app = setup(sampler)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("slash", "H")
        assert isinstance(app.screen, MainScreen) and sampler.asked == []


async def test_what_can_be_known_without_gdb_is_refused_before_asking() -> None:
    import os
    from dataclasses import replace

    from tests.dashboard_fixtures import PROCESSES

    # memtop itself, with the real sampler: the checks refuse it (a process
    # cannot ptrace itself) and no question is asked.
    me = replace(PROCESSES[5], pid=os.getpid(), starttime=0)
    app = app_for(at(1.0, processes=(me,)), HeapSources())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        note = app.model.heap.attach_notes.get(os.getpid())
        assert note is not None and note.startswith(("not sampled", "no gdb"))


ROOT = Attacher(euid=0, pid=1, cap_sys_ptrace=True)


async def test_a_pid_passed_to_another_process_while_asking_is_not_sampled(tmp_path: Path) -> None:
    # The question names A (pid 4242, started at tick 4200); before Sample is
    # pressed A exits and B (started 7 s later) takes its pid: the /proc tree
    # (the reader seam) says so. gdb, a stand-in here, must never run.
    proc_dir = attachable_tree(tmp_path, 4242, start=4200)
    gdb, ran = gdb_stand_in(tmp_path)
    sampler = GdbSampler(HostPaths(proc=proc_dir, sys=tmp_path / "sys", live=True), str(gdb), ROOT)
    a = replace(proc(4242, "sleeper", 10), starttime=4200)
    app = app_for(at(1.0, processes=(a,)), HeapSources(sampler=sampler))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        assert isinstance(app.screen, HeapSampleScreen) and app.screen.proc.pid == 4242
        attachable_tree(tmp_path, 4242, start=4900)  # A gone, B at its pid
        await pilot.press("shift+tab", "enter")  # Sample
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [str(n.message) for n in app._notifications]
    assert not ran.exists()
    then, now = (time.strftime("%H:%M:%S", time.localtime(1_700_000_000 + t)) for t in (42, 49))
    assert any(f"not sampled: pid 4242 is now a different process (started {now}, not {then})" in m for m in said), said


async def test_h_on_a_pid_already_passed_on_asks_nothing(tmp_path: Path) -> None:
    proc_dir = attachable_tree(tmp_path, 4242, start=4900)  # the table still shows A; B holds the pid
    gdb, ran = gdb_stand_in(tmp_path)
    sampler = GdbSampler(HostPaths(proc=proc_dir, sys=tmp_path / "sys", live=True), str(gdb), ROOT)
    app = app_for(at(1.0, processes=(replace(proc(4242, "sleeper", 10), starttime=4200),)), HeapSources(sampler=sampler))
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("H")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("pid 4242 is now a different process" in str(n.message) for n in app._notifications)
    assert not ran.exists()


async def test_h_on_a_captured_tree_asks_nothing() -> None:
    # Its pids name processes of another moment, maybe another host: none of this one's.
    sampler = FakeSampler()
    app = new_app(at(1.0, processes=growing(100)), heap=HeapSources(sampler=sampler), frozen=True)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("down", "H")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and sampler.asked == []
        assert any("captured tree" in str(n.message) for n in app._notifications)
