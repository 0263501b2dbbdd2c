"""A process's open files (htop's ``l``): /proc/PID/fd read as links, never opened.

Each descriptor is a symlink the kernel makes (Documentation/filesystems/proc.rst,
"3.1 /proc/<pid>/fd"); memtop reads where it points with readlink and never
follows it: a descriptor may name a FIFO or a device another user planted, and
opening it could block memtop or have effects. Mode and offset come from
/proc/PID/fdinfo/N, a procfs file of the kernel's. The pid's directory is
opened once (O_DIRECTORY | O_NOFOLLOW) and its start time checked, so a pid
reused by another process while memtop reads is noticed, not shown as the old one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from memtop.collectors.fs import decode, read_record
from memtop.collectors.paths import HostPaths
from memtop.collectors.procfs import parse_stat

#: At most this many descriptors are listed (a server may hold a million).
MAX_FDS = 10_000

#: O_ACCMODE of fdinfo's octal "flags".
_MODES = {0: "r", 1: "w", 2: "rw"}


@dataclass(frozen=True, slots=True)
class OpenFile:
    fd: int
    #: Where the link points: a path (maybe " (deleted)"), socket:[inode], pipe:[inode], anon_inode:...
    target: str
    kind: str  # file, deleted, socket, pipe, anon, device, other
    mode: str | None  # r, w, rw (fdinfo flags); None when unreadable
    pos: int | None


@dataclass(frozen=True, slots=True)
class OpenFiles:
    pid: int
    files: tuple[OpenFile, ...]
    #: How many descriptors the process has (more than ``files`` when cut at MAX_FDS).
    total: int
    error: str | None = None


def kind_of(target: str) -> str:
    """What a descriptor's link says it is (fs/proc/fd.c prints these forms)."""
    if target.startswith("socket:["):
        return "socket"
    if target.startswith("pipe:["):
        return "pipe"
    if target.startswith("anon_inode:"):
        return "anon"
    if target.endswith(" (deleted)"):
        return "deleted"
    if target.startswith("/dev/"):
        return "device"
    if target.startswith("/"):
        return "file"
    return "other"


def parse_fdinfo(text: str) -> tuple[str | None, int | None]:
    """(mode, position) from an fdinfo file's ``pos:`` and octal ``flags:`` lines."""
    mode: str | None = None
    pos: int | None = None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        value = value.strip()
        try:
            if name == "pos":
                pos = int(value)
            elif name == "flags":
                mode = _MODES.get(int(value, 8) & 0o3)
        except ValueError:
            continue
    return mode, pos


def open_pid_dir(paths: HostPaths, pid: int, starttime: int | None) -> int:
    """/proc/PID opened as a directory (never through a link), checked to be the same process.

    Raises ProcessLookupError when it is gone or the pid now names another process.
    """
    try:
        fd = os.open(paths.pid_dir(pid), os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None
    if starttime is not None:
        try:
            same = parse_stat(read_record(fd, "stat")).starttime == starttime
        except (OSError, ValueError, IndexError):
            same = False
        if not same:
            os.close(fd)
            raise ProcessLookupError(pid)
    return fd


def denied() -> str:
    """Why the kernel refused (ptrace read access, Documentation/filesystems/proc.rst)."""
    if os.geteuid() == 0:
        return "permission denied even to root: ptrace is restricted here (Yama, a user namespace, a LSM)"
    return "permission denied: another user's process needs root"


def _why(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return denied()
    return exc.strerror or str(exc)


def read_open_files(paths: HostPaths, pid: int, starttime: int | None = None) -> OpenFiles:
    """The descriptors of one process, by number; an error instead when they cannot be read."""
    try:
        base = open_pid_dir(paths, pid, starttime)
    except ProcessLookupError:
        return OpenFiles(pid, (), 0, "the process has exited")
    except OSError as exc:
        return OpenFiles(pid, (), 0, _why(exc))
    try:
        try:
            fd_dir = os.open("fd", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=base)
        except OSError as exc:
            return OpenFiles(pid, (), 0, _why(exc))
        try:
            names = sorted((int(n) for n in os.listdir(fd_dir) if n.isdecimal()))
            files = []
            for number in names[:MAX_FDS]:
                try:
                    target = decode(os.fsencode(os.readlink(str(number), dir_fd=fd_dir)))
                except OSError:
                    continue  # closed meanwhile
                try:
                    mode, pos = parse_fdinfo(decode(read_record(base, f"fdinfo/{number}")))
                except OSError:
                    mode, pos = None, None
                files.append(OpenFile(number, target, kind_of(target), mode, pos))
        except OSError as exc:
            return OpenFiles(pid, (), 0, _why(exc))
        finally:
            os.close(fd_dir)
        return OpenFiles(pid, tuple(files), len(names))
    finally:
        os.close(base)
