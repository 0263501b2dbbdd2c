"""The files of one process as read: what phase one (processes.py) hands to phase two (process_build.py).

Its own module so that neither phase imports the other's (issue 14: no import cycle).
"""

from __future__ import annotations

from typing import NamedTuple

from .procfs import Stat


class RawProcess(NamedTuple):
    """The files of one process as read (phase one); None where missing or refused."""

    pid: int
    stat: Stat
    status: bytes | None
    cmdline: bytes | None
    oom_score: bytes | None
    oom_score_adj: bytes | None
    cgroup: bytes | None
    memory: bytes | None  # smaps_rollup, or the whole smaps on kernels before 4.14
    why: str | None  # why memory is None
    status_why: str | None = None  # why status is None (its figures are then n/a with this reason)
