"""Writing a recording: one sample per pass, changes only, a key frame every KEY_EVERY seconds, retention.

A sample writes its system document's changed keys, a figures row for each
process whose figures moved (page faults alone or the age of PSS alone
write nothing: they move whenever a process runs), an identity row for each
process first seen or renamed, and marks the processes gone. A key frame
writes everything whole, so any moment is rebuilt from the key frame before
it and the samples between. Each sample is one transaction: a recorder
killed mid-write loses that sample only.

Retention (by age and by size) deletes whole segments from the oldest key
frame to the next, never the newest key frame; it runs while recording.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from memtop.collectors.models import Snapshot
from memtop.rules.diagnosis_model import Diagnosis

from memtop.history import codec, packing
from memtop.history.schema import StoreError, describe, open_write

#: Seconds between key frames: a jump rebuilds at most this much; retention deletes in these steps.
KEY_EVERY = 1800.0
#: Retention is checked every this many samples (and at the first).
RETAIN_EVERY = 30


class RecorderBusy(StoreError):
    """Another recorder holds the file."""


def lock(path: Path) -> int:
    """Hold ``path``.lock (flock, released by the kernel however the recorder ends); refused with the holder's pid."""
    name = path.with_name(path.name + ".lock")
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(describe(exc, name)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise RecorderBusy(f"{path}: another memtop record (pid {holder}) is recording to it") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class Recorder:
    """Samples into one file, for one recorder at a time."""

    def __init__(self, path: Path, retain: float | None = None, max_size: int | None = None,
                 key_every: float = KEY_EVERY) -> None:
        self.path = path
        self.retain = retain
        self.max_size = max_size
        self.key_every = key_every
        self._lock = lock(path)
        try:
            self.db = open_write(path)
        except StoreError:
            os.close(self._lock)
            raise
        self._inode = os.stat(path).st_ino
        self._doc: codec.Doc | None = None
        self._last_key = float("-inf")
        #: By (pid, starttime): (procs id, identity, last figures written).
        self._procs: dict[tuple[int, int], tuple[int, codec.Identity, tuple[Any, ...]]] = {}
        self._diagnoses: frozenset[str] = frozenset()
        #: Command lines and cgroup paths stored (strings table), by text.
        self._strings: dict[str, int] = {}
        self._load_strings()
        self.samples = 0
        #: Why retention could not bring the file under --max-size (said once).
        self.too_small: str | None = None
        # Processes left open by a recorder that ended without saying so (kill -9): they end at its last sample.
        self._run("UPDATE procs SET last = (SELECT max(id) FROM samples) + 1 WHERE last IS NULL")

    def _load_strings(self) -> None:
        try:
            self._strings = {text: sid for sid, text in self.db.execute("SELECT id, text FROM strings")}
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, self.path)) from None

    def _string(self, text: str | None, new: dict[str, int]) -> int | None:
        """The id of a stored text, inserted when new (``new`` collects them until the sample commits)."""
        if text is None:
            return None
        found = self._strings.get(text, new.get(text))
        if found is None:
            found = new[text] = int(self.db.execute("INSERT INTO strings (text) VALUES (?)", (text,)).lastrowid or 0)
        return found

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            os.close(self._lock)

    def _run(self, sql: str, args: Iterable[Any] = ()) -> None:
        try:
            self.db.execute(sql, tuple(args))
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, self.path)) from None

    def _check_file(self) -> None:
        try:
            same = os.stat(self.path).st_ino == self._inode
        except OSError:
            same = False
        if not same:
            raise StoreError(f"{self.path}: the file (or its directory) was deleted or replaced while recording; "
                             "stopping (start memtop record again to begin a new file)")

    # -- one sample -----------------------------------------------------------
    def add(self, snap: Snapshot, diagnoses: Iterable[Diagnosis] = ()) -> None:
        """Record one snapshot (and the diagnoses the model derived from it)."""
        self._check_file()
        t = snap.time
        key = self._doc is None or t - self._last_key >= self.key_every or t < self._last_key
        doc = codec.document(snap, self._doc)
        found = list(diagnoses)
        ids = frozenset(d.id for d in found)
        db = self.db
        procs = dict(self._procs)
        strings: dict[str, int] = {}
        try:
            db.execute("BEGIN IMMEDIATE")
            sid = db.execute("INSERT INTO samples (t, key, doc) VALUES (?, ?, ?)",
                             (t, int(key), packing.pack_doc(None if key else self._doc, doc))).lastrowid
            rows: list[tuple[int, Any]] = []
            seen = set()
            for p in snap.processes:
                k = p.key
                seen.add(k)
                ident = codec.identity(p)
                figs = codec.figures(p, t)
                old = procs.get(k)
                if old is None or old[1] != ident:
                    if old is not None:
                        db.execute("UPDATE procs SET last = ? WHERE id = ?", (sid, old[0]))
                    pid, starttime, ppid, name, cmdline, uid, user, cgroup, kthread = ident
                    pid_id = db.execute(
                        "INSERT INTO procs (pid, starttime, ppid, name, cmdline_id, uid, user, cgroup_id, kthread, first) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (pid, starttime, ppid, name, self._string(cmdline, strings), uid, user,
                         self._string(cgroup, strings), kthread, sid)).lastrowid
                    assert pid_id is not None
                    rows.append((pid_id, packing.pack_figures(None, figs)))
                elif key:
                    pid_id = old[0]
                    rows.append((pid_id, packing.pack_figures(None, figs)))
                elif codec.moved(old[2], figs):
                    pid_id = old[0]
                    rows.append((pid_id, packing.pack_figures(old[2], figs)))
                else:
                    continue
                procs[k] = (pid_id, ident, figs)
            for k in [k for k in procs if k not in seen]:
                db.execute("UPDATE procs SET last = ? WHERE id = ?", (sid, procs.pop(k)[0]))
            if rows:
                db.execute("UPDATE samples SET figures = ? WHERE id = ?", (packing.pack_sample_figures(rows), sid))
            for d in found:
                if d.id not in self._diagnoses:
                    data = {**d.json(), "jump": d.jump, "target": d.target}
                    db.execute("INSERT INTO events (sample, t, kind, data) VALUES (?, ?, 'diagnosis', ?)",
                               (sid, t, json.dumps(data)))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db.in_transaction:
                db.rollback()
            raise StoreError(describe(exc, self.path)) from None
        self._procs = procs
        self._strings.update(strings)
        self._doc = doc
        self._diagnoses = ids
        if key:
            self._last_key = t
        self.samples += 1
        if self.samples == 1 or self.samples % RETAIN_EVERY == 0:
            self.enforce(t)

    def event(self, kind: str, time: float, data: dict[str, Any]) -> None:
        """An event (an OOM kill) at the last sample."""
        try:
            self.db.execute("INSERT INTO events (sample, t, kind, data) VALUES "
                            "((SELECT coalesce(max(id), 0) FROM samples), ?, ?, ?)", (time, kind, json.dumps(data)))
        except sqlite3.DatabaseError as exc:
            raise StoreError(describe(exc, self.path)) from None

    # -- retention ------------------------------------------------------------
    def used_bytes(self) -> int:
        pages, free, size = (self.db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
        return int((pages - free) * size)

    def enforce(self, now: float) -> None:
        """Delete what is older than --retain and, oldest first, what is over --max-size; never the newest key frame."""
        db = self.db
        keys = db.execute("SELECT id, t FROM samples WHERE key = 1 ORDER BY id").fetchall()
        if len(keys) < 2:
            return
        cut = 0
        if self.retain is not None:
            old = [sid for sid, t in keys[:-1] if t <= now - self.retain]
            if old:
                cut = old[-1]  # the newest key frame old enough: everything before it goes
        deleted = self._delete_before(cut) if cut else False
        if self.max_size is not None:
            remaining = [sid for sid, _ in keys if sid > cut]
            while self.used_bytes() > self.max_size and len(remaining) >= 2:
                remaining.pop(0)
                deleted = self._delete_before(remaining[0]) or deleted
            self.too_small = None
            if self.used_bytes() > self.max_size:
                self.too_small = (f"--max-size {self.max_size} bytes holds less than one key frame's stretch "
                                  f"({self.used_bytes()} bytes kept)")
        if deleted:
            try:
                db.execute("PRAGMA incremental_vacuum")
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.DatabaseError as exc:
                raise StoreError(describe(exc, self.path)) from None

    def _delete_before(self, sid: int) -> bool:
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            n = db.execute("DELETE FROM samples WHERE id < ?", (sid,)).rowcount
            db.execute("DELETE FROM events WHERE sample < ?", (sid,))
            db.execute("DELETE FROM procs WHERE last IS NOT NULL AND last <= ?", (sid,))
            db.execute("DELETE FROM strings WHERE id NOT IN (SELECT cmdline_id FROM procs WHERE cmdline_id IS NOT NULL) "
                       "AND id NOT IN (SELECT cgroup_id FROM procs WHERE cgroup_id IS NOT NULL)")
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db.in_transaction:
                db.rollback()
            raise StoreError(describe(exc, self.path)) from None
        self._load_strings()
        return n > 0
