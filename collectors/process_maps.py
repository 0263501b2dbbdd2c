"""One process in full, for the drill-down screen and ``memtop --maps``.

Its record (stat, status, smaps_rollup, oom_*, cgroup, as for the process
list), every line of its status (VmPeak, THP_enabled ... that the list does
not keep), and every mapping of its smaps. smaps needs the same access as
ptrace (PTRACE_MODE_READ, Documentation/filesystems/proc.rst): another user's
process without root gives EACCES while status stays readable, so the record
is still returned, with ``error`` saying why the mappings are missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .errors import ParseError
from .fs import read_file
from .models import Mapping, ProcessMaps, ProcessMemory
from .paths import HostPaths
from .process_build import KTHREAD, ZOMBIE
from .processes import DENIED, ProcessReader, refused
from .smaps import SmapsRaced, read_mappings

KIB = 1024
NO_SMAPS = "this capture holds no smaps (take it with `memtop capture --smaps`)"


def parse_status_lines(raw: bytes) -> tuple[tuple[str, str], ...]:
    """Every ``Key:<tab>value`` line of /proc/PID/status in file order, values stripped.

    Lines without a colon (none in a kernel's status) are skipped; the Name
    line keeps the kernel's escapes.
    """
    out: list[tuple[str, str]] = []
    for line in raw.decode("utf-8", "backslashreplace").split("\n"):
        key, sep, value = line.partition(":")
        if sep and key and not key[0].isspace():
            out.append((key, value.strip()))
    return tuple(out)


def status_size(lines: tuple[tuple[str, str], ...], key: str) -> int | None:
    """A ``N kB`` status field in bytes; None when absent or not a size."""
    for name, value in lines:
        if name == key:
            words = value.split()
            if len(words) == 2 and words[1] == "kB" and words[0].isdigit():
                return int(words[0]) * KIB
            return None
    return None


def status_text(lines: tuple[tuple[str, str], ...], key: str) -> str | None:
    for name, value in lines:
        if name == key:
            return value
    return None


def _mappings(
    paths: HostPaths, proc: ProcessMemory, denied: frozenset[str], fields: frozenset[str] | None = None
) -> tuple[tuple[Mapping, ...] | None, str | None, bool]:
    """(mappings, why they are missing, exited)."""
    pid = proc.pid
    if proc.kernel_thread:
        return (), KTHREAD, False
    if proc.state in "ZX":
        return None, ZOMBIE, False
    try:
        return read_mappings(paths.proc, pid, proc.starttime, fields), None, False
    except PermissionError as exc:
        return None, refused(exc, "smaps", paths.live), False
    except SmapsRaced:
        return None, None, True
    except ProcessLookupError:
        return None, None, True
    except FileNotFoundError:
        if not (paths.proc / str(pid)).is_dir():
            return None, None, True
        if f"{pid}/smaps" in denied or f"{pid}/smaps_rollup" in denied:
            return None, DENIED, False  # a capture taken without root
        return None, NO_SMAPS if not paths.live else "this kernel has no smaps (CONFIG_PROC_PAGE_MONITOR off)", False
    except ParseError as exc:
        return None, str(exc), False
    except OSError as exc:
        return None, f"smaps: {exc.strerror}", False


def read_process_maps(
    paths: HostPaths,
    pid: int,
    users: Callable[[int], str | None],
    starttime: int | None = None,
    denied: frozenset[str] = frozenset(),
    now: float | None = None,
    fields: frozenset[str] | None = None,
) -> ProcessMaps:
    """Read one process; ``starttime`` tells a reused pid from the process we followed.

    ``fields``: parse only these smaps fields (a quick first paint, see parse_smaps).
    """
    gone = ProcessMaps(pid, starttime, None, (), None, None, True, 0.0)
    with ProcessReader(paths, users, kernel_threads=True, denied=denied, now=now) as reader:
        proc, _threads = reader.read(pid)
    if proc is None or (starttime is not None and proc.starttime != starttime):
        return gone
    try:
        status = parse_status_lines(read_file(paths.proc / str(pid) / "status"))
    except OSError:
        status = ()
    started = time.perf_counter()
    mappings, error, exited = _mappings(paths, proc, denied, fields)
    seconds = time.perf_counter() - started
    if exited:
        return ProcessMaps(pid, proc.starttime, proc, status, None, None, True, seconds)
    return ProcessMaps(pid, proc.starttime, proc, status, mappings, error, False, seconds)
