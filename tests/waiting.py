"""Waiting in a test for something to happen: poll a condition until a deadline, never sleep a fixed time.

A fixed sleep is either too short on a loaded machine (the test fails for
nothing) or too long everywhere else (the suite crawls); polling returns as
soon as the condition holds and fails with a message when it never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Long enough for a loaded 2-core machine; a condition that holds returns at once.
TIMEOUT = 10.0


def wait_until(predicate: Callable[[], T], timeout: float = TIMEOUT, interval: float = 0.02, what: str = "") -> T:
    """Poll ``predicate`` (from a thread or a process's point of view) until it is true; its value.

    Raises AssertionError after ``timeout`` seconds, saying ``what`` was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or getattr(predicate, '__name__', 'a condition')}")
        time.sleep(interval)


async def pilot_until(pilot: Any, predicate: Callable[[], T], timeout: float = TIMEOUT, interval: float = 0.02,
                      what: str = "") -> T:
    """``wait_until`` for a Textual app under a Pilot: the app runs (``pilot.pause``) between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what or getattr(predicate, '__name__', 'a condition')}")
        await pilot.pause(interval)
