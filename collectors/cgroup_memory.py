"""Pure parsers of memory cgroup files, v1 and v2.

References: Documentation/admin-guide/cgroup-v2.rst ("Memory Interface
Files") and Documentation/admin-guide/cgroup-v1/memory.rst. Each parser
takes the text the kernel gave and returns values or raises ParseError.
"""

from __future__ import annotations

from .errors import ParseError
from .models import UNLIMITED, Limit

#: LONG_MAX: v1 stores limits as a page count capped at PAGE_COUNTER_MAX
#: (LONG_MAX / PAGE_SIZE, mm/page_counter.c) and prints it in bytes, so
#: "unlimited" reads back as LONG_MAX rounded down to a page:
#: 9223372036854771712 with 4 KiB pages, 9223372036854710272 with 64 KiB.
LONG_MAX = (1 << 63) - 1

#: v1 memory.stat keys that are limits, not counters (printed in bytes).
V1_STAT_LIMITS = ("hierarchical_memory_limit", "hierarchical_memsw_limit")


def _number(word: str, what: str) -> int:
    if not word.isascii() or not word.isdigit() or len(word) > 20:
        raise ParseError(f"{what}: not a number: {word[:30]!r}")
    return int(word)


def unlimited_floor(page_size: int) -> int:
    """The smallest v1 value that means "no limit" for this page size."""
    page = page_size if page_size > 0 else 4096
    return LONG_MAX // page * page


def parse_limit(text: str, page_size: int = 4096) -> Limit:
    """A limit file: v2 memory.{max,high,low,min}, v1 memory.*limit_in_bytes.

    v2 writes ``max`` for no limit; v1 writes a huge number (any value at or
    above the page-rounded LONG_MAX is that "unlimited").

    Raises:
        ParseError: when the text is neither ``max`` nor one number.
    """
    word = text.strip()
    if word == "max":
        return UNLIMITED
    value = _number(word, "limit")
    return UNLIMITED if value >= unlimited_floor(page_size) else value


def parse_counter(text: str) -> int:
    """A file holding one byte count or counter (memory.current, usage_in_bytes, failcnt)."""
    return _number(text.strip(), "counter")


def parse_flat_keyed(text: str, what: str = "flat-keyed file") -> tuple[tuple[str, int], ...]:
    """``key value`` lines: memory.stat, memory.events, memory.oom_control.

    cgroup-v2.rst, "Format": flat keyed files hold one "KEY VALUE" per line.
    A key given twice keeps its first value.

    Raises:
        ParseError: on a line that is not a key and a non-negative integer.
    """
    out: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) != 2:
            raise ParseError(f"{what}: malformed line {line[:60]!r}")
        out.setdefault(words[0], _number(words[1], what))
    return tuple(out.items())


def v1_stat(fields: tuple[tuple[str, int], ...], page_size: int = 4096) -> tuple[tuple[tuple[str, int], ...], Limit]:
    """Split a v1 memory.stat into counters and its hierarchical_memory_limit.

    The limits in it are bytes and may be the "unlimited" number: they are
    not counters, so they leave the stat and the hierarchical limit comes back
    as a Limit (None when the kernel does not print it).
    """
    counters = tuple((k, v) for k, v in fields if k not in V1_STAT_LIMITS)
    raw = dict(fields).get("hierarchical_memory_limit")
    limit: Limit = None
    if raw is not None:
        limit = UNLIMITED if raw >= unlimited_floor(page_size) else raw
    return counters, limit


def v1_events(oom_control: tuple[tuple[str, int], ...] | None, failcnt: int | None) -> tuple[tuple[str, int], ...]:
    """v1 has no memory.events: oom_kill (4.13+) and under_oom from oom_control, and failcnt.

    failcnt counts the times usage hit the limit (memory.rst 5.4); oom_kill the
    processes the OOM killer took from this cgroup; under_oom is 1 while the
    cgroup is in OOM (only lasts when oom_kill_disable is set).
    """
    out: list[tuple[str, int]] = []
    found = dict(oom_control or ())
    for key in ("oom_kill", "under_oom"):
        if key in found:
            out.append((key, found[key]))
    if failcnt is not None:
        out.append(("failcnt", failcnt))
    return tuple(out)


def parse_procs(text: str) -> tuple[int, ...]:
    """cgroup.procs: one pid per line (sorted, duplicates dropped).

    Raises:
        ParseError: on a line that is not a pid.
    """
    pids = {_number(line.strip(), "cgroup.procs") for line in text.splitlines() if line.strip()}
    return tuple(sorted(pids))


def smallest(limits: list[Limit]) -> Limit:
    """The tightest of several limits: the smallest number, else "max", else None."""
    numbers = [x for x in limits if isinstance(x, int)]
    if numbers:
        return min(numbers)
    return UNLIMITED if any(x == UNLIMITED for x in limits) else None
