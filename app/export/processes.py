"""Per-process memory as series of bounded number: by program, by user, or the top N by PSS.

A fork storm must not explode the series count (issue 16): every mode keeps
at most a fixed number of series per memtype whatever the churn, and sums the
rest into one ``other`` series, so the sum over series stays the sum over
processes. Groups are the dashboard's own (``g``: memtop.tables.process_rows),
so a program's figure in Grafana is the one in the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memtop.collectors.models import ProcessMemory

if TYPE_CHECKING:
    from memtop.tables.process_rows import Row

#: The exported memtypes, in order: the process table's figures (issue 16).
MEMTYPES = ("rss", "pss", "uss", "swap", "anon", "file", "shmem")

#: The label value of the series that sums everything past the bound.
OTHER = "other"

MODES = ("top", "program", "user", "none")
#: Groups kept by default in program and user modes (more is ``program:N``).
DEFAULT_GROUPS = 100
DEFAULT_TOP = 20
MAX_SERIES = 10_000


class ModeError(ValueError):
    """A --processes value memtop does not understand."""


@dataclass(frozen=True, slots=True)
class Mode:
    """How processes become series: ``kind`` (top, program, user, none) and at most ``limit`` of them."""

    kind: str
    limit: int

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels that name one series (besides memtype)."""
        return {"top": ("pid", "name"), "program": ("groupname",), "user": ("user",)}.get(self.kind, ())

    def __str__(self) -> str:
        return self.kind if self.kind == "none" else f"{self.kind}:{self.limit}"


def parse_mode(text: str) -> Mode:
    """``top:N``, ``program[:N]``, ``user[:N]`` or ``none``."""
    kind, sep, number = text.partition(":")
    if kind not in MODES:
        raise ModeError(f"--processes {text}: one of top:N, program[:N], user[:N], none")
    if kind == "none":
        if sep:
            raise ModeError(f"--processes {text}: none takes no number")
        return Mode("none", 0)
    if not sep:
        if kind == "top":
            raise ModeError(f"--processes {text}: top needs a number, for example top:{DEFAULT_TOP}")
        return Mode(kind, DEFAULT_GROUPS)
    if not (number.isascii() and number.isdecimal()) or not 1 <= int(number) <= MAX_SERIES:
        raise ModeError(f"--processes {text}: the number must be a whole number from 1 to {MAX_SERIES}")
    return Mode(kind, int(number))


@dataclass(frozen=True, slots=True)
class Series:
    """One process or group: its label values, its figures (None: none of it readable) and its processes."""

    labels: tuple[str, ...]
    values: dict[str, int | None]
    processes: int


def _sum(values: Sequence[dict[str, int | None]]) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for name in MEMTYPES:
        known = [v for d in values if (v := d.get(name)) is not None]
        out[name] = sum(known) if known else None
    return out


def series(processes: Sequence[ProcessMemory], mode: Mode) -> list[Series]:
    """At most ``mode.limit`` series, largest PSS first, then one ``other`` with the rest (when there is a rest)."""
    # Here, not at the top: `memtop --help` and the other commands parse --processes without the tables.
    from memtop.tables.process_rows import ViewState, build_rows
    from memtop.tables.select import sort_processes

    if mode.kind == "none":
        return []
    procs = [p for p in processes if not p.kernel_thread and p.state not in ("Z", "X")]  # a zombie holds no memory
    if mode.kind == "top":
        ranked = sort_processes(procs, "pss")
        kept = [Series((str(p.pid), p.name), {m: getattr(p, m) for m in MEMTYPES}, 1) for p in ranked[: mode.limit]]
        rest = [{m: getattr(p, m) for m in MEMTYPES} for p in ranked[mode.limit:]]
        return kept + ([Series(("", OTHER), _sum(rest), len(rest))] if rest else [])
    rows = build_rows(procs, ViewState(mode=mode.kind, sort="pss"))
    kept_rows: list[Row] = []
    rest_rows: list[Row] = []
    for row in rows:
        # A program or user called "other" is counted in the other series: one
        # label set, one series (a duplicate would make the scrape invalid).
        (kept_rows if len(kept_rows) < mode.limit and row.name != OTHER else rest_rows).append(row)
    kept = [Series((row.name,), {m: row.values.get(m) for m in MEMTYPES}, row.members) for row in kept_rows]
    if rest_rows:
        rest = [{m: row.values.get(m) for m in MEMTYPES} for row in rest_rows]
        kept.append(Series((OTHER,), _sum(rest), sum(r.members for r in rest_rows)))
    return kept
