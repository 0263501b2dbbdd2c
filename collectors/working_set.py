"""A process's working set: what it touched over a window (the wss.pl method).

Writing ``1`` to /proc/PID/clear_refs clears the accessed bit of every page
table entry of the process and PG_referenced of its pages
(Documentation/admin-guide/mm/soft-dirty.rst and proc.rst, "clear_refs");
the MMU sets the bit again on the next access. After the window, the
``Referenced`` total of /proc/PID/smaps_rollup counts the pages touched since
(feasibility.md §B1: within 0.3 MiB of a known 200 MiB here, with 1 s and 5 s
windows; ~12 ms per GiB of RSS for each of the write and the read).

Side effects, said before measuring: reclaim (mm/rmap.c folio_referenced)
uses exactly these bits, so right after a measurement the process's hot
pages look cold to the kernel; two tools clearing the same process spoil each
other's windows. A transparent huge page counts as referenced whole: that
part is measured at 2 MiB granularity (AnonHugePages says how much).

clear_refs is writable by the process's owner only (mode 0200; root may
write any): another user's process without root is refused with a reason.
The measurement is in two steps, ``clear`` and ``read_end``, so that the app
waits the window without blocking anything; ``measure`` does both for the
command line.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace

from .cgroup_tree import CgroupReader
from .errors import ParseError
from .fs import read_file, read_optional
from .meminfo import parse_meminfo
from .models import WorkingSet
from .paths import HostPaths
from .procfs import parse_kb_fields, parse_stat
from .safe_open import SMAPS_LIMIT

NOT_PERMITTED = ("not permitted: measuring writes clear_refs and reads smaps_rollup, which another user's "
                 "process allows to root only (and some processes, e.g. in another namespace, refuse even root)")
KERNEL_THREAD = "a kernel thread has no user address space to measure"
ZOMBIE = "a zombie has released its memory: nothing to measure"
EXITED = "the process exited"
NO_CLEAR_REFS = "this kernel has no /proc/PID/clear_refs (CONFIG_PROC_PAGE_MONITOR off) or this is a captured tree"


class Refused(Exception):
    """The measurement cannot be made; the message says why, in words."""


def parse_referenced(raw: bytes) -> tuple[int, int | None, int | None]:
    """(Referenced, Rss, AnonHugePages) in bytes from smaps_rollup (or smaps: summed).

    Raises:
        ParseError: on a malformed kB line or when there is no Referenced line.
    """
    fields = parse_kb_fields(raw)
    if "Referenced" not in fields:
        raise ParseError("smaps_rollup: no Referenced line")
    return fields["Referenced"], fields.get("Rss"), fields.get("AnonHugePages")


def _identity(paths: HostPaths, pid: int, starttime: int) -> str:
    """The process's name, when ``pid`` still names the process that started at ``starttime``."""
    try:
        stat = parse_stat(read_file(paths.pid_dir(pid) / "stat"))
    except (FileNotFoundError, ProcessLookupError):
        raise Refused(EXITED) from None
    except OSError as exc:
        raise Refused(f"stat: {exc.strerror}") from None
    except ParseError as exc:
        raise Refused(str(exc)) from None
    if stat.starttime != starttime:
        raise Refused(EXITED)  # the pid now names another process
    if stat.kernel_thread:
        raise Refused(KERNEL_THREAD)
    if stat.state in "ZX":
        raise Refused(ZOMBIE)
    return stat.name


