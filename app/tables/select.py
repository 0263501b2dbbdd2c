"""Choosing and ordering processes: the rules shared by --once, --json and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter

from memtop.collectors.models import ProcessMemory
from memtop.views.columns import DERIVED, column_named, labels

#: Process fields of the JSON schema, in schema order (``memtop.snapshot/1``).
PROCESS_FIELDS: tuple[str, ...] = (
    "pid", "ppid", "starttime", "name", "cmdline", "uid", "user", "state",
    "rss", "pss", "uss", "swap", "swap_pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty",
    "anon", "file", "shmem", "vsize", "hwm", "anon_huge", "hugetlb",
    "oom_score", "oom_score_adj", "cgroup", "error",
    # Added after the first schema (additions keep the version):
    "threads", "kernel_thread", "referenced", "locked", "faults", "memory_time",
)

#: Sizes in bytes: the columns a person sorts to find the biggest.
SIZE_FIELDS: frozenset[str] = frozenset({
    "rss", "pss", "uss", "swap", "swap_pss", "pss_anon", "pss_file", "pss_shmem", "pss_dirty",
    "anon", "file", "shmem", "vsize", "hwm", "anon_huge", "hugetlb", "referenced", "locked",
})

#: Fields whose natural order is largest first: sizes, changes, and who the OOM killer picks.
DESCENDING: frozenset[str] = SIZE_FIELDS | DERIVED | {"oom_score", "oom_score_adj", "threads"}

#: Derived values by column key ("rate", "growth", "heap_gap"), each by process key (pid, starttime).
Derived = Mapping[str, Mapping[tuple[int, int], float]]


class SelectError(ValueError):
    """A selection the user asked for cannot be made (unknown field, no such pid)."""


def check_sort_field(name: str) -> str:
    """The sort a person asked for: a column as the table names it (``PSS``, ``ΔRSS/s``, ``drss/s``,
    ``COMMAND``) or a process field of the JSON (``pss``, ``swap_pss``); the column's key when it is one."""
    column = column_named(name)
    if column is not None:
        return column.key
    if name in PROCESS_FIELDS:
        return name
    raise SelectError(f"unknown sort column {name!r}; one of the table's: {labels()} "
                      f"(or a process field of the JSON: {', '.join(f for f in PROCESS_FIELDS if column_named(f) is None)})")


def field_of(sort: str) -> str:
    """The process record's field a sort key reads (the COMMAND column sorts by the command line)."""
    return "cmdline" if sort == "command" else sort


_PID = attrgetter("pid")


def _key(proc: ProcessMemory, field: str) -> object:
    value = getattr(proc, field)
    if field == "cmdline":
        return " ".join(value)
    if isinstance(value, str):
        return value.casefold()
    return value


def sort_processes(procs: Iterable[ProcessMemory], field: str, reverse: bool = False,
                   derived: Derived | None = None) -> list[ProcessMemory]:
    """Sort by ``field`` in its natural order (flipped by ``reverse``).

    ``field`` is a process field or a column key; a derived column (ΔRSS/s,
    GROW/m, GAP) reads ``derived``. Values that could not be read (None) go
    last in either direction; ties fall back to pid so the order is stable
    between refreshes.
    """
    if field in DERIVED:
        return _sort_derived(procs, field, reverse, (derived or {}).get(field, {}))
    field = field_of(field)
    known: list[ProcessMemory] = []
    unknown: list[ProcessMemory] = []
    for proc in procs:
        (unknown if getattr(proc, field) is None else known).append(proc)
    descending = (field in DESCENDING) != reverse
    known.sort(key=_PID)
    if known and field != "cmdline" and not isinstance(getattr(known[0], field), str):
        # Numbers (every size): the field itself is the key, read at C speed (a key press at
        # 5,000 processes sorts them; a Python key function was a third of the sort).
        known.sort(key=attrgetter(field), reverse=descending)
    else:
        known.sort(key=lambda p: _key(p, field), reverse=descending)  # type: ignore[arg-type, return-value]
    unknown.sort(key=_PID)
    return known + unknown


def _sort_derived(procs: Iterable[ProcessMemory], field: str, reverse: bool,
                  values: Mapping[tuple[int, int], float]) -> list[ProcessMemory]:
    known: list[ProcessMemory] = []
    unknown: list[ProcessMemory] = []
    for proc in procs:
        (known if values.get(proc.key) is not None else unknown).append(proc)
    known.sort(key=lambda p: p.pid)
    known.sort(key=lambda p: values[p.key], reverse=not reverse)
    unknown.sort(key=lambda p: p.pid)
    return known + unknown


def matches(proc: ProcessMemory, text: str) -> bool:
    """Case-insensitive substring of name, command line or user; digits alone also match the pid."""
    needle = text.casefold()
    if text.isascii() and text.isdecimal() and proc.pid == int(text):
        return True
    haystacks = (proc.name, " ".join(proc.cmdline), proc.user or "")
    return any(needle in h.casefold() for h in haystacks)


def select(
    procs: Sequence[ProcessMemory],
    *,
    sort: str = "pss",
    reverse: bool = False,
    text: str | None = None,
    pids: Sequence[int] | None = None,
    limit: int | None = None,
    derived: Derived | None = None,
) -> list[ProcessMemory]:
    """Filter by pids and text, sort, then cut to ``limit`` rows."""
    chosen: Iterable[ProcessMemory] = procs
    if pids:
        wanted = set(pids)
        chosen = [p for p in chosen if p.pid in wanted]
    if text:
        chosen = [p for p in chosen if matches(p, text)]
    rows = sort_processes(chosen, check_sort_field(sort), reverse, derived)
    return rows if limit is None else rows[: max(limit, 0)]
