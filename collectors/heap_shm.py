"""Heap counters published by the preloaded library (heapcount.c) in shared-memory files.

One file per instrumented process, ``$MEMTOP_HEAP_DIR/memtop-heap.<pid>``
(default /dev/shm), laid out as a 64-byte header and 255 slots of 64 bytes
(heapcount.c has the layout and why). Anyone can write a file with any pid
in its name, so a file counts only when its header names that pid, the
process exists with the same start time, and the file belongs to the
process's user (or root) and nobody else may write it; files of dead
processes, or of an earlier process with the same pid, are removed, but only
by a memtop in the initial pid namespace: a pid is a name only within one
namespace, and a memtop in a container that shares /dev/shm with the host
(or ``unshare --pid``) would take the host's live files for dead ones and
delete them (seen: a dashboard in a namespace removed a probe's file of a
host process while the exporter's test waited for its heap). A file is
opened once and read by pread into a copy at each sample (never mapped: its
owner may truncate it, and a mapping then raises SIGBUS in the reader), a
16 KiB pread, cheap enough for 10 Hz.

``memtop.probe`` (source 2) writes the same format from inside a Python
program, and memtop's gdb attach (source 3) leaves its one-off sample in a
``memtop-gdb.<pid>`` file; both carry the probe block of heap_block.py.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ParseError
from .heap_block import BLOCK_OFFSET, read_block
from .models import HeapCounters
from .safe_open import OTHERS_WRITE, open_regular, pread_copy

MAGIC = b"MEMTHEAP"
VERSION = 1
PREFIX = "memtop-heap."
#: The inode of the initial pid namespace (include/linux/proc_ns.h: PROC_PID_INIT_INO).
PROC_PID_INIT_INO = 0xEFFFFFFC
FILE_SIZE = 16384
HEADER = struct.Struct("<8sIIIIQQII")  # magic version source pid nslots starttime peak used_slots flags
GENERATION = struct.Struct("<Q")  # at offset 48
SLOT = struct.Struct("<qQQ")  # live nalloc nfree
SLOT_SIZE = 64
HEADER_SIZE = 64
SOURCES = {1: "preload", 2: "probe", 3: "gdb"}
#: Sources whose files carry the probe block (collectors/heap_block.py).
BLOCK_SOURCES = (2, 3)
#: memtop's gdb attach (key H) leaves its last sample here, so `memtop --json`
#: shows it too; its own name, so a probe or the library started later never
#: meets a file of another owner in its way.
GDB_PREFIX = "memtop-gdb."
#: Header flags bit 1 (probe files): no heap figure (no mallinfo2), slot 0 means nothing.
NO_HEAP = 2
#: No process holds more heap than a 64-bit address space's user half (128 TiB on x86-64):
#: a file that says more is not a figure (issue 13 item 9).
MAX_HEAP = 1 << 47


def default_directory() -> Path:
    """Where the library writes: $MEMTOP_HEAP_DIR, else /dev/shm (both sides read the same variable)."""
    return Path(os.environ.get("MEMTOP_HEAP_DIR") or "/dev/shm")


def parse_heap(data: bytes) -> HeapCounters:
    """The counters of one file's bytes; ParseError when it is not a version-1 counter file."""
    if len(data) < HEADER_SIZE:
        raise ParseError(f"heap counter file: {len(data)} bytes, shorter than its header")
    magic, version, source, pid, nslots, starttime, peak, used, flags = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise ParseError("heap counter file: bad magic")
    if version != VERSION:
        raise ParseError(f"heap counter file: version {version}, memtop reads {VERSION}")
    slots = min(used, nslots, (len(data) - HEADER_SIZE) // SLOT_SIZE)
    live = allocs = frees = 0
    for index in range(slots):
        slot_live, slot_allocs, slot_frees = SLOT.unpack_from(data, HEADER_SIZE + index * SLOT_SIZE)
        live += slot_live
        allocs += slot_allocs
        frees += slot_frees
    (generation,) = GENERATION.unpack_from(data, 48)
    detail = read_block(data) if source in BLOCK_SOURCES else None
    counted = source not in BLOCK_SOURCES  # the probe and gdb count no calls
    return HeapCounters(
        pid=pid,
        source=SOURCES.get(source, f"source {source}"),
        starttime=starttime,
        # A thread that frees what another allocated makes one slot negative;
        # the sum is the heap, and a read racing a thread's exit can dip below 0.
        # A probe without mallinfo2 knows no heap: None, not 0.
        in_use=None if source in BLOCK_SOURCES and flags & NO_HEAP else max(live, 0),
        peak=peak or None,
        allocs=allocs if counted else None,
        frees=frees if counted else None,
        generation=generation,
        inherit=not flags & 1,
        detail=detail,
    )


@dataclass
class _Known:
    starttime: int
    uid: int  # the process's user: with root, the owners a file may have
    inode: tuple[int, int]  # (st_dev, st_ino) of the file validated


def read_copy(fd: int) -> bytes:
    """A copy of a counter file's bytes (pread: never a mapping of it).

    Its owner may truncate the file at any moment: a mapping of its old
    length then kills the reader with SIGBUS (issue 13 item 2), a pread just
    comes back short. The probe block is a seqlock: a copy taken while its
    writer was mid-update (the block's seq changed under the pread) is taken
    again, so the block parsed from the copy is whole.
    """
    data = b""
    for _ in range(4):
        data = pread_copy(fd, FILE_SIZE)
        if len(data) < BLOCK_OFFSET + 16:
            return data
        if pread_copy(fd, 8, BLOCK_OFFSET + 8) == data[BLOCK_OFFSET + 8:BLOCK_OFFSET + 16]:
            return data
    return data


def parse_copy(data: bytes) -> HeapCounters:
    """``parse_heap`` of a copy that must be a whole file: ParseError naming what is short or odd."""
    if len(data) != FILE_SIZE:
        raise ParseError(f"heap counter file: {len(data)} bytes, not {FILE_SIZE} (truncated or not memtop's)")
    counters = parse_heap(data)
    if counters.in_use is not None and counters.in_use > MAX_HEAP:
        raise ParseError(f"heap counter file: a heap of {counters.in_use} bytes, more than an address space holds")
    return counters


class HeapFiles:
    """The valid counter files of a directory.

    Each read opens the file by collectors/safe_open.py (no link followed,
    no FIFO waited on: a regular file of the process's user or root that
    nobody else may write), copies it by pread (``read_copy``) and closes
    it: no descriptor is kept, or a user with a thousand processes, each
    with a file, would use up memtop's descriptors. ``refused`` says, by
    pid, why a file was not used at the last read.
    """

    def __init__(self, directory: Path | None = None, proc: Path = Path("/proc"), prefix: str = PREFIX) -> None:
        self.directory = directory if directory is not None else default_directory()
        self.prefix = prefix
        self.proc = proc
        #: Whether stale files may be removed: the pids in their names are this /proc's.
        self.sweeps = in_initial_pid_namespace(proc)
        self._open: dict[int, _Known] = {}
        #: Why a pid's file gave no heap figure at the last read ("no heap figure (why)").
        self.refused: dict[int, str] = {}

    def close(self) -> None:
        self._open.clear()

    def read(self, processes: Callable[[], Mapping[int, tuple[int, int | None]]]) -> dict[int, HeapCounters]:
        """Counters by pid, for files whose process is in ``processes()`` (pid -> starttime, uid).

        ``processes`` is called only when there are files (usually there are none).

        A file whose pid is not there is left alone unless the pid is gone
        from /proc (then it is stale and removed): a partial read (--pid)
        does not know the other processes.
        """
        try:
            listed = os.listdir(self.directory)
        except OSError:
            listed = []
        names = [n for n in listed if n.startswith(self.prefix)]
        for name in listed:
            if name.startswith("." + self.prefix):
                self._sweep_temporary(name)
        out: dict[int, HeapCounters] = {}
        seen: set[int] = set()
        self.refused = {}
        known_processes = processes() if names else {}
        for name in names:
            digits = name[len(self.prefix):]
            if not digits.isdigit():
                continue
            pid = int(digits)
            seen.add(pid)
            known = known_processes.get(pid)
            if known is None:
                if not (self.proc / digits).exists():
                    self._remove(name, pid)
                continue
            counters = self._counters(pid, name, known)
            if counters is not None:
                out[pid] = counters
        for pid in [p for p in self._open if p not in seen]:
            self._drop(pid)
        return out

    def sample(self, pid: int) -> HeapCounters | None:
        """The counters of a file already validated by ``read`` (the 10 Hz path); None when the
        name now holds another file (the library renames a new one over it at start and after
        exec: ``read`` validates that one)."""
        entry = self._open.get(pid)
        if entry is None:
            return None
        counters = self._parse(pid, entry)
        return counters if counters is not None and counters.starttime == entry.starttime else None

    def _parse(self, pid: int, entry: _Known, name: str | None = None) -> HeapCounters | None:
        """The file's counters; a file replaced, refused, that no longer parses or names another pid is dropped."""
        name = name or f"{self.prefix}{pid}"
        try:
            fd, info = open_regular(self.directory / name, owners={entry.uid, 0}, forbid=OTHERS_WRITE)
        except OSError as exc:
            self.refused[pid] = str(exc)
            self._drop(pid)
            return None
        try:
            if (info.st_dev, info.st_ino) != entry.inode:
                self._drop(pid)
                return None
            counters = parse_copy(read_copy(fd))
        except (ParseError, OSError) as exc:
            self.refused[pid] = str(exc)
            self._drop(pid)
            return None
        finally:
            os.close(fd)
        if counters.pid != pid:
            self.refused[pid] = f"heap counter file: names pid {counters.pid}"
            self._drop(pid)
            return None
        return counters

    def _counters(self, pid: int, name: str, known: tuple[int, int | None]) -> HeapCounters | None:
        starttime, uid = known
        if uid is None:
            self.refused[pid] = "heap counter file: the process's owner is unknown"
            self._drop(pid)
            return None
        entry = self._open.get(pid)
        if entry is not None and (entry.starttime != starttime or entry.uid != uid):
            self._drop(pid)  # the pid was reused: validate the file again
            entry = None
        counters = self._parse(pid, entry, name) if entry is not None else None
        if entry is None or counters is None:  # new, or replaced since (renamed over): the file the name holds now
            entry = self._validated(name, pid, uid)
            counters = self._parse(pid, entry, name) if entry is not None else None
            if entry is None or counters is None:
                return None
        if counters.starttime != starttime:
            self._drop(pid)
            self._remove(name, pid)  # an earlier process's file: stale
            return None
        entry.starttime = starttime
        self.refused.pop(pid, None)  # the old file's refusal, when a new one was renamed over it
        return counters

    def _validated(self, name: str, pid: int, uid: int) -> _Known | None:
        """The file the name holds now, if it may speak for ``pid`` (its inode, to notice a rename over it)."""
        try:
            # Only the process's own user (or root) may speak for it, and nobody else may change it.
            fd, info = open_regular(self.directory / name, owners={uid, 0}, forbid=OTHERS_WRITE)
        except OSError as exc:
            self.refused[pid] = str(exc)
            return None
        os.close(fd)
        entry = _Known(0, uid, (info.st_dev, info.st_ino))
        self._open[pid] = entry
        return entry

    def _sweep_temporary(self, name: str) -> None:
        """A half-written ``.memtop-heap.<pid>.XXXXXX`` of a process killed before its rename."""
        digits = name[len(self.prefix) + 1:].partition(".")[0]
        if self.sweeps and digits.isdigit() and not (self.proc / digits).exists():
            try:
                os.unlink(self.directory / name)
            except OSError:
                pass

    def _drop(self, pid: int) -> None:
        self._open.pop(pid, None)

    def _remove(self, name: str, pid: int) -> None:
        self._drop(pid)
        if not self.sweeps:
            return  # the pid may be another namespace's live process: left alone
        try:
            os.unlink(self.directory / name)
        except OSError:
            pass  # another user's stale file: not ours to remove


def in_initial_pid_namespace(proc: Path) -> bool:
    """Whether ``proc`` is the initial pid namespace's /proc, seen from there (the host's).

    ``proc/self/ns/pid`` names the namespace of the reader; its inode is
    PROC_PID_INIT_INO only in the initial one. A captured tree has no such
    link: False, nothing is removed on its account.
    """
    try:
        return os.stat(proc / "self" / "ns" / "pid").st_ino == PROC_PID_INIT_INO
    except OSError:
        return False
