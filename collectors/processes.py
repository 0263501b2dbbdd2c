"""Per-process memory from /proc/PID/{stat,status,smaps_rollup,cmdline,oom_*,cgroup}.

How /proc fails, measured on this project's kernel (feasibility.md §E):
- a pid listed then reaped: ENOENT on open; a file opened then reaped: ESRCH;
- a zombie: stat/status readable, smaps_rollup ESRCH, smaps reads empty or,
  if it exits mid-read, *silently truncated*: re-check after a long read;
- a kernel thread: smaps_rollup ESRCH too, so kernel threads are recognised
  by PF_KTHREAD in stat (or ``Kthread: 1``), never by the error;
- another user's process without root: EACCES on smaps_rollup and smaps, while
  stat, status, cmdline and oom_score stay readable.

A pass has two phases: every file of every process is read first, then all
are parsed (``process_build``). Interleaving them ran each parser cache-cold
after a kernel read and doubled its cost (bench/collect.py measured it).
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from .errors import ParseError
from .fs import read_at, read_kernel_record, read_record
from .models import ProcessMemory
from .paths import HostPaths
from .process_build import DENIED, KTHREAD, ROOT_REFUSED, ZOMBIE, CgroupCache, build_process
from .procfs import Stat, parse_stat
from .raw_process import RawProcess
from .safe_open import SMAPS_LIMIT, only_root_fills

__all__ = [
    "DENIED", "KTHREAD", "NOT_READ", "RACED", "ROOT_REFUSED", "ZOMBIE",
    "MemoryPolicy", "ProcessReader", "RawProcess", "read_processes", "refused",
]

NOT_READ = "not read this pass"  # a live policy skipped it; the app keeps older values
RACED = "exited while its smaps was read; figures discarded"

_GONE = (FileNotFoundError, ProcessLookupError)


def refused(exc: OSError, name: str, live: bool) -> str:
    """Why the kernel refused a process's smaps file: "needs root" only when memtop is not root.

    Root is refused too where the kernel's ptrace access check says no (a
    process that is not dumpable, in another user namespace, or memtop
    without CAP_SYS_PTRACE in a container): then say what the kernel said,
    not "needs root" to root (issue 13, item 10).
    """
    if live and os.geteuid() == 0:
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        return f"{name} {ROOT_REFUSED}: {exc.strerror or exc} ({code}), the kernel's ptrace access check"
    return DENIED


class MemoryPolicy(Protocol):
    """Decides, per process and pass, what a live view reads.

    smaps_rollup makes the kernel walk every page table of the process: ~200 µs
    for a small process, ~50 ms for a 2 GiB one (perf-baseline.md); even the
    small files cost a third of a core at 2,000 processes a second. A policy
    keeps the last record of processes whose stat shows no change, and reads
    smaps_rollup for some of the others, keeping older values for the rest.
    """

    def skip(self, pid: int) -> ProcessMemory | int | None:
        """Not read at all this pass: the last record (or, for a hidden kernel thread, its thread count)."""
        ...

    def kernel_thread(self, pid: int, threads: int) -> None:
        """``pid`` is a kernel thread that is not shown (its stat was read to learn it)."""
        ...

    def reuse_raw(self, pid: int, raw_stat: bytes) -> ProcessMemory | None:
        """The last record of a process whose stat is byte for byte the last one: not even parsed."""
        ...

    def reuse(self, pid: int, stat: Stat) -> ProcessMemory | None:
        """The last record of a process whose stat says nothing moved: kept as is, no file read."""
        ...

    def want(self, pid: int, stat: Stat) -> bool:
        """Read this process's smaps_rollup now?"""
        ...

    def record(self, pid: int, stat: Stat, seconds: float) -> None:
        """A rollup was read, at this cost."""
        ...


