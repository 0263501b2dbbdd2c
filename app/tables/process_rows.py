"""What the process table shows: rows built from a snapshot for a view mode.

Pure functions of (processes, view state), and a cache of built rows
(``RowCache``), so the table widget only draws and the tests need no terminal. Modes: a flat list, a tree under parents, and
groups by program or by user (as smem -u and ps_mem do).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from memtop.collectors.models import ProcessMemory
from memtop.collectors.processes import DENIED

from memtop.rules.cgroup_usage import in_cgroup
from memtop.tables.select import DESCENDING, Derived, matches, sort_processes

#: Sizes that add up over processes (a tree's subtree, a group).
SUMMED = ("rss", "pss", "uss", "swap", "anon_huge", "anon", "file", "shmem", "hugetlb")

RowKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the process table."""

    key: RowKey
    pid: int | None
    user: str
    name: str
    command: str
    values: Mapping[str, int | None]
    rate: float | None = None
    depth: int = 0
    members: int = 1
    has_children: bool = False
    collapsed: bool = False
    exited: bool = False
    stale: bool = False
    oom_score: int | None = None
    cgroup: str | None = None
    #: A short flag after the name (a heap gap memtop flags: "‼ heap gap").
    mark: str = ""
    #: The command line as the kernel gave it (the table cuts it to fit); empty for a group.
    argv: tuple[str, ...] = ()
    threads: int | None = None
    #: RSS growth in bytes per minute over the chart's window (None: not enough history).
    growth: float | None = None
    #: Figures shown as read but odd, and why (PSS above RSS): the PSS cell is marked "!".
    marks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    values: Mapping[str, int]
    unknown_pss: int
    #: Of those, the ones refused for want of root ("needs root" is said of these only).
    denied_pss: int = 0


@dataclass(frozen=True, slots=True)
class ViewState:
    """How the user asked to see the processes."""

    sort: str = "pss"
    reverse: bool = False
    text: str = ""
    mode: str = "list"
    collapsed: frozenset[int] = field(default_factory=frozenset)
    #: Only processes in this memory cgroup or below it ("" for all).
    cgroup: str = ""
    #: Only this user's processes ("" for all; key u).
    user: str = ""


def proc_key(proc: ProcessMemory) -> RowKey:
    return ("p", proc.pid, proc.starttime)


def _values(proc: ProcessMemory) -> dict[str, int | None]:
    values = {name: getattr(proc, name) for name in SUMMED}
    values["vsize"] = proc.vsize
    return values


def _row(proc: ProcessMemory, rates: Mapping[RowKey, float], stale_before: float | None,
         derived: Derived | None = None, **extra: object) -> Row:
    key = proc_key(proc)
    stale = stale_before is not None and proc.memory_time is not None and proc.memory_time < stale_before
    values = _values(proc)
    growth = None
    if derived:
        gap = derived.get("heap_gap", {}).get(proc.key)
        values["heap_gap"] = None if gap is None else int(gap)
        per_second = derived.get("growth", {}).get(proc.key)
        growth = None if per_second is None else per_second * 60
    return Row(
        key=key, pid=proc.pid, user=proc.user or (str(proc.uid) if proc.uid is not None else "?"),
        name=proc.name, command=" ".join(proc.cmdline) or f"[{proc.name}]", values=values, growth=growth,
        rate=rates.get(key), oom_score=proc.oom_score, stale=stale, cgroup=proc.cgroup, argv=tuple(proc.cmdline),
        threads=proc.threads, marks=proc.marks, **extra,  # type: ignore[arg-type]
    )


