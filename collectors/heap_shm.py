"""Heap counters published by the preloaded library (heapcount.c) in shared-memory files.

One file per instrumented process, ``$MEMTOP_HEAP_DIR/memtop-heap.<pid>``
(default /dev/shm), laid out as a 64-byte header and 255 slots of 64 bytes
(heapcount.c has the layout and why). Anyone can write a file with any pid
in its name, so a file counts only when its header names that pid, the
process exists with the same start time, and the file belongs to the
process's user (or root); files of dead processes, or of an earlier process
with the same pid, are removed. Mapped once, a file is read in well under a
microsecond (feasibility.md §A1: 0.43 µs), cheap enough for 10 Hz.

``memtop.probe`` (source 2) writes the same format from inside a Python
program, and memtop's gdb attach (source 3) leaves its one-off sample in a
``memtop-gdb.<pid>`` file; both carry the probe block of heap_block.py.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ParseError
from .heap_block import read_block
from .models import HeapCounters

MAGIC = b"MEMTHEAP"
VERSION = 1
PREFIX = "memtop-heap."
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


def default_directory() -> Path:
    """Where the library writes: $MEMTOP_HEAP_DIR, else /dev/shm (both sides read the same variable)."""
    return Path(os.environ.get("MEMTOP_HEAP_DIR") or "/dev/shm")


def parse_heap(data: bytes | mmap.mmap) -> HeapCounters:
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
class _Open:
    starttime: int
    view: mmap.mmap
    inode: tuple[int, int]  # (st_dev, st_ino) of the file mapped


class HeapFiles:
    """The valid counter files of a directory, kept mapped between reads."""

    def __init__(self, directory: Path | None = None, proc: Path = Path("/proc"), prefix: str = PREFIX) -> None:
        self.directory = directory if directory is not None else default_directory()
        self.prefix = prefix
        self.proc = proc
        self._open: dict[int, _Open] = {}

    def close(self) -> None:
        for entry in self._open.values():
            entry.view.close()
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

    def _replaced(self, pid: int, entry: _Open) -> bool:
        """Whether the name now points at another file.

        The library never truncates a file someone may have mapped (a reader
        would die of SIGBUS): it writes a new one and renames it over the
        name (at start, and after exec). A mapping then shows the old file.
        """
        try:
            info = os.stat(self.directory / f"{self.prefix}{pid}")
        except OSError:
            return True
        return (info.st_dev, info.st_ino) != entry.inode

    def sample(self, pid: int) -> HeapCounters | None:
        """The counters of a file already validated by ``read`` (the 10 Hz path)."""
        entry = self._open.get(pid)
        if entry is None or self._replaced(pid, entry):
            return None
        counters = self._parse(pid, entry)
        return counters if counters is not None and counters.starttime == entry.starttime else None

    def _parse(self, pid: int, entry: _Open) -> HeapCounters | None:
        """The mapped file's counters; a file that no longer parses, or names another pid, is dropped."""
        try:
            counters = parse_heap(entry.view)
        except (ParseError, ValueError):  # ValueError: the mapping was closed meanwhile
            self._drop(pid)
            return None
        if counters.pid != pid:
            self._drop(pid)
            return None
        return counters

    def _counters(self, pid: int, name: str, known: tuple[int, int | None]) -> HeapCounters | None:
        starttime, uid = known
        entry = self._open.get(pid)
        if entry is not None and (entry.starttime != starttime or self._replaced(pid, entry)):
            self._drop(pid)  # the pid was reused, or the file was replaced: map the new one
            entry = None
        if entry is None:
            entry = self._map(name, pid, uid)
            if entry is None:
                return None
        counters = self._parse(pid, entry)
        if counters is None:
            return None
        if counters.starttime != starttime:
            self._drop(pid)
            self._remove(name, pid)  # an earlier process's file: stale
            return None
        entry.starttime = starttime
        return counters

    def _map(self, name: str, pid: int, uid: int | None) -> _Open | None:
        try:
            fd = os.open(self.directory / name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            # Only the process's own user (or root) may speak for it.
            if uid is None or info.st_uid not in (uid, 0) or info.st_size < HEADER_SIZE:
                return None
            view = mmap.mmap(fd, min(info.st_size, FILE_SIZE), mmap.MAP_SHARED, mmap.PROT_READ)
        except (OSError, ValueError):
            return None
        finally:
            os.close(fd)
        try:
            header_starttime = parse_heap(view).starttime
        except ParseError:
            view.close()
            return None
        entry = _Open(header_starttime, view, (info.st_dev, info.st_ino))
        self._open[pid] = entry
        return entry

    def _sweep_temporary(self, name: str) -> None:
        """A half-written ``.memtop-heap.<pid>.XXXXXX`` of a process killed before its rename."""
        digits = name[len(self.prefix) + 1:].partition(".")[0]
        if digits.isdigit() and not (self.proc / digits).exists():
            try:
                os.unlink(self.directory / name)
            except OSError:
                pass

    def _drop(self, pid: int) -> None:
        entry = self._open.pop(pid, None)
        if entry is not None:
            entry.view.close()

    def _remove(self, name: str, pid: int) -> None:
        self._drop(pid)
        try:
            os.unlink(self.directory / name)
        except OSError:
            pass  # another user's stale file: not ours to remove
