"""How memtop waits for gdb (attach._wait), as a rule: SIGINT at the timeout, never a kill (issue 13, item 11).

A stand-in for the gdb process answers each wait as scripted, so no clock
is involved; tests/live/test_attach.py runs the same path end to end with
a shell script in gdb's place.
"""

from __future__ import annotations

import signal
import subprocess
from typing import Any

from memtop.instrument import attach

from tests.waiting import wait_until


class Gdb:
    """Times out ``stubborn`` waits, then ends; records what memtop did to it."""

    def __init__(self, stubborn: int) -> None:
        self.stubborn = stubborn
        self.waits: list[float | None] = []
        self.signals: list[int] = []

    def wait(self, timeout: float | None = None) -> int:
        self.waits.append(timeout)
        if self.stubborn and timeout is not None:
            self.stubborn -= 1
            raise subprocess.TimeoutExpired("gdb", timeout)
        return 0

    def send_signal(self, number: int) -> None:
        self.signals.append(number)

    def kill(self) -> None:
        raise AssertionError("gdb was killed: mid-call, that can leave the process hung for good")

    terminate = kill


def waited(gdb: Gdb, timeout: float = 20.0) -> bool:
    fake: Any = gdb
    return attach._wait(fake, timeout)


def test_a_gdb_that_ends_in_time_is_left_alone() -> None:
    gdb = Gdb(stubborn=0)
    assert waited(gdb) is True and gdb.signals == [] and gdb.waits == [20.0]


def test_at_the_timeout_gdb_is_interrupted_and_given_a_grace() -> None:
    gdb = Gdb(stubborn=1)
    assert waited(gdb) is True
    assert gdb.signals == [signal.SIGINT] and gdb.waits == [20.0, attach.GRACE]


def test_a_gdb_that_ignores_the_interrupt_is_never_killed_and_reaped_in_the_background() -> None:
    gdb = Gdb(stubborn=2)
    assert waited(gdb) is False  # memtop stops waiting, and says so
    assert gdb.signals == [signal.SIGINT]
    wait_until(lambda: None in gdb.waits, what="the background reaper's wait")
    assert gdb.waits[:2] == [20.0, attach.GRACE]
