"""The store's tables, its version, and opening a file for reading or recording.

One SQLite file in WAL mode (a reader never blocks the recorder; a commit
is atomic, so a recorder killed mid-write loses only the sample in flight).
Tables:

- ``samples``: one row per sample: its time, whether it is a key frame, and
  a zlib-compressed JSON of its system document (codec.py): whole in a key
  frame, else only the keys that changed (numbers as differences) and those gone.
- ``procs``: a process's identity, written when first seen and again when
  its name, command line, parent, user or cgroup changes (command lines and
  cgroup paths once each in ``strings``: a program started again and again,
  or a thousand forks, repeat them; ``named_procs`` joins them); ``first`` and
  ``last`` are the sample ids it lived in (``last``: the first sample it was
  missing from; NULL: alive at the last sample).
- ``samples.figures``: the figures of the processes that moved at that sample, all
  in one compressed blob (codec.pack_sample_figures): whole (a list) in a key frame
  and in a process's first entry, else the changes.
- ``events``: diagnoses as they appear, OOM kills.

``SCHEMA`` grows with each incompatible change; a memtop older than a file
refuses it instead of misreading it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

SCHEMA = 1

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (id INTEGER PRIMARY KEY, t REAL NOT NULL, key INTEGER NOT NULL, doc BLOB NOT NULL,
    figures BLOB);
CREATE INDEX IF NOT EXISTS samples_t ON samples (t);
CREATE TABLE IF NOT EXISTS strings (id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS procs (id INTEGER PRIMARY KEY, pid INTEGER, starttime INTEGER, ppid INTEGER, name TEXT,
    cmdline_id INTEGER, uid INTEGER, user TEXT, cgroup_id INTEGER, kthread INTEGER, first INTEGER NOT NULL, last INTEGER);
CREATE INDEX IF NOT EXISTS procs_pid ON procs (pid);
CREATE VIEW IF NOT EXISTS named_procs AS SELECT p.id, p.pid, p.starttime, p.ppid, p.name, c.text AS cmdline, p.uid,
    p.user, g.text AS cgroup, p.kthread, p.first, p.last
    FROM procs p LEFT JOIN strings c ON c.id = p.cmdline_id LEFT JOIN strings g ON g.id = p.cgroup_id;
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sample INTEGER NOT NULL, t REAL NOT NULL,
    kind TEXT NOT NULL, data TEXT NOT NULL);
"""


class StoreError(Exception):
    """A store that cannot be used: said in one line, never a traceback."""


def describe(exc: BaseException, path: Path) -> str:
    """One line for an SQLite or OS error on ``path``."""
    text = str(exc)
    if isinstance(exc, sqlite3.DatabaseError):
        low = text.lower()
        if "full" in low:
            return f"{path}: the disk is full ({text})"
        if "readonly" in low or "read-only" in low:
            return f"{path}: read-only ({text})"
        if "not a database" in low or "malformed" in low:
            return f"{path}: not a memtop history file, or damaged ({text})"
        return f"{path}: {text}"
    if isinstance(exc, OSError):
        return f"{exc.filename or path}: {exc.strerror or text}"
    return f"{path}: {text}"


def check_version(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a file of another program or of a newer memtop."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a memtop history file ({exc})") from None
    if row is None:
        raise StoreError(f"{path}: not a memtop history file (no schema version)")
    version = int(row[0])
    if version > SCHEMA:
        raise StoreError(f"{path}: written by a newer memtop (history schema {version}; this memtop reads up "
                         f"to {SCHEMA}): upgrade memtop to read it")


def open_write(path: Path) -> sqlite3.Connection:
    """The file for recording, created (mode 0600) when missing; its schema checked."""
    try:
        if not path.exists():
            # Created by us, private, no link followed: sqlite would create it 0644.
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600))
        elif path.is_symlink() or not path.is_file():
            raise StoreError(f"{path}: not a regular file (a link is not followed)")
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # auto_vacuum must be set before the first table: retention then gives pages back to the disk.
        db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a power cut may lose the last commit, never the file
        db.execute("PRAGMA journal_size_limit = 4194304")
        fresh = db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0] == 0
        if fresh:
            db.executescript("BEGIN;" + TABLES + f"INSERT INTO meta VALUES ('schema', '{SCHEMA}'); COMMIT;")
        check_version(db, path)
        return db
    except (sqlite3.DatabaseError, OSError) as exc:
        raise StoreError(describe(exc, path)) from None


def _connect_read(path: Path, immutable: bool) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
    db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        # The first statement opens the file: an error here is about opening it, not about what it holds.
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _wal_has_frames(path: Path) -> bool:
    try:
        return path.with_name(path.name + "-wal").stat().st_size > 0
    except OSError:
        return False


def open_read(path: Path) -> sqlite3.Connection:
    """The file for replay: read only.

    A recording is in WAL mode, and SQLite reads such a file only where it can
    create ``FILE-shm`` beside it (or it exists): a copy in a directory the
    reader cannot write is opened ``immutable`` instead, which is exact when no
    ``FILE-wal`` holds frames not yet in the file (sqlite.org/wal.html,
    "Read-Only Databases"); when one does, that is said.
    """
    if not path.is_file():
        raise StoreError(f"{path}: no such history file")
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC))
    except OSError as exc:  # sqlite's own words for this are "unable to open database file"
        raise StoreError(describe(exc, path)) from None
    try:
        try:
            db = _connect_read(path, immutable=False)
        except sqlite3.OperationalError as exc:
            if "readonly" not in str(exc).lower() and "unable to open" not in str(exc).lower():
                raise
            if _wal_has_frames(path):
                raise StoreError(f"{path}: SQLite cannot read it from here: {path.name}-wal holds its last samples and "
                                 f"SQLite must create {path.name}-shm beside it, in a directory you cannot write; "
                                 "copy the file and its -wal to a writable directory") from None
            db = _connect_read(path, immutable=True)
        check_version(db, path)
        db.execute("SELECT count(*) FROM samples").fetchone()
        return db
    except sqlite3.DatabaseError as exc:
        raise StoreError(describe(exc, path)) from None
