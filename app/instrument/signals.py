"""Sending a signal to the process the user chose, and to no other (F9).

A pid is reused once its process is reaped, so "kill pid 1234" after a
dialog may hit a stranger. memtop opens a pidfd (Linux 5.3), which names the
process and never another, checks through /proc that the pid still has the
start time the table showed (identity.py), then signals the pidfd: a process
that exits after the check cannot hand its pid over. Without pidfds (older
kernels) the check is made right before kill(2), which leaves only that
instant.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass

from memtop.collectors.paths import HostPaths
from memtop.instrument.identity import changed

#: htop's list: the standard signals by number (Linux numbering), SIGTERM the default.
#: Python 3.10's signal.Signals has no member for 16 (SIGSTKFLT; 3.11 added it), so
#: signal.Signals(16) raises there: names come from the members, this fills the gap.
_LINUX_NAMES = {16: "SIGSTKFLT"}
_NAMES = {int(s): s.name for s in signal.Signals}  # iteration skips aliases (SIGIOT, SIGPOLL)
_VALID = {int(v) for v in signal.valid_signals()}
SIGNALS: tuple[tuple[int, str], ...] = tuple(
    (n, _NAMES.get(n) or _LINUX_NAMES.get(n, f"SIG{n}")) for n in range(1, 32) if n in _VALID
)
DEFAULT = int(signal.SIGTERM)


@dataclass(frozen=True, slots=True)
class Sent:
    pid: int
    name: str
    #: None when sent; else why not, a sentence ending in "nothing sent" (exited, pid reused, not permitted).
    error: str | None


def send(paths: HostPaths, pid: int, starttime: int, name: str, signum: int) -> Sent:
    """Signal the process (pid, starttime), never one that took its pid since."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            return Sent(pid, name, f"pid {pid} has exited: nothing sent")
        except OSError:
            pidfd = None  # no pidfds here (ENOSYS, seccomp): check, then kill
    try:
        # After the open: the pidfd names whoever held the pid then; the same
        # start time now means that was our process, which cannot hand it over.
        moved = changed(paths, pid, starttime)
        if moved is not None:
            return Sent(pid, name, f"{moved}: nothing sent")
        try:
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, signum)
            else:
                os.kill(pid, signum)
        except ProcessLookupError:
            return Sent(pid, name, f"pid {pid} has exited: nothing sent")
        except PermissionError:
            return Sent(pid, name, f"pid {pid}: not permitted (another user's process needs root): nothing sent")
        return Sent(pid, name, None)
    finally:
        if pidfd is not None:
            os.close(pidfd)
