"""What every memtop command shares: the usage error, the parser, number checks, where the host is."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from memtop.collectors.paths import HostPaths
from memtop.state.settings import MAX_INTERVAL, MIN_INTERVAL


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with memtop's one-line errors (issue 13 item 7): no usage block before the message.

    Subparsers are made with the class of their parent, so every command gets it.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


# One argparse type per kind of number (issue 13 item 7): each refuses what is not
# finite or outside a range where memtop can act on it. time.sleep(1e300) raises
# OverflowError after clear_refs was written; a nan interval makes every wait 0 s.

#: A sleep longer than this is not a plan (and is far inside what time.sleep accepts).
MAX_SECONDS = 10.0**9
#: The working-set window's bounds: the dashboard offers 1-60 s; an hour resets reclaim's view for long enough.
MIN_WINDOW, MAX_WINDOW = 0.1, 3600.0
#: PID_MAX_LIMIT of include/linux/threads.h on 64-bit: no pid is above it.
PID_MAX_LIMIT = 4 * 1024 * 1024
#: More rows or passes than anyone means; far from any overflow.
MAX_COUNT = 10**9


def _real(low: float, high: float, what: str, low_open: bool = False) -> Callable[[str], float]:
    def check(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        above_low = value > low if low_open else value >= low
        if not (math.isfinite(value) and above_low and value <= high):
            raise argparse.ArgumentTypeError(f"{text}: {what}")
        return value

    return check


def _whole(low: int, high: int, what: str) -> Callable[[str], int]:
    def check(text: str) -> int:
        # 20 digits are more than any value in range has; int() of 5000 digits raises its own error.
        if len(text.strip()) > 20:
            raise argparse.ArgumentTypeError(f"{text[:20]}...: {what}")
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text}: {what}")
        return value

    return check


#: Seconds between two passes (the dashboard's refresh, --once/--json --interval, serve's pass).
interval = _real(MIN_INTERVAL, MAX_INTERVAL, f"must be a number of seconds from {MIN_INTERVAL:g} to {MAX_INTERVAL:g}")
#: The working-set window, seconds.
window = _real(MIN_WINDOW, MAX_WINDOW, f"must be a number of seconds from {MIN_WINDOW:g} to {MAX_WINDOW:g}")
#: Any other duration: finite, above zero, at most MAX_SECONDS.
positive = _real(0.0, MAX_SECONDS, f"must be a positive number of seconds, at most {MAX_SECONDS:g}", low_open=True)
#: A process id.
pid = _whole(1, PID_MAX_LIMIT, f"must be a process id, 1 to {PID_MAX_LIMIT}")
#: How many (rows, lines): 1 or more.
count = _whole(1, MAX_COUNT, f"must be a whole number from 1 to {MAX_COUNT}")


def os_error(exc: OSError) -> str:
    """``PATH: reason`` as the system says it, without Python's ``[Errno N]``."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename is not None else reason


def host_paths(root: str | None) -> HostPaths:
    """The live host, or a captured tree under ``root`` (which must hold proc/)."""
    if root is None:
        return HostPaths()
    paths = HostPaths.from_root(root)
    if not paths.proc.is_dir():
        raise UsageError(f"--root {root}: no proc/ directory there")
    return paths
