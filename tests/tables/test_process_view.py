"""The dashboard's rows across refreshes (tables/process_view.py): filtered again exactly when something changed."""

from __future__ import annotations

import pytest

import memtop.tables.process_view as process_view
from memtop.tables.process_rows import ViewState
from memtop.tables.process_view import ProcessView, totals_line

from tests.dashboard_fixtures import MIB, PROCESSES, proc


@pytest.fixture
def filtered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many processes each filtering saw (one entry per filtering)."""
    calls: list[int] = []
    real = process_view.matching

    def counting(procs, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(procs))
        return real(procs, *args, **kwargs)

    monkeypatch.setattr(process_view, "matching", counting)
    return calls


def test_the_filter_runs_again_only_when_the_processes_or_the_filter_change(filtered: list[int]) -> None:
    view = ProcessView()
    rows = view.rows(PROCESSES, ViewState(text="postgres"), {}, None, None, {})
    assert [r.pid for r in rows] == [300, 301, 302] and view.totals.count == 3
    view.rows(PROCESSES, ViewState(text="postgres", sort="pid"), {}, None, None, {})  # a re-sort: no filtering
    assert len(filtered) == 1
    # The next pass's tuple, with the same processes: a new tuple is filtered anew, whatever its id.
    fewer = tuple(p for p in PROCESSES if p.pid != 302)
    rows = view.rows(fewer, ViewState(text="postgres"), {}, None, None, {})
    assert [r.pid for r in rows] == [300, 301] and view.totals.count == 2 and len(filtered) == 2
    view.rows(fewer, ViewState(text="nginx"), {}, None, None, {})
    assert view.totals.count == 1 and len(filtered) == 3


def test_a_later_tuple_at_the_same_address_is_not_taken_for_the_one_filtered() -> None:
    # The old cache keyed on id(snapshot.processes): once that tuple was freed,
    # the next pass's tuple of the same length often got its address (CPython
    # reuses freed tuples), and the table kept the old filter's processes.
    view = ProcessView()
    first = tuple(list(PROCESSES))  # a tuple of its own (tuple(PROCESSES) is PROCESSES)
    view.rows(first, ViewState(text="postgres"), {}, None, None, {})
    del first
    second = tuple([p if p.pid != 302 else proc(302, "nginx", 50) for p in PROCESSES])
    rows = view.rows(second, ViewState(text="postgres"), {}, None, None, {})
    assert [r.pid for r in rows] == [300, 301] and view.totals.count == 2


def test_an_exited_selection_stays_in_the_rows_but_not_in_the_totals() -> None:
    view = ProcessView()
    gone = proc(999, "gone", 50)
    rows = view.rows(PROCESSES, ViewState(text="postgres"), {}, gone, None, {})
    assert rows[-1].pid == 999 and rows[-1].exited
    assert view.totals.count == 3 and view.totals.values["pss"] == 510 * MIB


def test_the_totals_line() -> None:
    view = ProcessView()
    state = ViewState(text="nomatch", mode="tree")
    rows = view.rows(PROCESSES, state, {}, None, None, {})
    line = totals_line(view.totals, state, len(rows), 4)
    assert line.startswith("0 processes filter: 'nomatch'   no match   PSS 0 B")
    assert line.endswith("   4 tasks hidden by /proc   view: tree")
    rows = view.rows(PROCESSES, ViewState(), {}, None, None, {})
    assert "PSS n/a for 1 (needs root)" in totals_line(view.totals, ViewState(), len(rows), None)
