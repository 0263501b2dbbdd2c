"""Small, fast file reads for /proc and /sys.

procfs files are generated on read, so they are read with plain os.read into
bytes (no buffered text layer: at thousands of processes its cost shows).

Every read goes through safe_open.py (issue 13): under ``--root`` any file
may be a FIFO, a link or /dev/zero, so no open blocks or follows a link at
its last component, only a regular file is read, and a read stops at a cap.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from stat import S_ISREG

from .safe_open import DEFAULT_LIMIT, FLAGS, UnsafeFile, kind, read_capped


def _open_unfollowed(dir_fd: int | None, name: str) -> int:
    """``name`` opened with safe_open's flags: never blocking, never through a link at its last component."""
    try:
        return os.open(name, FLAGS, dir_fd=dir_fd)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnsafeFile(name, "a symbolic link (links are not followed here)") from None
        raise


def _open(dir_fd: int | None, name: str, limit: int) -> int:
    """``name`` opened by safe_open's rules, inlined: thousands of files per pass go through here."""
    fd = _open_unfollowed(dir_fd, name)
    info = os.fstat(fd)
    if not S_ISREG(info.st_mode):
        os.close(fd)
        raise UnsafeFile(name, f"{kind(info.st_mode)}, not a regular file")
    if info.st_size > limit:  # procfs says 0 and sysfs 4096: for them the read's count is the cap
        os.close(fd)
        raise UnsafeFile(name, f"{info.st_size} bytes, larger than {limit} (not read)")
    return fd


def read_at(dir_fd: int | None, name: str, limit: int = DEFAULT_LIMIT) -> bytes:
    """Read a whole file, relative to an open directory if one is given (raises OSError;
    UnsafeFile, an OSError, for a file that is not regular or is larger than ``limit``)."""
    # seq_file-backed /proc files return a page or a record per read(),
    # not the whole file, so a short read is not EOF: read until b"".
    fd = _open(dir_fd, name, limit)
    try:
        return read_capped(fd, limit, name)
    finally:
        os.close(fd)


def read_record(dir_fd: int | None, name: str, limit: int = DEFAULT_LIMIT) -> bytes:
    """Read a /proc file that the kernel generates whole on the first read().

    stat, status, smaps_rollup, cgroup, oom_score (single_open seq files,
    fs/seq_file.c) and oom_score_adj (simple_read_from_buffer) hand the whole
    text to a read() that asks for more than its size, so a short first read
    is the end and the read that would return b"" is saved: one syscall of
    four per file, thousands per pass. Longer texts are read to the end.
    """
    fd = _open(dir_fd, name, limit)
    try:
        return read_capped(fd, limit, name, whole_first_read=True)
    finally:
        os.close(fd)


def read_kernel_record(dir_fd: int, name: str, limit: int = DEFAULT_LIMIT) -> bytes:
    """``read_record`` of a file below a directory ``safe_open.only_root_fills`` accepted (procfs).

    Nobody but the kernel makes the files there, so the fstat that tells a
    FIFO or a device from a regular file is left out: one syscall of four per
    file, 14,000 a pass at 2,000 processes (issue 17, goal 5). The open's
    flags (no link followed, never blocking) and the read's cap still hold.
    """
    fd = _open_unfollowed(dir_fd, name)
    try:
        return read_capped(fd, limit, name, whole_first_read=True)
    finally:
        os.close(fd)


def read_file(path: Path, limit: int = DEFAULT_LIMIT) -> bytes:
    """Read a whole file (raises OSError)."""
    return read_at(None, str(path), limit)


def read_optional(path: Path) -> str | None:
    """Read a file as text, or None if it is missing, unreadable or refused.

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