def _sum(procs: Iterable[ProcessMemory]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    procs = list(procs)
    for name in SUMMED:
        known = [v for p in procs if (v := getattr(p, name)) is not None]
        out[name] = sum(known) if known else None
    return out


#: What the totals line shows.
TOTALLED = ("rss", "pss", "uss", "swap")


def totals(procs: Sequence[ProcessMemory]) -> Totals:
    """Sums over the processes that match the filter (PSS adds up; RSS over-counts shared pages)."""
    sums = {name: sum(v for p in procs if (v := getattr(p, name)) is not None) for name in TOTALLED}
    return Totals(
        count=len(procs),
        values=sums,
        unknown_pss=sum(1 for p in procs if p.pss is None and not p.kernel_thread),
        denied_pss=sum(1 for p in procs if p.pss is None and p.error is not None and DENIED in p.error),
    )


class RowCache:
    """Rows of the list view kept across refreshes and key presses.

    A process that did not change is the same record from one snapshot to the
    next (the live session reuses it), so its Row is built once, and a re-sort
    or a refresh only reorders existing rows: at 5,000 processes building the
    rows took most of a key press (bench/live.py). The exited mark and the
    flag after the name are part of what is kept, so a marked row is the same
    object from one build to the next too.
    """

    def __init__(self) -> None:
        self._rows: dict[RowKey, tuple[ProcessMemory, object, bool, Row]] = {}

    def row(self, proc: ProcessMemory, rates: Mapping[RowKey, float], stale_before: float | None,
            derived: Derived | None = None, mark: str = "", exited: bool = False) -> Row:
        key = proc_key(proc)
        rate = rates.get(key)
        stale = stale_before is not None and proc.memory_time is not None and proc.memory_time < stale_before
        extra = None if not derived else (derived.get("growth", {}).get(proc.key), derived.get("heap_gap", {}).get(proc.key))
        hit = self._rows.get(key)
        if hit is not None and hit[0] is proc and hit[1] == (rate, extra, mark, exited) and hit[2] == stale:
            return hit[3]
        row = _row(proc, rates, stale_before, derived)
        if mark or exited:
            row = replace(row, mark=mark, exited=exited)
        if hit is not None and hit[3] == row:
            row = hit[3]  # re-read, same figures (a row on screen that moved is read every refresh): nothing to redraw
        self._rows[key] = (proc, (rate, extra, mark, exited), stale, row)
        return row

    def prune(self, procs: Sequence[ProcessMemory]) -> None:
        if len(self._rows) > 2 * len(procs) + 64:
            alive = {proc_key(p) for p in procs}
            self._rows = {k: v for k, v in self._rows.items() if k in alive}


class ListRows(Sequence[Row]):
    """The list view's rows in order, each built when first read (a key press draws ~50 of 5,000).

    A re-sort at 5,000 processes spent more time building Rows (or finding them in the
    cache) than sorting (bench/keys.py): the table reads only the rows on screen and the
    cursor's, so the others are never built. A row read once is the same object on every
    later read of this sequence.
    """

    def __init__(self, procs: list[ProcessMemory], cache: RowCache, rates: Mapping[RowKey, float],
                 stale_before: float | None, derived: Derived | None, gone: RowKey | None,
                 marks: Mapping[int, str] | None) -> None:
        self._procs = procs
        self._cache = cache
        self._rates = rates
        self._stale_before = stale_before
        self._derived = derived
        self._gone = gone
        self._marks = marks or {}
        self._built: dict[int, Row] = {}

    def __len__(self) -> int:
        return len(self._procs)

    def _at(self, index: int) -> Row:
        row = self._built.get(index)
        if row is None:
            proc = self._procs[index]
            row = self._cache.row(proc, self._rates, self._stale_before, self._derived,
                                  mark=self._marks.get(proc.pid, ""),
                                  exited=self._gone is not None and proc_key(proc) == self._gone)
            self._built[index] = row
        return row

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self._procs)))]
        if index < 0:
            index += len(self._procs)
        if not 0 <= index < len(self._procs):
            raise IndexError(index)
        return self._at(index)

    def find(self, key: RowKey) -> int | None:
        """The index of the row with this key (("p", pid) matches any start time), without building rows."""
        if len(key) < 2 or key[0] != "p":
            return None
        pid, start = key[1], key[2] if len(key) > 2 else None
        for i, proc in enumerate(self._procs):
            if proc.pid == pid and (start is None or proc.starttime == start):
                return i
        return None


def matching(
    procs: Sequence[ProcessMemory], text: str, exited: ProcessMemory | None = None, cgroup: str = "", user: str = ""
) -> list[ProcessMemory]:
    """The processes the filter keeps (an exited selection stays in)."""
    matched = [p for p in procs if matches(p, text)] if text else list(procs)
    if user:
        matched = [p for p in matched if (p.user or (str(p.uid) if p.uid is not None else "?")) == user]
    if cgroup:
        matched = [p for p in matched if in_cgroup(p.cgroup, cgroup)]
    if exited is not None and all(p.pid != exited.pid for p in matched):
        matched.append(exited)
    return matched


def build_rows(
    procs: Sequence[ProcessMemory],
    state: ViewState,
    rates: Mapping[RowKey, float] | None = None,
    exited: ProcessMemory | None = None,
    stale_before: float | None = None,
    cache: RowCache | None = None,
    matched: list[ProcessMemory] | None = None,
    marks: Mapping[int, str] | None = None,
    derived: Derived | None = None,
) -> Sequence[Row]:
    """Rows for the table in the view's mode and order (the list view's are built as they are read).

    ``exited`` is a selected process that has gone: it stays in its place,
    marked, until the user moves (the screen decides when to drop it).
    """
    rates = rates or {}
    # ΔRSS/s sorts like the other derived columns: by process key.
    derived = {**(derived or {}), "rate": {(k[1], k[2]): v for k, v in rates.items() if len(k) == 3}}  # type: ignore[misc]
    if matched is None:
        matched = matching(procs, state.text, exited, state.cgroup, state.user)
    gone = None if exited is None else proc_key(exited)
    if state.mode == "tree":
        rows = _tree_rows(procs, matched, state, rates, stale_before, derived)
    elif state.mode in ("program", "user"):
        rows = _group_rows(matched, state)
    else:
        return ListRows(sort_processes(matched, state.sort, state.reverse, derived), cache or RowCache(), rates,
                        stale_before, derived, gone, marks)
    if gone is not None:
        rows = [replace(r, exited=True) if r.key == gone else r for r in rows]
    if marks:
        rows = [replace(r, mark=marks[r.pid]) if r.pid is not None and r.pid in marks else r for r in rows]
    return rows


