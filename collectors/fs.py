"""Small, fast file reads for /proc and /sys.

procfs files are generated on read, so they are read with plain os.read into
bytes (no buffered text layer: at thousands of processes its cost shows).
"""

from __future__ import annotations

import os
from pathlib import Path

_CHUNK = 1 << 16


def read_at(dir_fd: int | None, name: str) -> bytes:
    """Read a whole file, relative to an open directory if one is given (raises OSError)."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        # seq_file-backed /proc files return a page or a record per read(),
        # not the whole file, so a short read is not EOF: read until b"".
        chunks: list[bytes] = []
        while True:
            data = os.read(fd, _CHUNK)
            if not data:
                return b"".join(chunks) if len(chunks) != 1 else chunks[0]
            chunks.append(data)
    finally:
        os.close(fd)


def read_record(dir_fd: int | None, name: str) -> bytes:
    """Read a /proc file that the kernel generates whole on the first read().

    stat, status, smaps_rollup, cgroup, oom_score (single_open seq files,
    fs/seq_file.c) and oom_score_adj (simple_read_from_buffer) hand the whole
    text to a read() that asks for more than its size, so a short first read
    is the end and the read that would return b"" is saved: one syscall of
    four per file, thousands per pass. Longer texts are read to the end.
    """
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        data = os.read(fd, _CHUNK)
        if len(data) < _CHUNK:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, _CHUNK)
            chunks.append(data)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_file(path: Path) -> bytes:
    """Read a whole file (raises OSError)."""
    return read_at(None, str(path))


def read_optional(path: Path) -> str | None:
    """Read a file as text, or None if it is missing or unreadable.

    For host-wide files (meminfo, PSI, THP) where absence means "this kernel
    does not have the feature", not an error.
    """
    try:
        return read_file(path).decode("utf-8", "backslashreplace")
    except OSError:
        return None


def decode(raw: bytes) -> str:
    """Bytes from the kernel as valid UTF-8 text (undecodable bytes escaped)."""
    return raw.decode("utf-8", "backslashreplace")
