"""The dashboard's side panes: the THP/compaction panel and the heap-vs-RSS chart.

Beside the process table from SIDE_FROM columns, a few lines under it below
that; `p` hides them, `W` changes the chart's window, `T` explains the
counters, `H` (screens/heap_sample.py) adds a gdb sample to the chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memtop.widgets.heap_chart import HeapChart
from memtop.widgets.thp_panel import ThpPanel

from memtop.state.process_history import next_window
from memtop.tui.messages import ChartWindowChosen
from memtop.tui.screens.heap_sample import ask_heap_sample
from memtop.tui.screens.thp_help import ThpHelpScreen

if TYPE_CHECKING:
    from memtop.collectors.models import ProcessMemory, Snapshot

    from memtop.state.model import MemtopModel

#: From this many columns on, the THP panel and the chart sit beside the table;
#: below it they shrink to a few lines under it.
SIDE_FROM = 150
#: Below this many lines (narrow layout) the panes hide, so the table keeps rows; `p` shows them.
SHORT_BELOW = 20


class SidePanes:
    """Mixin for the MainScreen: lays out and feeds the two panes."""

    model: MemtopModel
    snapshot: Snapshot | None
    selected: ProcessMemory | None
    exited: ProcessMemory | None

    def _screen(self) -> Any:
        return self

    def layout_panes(self) -> None:
        screen = self._screen()
        body = screen.query_one("#body")
        wide = screen.size.width >= SIDE_FROM
        body.set_class(wide, "-wide")
        body.set_class(not wide and screen.size.height < SHORT_BELOW, "-short")
        self.update_panes()

    def update_panes(self) -> None:
        """The THP panel for this snapshot, the chart for the selected process."""
        self.show_thp()
        self.update_chart()

    def show_thp(self) -> None:
        snap = self.snapshot
        if snap is not None:
            screen = self._screen()
            screen.query_one(ThpPanel).show(self.model.thp_view(snap), compact=screen.size.width < SIDE_FROM)

    def update_chart(self) -> None:
        snap = self.snapshot
        proc = self.selected
        chart = self._screen().query_one(HeapChart)
        if snap is None or proc is None:
            chart.show(None)
            return
        exited = self.exited is not None and proc.key == self.exited.key
        chart.show(self.model.chart_series(proc, snap.time, exited))

    def action_panes(self) -> None:
        side = self._screen().query_one("#side")
        side.display = not side.display
        self.update_panes()
        self._screen().remember(panes=bool(side.display))

    def action_chart_window(self) -> None:
        """Key W: the app sets the model's window, then the chart redraws (MemtopApp.update)."""
        screen = self._screen()
        window = next_window(self.model.chart_window)
        screen.app.post_message(ChartWindowChosen(window))
        screen.notify(f"heap-vs-RSS chart: last {window / 60:g} min")

    def action_thp_help(self) -> None:
        view = self.model.thp_view(self.snapshot) if self.snapshot is not None else None
        self._screen().app.push_screen(ThpHelpScreen(view))

    def action_heap_sample(self) -> None:
        screen = self._screen()
        ask_heap_sample(screen, self.model.heap, self.selected, self.exited is None, screen.host_paths() is not None)
