"""A collection pass that gives way to the event loop while a person presses keys.

The dashboard collects in a worker thread, but the pass is Python: at 5,000
processes it holds the GIL for most of ~150 ms, and a key press that lands
then is answered only between the thread's switch intervals (CPython hands
the GIL over every 5 ms, sys.getswitchinterval), so its handling and drawing
take about twice their CPU time, and more when the loop also ingests the pass
that just ended (bench/live.py: the key press's tail, issue 17 goal 3). The
loop calls ``hold`` on each key; the thread calls ``tick`` once a process and
sleeps (releasing the GIL) while a hold lasts, at most ``MAX_PER_PASS``
seconds a pass, so a key held down delays a pass and never stops collection.

The cost: the processes read after a pause are read that much later than the
pass's time says, so a ΔRSS/s of that pass can be off by the pause's share of
the interval (at most a fifth at 1 s) for a process whose RSS moves steadily;
only while keys are being pressed, and the next pass is exact again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: How long a key press holds the collection thread (a key, its drawing and the next frame).
HOLD = 0.12
#: At most this much of a pass is spent giving way (a key held down repeats 30 times a second).
MAX_PER_PASS = 0.2
#: The thread looks every this many processes (~2 ms of a pass at 5,000).
EVERY = 64


class GiveWay:
    """Shared by the event loop (``hold``) and the collection thread (``begin``, ``tick``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = 0.0  # a float written by one thread, read by the other: atomic under the GIL
        self._count = 0
        self.waited = 0.0  # seconds this pass gave way

    def hold(self) -> None:
        """A key was pressed: passes give way for HOLD seconds from now (called on the loop)."""
        self._until = self._clock() + HOLD

    def begin(self) -> None:
        """A pass begins."""
        self._count = 0
        self.waited = 0.0

    def tick(self) -> None:
        """One process read: sleep while a hold lasts, within this pass's allowance."""
        self._count += 1
        if self._count % EVERY:
            return
        wait = min(self._until - self._clock(), MAX_PER_PASS - self.waited)
        if wait > 0:
            self._sleep(wait)
            self.waited += wait
