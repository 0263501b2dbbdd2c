"""Reading a recording back: the snapshot of any sample, runs of them for a model, a process's series.

A sample is rebuilt from the key frame at or before it: the key frame's
document and figures, then each later sample's changes in order. Retention
deletes only up to a key frame, so the first sample kept is always one.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtop.collectors.models import ProcessMemory, Snapshot

from memtop.history import codec, packing
from memtop.history.schema import StoreError, describe, open_read


@dataclass(frozen=True, slots=True)
class Event:
    """A diagnosis that appeared, or an OOM kill, at a sample."""

    sample: int
    time: float
    kind: str  # "diagnosis" or "oom"
    data: dict[str, Any]


class History:
    """One recording, open read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = open_read(path)
        try:
            rows = self.db.execute("SELECT id, t, key FROM samples ORDER BY id").fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, path)) from None
        if not rows:
            raise StoreError(f"{path}: no sample recorded yet")
        self.ids = [r[0] for r in rows]
        self.times = [r[1] for r in rows]
        self.keys = [r[0] for r in rows if r[2]]

    def close(self) -> None:
        self.db.close()

    # -- where --------------------------------------------------------------
    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        return self.times[-1]

    def index_at(self, time: float) -> int:
        """The index of the sample at or just before ``time`` (the first one when before the recording)."""
        return max(bisect.bisect_right(self.times, time) - 1, 0)

    def __len__(self) -> int:
        return len(self.ids)

    # -- what ---------------------------------------------------------------
    def snapshot(self, index: int) -> Snapshot:
        """The snapshot of sample ``index`` (0 .. len-1)."""
        *_, last = self.walk(index, index)
        return last

    def walk(self, first: int, last: int) -> Iterator[Snapshot]:
        """The snapshots of samples ``first`` .. ``last`` (indexes), in order.

        A file damaged or written by hand (anything another user could hand to root) raises
        StoreError naming the sample, never another exception.
        """
        try:
            yield from self._walk(first, last)
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, self.path)) from None
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, zlib.error) as exc:
            raise StoreError(f"{self.path}: a damaged sample ({type(exc).__name__}: {exc})") from None

    def _walk(self, first: int, last: int) -> Iterator[Snapshot]:
        lo_id, hi_id = self.ids[first], self.ids[last]
        key_at = bisect.bisect_right(self.keys, lo_id) - 1
        start_id = self.keys[key_at] if key_at >= 0 else self.ids[0]
        db = self.db
        procs = {r[0]: r[1:] for r in db.execute(
            "SELECT id, pid, starttime, ppid, name, cmdline, uid, user, cgroup, kthread, first, last FROM named_procs "
            "WHERE first <= ? AND (last IS NULL OR last > ?)", (hi_id, start_id))}
        docs = db.execute("SELECT id, t, doc, figures FROM samples WHERE id BETWEEN ? AND ? ORDER BY id",
                          (start_id, hi_id))
        doc: codec.Doc = {}
        #: By procs id: its figures and the time of the sample that wrote them (its PSS's age counts from there).
        current: dict[int, tuple[list[Any], float]] = {}
        #: The ProcessMemory built from each process's figures, kept while they do not change.
        built: dict[int, tuple[list[Any], ProcessMemory]] = {}
        for sid, t, blob, figures in docs:
            packing.apply_doc(doc, blob)
            for pid_id, entry in packing.unpack_sample_figures(figures):
                before = current.get(pid_id)
                current[pid_id] = (packing.apply_figures(None if before is None else before[0], entry), t)
            if sid < lo_id:
                continue
            alive: list[ProcessMemory] = []
            for pid_id, (row, written) in current.items():
                info = procs.get(pid_id)
                if info is None or info[9] > sid or (info[10] is not None and info[10] <= sid):
                    continue
                cached = built.get(pid_id)
                if cached is None or cached[0] is not row:
                    cached = built[pid_id] = (row, codec.process(info[:9], tuple(row), written))
                alive.append(cached[1])
            alive.sort(key=lambda p: p.pid)
            yield codec.snapshot(doc, t, tuple(alive))

    def events(self, kind: str | None = None) -> list[Event]:
        """The events (of ``kind``), oldest first; one that does not decode is left out."""
        query = "SELECT sample, t, kind, data FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY t, id"
        out = []
        try:
            for s, t, k, d in self.db.execute(query, (kind,) if kind else ()):
                try:
                    data = json.loads(d)
                except ValueError:
                    continue
                if isinstance(data, dict) and isinstance(t, (int, float)):
                    out.append(Event(s, float(t), k, data))
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, self.path)) from None
        return out

    def sample_index(self, sample_id: int) -> int:
        return max(bisect.bisect_left(self.ids, sample_id), 0)
