"""The Textual app: schedules collection, owns history, hands snapshots to the screen.

One asyncio task collects: the blocking /proc reads run in a thread
(``asyncio.to_thread``), the result is posted as a replaceable message, and
the loop sleeps only after a pass has finished, so passes never overlap and
the event loop never waits on /proc. A pass that raises is shown and retried.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil
from textual import work
from textual.app import App

from memtop.collectors.models import Snapshot
from memtop.collectors.snapshot import Collector

from .live import LiveSession, Scheduler
from .messages import CollectorFailed, SnapshotReady
from .screens.main import MainScreen

INTERVALS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class StartOptions:
    """What the command line asked for."""

    interval: float = 1.0
    sort: str = "pss"
    text: str = ""
    pid: int | None = None
    frozen: bool = False  # --root: a captured tree, collected once


class MemtopApp(App[int]):
    """memtop's dashboard."""

    CSS_PATH = "memtop.tcss"
    TITLE = "memtop"

    def __init__(
        self,
        collector: Collector | None,
        options: StartOptions = StartOptions(),
        snapshot: Snapshot | None = None,
        own_stats: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``collector=None`` starts no task: tests post snapshots themselves."""
        super().__init__()
        self.options = options
        self.interval = options.interval
        self.collector = collector
        self.initial = snapshot
        self.own_stats = own_stats
        self.clock = clock
        self.scheduler = Scheduler(interval=options.interval, clock=clock)
        self.session = LiveSession(collector, self.scheduler) if collector is not None else None
        self.passes = 0
        self._me = psutil.Process() if own_stats else None
        # A cancelled worker cannot stop its thread mid-read: this lock makes a
        # replacement loop wait for it, so two passes never run at once.
        self._pass_lock = threading.Lock()
        #: The pid open in the process screen: read every refresh like the selected row.
        self.drilled: int | None = None
        #: How the process screen reads a process (tests set one; None: the collector's host).
        self.maps_source: object | None = None

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.options))
        if self.initial is not None:
            self.post_message(SnapshotReady(self.initial, {}, None, None))
        if self.session is not None:
            self.collect_loop()

    @work(exclusive=True, group="collect")
    async def collect_loop(self) -> None:
        assert self.session is not None
        session = self.session
        if self._me is not None:
            self._me.cpu_percent()  # start its CPU clock
        while True:
            started = self.clock()
            try:
                snap, rates = await asyncio.to_thread(self._one_pass, session)
            except Exception as exc:  # noqa: BLE001 - any failure is shown, then retried
                self.post_message(CollectorFailed(f"{type(exc).__name__}: {exc}"))
            else:
                self.passes += 1
                cpu = rss = None
                if self._me is not None:
                    cpu = self._me.cpu_percent()
                    rss = self._me.memory_info().rss
                    if self.passes == 1:
                        cpu = None  # the first pass reads everything: not a steady cost
                self.post_message(SnapshotReady(snap, rates, cpu, rss))
            if self.options.frozen:
                return
            elapsed = self.clock() - started
            await asyncio.sleep(max(self.interval - elapsed, self.interval / 4))

    def _one_pass(self, session: LiveSession) -> tuple[Snapshot, dict[tuple[object, ...], float]]:
        with self._pass_lock:
            return session.collect()

    @property
    def main_screen(self) -> MainScreen | None:
        """The dashboard screen, also while a help or signal screen is on top of it."""
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if self.main_screen is not None:
            self.main_screen.show(message)

    def on_collector_failed(self, message: CollectorFailed) -> None:
        if self.main_screen is not None:
            self.main_screen.show_error(message.error)

    def set_interval_seconds(self, seconds: float) -> None:
        self.interval = seconds
        self.scheduler.interval = seconds

    def track_on_screen(self, pids: frozenset[int], selected: int | None) -> None:
        """The screen tells which pids are on screen: their PSS is read every refresh."""
        self.scheduler.visible = pids
        self.scheduler.selected = self.drilled if self.drilled is not None else selected


def run_dashboard(collector: Collector, options: StartOptions) -> int:
    # NO_COLOR is honoured by Textual itself; memtop shows no state by colour alone.
    # Thousands of long-lived records make the cyclic GC's full passes long
    # pauses that a key press can land behind; none of them forms a cycle.
    gc.freeze()
    gc.set_threshold(20_000, 50, 1_000)
    app = MemtopApp(collector, options)
    result = app.run()
    return result or 0
