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


def test_list_rows_are_built_when_read_and_are_those_an_eager_build_gives() -> None:
    # Issue 17: a key press at 5,000 processes built every Row; the table reads only those on screen.
    from memtop.tables.process_rows import ListRows, RowCache, _row, proc_key

    many = tuple(proc(1000 + k, f"w{k}", 1 + (k * 37) % 500, start=k) for k in range(2000))
    gone = proc(9999, "gone", 7, start=5)
    view = ProcessView()
    rows = view.rows(many, ViewState(), {}, gone, None, {1005: "‼gap"})
    assert isinstance(rows, ListRows) and len(rows) == 2001
    shown = rows[:48]
    assert len(view._cache._rows) == 48  # only the rows read were built
    eager = sorted(many + (gone,), key=lambda p: (-(p.pss or 0), p.pid))
    want = [_row(p, {}, None, {"rate": {}}) for p in eager]  # build_rows always passes the rates as derived
    got = list(rows)
    assert [r.key for r in got] == [r.key for r in want]
    assert [(r.values, r.command, r.user) for r in got] == [(r.values, r.command, r.user) for r in want]
    assert shown == got[:48] and all(a is b for a, b in zip(shown, got))  # a row read twice is one object
    assert [r.pid for r in got if r.exited] == [9999] and [r.pid for r in got if r.mark] == [1005]
    assert next(r for r in got if r.pid == 1005).mark == "‼gap"
    assert rows.find(proc_key(many[7])) == got.index(next(r for r in got if r.pid == 1007))
    assert rows.find(("p", 1007)) == rows.find(proc_key(many[7])) and rows.find(("p", 1007, 99)) is None
    # The next press: the same records give the same Row objects (nothing on screen redrawn).
    again = view.rows(many, ViewState(reverse=True), {}, gone, None, {1005: "‼gap"})
    assert again[-1] is next(r for r in got if r.key == again[-1].key) or again[-1].exited
    cache = RowCache()
    assert cache.row(many[0], {}, None, mark="x") is cache.row(many[0], {}, None, mark="x")
    assert cache.row(many[0], {}, None).mark == ""  # the mark is part of what the cache compares


def test_sorting_by_a_number_with_the_field_as_key_gives_the_order_of_the_general_key() -> None:
    # select.sort_processes reads a numeric field at C speed (attrgetter); same order as _key's.
    from memtop.tables.select import PROCESS_FIELDS, _key, sort_processes

    many = [proc(1000 + k, f"W{k % 7}", None if k % 13 == 0 else 1 + (k * 37) % 50, start=k) for k in range(400)]
    for field in ("pss", "rss", "uss", "oom_score", "threads", "pid", "name", "command", "user"):
        for reverse in (False, True):
            got = [p.pid for p in sort_processes(many, field, reverse)]
            name = "cmdline" if field == "command" else field
            assert name in PROCESS_FIELDS
            known = sorted((p for p in many if getattr(p, name) is not None), key=lambda p: p.pid)
            descending = (field in ("pss", "rss", "uss", "oom_score", "threads")) != reverse
            known.sort(key=lambda p: _key(p, name), reverse=descending)  # type: ignore[arg-type, return-value]
            unknown = sorted((p for p in many if getattr(p, name) is None), key=lambda p: p.pid)
            assert got == [p.pid for p in known + unknown], (field, reverse)
