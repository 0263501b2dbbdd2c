"""Choosing and ordering processes: the rules shared by --once, --json and the dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from memtop.collectors.models import ProcessMemory

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

#: Fields whose natural order is largest first: sizes, and who the OOM killer picks.
DESCENDING: frozenset[str] = SIZE_FIELDS | {"oom_score", "oom_score_adj", "threads"}


class SelectError(ValueError):
    """A selection the user asked for cannot be made (unknown field, no such pid)."""


def check_sort_field(name: str) -> str:
    if name not in PROCESS_FIELDS:
        raise SelectError(f"unknown sort field {name!r}; one of: {', '.join(PROCESS_FIELDS)}")
    return name


def _key(proc: ProcessMemory, field: str) -> object:
    value = getattr(proc, field)
    if field == "cmdline":
        return " ".join(value)
    if isinstance(value, str):
        return value.casefold()
    return value


def sort_processes(procs: Iterable[ProcessMemory], field: str, reverse: bool = False) -> list[ProcessMemory]:
    """Sort by ``field`` in its natural order (flipped by ``reverse``).

    Values that could not be read (None) go last in either direction; ties
    fall back to pid so the order is stable between refreshes.
    """
    known: list[ProcessMemory] = []
    unknown: list[ProcessMemory] = []
    for proc in procs:
        (unknown if getattr(proc, field) is None else known).append(proc)
    descending = (field in DESCENDING) != reverse
    known.sort(key=lambda p: p.pid)
    known.sort(key=lambda p: _key(p, field), reverse=descending)  # type: ignore[arg-type, return-value]
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
) -> list[ProcessMemory]:
    """Filter by pids and text, sort, then cut to ``limit`` rows."""
    chosen: Iterable[ProcessMemory] = procs
    if pids:
        wanted = set(pids)
        chosen = [p for p in chosen if p.pid in wanted]
    if text:
        chosen = [p for p in chosen if matches(p, text)]
    rows = sort_processes(chosen, check_sort_field(sort), reverse)
    return rows if limit is None else rows[: max(limit, 0)]
