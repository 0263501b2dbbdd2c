"""The tests' polling helpers (tests/waiting.py) return at once when the condition holds and fail when it never does."""

from __future__ import annotations

import threading
import time

import pytest

from tests.waiting import wait_until


def test_wait_until_returns_the_value_once_it_holds() -> None:
    done = threading.Event()
    threading.Timer(0.05, done.set).start()
    assert wait_until(lambda: done.is_set() and "set", timeout=5) == "set"


def test_wait_until_fails_saying_what_it_waited_for() -> None:
    began = time.monotonic()
    with pytest.raises(AssertionError, match="waited 0.1 s for the impossible"):
        wait_until(lambda: False, timeout=0.1, what="the impossible")
    assert time.monotonic() - began < 5
