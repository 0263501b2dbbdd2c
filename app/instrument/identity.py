"""Is a pid still the process the user was asked about? (F9, H; issue 13, item 4)

A pid names a process only until the process is reaped; then the kernel
hands the number to a later process (pid_max wraps, 32768 by default, and a
local user can cycle through them in a second). F9 and H ask about a process
and act on its pid after the user answers, so the question keeps the start
time the table showed (field 22 of /proc/PID/stat: clock ticks after boot,
proc(5)), and the act compares it first. Two processes share a (pid, start
time) only if the pid came back within one clock tick (10 ms at 100 Hz).

A check and an act are two moments: the callers close the gap themselves
(signals.py signals a pidfd opened before the check; the gdb script checks
again once attached, while the process is stopped).
"""

from __future__ import annotations

import os
import time

from memtop.collectors.fs import read_file, read_record
from memtop.collectors.paths import HostPaths
from memtop.collectors.procfs import parse_stat


def starttime(paths: HostPaths, pid: int) -> int | None:
    """The start time of whatever holds ``pid`` now (clock ticks after boot); None when nothing does."""
    try:
        return parse_stat(read_record(None, str(paths.pid_dir(pid) / "stat"))).starttime
    except (OSError, ValueError, IndexError):  # gone, unreadable, or not a stat line (ParseError)
        return None


def boot_time(paths: HostPaths) -> int | None:
    """``btime`` of /proc/stat: the boot, in seconds since the epoch (proc(5))."""
    try:
        for line in read_file(paths.proc / "stat").splitlines():
            if line.startswith(b"btime "):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def started(paths: HostPaths, ticks: int) -> str:
    """When a process started, as the user's clock said then (seconds after boot when the boot time is unknown)."""
    hz = os.sysconf("SC_CLK_TCK") or 100
    boot = boot_time(paths)
    if boot is None:
        return f"{ticks / hz:.0f} s after boot"
    return time.strftime("%H:%M:%S", time.localtime(boot + ticks / hz))


def changed(paths: HostPaths, pid: int, expected: int) -> str | None:
    """None while ``pid`` is the process that started at ``expected``; else what holds it now, said for the user."""
    now = starttime(paths, pid)
    if now is None:
        return f"pid {pid} has exited"
    if now != expected:
        return f"pid {pid} is now a different process (started {started(paths, now)}, not {started(paths, expected)})"
    return None
