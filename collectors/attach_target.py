"""Whether memtop may call mallinfo2 inside a running process through gdb, read from /proc.

Everything here is decided before gdb attaches, so a refusal pauses nothing:

- permission: ptrace needs root (CAP_SYS_PTRACE) or the same user on a
  dumpable process (ptrace(2), "Ptrace access mode checking"); Yama's
  ptrace_scope (Documentation/admin-guide/LSM/Yama.rst) narrows it to
  descendants (1), to CAP_SYS_PTRACE (2) or to nobody (3);
- a process already traced (TracerPid) cannot take a second tracer;
- a static binary or a libc that is not glibc has no mallinfo2 to call, nor
  a glibc older than 2.33 (the symbol is absent from its libc); a program
  that loads jemalloc, tcmalloc or mimalloc keeps its heap where glibc's
  mallinfo2 does not look; memtop itself reads its own heap in-process;
- a thread parked in a blocking syscall that never runs malloc's code (the
  ``syscall`` file of proc(5): number first, or "running", or -1 outside a
  syscall): the call goes into that thread. Calling into a thread that gdb
  stopped inside malloc deadlocked 20 of 20 times and hung the target for
  good (feasibility.md §A2); futex is not safe (it may be malloc's lock).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .fs import read_file
from .paths import HostPaths
from .procfs import parse_stat
from .safe_open import SMAPS_LIMIT

#: A libc is ~2 MiB; a file far larger under its name is not read.
LIBRARY_LIMIT = 64 << 20

#: Blocking syscalls a thread waits in outside malloc (x86-64 numbers, asm/unistd_64.h).
SAFE_SYSCALLS_X86_64 = {
    0: "read", 7: "poll", 23: "select", 34: "pause", 35: "nanosleep", 43: "accept", 45: "recvfrom",
    47: "recvmsg", 61: "wait4", 128: "rt_sigtimedwait", 130: "rt_sigsuspend", 219: "restart_syscall",
    230: "clock_nanosleep", 232: "epoll_wait", 247: "waitid", 270: "pselect6", 271: "ppoll",
    281: "epoll_pwait", 288: "accept4", 441: "epoll_pwait2",
}

CAP_SYS_PTRACE = 19
_LIBC = re.compile(r"/libc(?:-[0-9.]+)?\.so(?:\.6)?$")
_OTHER_MALLOC = re.compile(r"/lib(jemalloc|tcmalloc[^/]*|mimalloc)\.so")
_MUSL = re.compile(r"/(?:ld-musl-[^/]*\.so\.1|libc\.musl-[^/]*\.so\.1)$")


def parse_syscall(text: str) -> int | None:
    """The syscall number a stopped or sleeping thread is in; -1 outside one; None when running or garbled."""
    words = text.split()
    if not words or words[0] == "running":
        return None
    try:
        return int(words[0])
    except ValueError:
        return None


def status_fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            out[key] = value.strip()
    return out


def libraries(maps_text: str) -> tuple[str | None, bool, bool]:
    """(glibc's path, any shared object mapped, musl mapped) from /proc/PID/maps text."""
    libc = None
    shared = musl = False
    for line in maps_text.splitlines():
        fields = line.split(None, 5)
        path = fields[5].strip() if len(fields) == 6 else ""
        if path.startswith("/") and ".so" in path:
            shared = True
            if _MUSL.search(path):
                musl = True
            elif libc is None and _LIBC.search(path.removesuffix(" (deleted)")):
                libc = path.removesuffix(" (deleted)")
    return libc, shared, musl


@dataclass(frozen=True, slots=True)
class Attacher:
    """Who asks: memtop's own credentials."""

    euid: int
    pid: int
    cap_sys_ptrace: bool

    @classmethod
    def me(cls, paths: HostPaths = HostPaths()) -> Attacher:
        caps = status_fields(read_file(paths.proc / "self" / "status").decode("ascii", "replace")).get("CapEff", "0")
        try:
            effective = int(caps, 16)
        except ValueError:
            effective = 0
        return cls(os.geteuid(), os.getpid(), bool(effective >> CAP_SYS_PTRACE & 1))


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """The verdict before attaching: a refusal, or the thread to call into."""

    pid: int
    refusal: str | None
    libc: str | None = None
    safe_threads: tuple[tuple[int, str], ...] = ()  # (tid, syscall name)
    starttime: int | None = None


def _ancestor(paths: HostPaths, pid: int, ancestor: int) -> bool:
    for _ in range(64):
        try:
            ppid = parse_stat(read_file(paths.proc / str(pid) / "stat")).ppid
        except (OSError, ValueError):
            return False
        if ppid == ancestor:
            return True
        if ppid <= 1:
            return False
        pid = ppid
    return False


def _permission(paths: HostPaths, pid: int, status: dict[str, str], me: Attacher) -> str | None:
    scope_text = paths.proc / "sys" / "kernel" / "yama" / "ptrace_scope"
    try:
        scope = int(read_file(scope_text).strip())
    except (OSError, ValueError):
        scope = 0  # no Yama: the classic rules
    if scope >= 3:
        return "not permitted: kernel.yama.ptrace_scope = 3 forbids attaching to any process"
    privileged = me.euid == 0 or me.cap_sys_ptrace
    if scope == 2 and not privileged:
        return "not permitted: kernel.yama.ptrace_scope = 2 lets only root (CAP_SYS_PTRACE) attach"
    if privileged:
        return None
    uids = status.get("Uid", "").split()
    if len(uids) < 3 or any(u != str(me.euid) for u in uids[:3]):
        return "not permitted: another user's process (needs root or the same user)"
    try:
        owner = os.stat(paths.proc / str(pid)).st_uid
    except OSError:
        owner = -1
    if owner != me.euid:
        # /proc/PID belongs to root when the process is not dumpable
        # (prctl PR_SET_DUMPABLE 0, setuid programs): ptrace is refused then.
        return "not permitted: the process is not dumpable (setuid, or PR_SET_DUMPABLE 0): needs root"
    if scope == 1 and not _ancestor(paths, pid, me.pid):
        return "not permitted: kernel.yama.ptrace_scope = 1 lets only a parent attach (needs root or CAP_SYS_PTRACE)"
    return None


def check_target(paths: HostPaths, pid: int, me: Attacher, machine: str | None = None) -> TargetCheck:
    """Can memtop sample this process's mallinfo2 through gdb, and in which thread?"""
    machine = machine or os.uname().machine
    if pid == me.pid:
        # gdb would stop memtop's own threads, the one waiting for gdb among them.
        return TargetCheck(pid, "this is memtop itself: its heap is read in-process (mallinfo2), no gdb needed")
    base = paths.proc / str(pid)
    try:
        stat = parse_stat(read_file(base / "stat"))
        status = status_fields(read_file(base / "status").decode("utf-8", "replace"))
    except (OSError, ValueError):
        return TargetCheck(pid, f"pid {pid} has exited")
    if stat.kernel_thread:
        return TargetCheck(pid, "a kernel thread has no heap")
    if stat.state in ("Z", "X"):
        return TargetCheck(pid, "the process is a zombie: it has no memory left")
    if stat.state in ("t", "T"):
        return TargetCheck(pid, "the process is stopped (or traced): resume it first")
    tracer = status.get("TracerPid", "0")
    if tracer not in ("0", ""):
        return TargetCheck(pid, f"already traced by pid {tracer} (a debugger or strace): one tracer at a time")
    if machine != "x86_64":
        # mallinfo2 returns its struct through a hidden pointer; the cast gdb
        # is given passes it as the first argument, which is x86-64 SysV only.
        return TargetCheck(pid, f"attach is implemented for x86-64 only (this is {machine})")
    refusal = _permission(paths, pid, status, me)
    if refusal is not None:
        return TargetCheck(pid, refusal)
    try:
        maps = read_file(base / "maps", SMAPS_LIMIT).decode("utf-8", "replace")
    except OSError as exc:
        return TargetCheck(pid, f"cannot read its maps: {exc.strerror or exc}")
    libc, shared, musl = libraries(maps)
    if musl:
        return TargetCheck(pid, "not glibc: it uses musl, which has no mallinfo2")
    if not shared:
        return TargetCheck(pid, "a static binary: no libc.so to call mallinfo2 in")
    if libc is None:
        return TargetCheck(pid, "not glibc: no libc.so.6 is mapped")
    other = _OTHER_MALLOC.search(maps)
    if other is not None:
        return TargetCheck(pid, f"it allocates with {other.group(1).split('_')[0]}: glibc's mallinfo2 would not see its heap", libc)
    if not has_mallinfo2(paths, pid, libc):
        return TargetCheck(pid, f"its glibc ({libc}) has no mallinfo2 (needs glibc >= 2.33)", libc)
    safe = safe_threads(paths, pid)
    if not safe:
        return TargetCheck(pid, "no thread is waiting in a safe blocking syscall (sleep, poll, read, ...): "
                                "calling into a busy thread can deadlock it in malloc; try again later", libc)
    return TargetCheck(pid, None, libc, safe, stat.starttime)


def safe_threads(paths: HostPaths, pid: int) -> tuple[tuple[int, str], ...]:
    """Threads parked in a blocking syscall that never holds malloc's locks, with its name."""
    task = paths.proc / str(pid) / "task"
    out: list[tuple[int, str]] = []
    try:
        tids = sorted(int(t) for t in os.listdir(task) if t.isdigit())
    except OSError:
        return ()
    for tid in tids:
        try:
            number = parse_syscall(read_file(task / str(tid) / "syscall").decode("ascii", "replace"))
        except OSError:
            continue
        if number in SAFE_SYSCALLS_X86_64:
            out.append((tid, SAFE_SYSCALLS_X86_64[number]))
    return tuple(out)


def has_mallinfo2(paths: HostPaths, pid: int, libc: str) -> bool:
    """Whether the target's libc file names mallinfo2 (in its dynamic symbol table's strings)."""
    for candidate in (paths.proc / str(pid) / "root" / libc.lstrip("/"), Path(libc)):
        try:
            # The target's root may be a tree its user built: no FIFO waited on, no device read.
            return b"\0mallinfo2\0" in read_file(candidate, LIBRARY_LIMIT)
        except OSError:
            continue
    return True  # unreadable here: let gdb find out (it says so when the symbol is missing)
