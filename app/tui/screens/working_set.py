"""Key ``w``: measure the selected process's working set, after saying what that does.

The warning comes first (clear_refs resets the process's reference bits,
which reclaim uses); Enter starts the window, which the app waits off the
event loop. Esc closes the box; a measurement under way goes on, and its
result arrives as a notification, in the diagnoses and here when reopened.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from memtop.collectors.models import ProcessMemory, WorkingSet
from memtop.collectors.working_set import Refused
from memtop.views.format import escape, human

from memtop.rules.working_set_fit import describe
from memtop.state.working_sets import DEFAULT_WINDOW, WINDOWS, WorkingSets
from memtop.tui.messages import WorkingSetMeasured
from memtop.tui.screens.frames import ConfirmScreen

WARNING = (
    "Measuring writes 1 to /proc/PID/clear_refs: it clears the accessed bits of every page of this process, "
    "then counts (smaps_rollup Referenced) the pages it touches during the window. The kernel's reclaim uses "
    "these same bits to tell hot pages from cold: right after, under memory pressure, this process's hot pages "
    "look cold and may be reclaimed first. Another tool measuring it at the same time spoils both windows. "
    "A transparent huge page counts as touched whole: that part is measured at 2 MiB granularity."
)


class WorkingSetScreen(ConfirmScreen[None]):
    """What measuring does, the window, and the result beside RSS; keys answer (no buttons)."""

    BOX = "wss-box"
    TEXT = "wss-text"

    BINDINGS = [
        Binding("enter,w", "measure", "Measure", tooltip="Start the window: clear the reference bits, wait, count"),
        Binding("left,minus", "window(-1)", "Shorter", tooltip="A shorter window"),
        Binding("right,plus", "window(1)", "Longer", tooltip="A longer window"),
        Binding("escape,q", "cancel", "Close", tooltip="Close; a measurement under way goes on"),
    ]

    def __init__(self, proc: ProcessMemory, now: float | None, sets: WorkingSets) -> None:
        """``sets``: the model's measurements (running ones, the last result of each process)."""
        super().__init__()
        self.proc = proc
        self.now = now
        self.sets = sets
        self.window = DEFAULT_WINDOW
        self.error: str | None = None
        self._starting = False  # Enter pressed, the worker not yet running

    @property
    def left(self) -> float | None:
        """Seconds left of a measurement of this process under way (started here or in an earlier box)."""
        running = self.sets.running.get(self.proc.key)
        return self.window if running is None and self._starting else running

    def on_mount(self) -> None:
        running = self.sets.running
        self.error = None if self.proc.key in running else self.sets.why_not(self.proc)
        self.redraw()

    def redraw(self) -> None:
        self.query_one("#wss-text", Static).update(self.question())

    def question(self) -> Text:
        p = self.proc
        text = Text()
        text.append(f"Working set of {escape(p.name)} (pid {p.pid})\n", style="bold")
        text.append(f"RSS {human(p.rss)}   PSS {human(p.pss)}   AnonHugePages {human(p.anon_huge)}\n\n")
        text.append("! ", style="bold")
        text.append(WARNING + "\n\n")
        if p.anon_huge:
            text.append(f"! {human(p.anon_huge)} of it is in transparent huge pages: counted at 2 MiB granularity, "
                        "the result may overstate what it touches.\n\n", style="bold")
        last = self.sets.last(p)
        if self.error:
            text.append(f"‼ cannot measure: {escape(self.error)}\n", style="bold")
        elif self.left is not None:
            text.append(f"measuring … {self.left:.0f} s left (Esc closes; it goes on)\n", style="bold")
        else:
            text.append(f"window {self.window:g} s (←/→ to change)   Enter: measure   Esc: close\n")
        if last is not None:
            text.append("\n" + describe(last, self.now) + "\n", style="bold" if last.referenced is not None else "")
        return text

    def show_now(self, now: float) -> None:
        """The app's latest snapshot time: the result's age is counted from it (and a box
        reopened while its measurement runs follows it)."""
        self.now = now
        self.redraw()

    def action_window(self, step: int) -> None:
        if self.left is not None:
            return
        index = WINDOWS.index(self.window) if self.window in WINDOWS else WINDOWS.index(DEFAULT_WINDOW)
        self.window = WINDOWS[max(0, min(index + step, len(WINDOWS) - 1))]
        self.redraw()

    def action_measure(self) -> None:
        if self.error or self.left is not None:
            return
        self._starting = True
        self.redraw()
        self.app.run_worker(self._measure(self.window), group="working-set")

    def _progress(self, _left: float) -> None:
        self._starting = False
        if self.is_attached:
            self.redraw()

    async def _measure(self, window: float) -> None:
        app = self.app
        proc = self.proc
        try:
            result: WorkingSet = await self.sets.measure(proc, window, self._progress)
        except Refused as exc:
            self._starting = False
            app.notify(f"working set of {proc.name} ({proc.pid}): {exc}", severity="error", timeout=8)
            if self.is_attached:
                self.error = str(exc)
                self.redraw()
            return
        self._starting = False
        if self.is_attached:
            self.now = result.time
            self.redraw()
        else:
            app.notify(f"{proc.name} ({proc.pid}): {describe(result, result.time)}", timeout=10)
        app.post_message(WorkingSetMeasured(result))

    def answer(self, button: str | None) -> None:
        self.dismiss(None)  # Esc or q: close (a measurement under way goes on)
