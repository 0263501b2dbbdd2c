"""Calling code that may hang on a planted FIFO, so that a regression fails the test instead of hanging the run.

Before issue 13 an open of a FIFO without O_NONBLOCK waited forever for a
writer. The call runs in a thread; if it has not returned by the deadline,
each FIFO is opened for writing, which lets the blocked open return, and the
test fails saying it hung. A deadline, not a timing assertion: a call that
works returns at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from tests.waiting import TIMEOUT

T = TypeVar("T")


def call_or_release(call: Callable[[], T], fifos: Iterable[Path], timeout: float = TIMEOUT) -> T:
    """``call()``'s value (or its exception); AssertionError when it blocks on one of ``fifos``."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # re-raised in the test's thread
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        for fifo in fifos:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
        thread.join(timeout)
        raise AssertionError(f"hung on a FIFO ({', '.join(map(str, fifos))}): opened without O_NONBLOCK")
    if error:
        raise error[0]
    return result[0]
