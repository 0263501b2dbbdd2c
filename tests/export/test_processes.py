"""--processes: the modes, their bounds under any churn, and sums that keep every process."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memtop.export.processes import MEMTYPES, OTHER, Mode, ModeError, parse_mode, series

from tests.dashboard_fixtures import MIB, PROCESSES, proc


@pytest.mark.parametrize(("text", "mode"), [
    ("top:5", Mode("top", 5)), ("program", Mode("program", 100)), ("program:3", Mode("program", 3)),
    ("user", Mode("user", 100)), ("user:1", Mode("user", 1)), ("none", Mode("none", 0)),
])
def test_modes(text: str, mode: Mode) -> None:
    assert parse_mode(text) == mode


@pytest.mark.parametrize("text", ["top", "top:0", "top:-1", "top:x", "top:1.5", "top:10001", "pid", "none:3", "", "program:", "top:٣"])
def test_bad_modes_say_what_is_allowed(text: str) -> None:
    with pytest.raises(ModeError, match="--processes"):
        parse_mode(text)


def test_programs_are_the_dashboards_groups_largest_pss_first() -> None:
    rows = series(PROCESSES, parse_mode("program"))
    assert [r.labels for r in rows] == [("postgres",), ("python3",), ("nginx",), ("sshd",), ("bash",), ("init",)]
    postgres = rows[0]
    assert postgres.processes == 3 and postgres.values["pss"] == 510 * MIB
    assert rows[-1].values["pss"] is None and rows[-1].values["rss"] == 2 * MIB  # init: PSS unreadable, RSS known


def test_top_n_keeps_pid_and_name_and_sums_the_rest_into_other() -> None:
    rows = series(PROCESSES, parse_mode("top:2"))
    assert [r.labels for r in rows] == [("300", "postgres"), ("201", "python3"), ("", OTHER)]
    assert rows[-1].processes == len(PROCESSES) - 2
    assert rows[-1].values["pss"] == sum(p.pss or 0 for p in PROCESSES) - (400 + 120) * MIB


def test_users_and_none() -> None:
    assert {r.labels for r in series(PROCESSES, parse_mode("user"))} == {("root",), ("alice",), ("postgres",)}
    assert series(PROCESSES, parse_mode("none")) == []


def test_a_program_called_other_is_counted_in_other_never_twice() -> None:
    procs = (*PROCESSES, proc(900, OTHER, 999))
    rows = series(procs, parse_mode("program:2"))
    labels = [r.labels for r in rows]
    assert labels == [("postgres",), ("python3",), (OTHER,)]
    assert rows[-1].values["pss"] == (999 + 12 + 6 + 3) * MIB


def test_zombies_and_kernel_threads_are_no_series() -> None:
    zombie = replace(proc(901, "defunct", None), state="Z", rss=None)
    kthread = replace(proc(2, "kthreadd", None), kernel_thread=True, rss=None)
    rows = series((*PROCESSES, zombie, kthread), parse_mode("top:100"))
    assert {r.labels[1] for r in rows}.isdisjoint({"defunct", "kthreadd"})


names = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
sizes = st.one_of(st.none(), st.integers(0, 1 << 40))


@st.composite
def processes(draw: st.DrawFn) -> tuple:  # type: ignore[type-arg]
    count = draw(st.integers(0, 300))
    return tuple(
        replace(proc(pid, draw(names), None, user=draw(st.sampled_from(["root", "alice", "bob"]))),
                pss=draw(sizes), rss=draw(sizes), uss=draw(sizes), swap=draw(sizes))
        for pid in range(1, count + 1)
    )


@given(processes(), st.sampled_from(["top", "program", "user"]), st.integers(1, 20))
def test_any_churn_gives_at_most_n_plus_one_series_and_keeps_every_byte(procs: tuple, kind: str, n: int) -> None:  # type: ignore[type-arg]
    rows = series(procs, parse_mode(f"{kind}:{n}"))
    assert len(rows) <= n + 1
    assert len({r.labels for r in rows}) == len(rows)  # one series per label set
    assert sum(r.processes for r in rows) == len(procs)
    for memtype in ("pss", "rss", "swap"):
        known = [v for p in procs if (v := getattr(p, memtype)) is not None]
        exported = [v for r in rows if (v := r.values[memtype]) is not None]
        assert sum(exported) == sum(known)
    assert set(rows[0].values) == set(MEMTYPES) if rows else True
