"""The Textual app: runs the monitor, feeds the model, tells the screens.

One asyncio task collects: the blocking /proc reads run in a thread
(``asyncio.to_thread``), the reading is posted as a replaceable message, and
the loop sleeps only after a pass has finished, so passes never overlap and
the event loop never waits on /proc. A pass that raises is shown in the
header, its traceback saved to a file the header names, and retried after a
wait that doubles while passes keep failing (state/failures.py).
The app ingests each reading into its one model and sets ``update``; the
screens watch it. What a screen wants changed comes back as a message
(tui/messages.py), which the app forwards to the model or the monitor.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
from collections.abc import Callable
from dataclasses import replace

from textual import events, work
from textual.app import App
from textual.reactive import var

from memtop.collectors.models import Snapshot
from memtop.collectors.snapshot import Collector

from memtop.instrument.run import GRACE, RunChild
from memtop.state.failures import FailureLog
from memtop.state.maps_source import MapsSource, source_for
from memtop.state.model import MemtopModel, Reading
from memtop.state.monitor import Monitor
from memtop.state.options import StartOptions
from memtop.state.run_watch import SAMPLE_HZ
from memtop.state.session import OFF_SCREEN_EVERY
from memtop.state.settings import SettingsStore, setting_values
from memtop.tui.exit_signals import exit_on_signals
from memtop.tui.messages import (
    CgroupsWanted, ChartWindowChosen, CollectorFailed, Drilled, HeapSampled, IntervalChosen, ModelUpdate,
    RowsOnScreen, SnapshotReady, WorkingSetMeasured,
)
from memtop.tui.screens.main import MainScreen
from memtop.tui.screens.run_quit import QuitRunScreen
from memtop.tui.setting_messages import SettingsChanged

__all__ = ["MemtopApp", "run_dashboard"]


class MemtopApp(App[int]):
    """memtop's dashboard."""

    CSS_PATH = "memtop.tcss"
    TITLE = "memtop"

    #: Set each time the model changed (see ModelUpdate); the screens watch it.
    update: var[ModelUpdate | None] = var(None, always_update=True)

    def __init__(self, model: MemtopModel, monitor: Monitor | None = None, snapshot: Snapshot | None = None,
                 maps_source: MapsSource | None = None, settings: SettingsStore | None = None,
                 failures: FailureLog | None = None) -> None:
        """``monitor=None`` starts no collection: tests (and a replay) post readings themselves.

        ``model`` may have ingested readings already: the screens start from
        its last. ``snapshot``: ingested and shown first; ``maps_source``: how the process screen
        reads a process (default: the monitor's host, else the live /proc); ``settings``: where
        what the user changes is remembered (None: nowhere, as with --no-config); ``failures``: where a
        failed pass's traceback goes and how long the next waits (default: the user's state directory).
        """
        super().__init__()
        self.model = model
        self.monitor = monitor
        self.failures = failures if failures is not None else FailureLog()
        self.initial = snapshot
        self.maps_source = maps_source
        self.settings = settings
        #: Theme changes are remembered only after the start's own (set in on_mount).
        self._theme_ready = False
        #: The signal (SIGTERM, SIGHUP ...) that ended the dashboard, if one did.
        self.signalled: int | None = None
        self._remove_signal_handlers: Callable[[], None] | None = None

    def on_mount(self) -> None:
        if not self.is_headless:  # a terminal to restore; tests (run_test) keep their loop's handlers
            self._remove_signal_handlers = exit_on_signals(self, self._signalled)
        theme = self.model.options.theme
        if theme is not None:
            if theme in self.available_themes:
                self.theme = theme
            else:
                self.notify(f"config: no theme {theme!r} here; using {self.theme}", severity="warning", timeout=8)
        self._theme_ready = True
        for line in self.settings.problems if self.settings is not None else ():
            # Also on stderr, but the dashboard covers the terminal at once: say it here too.
            self.notify(line, severity="warning", timeout=12)
        self.model.chart_window = self.model.options.chart_window
        self.push_screen(self.main_screen_for())
        if self.model.last is not None:  # a model fed before (a replay up to a moment): show where it is
            self.update = ModelUpdate(self.model.last)
        if self.initial is not None:
            self.post_message(SnapshotReady(Reading(self.initial)))
        if self.monitor is not None:
            self.collect_loop()
        watch = self.model.run_watch
        if watch is not None and watch.child.not_instrumentable is None:
            self.set_interval(1 / SAMPLE_HZ, watch.sample)

    def main_screen_for(self) -> MainScreen:
        """The dashboard's screen (a replay's has a time cursor and keys that move in time)."""
        return MainScreen(self.model, self.maps)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)) \
                and self.monitor is not None:
            # A pass holds the GIL for most of its time: a key that lands during one
            # waited for it (issue 17, goal 3). The pass gives way for a moment.
            self.monitor.key_pressed()
        await super().on_event(event)

    def on_unmount(self) -> None:
        self.failures.close()
        if self._remove_signal_handlers is not None:
            self._remove_signal_handlers()

    def _signalled(self, sig: int) -> None:
        self.signalled = sig

    def maps(self) -> MapsSource:
        """Where the process screen reads a process from (a test sets one)."""
        return source_for(self.maps_source, self.monitor.collector if self.monitor is not None else None)

    @work(exclusive=True, group="collect")
    async def collect_loop(self) -> None:
        monitor = self.monitor
        assert monitor is not None
        while True:
            started = monitor.clock()
            try:
                reading = await asyncio.to_thread(monitor.read)
            except Exception as exc:  # noqa: BLE001 - any failure is shown, logged, then retried
                line, pause = self.failures.failed(exc, monitor.interval)
                self.post_message(CollectorFailed(line))
            else:
                self.failures.succeeded()
                self.post_message(SnapshotReady(reading))
                pause = monitor.pause_after(started)
            if monitor.frozen:
                return
            await asyncio.sleep(pause)

    @property
    def main_screen(self) -> MainScreen | None:
        """The dashboard screen, also while a help or signal screen is on top of it."""
        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    # -- down: the model changed ----------------------------------------------
    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        ingested = self.model.ingest(message.reading)
        if ingested.run_ended and self.model.run_watch is not None:
            child = self.model.run_watch.child
            self.notify(f"{child.name} exited with status {child.returncode}; its history stays", timeout=10)
        self.update = ModelUpdate(ingested)

    def on_collector_failed(self, message: CollectorFailed) -> None:
        if self.main_screen is not None:
            self.main_screen.show_error(message.error)

    # -- up: what the screens ask for -------------------------------------------
    def on_interval_chosen(self, message: IntervalChosen) -> None:
        if self.monitor is not None:
            self.monitor.interval = message.seconds
        self.remember(interval=message.seconds)

    def on_settings_changed(self, message: SettingsChanged) -> None:
        values = dict(message.values)
        collector = self.monitor.collector if self.monitor is not None else None
        if "kernel_threads" in values and collector is not None:
            collector.options = replace(collector.options, kernel_threads=bool(values["kernel_threads"]))
        self.remember(**values)

    def watch_theme(self, theme: str) -> None:
        if self._theme_ready:
            self.remember(theme=theme)

    def remember(self, **values: object) -> None:
        """Apply to the model's options and write the config (issue 18); a failed write is said once."""
        values = setting_values(values)
        options = {k: (v * 60.0 if k == "chart_window" else v) for k, v in values.items()  # type: ignore[operator]
                   if k in StartOptions.__dataclass_fields__}
        self.model.options = replace(self.model.options, **options)  # type: ignore[arg-type]
        store = self.settings
        if store is not None and not store.change(**values) and store.error:
            self.notify(f"settings not saved: {store.error}", severity="warning", timeout=8)

    def on_cgroups_wanted(self, message: CgroupsWanted) -> None:
        if self.monitor is not None:
            self.monitor.want_cgroups(message.on)

    def on_rows_on_screen(self, message: RowsOnScreen) -> None:
        self.model.show(message.visible, message.selected)

    def on_drilled(self, message: Drilled) -> None:
        if message.open:
            self.model.drill(message.pid)
        elif self.model.focus.drilled == message.pid:
            self.model.drill(None)

    def on_chart_window_chosen(self, message: ChartWindowChosen) -> None:
        self.model.chart_window = message.window
        self.update = ModelUpdate()
        self.remember(chart_window=message.window)

    def on_working_set_measured(self, _message: WorkingSetMeasured) -> None:
        self.model.rediagnose()
        self.update = ModelUpdate()

    def on_heap_sampled(self, message: HeapSampled) -> None:
        self.model.heap.record_attach(message.key, message.result)
        self.update = ModelUpdate()

    async def action_quit(self) -> None:
        """Quit; first ask what to do with a program `memtop run` started that still runs."""
        watch = self.model.run_watch
        if watch is None:
            self.exit(0)
            return
        if watch.child.poll() is not None:
            self.exit(watch.child.returncode)
            return

        def chosen(answer: str | None) -> None:
            if answer == "stop":
                watch.child.stop()
                try:
                    watch.child.process.wait(timeout=GRACE)
                except subprocess.TimeoutExpired:
                    pass  # it ignores SIGTERM: memtop leaves, it goes on
                self.exit(watch.child.poll() or 0)
            elif answer == "leave":
                self.exit(0)

        self.push_screen(QuitRunScreen(watch.child), chosen)


def run_dashboard(collector: Collector, options: StartOptions, run: RunChild | None = None,
                  settings: SettingsStore | None = None) -> int:
    # NO_COLOR is honoured by Textual itself; memtop shows no state by colour alone.
    # Thousands of long-lived records make the cyclic GC's full passes long
    # pauses that a key press can land behind; none of them forms a cycle.
    gc.freeze()
    gc.set_threshold(20_000, 50, 1_000)
    # Rows off screen are read every other refresh (state/session.py): the dashboard's cost at 2,000 processes.
    monitor = Monitor.build(collector, options, run=run, stat_every=OFF_SCREEN_EVERY)
    app = MemtopApp(monitor.model, monitor, settings=settings)
    result = app.run()
    if app.signalled is not None and run is not None:
        # The terminal is restored; now the program: the signal forwarded, never left behind (instrument/run.py).
        return run.end(app.signalled) if run.poll() is None else run.returncode or 0
    return result or 0
