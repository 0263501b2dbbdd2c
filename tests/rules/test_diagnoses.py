"""Diagnoses: each one triggered by a fixture snapshot sequence, shown on the line and in the panel (d), and the jumps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.collectors.models import ContainerLimit, Pressure, PressureLine, Snapshot, WorkingSet
from memtop.tui.app import MemtopApp
from memtop.rules.diagnoses import Signals, diagnose
from memtop.state.diagnosis_watch import steady_growth
from memtop.state.heap_sources import HeapSources
from memtop.state.model import Reading
from memtop.tui.messages import SnapshotReady
from memtop.output.report import snapshot_json
from memtop.tui.screens.cgroups import CgroupScreen
from memtop.tui.screens.diagnoses import DiagnosesScreen
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.process import ProcessScreen
from memtop.tui.screens.thp_help import ThpHelpScreen
from memtop.widgets.cgroup_table import CgroupTable
from memtop.widgets.diagnosis_line import DiagnosisLine
from memtop.widgets.process_table import ProcessTable

from tests.cgroup_fixtures import with_cgroups
from tests.conftest import new_app
from tests.dashboard_fixtures import MIB, PROCESSES, FakeHeap, at, growing, made
from tests.waiting import pilot_until

GIB = 1 << 30


def low(available: int, free: int | None = None) -> Snapshot:
    snap = made()
    assert snap.system is not None
    return replace(snap, system=replace(snap.system, available=available, free=free if free is not None else available // 2))


def psi(avg10: float, avg60: float) -> Snapshot:
    return replace(made(), pressure=Pressure(PressureLine(avg10, avg60, 0.5, 1), PressureLine(avg10, avg60, 0.5, 1)))


def timed(snaps: Sequence[Snapshot]) -> list[Snapshot]:
    return [replace(s, time=float(i)) for i, s in enumerate(snaps)]


#: Cases: (id, severity, the sequence that triggers it, the heap source).
HEAP_SEQUENCE = [at(float(t), None, growing(100 + 3 * t)) for t in range(0, 31, 2)]
CASES = {
    "available-low": ("warning", [low(2 * GIB)]),
    "free-low-available-fine": ("info", [low(20 * GIB, free=1 * GIB)]),
    "pressure-full": ("warning", [psi(4.0, 1.0)]),
    "swap-in": ("warning", [at(float(t), {"pswpin": 1000 * t}) for t in range(4)]),
    "compaction-stalls": ("warning", [at(float(t), {"compact_stall": 7 + (3 if t >= 2 else 0)}) for t in range(4)]),
    "thp-fallback": ("warning", [at(float(t), {"thp_fault_alloc": 100 + t, "thp_fault_fallback": 10 * t}) for t in range(4)]),
    "cgroup-near-limit": ("warning", timed([with_cgroups(1), with_cgroups(1)])),
    "cgroup-oom-kill": ("critical", timed([with_cgroups(1), with_cgroups(3)])),
    "container-near-limit": ("warning", [replace(made(), container=ContainerLimit("/docker/abc", 2, 95 * MIB, 100 * MIB))]),
    "heap-gap-growing": ("warning", HEAP_SEQUENCE),
    "rss-growing": ("warning", [at(float(t), None, growing(100 + t)) for t in range(0, 121, 5)]),
}


def app_for(first: Snapshot, heap: HeapSources | None = None) -> MemtopApp:
    return new_app(first, heap=heap or HeapSources(None))


async def feed(pilot, snaps: Sequence[Snapshot]) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    for snap in snaps[1:]:
        pilot.app.post_message(SnapshotReady(Reading(snap)))
        await pilot.pause()


def line_text(app: MemtopApp) -> str:
    main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    return main.query_one(DiagnosisLine).text


@pytest.mark.parametrize("ident", sorted(CASES))
async def test_each_diagnosis_from_a_sequence_is_on_the_line_and_in_the_panel(ident: str) -> None:
    severity, snaps = CASES[ident]
    heap = HeapSources(FakeHeap(80 * MIB), own_pid=201) if ident == "heap-gap-growing" else None
    app = app_for(snaps[0], heap)
    async with app.run_test(size=(160, 45)) as pilot:
        await feed(pilot, snaps)
        found = {d.id: d for d in app.model.diagnoses}
        assert ident in found, [d.id for d in app.model.diagnoses]
        assert found[ident].severity == severity
        assert "all-clear" not in found or severity == "info"
        worst = app.model.diagnoses[0]
        assert line_text(app).startswith({"critical": "‼", "warning": "!", "info": "✓", "ok": "✓"}[worst.severity])
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DiagnosesScreen)
        assert any(d.id == ident for d in app.screen.found)


async def test_all_clear_when_nothing_is_wrong() -> None:
    app = app_for(made())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert [d.id for d in app.model.diagnoses] == ["all-clear"]
        assert line_text(app).startswith("✓ Nothing needs attention: available 19.3 GiB (81.9%)")


async def test_a_working_set_larger_than_it_can_have_is_critical_and_jumps_to_the_process() -> None:
    app = app_for(made())
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        p = next(p for p in PROCESSES if p.pid == 201)
        app.model.working_sets.results[p.key] = WorkingSet(201, p.starttime, "python3", 5.0, 0.0, 30 * GIB, p.rss, 0, 19 * GIB)
        app.post_message(SnapshotReady(Reading(replace(made(), time=1.0))))
        await pilot.pause()
        assert app.model.diagnoses[0].id == "working-set-too-large"
        assert "python3 (201) touched 30.0 GiB in 5 s, more than it can have" in line_text(app)
        await pilot.press("d", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ProcessScreen) and app.screen.proc.pid == 201


def test_a_working_set_that_fills_its_cgroup_warns() -> None:
    p = next(p for p in PROCESSES if p.pid == 201)
    assert p.rss is not None
    ws = WorkingSet(201, p.starttime, "python3", 5.0, 0.0, p.rss - MIB, p.rss, 0, 19 * GIB,
                    limit=512 * MIB, cgroup="/user.slice/user-1000.slice", cgroup_current=500 * MIB)
    found = {d.id: d for d in diagnose(made(), Signals(working_sets=(ws,)))}
    assert found["working-set-tight"].severity == "warning" and "working-set-too-large" not in found
    assert dict(found["working-set-tight"].numbers)["can_have"] == p.rss + 12 * MIB
    gone = replace(ws, starttime=p.starttime + 1)  # the pid now names another process: not reported
    assert "working-set-tight" not in {d.id for d in diagnose(made(), Signals(working_sets=(gone,)))}


async def test_jump_to_the_cgroup_with_new_oom_kills() -> None:
    app = app_for(with_cgroups(1))
    async with app.run_test(size=(160, 45)) as pilot:
        await feed(pilot, timed([with_cgroups(1), with_cgroups(3)]))
        first = app.model.diagnoses[0]
        assert (first.id, first.target) == ("cgroup-oom-kill", "/user.slice/user-1000.slice/session-3.scope")
        assert dict(first.numbers)["oom_kills"] == 2
        await pilot.press("d", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CgroupScreen)
        app.screen.show(with_cgroups(3))
        await pilot.pause()
        row = app.screen.query_one(CgroupTable).selected
        assert row is not None and row.path == "/user.slice/user-1000.slice/session-3.scope"


async def test_jump_to_the_thp_counters_and_to_the_chart() -> None:
    snaps = CASES["compaction-stalls"][1]
    app = app_for(snaps[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await feed(pilot, snaps)
        await pilot.press("d", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ThpHelpScreen)
    snaps = CASES["rss-growing"][1]
    app = app_for(snaps[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await feed(pilot, snaps)
        await pilot.press("p")  # panes hidden: the jump shows them again
        assert app.model.diagnoses[0].id == "rss-growing"
        await pilot.press("d", "enter")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        row = app.screen.query_one(ProcessTable).selected
        assert row is not None and row.pid == 201
        assert app.screen.query_one("#side").display


def test_thresholds_at_their_edges() -> None:
    # available exactly 10 % is not low; just under is; under 5 % is critical.
    snap = made()
    assert snap.system is not None and snap.system.total is not None
    total = snap.system.total
    ids = lambda s: {d.id: d.severity for d in diagnose(s)}  # noqa: E731
    assert "available-low" not in ids(low(total // 10 + 1))
    assert ids(low(total // 10 - 4096))["available-low"] == "warning"
    assert ids(low(total // 20 - 4096))["available-low"] == "critical"
    # PSI full: rising (avg10 above avg60) from 1 %; falling is not reported below 10 %.
    assert "pressure-full" not in ids(psi(0.9, 0.1))
    assert "pressure-full" not in ids(psi(5.0, 6.0))
    assert ids(psi(12.0, 20.0))["pressure-full"] == "critical"
    # swap-in under 1 MiB/s is an info.
    assert diagnose(made(), Signals(swap_in=4096.0))[1].severity == "info"


def test_steady_growth_needs_a_minute_and_a_steady_slope() -> None:
    times = [float(t) for t in range(0, 121, 5)]
    assert steady_growth(times, [(100 + t) * MIB for t in range(0, 121, 5)], 120.0, 300.0) is not None
    assert steady_growth(times[:10], [(100 + t) * MIB for t in range(0, 46, 5)], 45.0, 300.0) is None  # 45 s
    # Up and down by 50 MiB: no steady trend although the last is higher than the first.
    bursty = [(100 + (50 if i % 2 else 0) + i // 10) * MIB for i in range(len(times))]
    assert steady_growth(times, bursty, 120.0, 300.0) is None
    # Slow: 0.5 MiB/min on 100 MiB is under the 1 MiB/min floor.
    assert steady_growth(times, [100 * MIB + int(t * MIB / 120) for t in times], 120.0, 300.0) is None


def test_json_carries_the_diagnoses_with_their_numbers() -> None:
    snap = low(2 * GIB)
    data = snapshot_json(snap, snap.processes, None, diagnose(snap))
    first = data["diagnoses"][0]
    assert first["id"] == "available-low" and first["severity"] == "warning"
    assert first["numbers"]["available"] == 2 * GIB and first["numbers"]["available_pct"] == 8.5
    assert data["working_sets"] == []


def test_memtop_itself_is_left_out_of_the_growth_findings() -> None:
    from memtop.rules.diagnoses import Growth

    grows = Signals(growth=(Growth(201, "python3", 200 * MIB, MIB / 60, 120.0),))
    assert "rss-growing" in {d.id for d in diagnose(made(), grows)}
    assert "rss-growing" not in {d.id for d in diagnose(made(), replace(grows, own_pid=201))}


def test_the_watch_counts_swap_in_over_ten_seconds_and_only_new_oom_kills() -> None:
    from memtop.state.diagnosis_watch import DiagnosisWatch

    watch = DiagnosisWatch()
    for t in range(0, 21):
        watch.add(at(float(t), {"pswpin": 0 if t < 15 else 256 * (t - 14)}))  # 1 MiB/s from t=15
    assert watch.swap_in == pytest.approx(6 * MIB / 10)  # 6 MiB over the last 10 s
    assert watch.cgroups is None and watch.oom_kills == {}
    first = with_cgroups(1)
    watch.add(replace(first, time=30.0))
    assert watch.oom_kills == {}  # kills before memtop started are not news
    assert watch.cgroups == first.cgroups
    later = with_cgroups(4)
    assert later.cgroups is not None
    new_cg = replace(later.cgroups[-1], path="/batch", events=(("oom_kill", 2),))
    watch.add(replace(later, time=31.0, cgroups=(*later.cgroups, new_cg)))
    assert watch.oom_kills == {"/user.slice/user-1000.slice": 3, "/user.slice/user-1000.slice/session-3.scope": 3,
                               "/batch": 2}


@given(st.lists(st.integers(min_value=1, max_value=1 << 40), min_size=2, max_size=40), st.floats(min_value=60.0, max_value=600.0))
def test_a_flat_or_falling_rss_never_grows_steadily(values: list[int], span: float) -> None:
    times = [span * i / (len(values) - 1) for i in range(len(values))]
    assert steady_growth(times, [values[0]] * len(values), span, span) is None
    falling = sorted(values, reverse=True)
    assert steady_growth(times, falling, span, span) is None


@given(st.integers(min_value=2, max_value=200).map(lambda mib_per_min: mib_per_min * MIB / 60),
       st.integers(min_value=1, max_value=4096).map(lambda mib: mib * MIB), st.floats(min_value=61.0, max_value=300.0))
def test_a_steady_rise_over_the_floor_is_always_found(rate: float, base: int, span: float) -> None:
    times = [span * i / 30 for i in range(31)]
    rss = [base + int(rate * t) for t in times]
    found = steady_growth(times, rss, span, span)
    if rate >= 0.005 / 60 * (base + rate * span / 2) * 1.05:  # also over the 0.5 %/min share, with a margin
        assert found is not None and found[0] == pytest.approx(rate, rel=0.1)


async def test_the_process_screen_shows_the_last_working_set_beside_rss() -> None:
    from tests.maps_fixtures import FakeSource

    p = next(p for p in PROCESSES if p.pid == 201)
    app = new_app(replace(made(), time=12.0), pid=201)
    app.maps_source = FakeSource(p).source()
    app.model.working_sets.results[p.key] = WorkingSet(201, p.starttime, "python3", 5.0, 2.0, 90 * MIB, p.rss, 0, 19 * GIB)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot_until(pilot, lambda: isinstance(app.screen, ProcessScreen) and app.screen.reads)
        assert isinstance(app.screen, ProcessScreen)
        figures = str(app.screen.query_one("#proc-figures").render())
        assert "VmRSS" in figures
        assert "touched in the last 5 s: 90.0 MiB (38% of RSS 240.0 MiB), measured 10 s ago; fits" in figures