def _check_readable(paths: HostPaths, pid: int) -> None:
    """smaps_rollup must open before any bit is cleared: a window whose end cannot be read only did harm.

    Opening it is where the kernel checks ptrace read access (proc_mem_open).
    """
    directory = paths.pid_dir(pid)
    try:
        try:
            fd = os.open(directory / "smaps_rollup", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = os.open(directory / "smaps", os.O_RDONLY | os.O_CLOEXEC)  # before Linux 4.14
        os.close(fd)
    except PermissionError:
        raise Refused(NOT_PERMITTED) from None
    except (FileNotFoundError, ProcessLookupError):
        raise Refused(EXITED if not directory.is_dir() else NO_CLEAR_REFS) from None
    except OSError as exc:
        raise Refused(f"smaps_rollup: {exc.strerror}") from None


def why_not(paths: HostPaths, pid: int, starttime: int) -> str | None:
    """Why measuring this process would be refused, asked before the window (None: it may work)."""
    try:
        _identity(paths, pid, starttime)
    except Refused as exc:
        return str(exc)
    target = paths.pid_dir(pid) / "clear_refs"
    if not paths.live or not target.exists():
        return NO_CLEAR_REFS
    if not os.access(target, os.W_OK):
        return NOT_PERMITTED
    try:
        _check_readable(paths, pid)
    except Refused as exc:
        return str(exc)
    return None


def clear(paths: HostPaths, pid: int, starttime: int) -> str:
    """Start the window: clear the process's reference bits. Returns its name.

    Raises:
        Refused: not permitted, exited, a kernel thread or zombie, no clear_refs.
    """
    name = _identity(paths, pid, starttime)
    if not paths.live:
        raise Refused(NO_CLEAR_REFS)
    _check_readable(paths, pid)
    try:
        fd = os.open(paths.pid_dir(pid) / "clear_refs", os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b"1")
        finally:
            os.close(fd)
    except PermissionError:
        raise Refused(NOT_PERMITTED) from None
    except (FileNotFoundError, ProcessLookupError):
        if not paths.pid_dir(pid).is_dir():
            raise Refused(EXITED) from None
        raise Refused(NO_CLEAR_REFS) from None
    except OSError as exc:
        raise Refused(f"clear_refs: {exc.strerror}") from None
    return name


def read_end(
    paths: HostPaths, pid: int, starttime: int, name: str, window: float, now: float,
    cgroups: CgroupReader | None = None, cgroup: str | None = None,
) -> WorkingSet:
    """End the window: what the process referenced since ``clear``, and what it could have."""
    available = None
    text = read_optional(paths.proc / "meminfo")
    if text is not None:
        try:
            available = parse_meminfo(text).get("MemAvailable")
        except ParseError:
            available = None
    result = WorkingSet(pid, starttime, name, window, now, None, None, None, available)
    try:
        _identity(paths, pid, starttime)
        try:
            raw = read_file(paths.pid_dir(pid) / "smaps_rollup")
        except FileNotFoundError:
            raw = read_file(paths.pid_dir(pid) / "smaps", SMAPS_LIMIT)  # before Linux 4.14
        referenced, rss, anon_huge = parse_referenced(raw)
        _identity(paths, pid, starttime)  # still the same process after the read
    except Refused as exc:
        return _with(result, error=str(exc))
    except PermissionError:
        return _with(result, error=NOT_PERMITTED)
    except (FileNotFoundError, ProcessLookupError):
        return _with(result, error=EXITED)
    except OSError as exc:
        return _with(result, error=f"smaps_rollup: {exc.strerror}")
    except ParseError as exc:
        return _with(result, error=str(exc))
    limit = cgroups.limit_of(cgroup) if cgroups is not None and cgroup else None
    return _with(
        result, referenced=referenced, rss=rss, anon_huge=anon_huge,
        limit=None if limit is None else limit.limit,
        cgroup=None if limit is None else limit.path,
        cgroup_current=None if limit is None else limit.current,
    )


def _with(ws: WorkingSet, **changes: object) -> WorkingSet:
    return replace(ws, **changes)  # type: ignore[arg-type]


def measure(
    paths: HostPaths, pid: int, starttime: int, window: float,
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
    cgroups: CgroupReader | None = None, cgroup: str | None = None,
) -> WorkingSet:
    """Both steps, sleeping the window in between (the command line; tests).

    Raises:
        Refused: when the window cannot even start.
    """
    name = clear(paths, pid, starttime)
    started = time.monotonic()
    sleep(window)
    # The window is what passed, when that is longer than asked (a loaded machine).
    elapsed = max(window, round(time.monotonic() - started, 1))
    return read_end(paths, pid, starttime, name, elapsed, clock(), cgroups, cgroup)
