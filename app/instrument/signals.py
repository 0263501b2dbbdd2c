"""Sending a signal to the process the user chose, and to no other (F9).

A pid is reused once its process is reaped, so "kill pid 1234" after a
dialog may hit a stranger. memtop opens a pidfd (Linux 5.3), which names the
process and never another, checks through /proc that the pid still has the
start time the table showed, then signals the pidfd: a process that exits
after the check cannot hand its pid over. Without pidfds (older kernels) the
check is made right before kill(2), which leaves only that instant.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from memtop.collectors.fs import read_record
from memtop.collectors.paths import HostPaths
from memtop.collectors.procfs import parse_stat

#: htop's list: the standard signals by number (Linux numbering), SIGTERM the default.
SIGNALS: tuple[tuple[int, str], ...] = tuple(
    (int(s), s.name) for s in sorted({signal.Signals(n) for n in range(1, 32) if n in {int(v) for v in signal.valid_signals()}},
                                     key=int)
)
DEFAULT = int(signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class Sent:
    pid: int
    name: str
    #: None when sent; else why not (exited, pid reused, not permitted).
    error: str | None


def _starttime(paths: HostPaths, pid: int) -> int | None:
    try:
        return parse_stat(read_record(None, str(paths.pid_dir(pid) / "stat"))).starttime
    except (OSError, ValueError, IndexError):
        return None


def send(paths: HostPaths, pid: int, starttime: int, name: str, signum: int) -> Sent:
    """Signal the process (pid, starttime), never one that took its pid since."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            return Sent(pid, name, "it has already exited")
        except OSError:
            pidfd = None  # no pidfds here (ENOSYS, seccomp): check, then kill
    try:
        if _starttime(paths, pid) != starttime:
            return Sent(pid, name, "it has exited (its pid now names another process or none)")
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            return Sent(pid, name, "it has already exited")
        except PermissionError:
            return Sent(pid, name, "not permitted (another user's process needs root)")
        return Sent(pid, name, None)
    finally:
        if pidfd is not None:
            os.close(pidfd)