def _users(members: Sequence[ProcessMemory]) -> str:
    names = {m.user for m in members}
    return next(iter(names)) or "?" if len(names) == 1 else f"{len(names)} users"


def _group_rows(matched: Sequence[ProcessMemory], state: ViewState) -> list[Row]:
    groups: dict[str, list[ProcessMemory]] = defaultdict(list)
    for proc in matched:
        label = proc.name if state.mode == "program" else (proc.user or str(proc.uid))
        groups[label].append(proc)
    rows = [
        Row(
            key=("g", state.mode, label), pid=None,
            user=(members[0].user or "?") if state.mode == "user" else _users(members),
            name=label, command=f"{label} ({len(members)} process{'' if len(members) == 1 else 'es'})", values=_sum(members),
            members=len(members),
        )
        for label, members in groups.items()
    ]
    field_name = state.sort if state.sort in SUMMED else "pss"
    known = [r for r in rows if r.values.get(field_name) is not None]
    unknown = sorted((r for r in rows if r.values.get(field_name) is None), key=lambda r: r.name)
    descending = (field_name in DESCENDING) != state.reverse
    if state.sort == "name":
        known.sort(key=lambda r: r.name.casefold(), reverse=state.reverse)
    else:
        known.sort(key=lambda r: r.values[field_name] or 0, reverse=descending)
    return known + unknown


def _tree_rows(
    procs: Sequence[ProcessMemory],
    matched: Sequence[ProcessMemory],
    state: ViewState,
    rates: Mapping[RowKey, float],
    stale_before: float | None,
    derived: Derived | None = None,
) -> list[Row]:
    by_pid = {p.pid: p for p in procs}
    for p in matched:
        by_pid.setdefault(p.pid, p)
    keep: set[int] = set()
    for p in matched:  # a match keeps its ancestors, so it stays in context
        pid: int | None = p.pid
        while pid is not None and pid not in keep and pid in by_pid:
            keep.add(pid)
            parent = by_pid[pid].ppid
            pid = parent if parent != pid else None
    children: dict[int | None, list[ProcessMemory]] = defaultdict(list)
    for pid in keep:
        proc = by_pid[pid]
        parent = proc.ppid if proc.ppid in keep and proc.ppid != pid else None
        children[parent].append(proc)
    subtree: dict[int, dict[str, int | None]] = {}

    def total(proc: ProcessMemory) -> dict[str, int | None]:
        if proc.pid not in subtree:
            sums = _values(proc)
            for child in children.get(proc.pid, ()):
                for name, value in total(child).items():
                    if value is not None and name in SUMMED:
                        sums[name] = (sums[name] or 0) + value
            subtree[proc.pid] = sums
        return subtree[proc.pid]

    field_name = state.sort if state.sort in SUMMED else None
    descending = (state.sort in DESCENDING) != state.reverse

    def ordered(group: list[ProcessMemory]) -> list[ProcessMemory]:
        if field_name is None:
            return sort_processes(group, state.sort, state.reverse, derived)
        known = [p for p in group if total(p)[field_name] is not None]
        unknown = sorted((p for p in group if total(p)[field_name] is None), key=lambda p: p.pid)
        known.sort(key=lambda p: p.pid)
        known.sort(key=lambda p: total(p)[field_name] or 0, reverse=descending)
        return known + unknown

    rows: list[Row] = []
    stack: list[tuple[ProcessMemory, int]] = [(p, 0) for p in reversed(ordered(children[None]))]
    while stack:
        proc, depth = stack.pop()
        kids = children.get(proc.pid, [])
        collapsed = proc.pid in state.collapsed and bool(kids)
        row = _row(proc, rates, stale_before, derived, depth=depth, has_children=bool(kids), collapsed=collapsed)
        if collapsed:  # a folded subtree shows what it holds in all
            row = replace(row, values=total(proc), members=1 + _count(proc, children))
        rows.append(row)
        if not collapsed:
            stack.extend((kid, depth + 1) for kid in reversed(ordered(kids)))
    return rows


def _count(proc: ProcessMemory, children: Mapping[int | None, list[ProcessMemory]]) -> int:
    kids = children.get(proc.pid, [])
    return len(kids) + sum(_count(k, children) for k in kids)