class ProcessReader:
    """Reads processes of one host; one instance per snapshot or per live session."""

    def __init__(
        self,
        paths: HostPaths,
        users: Callable[[int], str | None],
        kernel_threads: bool = False,
        denied: frozenset[str] = frozenset(),
        policy: MemoryPolicy | None = None,
        now: float | None = None,
    ) -> None:
        self.paths = paths
        self.users = users
        self.kernel_threads = kernel_threads
        self.denied = denied
        self.policy = policy
        self.now = now
        self._cgroups = CgroupCache()
        self._fd = os.open(paths.proc, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        # The live /proc (a mount root only root could fill): its files are the kernel's, and
        # are read without the fstat that refuses a planted FIFO or device in a --root tree.
        kernel = paths.live and only_root_fills(os.fstat(self._fd))
        self._read = read_kernel_record if kernel else read_record

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ProcessReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pids(self) -> list[int]:
        """Process ids /proc lists (thread ids are not listed, only reachable)."""
        names = [name for name in os.listdir(self._fd) if name.isdigit() and name.isascii()]
        if not self.paths.live:  # a captured tree: a pid that is a link out of it is not the capture's (issue 13)
            names = [name for name in names if not os.path.islink(os.path.join(self.paths.proc, name))]
        return sorted(int(name) for name in names)

    def _gone(self, pid: int, starttime: int) -> bool:
        """True when the pid no longer names the process we started reading."""
        try:
            now = parse_stat(read_at(self._fd, f"{pid}/stat"))
        except (OSError, ParseError):
            return True
        return now.starttime != starttime

    def _exited(self, pid: int, starttime: int) -> bool:
        """Gone, reused, or now a zombie: a long read of its files may be truncated."""
        try:
            now = parse_stat(read_at(self._fd, f"{pid}/stat"))
        except (OSError, ParseError):
            return True
        return now.starttime != starttime or now.state in "ZX"

    def read(self, pid: int) -> tuple[ProcessMemory | None, int]:
        """One process, and its thread count (for counting hidden tasks).

        Returns (None, 0) when the pid vanished before or while it was read.
        """
        raw, threads = self.read_raw(pid)
        if raw is None or isinstance(raw, ProcessMemory):  # gone, or kept whole by a live policy
            return raw, threads
        return self.build(raw), threads

    def build(self, raw: RawProcess) -> ProcessMemory | None:
        proc = build_process(raw, self.users, self._cgroups, self.now)
        if proc.kernel_thread and not self.kernel_threads:
            return None  # said by status (Kthread: 1) though not by stat
        return proc

    def read_raw(self, pid: int) -> tuple[RawProcess | ProcessMemory | None, int]:
        """The bytes of one process's files (phase one); (None, threads) when skipped or gone.

        A live policy may hand back the last record of a process whose stat
        shows no change: then only stat was read.
        """
        policy = self.policy
        if policy is not None:
            skipped = policy.skip(pid)
            if isinstance(skipped, int):
                return None, skipped
            if skipped is not None:
                return skipped, skipped.threads
        try:
            raw_stat = self._read(self._fd, f"{pid}/stat")
            if policy is not None:
                kept = policy.reuse_raw(pid, raw_stat)
                if kept is not None:
                    return kept, kept.threads
            stat = parse_stat(raw_stat)
        except (OSError, ParseError):
            return None, 0
        if stat.kernel_thread and not self.kernel_threads:
            if policy is not None:
                policy.kernel_thread(pid, stat.threads)
            return None, stat.threads
        if policy is not None:
            kept = policy.reuse(pid, stat)
            if kept is not None:
                return kept, stat.threads
        try:
            status_why: list[str] = []
            status = self._optional(pid, "status", status_why)
            cmdline = self._optional(pid, "cmdline")
            oom_score = self._optional(pid, "oom_score")
            oom_adj = self._optional(pid, "oom_score_adj")
            cgroup = self._optional(pid, "cgroup")
            memory, why = None, None
            if not stat.kernel_thread and stat.state not in "ZX":
                if policy is None:
                    memory, why = self._rollup(pid, stat.starttime)
                elif policy.want(pid, stat):
                    started = time.perf_counter()
                    memory, why = self._rollup(pid, stat.starttime)
                    policy.record(pid, stat, time.perf_counter() - started)
                else:
                    why = NOT_READ
        except _GONE:
            return None, 0
        return (RawProcess(pid, stat, status, cmdline, oom_score, oom_adj, cgroup, memory, why,
                           status_why[0] if status_why else None), stat.threads)

    def _optional(self, pid: int, name: str, why: list[str] | None = None) -> bytes | None:
        """A small file that may be missing (old kernels, captures) or refused; the reason into ``why``."""
        try:
            return self._read(self._fd, f"{pid}/{name}")
        except ProcessLookupError:
            raise
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            if why is not None:
                why.append(f"{name}: missing")
            return None
        except OSError as exc:
            if why is not None:
                why.append(f"{name}: {getattr(exc, 'reason', None) or exc.strerror or exc}")
            return None

    def _gone_dir(self, pid: int) -> bool:
        try:
            os.stat(str(pid), dir_fd=self._fd)
        except OSError:
            return True
        return False

    def _rollup(self, pid: int, starttime: int) -> tuple[bytes | None, str | None]:
        """smaps_rollup (4.14+), else smaps (summed when parsed); (bytes, reason when missing)."""
        try:
            return self._read(self._fd, f"{pid}/smaps_rollup"), None
        except PermissionError as exc:
            return None, refused(exc, "smaps_rollup", self.paths.live)
        except ProcessLookupError:
            if self._gone(pid, starttime):
                raise
            return None, ZOMBIE  # became a zombie between stat and now
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            if f"{pid}/smaps_rollup" in self.denied:
                return None, DENIED  # a capture taken without root
        except OSError as exc:
            return None, f"smaps_rollup: {exc.strerror}"
        # No smaps_rollup: kernels before 4.14, or a capture without it.
        try:
            raw = read_at(self._fd, f"{pid}/smaps", SMAPS_LIMIT)
        except PermissionError as exc:
            return None, refused(exc, "smaps", self.paths.live)
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            return None, "no smaps_rollup or smaps"
        except OSError as exc:
            return None, f"smaps: {exc.strerror}"
        if self.paths.live and self._exited(pid, starttime):
            # A zombie's smaps ends early without an error: never trust it.
            return None, RACED
        return raw, None


def read_processes(
    reader: ProcessReader, pids: Iterable[int] | None = None
) -> tuple[tuple[ProcessMemory, ...], int]:
    """Every readable process (or just ``pids``) and the number of tasks seen."""
    raws: list[RawProcess | ProcessMemory] = []
    tasks = 0
    for pid in reader.pids() if pids is None else pids:
        raw, threads = reader.read_raw(pid)
        tasks += threads
        if raw is not None:
            raws.append(raw)
    built = (raw if isinstance(raw, ProcessMemory) else reader.build(raw) for raw in raws)
    return tuple(p for p in built if p is not None), tasks
