"""Per-process memory from /proc/PID/{stat,status,smaps_rollup,cmdline,oom_*,cgroup}.

How /proc fails, measured on this project's kernel (feasibility.md §E):
- a pid listed then reaped: ENOENT on open; a file opened then reaped: ESRCH;
- a zombie: stat/status readable, smaps_rollup ESRCH, smaps reads empty or,
  if it exits mid-read, *silently truncated*: re-check after a long read;
- a kernel thread: smaps_rollup ESRCH too, so kernel threads are recognised
  by PF_KTHREAD in stat (or ``Kthread: 1``), never by the error;
- another user's process without root: EACCES on smaps_rollup and smaps, while
  stat, status, cmdline and oom_score stay readable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import replace

from .errors import ParseError
from .fs import decode, read_at
from .models import ProcessMemory
from .paths import HostPaths
from .procfs import (
    Stat,
    memory_cgroup,
    parse_cgroup,
    parse_cmdline,
    parse_int,
    parse_kb_fields,
    parse_stat,
    parse_status,
)

DENIED = "permission denied: needs root or the same user"
ZOMBIE = "zombie: exited, memory already released"
KTHREAD = "kernel thread: no user address space"
RACED = "exited while its smaps was read; figures discarded"

_GONE = (FileNotFoundError, ProcessLookupError)


class ProcessReader:
    """Reads processes of one host; one instance per snapshot or per live session."""

    def __init__(
        self,
        paths: HostPaths,
        users: Callable[[int], str | None],
        kernel_threads: bool = False,
        denied: frozenset[str] = frozenset(),
    ) -> None:
        self.paths = paths
        self.users = users
        self.kernel_threads = kernel_threads
        self.denied = denied
        self._fd = os.open(paths.proc, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

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
        return sorted(int(name) for name in os.listdir(self._fd) if name.isdigit() and name.isascii())

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
        fd = self._fd
        try:
            stat = parse_stat(read_at(fd, f"{pid}/stat"))
        except _GONE:
            return None, 0
        except (OSError, ParseError):
            return None, 0
        base = self._base(pid, stat)
        if base.kernel_thread and not self.kernel_threads:
            return None, stat.threads
        try:
            result = self._fill(pid, stat, base)
        except _GONE:
            return None, 0
        if result is None:
            return None, 0
        if result.kernel_thread and not self.kernel_threads:
            return None, stat.threads  # said by status (Kthread: 1) though not by stat
        return result, stat.threads

    def _base(self, pid: int, stat: Stat) -> ProcessMemory:
        return ProcessMemory(
            pid=pid, ppid=stat.ppid, starttime=stat.starttime, name=stat.name, cmdline=(),
            uid=None, user=None, state=stat.state, threads=stat.threads,
            kernel_thread=stat.kernel_thread,
        )

    def _optional(self, pid: int, name: str) -> bytes | None:
        """A small file that may be missing (old kernels, captures) or refused."""
        try:
            return read_at(self._fd, f"{pid}/{name}")
        except ProcessLookupError:
            raise
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            return None
        except OSError:
            return None

    def _gone_dir(self, pid: int) -> bool:
        try:
            os.stat(str(pid), dir_fd=self._fd)
        except OSError:
            return True
        return False

    def _fill(self, pid: int, stat: Stat, base: ProcessMemory) -> ProcessMemory | None:
        errors: list[str] = []
        changes: dict[str, object] = {}
        raw_status = self._optional(pid, "status")
        if raw_status is not None:
            try:
                st = parse_status(raw_status)
            except ParseError as exc:
                errors.append(str(exc))
            else:
                changes.update(
                    uid=st.uid, rss=st.rss, vsize=st.vsize, hwm=st.hwm, anon=st.anon, file=st.file,
                    shmem=st.shmem, swap=st.swap, hugetlb=st.hugetlb,
                    kernel_thread=base.kernel_thread or st.kthread,
                    user=None if st.uid is None else self.users(st.uid),
                )
        raw_cmdline = self._optional(pid, "cmdline")
        if raw_cmdline:
            changes["cmdline"] = parse_cmdline(raw_cmdline)
        for name in ("oom_score", "oom_score_adj"):
            raw = self._optional(pid, name)
            if raw is not None:
                try:
                    changes[name] = parse_int(raw)
                except ParseError:
                    pass
        raw_cgroup = self._optional(pid, "cgroup")
        if raw_cgroup is not None:
            try:
                found = memory_cgroup(parse_cgroup(decode(raw_cgroup)))
            except ParseError:
                found = None
            if found is not None:
                changes["cgroup"] = found[1]
        if changes.get("kernel_thread", base.kernel_thread):
            errors.append(KTHREAD)
        elif stat.state in "ZX":
            errors.append(ZOMBIE)
        else:
            rollup, why = self._rollup(pid, stat.starttime)
            if why:
                errors.append(why)
            if rollup is not None:
                changes.update(_rollup_fields(rollup))
                if rollup.get("Swap") is not None:
                    changes["swap"] = rollup["Swap"]
        if errors:
            changes["error"] = "; ".join(errors)
        return replace(base, **changes)  # type: ignore[arg-type]

    def _rollup(self, pid: int, starttime: int) -> tuple[dict[str, int] | None, str | None]:
        """smaps_rollup (4.14+), else smaps summed; (fields, reason when missing)."""
        try:
            return parse_kb_fields(read_at(self._fd, f"{pid}/smaps_rollup")), None
        except PermissionError:
            return None, DENIED
        except ProcessLookupError:
            if self._gone(pid, starttime):
                raise
            return None, ZOMBIE  # became a zombie between stat and now
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            if f"{pid}/smaps_rollup" in self.denied:
                return None, DENIED  # a capture taken without root
        except ParseError as exc:
            return None, f"smaps_rollup: {exc}"
        except OSError as exc:
            return None, f"smaps_rollup: {exc.strerror}"
        # No smaps_rollup: kernels before 4.14, or a capture without it.
        try:
            raw = read_at(self._fd, f"{pid}/smaps")
        except PermissionError:
            return None, DENIED
        except FileNotFoundError:
            if self._gone_dir(pid):
                raise
            return None, "no smaps_rollup or smaps"
        except OSError as exc:
            return None, f"smaps: {exc.strerror}"
        if self.paths.live and self._exited(pid, starttime):
            # A zombie's smaps ends early without an error: never trust it.
            return None, RACED
        try:
            return parse_kb_fields(raw), None
        except ParseError as exc:
            return None, str(exc)


def _rollup_fields(f: dict[str, int]) -> dict[str, int | None]:
    """Map rollup keys to ProcessMemory fields (missing keys on older kernels stay None)."""
    private = [f[k] for k in ("Private_Clean", "Private_Dirty") if k in f]
    hugetlb = [f[k] for k in ("Shared_Hugetlb", "Private_Hugetlb") if k in f]
    return {
        "pss": f.get("Pss"),
        "uss": sum(private) if private else None,
        "swap_pss": f.get("SwapPss"),
        "pss_anon": f.get("Pss_Anon"),
        "pss_file": f.get("Pss_File"),
        "pss_shmem": f.get("Pss_Shmem"),
        "pss_dirty": f.get("Pss_Dirty"),
        "anon_huge": f.get("AnonHugePages"),
        "referenced": f.get("Referenced"),
        "locked": f.get("Locked"),
        **({"hugetlb": sum(hugetlb)} if hugetlb else {}),
    }


def read_processes(
    reader: ProcessReader, pids: Iterable[int] | None = None
) -> tuple[tuple[ProcessMemory, ...], int]:
    """Every readable process (or just ``pids``) and the number of tasks seen."""
    out: list[ProcessMemory] = []
    tasks = 0
    for pid in reader.pids() if pids is None else pids:
        proc, threads = reader.read(pid)
        tasks += threads
        if proc is not None:
            out.append(proc)
    return tuple(out), tasks
