"""One series from a recording: per sample, the sum over the matching processes of RSS, PSS, USS, swap and heap.

Only the matching processes' figures are decoded (a process's rows, in
order); the heap comes from the documents' heap counters.
"""

from __future__ import annotations

import bisect
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Any

from memtop.history import codec, packing
from memtop.history.schema import StoreError, describe
from memtop.history.store import History

_AT = {name: codec.FIGURES.index(name) for name in ("rss", "pss", "uss", "swap")}


@dataclass(frozen=True, slots=True)
class Match:
    """Which processes: a pid, a name or command line containing text, or a cgroup and those below it."""

    pid: int | None = None
    name: str | None = None
    cgroup: str | None = None

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in (("pid", self.pid), ("name", self.name), ("cgroup", self.cgroup)) if v is not None}

    def where(self) -> tuple[str, tuple[Any, ...]]:
        if self.pid is not None:
            return "pid = ?", (self.pid,)
        if self.name is not None:
            return "(instr(name, ?) > 0 OR instr(cmdline, ?) > 0)", (self.name, self.name)
        path = (self.cgroup or "/").rstrip("/") or "/"
        return "(cgroup = ? OR substr(cgroup, 1, ?) = ?)", (path, len(path) + 1, path.rstrip("/") + "/")


@dataclass(frozen=True, slots=True)
class Point:
    time: float
    processes: int
    rss: int | None
    pss: int | None
    uss: int | None
    swap: int | None
    heap: int | None

    def json(self) -> dict[str, Any]:
        return {"time": self.time, "processes": self.processes, "rss": self.rss, "pss": self.pss, "uss": self.uss,
                "swap": self.swap, "heap": self.heap}


def _sum(rows: list[list[Any]], at: int) -> int | None:
    values = [r[at] for r in rows if r[at] is not None]
    return sum(values) << 10 if values else None


def series(history: History, match: Match, start: float, end: float) -> list[Point]:
    """The points of ``match`` between ``start`` and ``end``; a damaged file raises StoreError."""
    try:
        return _series(history, match, start, end)
    except sqlite3.DatabaseError as exc:
        raise StoreError(describe(exc, history.path)) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error) as exc:
        raise StoreError(f"{history.path}: a damaged sample ({type(exc).__name__}: {exc})") from None


def _series(history: History, match: Match, start: float, end: float) -> list[Point]:
    where, args = match.where()
    procs = {r[0]: (r[1], r[2], r[3]) for r in history.db.execute(
        f"SELECT id, first, last, pid FROM named_procs WHERE {where}", args)}  # noqa: S608 - the clause is ours, values bound
    if not procs:
        return []
    first = history.index_at(start)
    last = history.index_at(end)
    docs = history.db.execute("SELECT id, doc, figures FROM samples WHERE id <= ? ORDER BY id", (history.ids[last],))
    current: dict[int, list[Any]] = {}
    heaps: list[dict[str, Any]] = []
    doc: codec.Doc = {}
    points = []
    for sid, blob, figures in docs:
        if "heaps" in packing.apply_doc(doc, blob):
            heaps = doc["heaps"]
        for pid_id, entry in packing.unpack_sample_figures(figures):
            if pid_id in procs:
                current[pid_id] = packing.apply_figures(current.get(pid_id), entry)
        index = bisect.bisect_left(history.ids, sid)
        if index < first:
            continue
        alive = [(procs[p][2], row) for p, row in current.items()
                 if procs[p][0] <= sid and (procs[p][1] is None or procs[p][1] > sid)]
        if not alive:
            continue
        pids = {pid for pid, _ in alive}
        in_use = [h["in_use"] for h in heaps if h.get("pid") in pids and h.get("in_use") is not None]
        figures = [row for _, row in alive]
        points.append(Point(history.times[index], len(alive), _sum(figures, _AT["rss"]), _sum(figures, _AT["pss"]),
                            _sum(figures, _AT["uss"]), _sum(figures, _AT["swap"]), sum(in_use) if in_use else None))
    return points
