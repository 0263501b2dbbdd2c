"""Processes for the tests of F9 and H (issue 13, item 4): one that says every signal it gets, one given a chosen pid.

``Reporter`` answers "was this process signalled?" without a clock: it
prints the name of each signal it takes, and ``received()`` sends it a
marker (SIGURG) and reads up to the marker's line. The child blocks these
signals and takes them with sigwait(), one at a time: a signal sent before
the marker was either taken already or is pending beside it, and sigwait
takes the lower-numbered first (signal(7): standard signals are delivered
lowest number first), so its line comes before the marker's. With Python
handlers instead, a marker arriving while a handler printed ran the second
handler inside the first print (seen on 3.10: "SIGTERMSIGURG", then the
child died of a reentrant write).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

#: The signals the reporter takes (SIGKILL and SIGSTOP cannot be blocked: they end or stop it).
CAUGHT = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGTERM", "SIGCONT", "SIGTSTP")
MARKER = "SIGURG"  # after every one of CAUGHT in number order

REPORTER = f"""
import signal
taken = {{getattr(signal, name) for name in {CAUGHT + (MARKER,)!r}}}
signal.pthread_sigmask(signal.SIG_BLOCK, taken)
print("ready", flush=True)
while True:
    print(signal.Signals(signal.sigwait(taken)).name, flush=True)
"""

NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")


class Reporter:
    """A child that prints each signal it catches."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._pending = b""
        line = self._line()
        assert line == "ready", line

    @property
    def pid(self) -> int:
        return self.process.pid

    def _line(self, timeout: float = 30.0) -> str | None:
        """Its next line; None when it ended (or said nothing for ``timeout`` s: never a hang)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], timeout)
            data = os.read(fd, 4096) if ready else b""
            if not data:
                return None
            self._pending += data
        line, self._pending = self._pending.split(b"\n", 1)
        return line.decode()

    def received(self) -> list[str]:
        """The signals it caught so far (and "died" when it ended); it keeps running."""
        if self.process.poll() is not None:
            return ["died"]
        self.process.send_signal(signal.SIGURG)
        got: list[str] = []
        while (line := self._line()) is not None:
            if line == MARKER:
                return got
            got.append(line)
        return got + ["died"]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def reporter_argv() -> list[str]:
    return [sys.executable, "-c", REPORTER]


def start_reporter() -> Reporter:
    return Reporter(subprocess.Popen(reporter_argv(), stdout=subprocess.PIPE))


def start_at(pid: int, argv: list[str], tries: int = 50) -> subprocess.Popen[bytes] | None:
    """``argv`` started as pid ``pid`` (the reuse a hostile user waits or forks for); None when this host cannot.

    Writing ns_last_pid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (root);
    another process forking between the write and ours takes the pid, so a
    few tries are made.
    """
    if os.geteuid() != 0:
        return None
    for _ in range(tries):
        try:
            NS_LAST_PID.write_text(str(pid - 1))
        except OSError:
            return None
        child = subprocess.Popen(argv, stdout=subprocess.PIPE)
        if child.pid == pid:
            return child
        child.kill()
        child.wait()
    return None


def reporter_at(pid: int) -> Reporter | None:
    """A reporter given ``pid`` (root only); None when the pid could not be had."""
    child = start_at(pid, reporter_argv())
    return None if child is None else Reporter(child)


STAT = "{pid} (sleeper) S 1 {pid} {pid} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 {start} 10000000 500 0\n"


def proc_tree(root: Path, pid: int, start: int, btime: int = 1_700_000_000) -> Path:
    """A /proc with /proc/stat (its btime) and /proc/PID/stat saying ``start``: what a reused pid looks like to a reader."""
    proc = root / "proc"
    (proc / str(pid)).mkdir(parents=True, exist_ok=True)
    (proc / "stat").write_text(f"cpu  1 2 3 4 5 6 7 0 0 0\nbtime {btime}\nprocesses 100\n")
    (proc / str(pid) / "stat").write_text(STAT.format(pid=pid, start=start))
    return proc


GLIBC_MAPS = ("55d0a0000000-55d0a0001000 r-xp 00000000 fe:00 1 /usr/bin/prog\n"
              "7f0000000000-7f0000100000 r-xp 00000000 fe:00 2 /usr/lib/x86_64-linux-gnu/libc.so.6\n")


def attachable_tree(root: Path, pid: int, start: int) -> Path:
    """``proc_tree`` with what H's checks want to see: a glibc process, one thread in clock_nanosleep (230)."""
    proc = proc_tree(root, pid, start)
    base = proc / str(pid)
    (base / "status").write_text(f"Name:\tsleeper\nState:\tS\nTracerPid:\t0\nUid:\t0\t0\t0\t0\n")
    (base / "maps").write_text(GLIBC_MAPS)
    (base / "task" / str(pid)).mkdir(parents=True, exist_ok=True)
    (base / "task" / str(pid) / "syscall").write_text("230 0x1 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f00\n")
    return proc


def gdb_stand_in(directory: Path) -> tuple[Path, Path]:
    """A program in gdb's place that only leaves a mark when run: (its path, the mark)."""
    mark = directory / "gdb-was-run"
    script = directory / "gdb"
    script.write_text(f"#!/bin/sh\necho \"$@\" > {mark}\n")
    script.chmod(0o755)
    return script, mark
