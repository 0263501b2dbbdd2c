"""Waiting in a test for something to happen: poll a condition until a deadline, never sleep a fixed time.

A fixed sleep is either too short on a loaded machine (the test fails for
nothing) or too long everywhere else (the suite crawls); polling returns as
soon as the condition holds and fails with a message when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: Long enough for a loaded 2-core machine; a condition that holds returns at once.
TIMEOUT = 10.0


class _Polls(Generic[T]):
    """One wait: each ``check`` gives the predicate's value, and fails once the deadline has passed."""

    def __init__(self, predicate: Callable[[], T], timeout: float, what: str) -> None:
        self.predicate = predicate
        self.timeout = timeout
        self.what = what or getattr(predicate, "__name__", "a condition")
        self.deadline = time.monotonic() + timeout

    def check(self) -> T:
        value = self.predicate()
        if not value and time.monotonic() >= self.deadline:
            raise AssertionError(f"waited {self.timeout:g} s for {self.what}")
        return value


def wait_until(predicate: Callable[[], T], timeout: float = TIMEOUT, interval: float = 0.02, what: str = "") -> T:
    """Poll ``predicate`` (from a thread or a process's point of view) until it is true; its value.

    Raises AssertionError after ``timeout`` seconds, saying ``what`` was awaited.
    """
    polls = _Polls(predicate, timeout, what)
    while not (value := polls.check()):
        time.sleep(interval)
    return value


async def pilot_until(pilot: Any, predicate: Callable[[], T], timeout: float = TIMEOUT, interval: float = 0.02,
                      what: str = "") -> T:
    """``wait_until`` for a Textual app under a Pilot: the app runs (``pilot.pause``) between polls."""
    polls = _Polls(predicate, timeout, what)
    while not (value := polls.check()):
        await pilot.pause(interval)
    return value
