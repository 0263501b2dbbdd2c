"""Where the dashboard goes from a process or a finding: the screens it opens over itself.

c the cgroup view (Enter there filters the table to one cgroup), w the
working-set box, d the diagnoses, and from a finding
(Enter in the diagnoses) the pane or screen that shows its numbers: the THP
counters, a cgroup, a process selected (with its chart, or its mappings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from memtop.widgets.process_table import ProcessTable

from memtop.tui.screens.cgroups import CgroupScreen
from memtop.tui.screens.diagnoses import DiagnosesScreen
from memtop.tui.screens.process import ProcessScreen
from memtop.tui.screens.working_set import WorkingSetScreen

if TYPE_CHECKING:
    from memtop.collectors.models import ProcessMemory, Snapshot

    from memtop.rules.diagnoses import Diagnosis
    from memtop.state.maps_source import MapsSource
    from memtop.state.model import MemtopModel
    from memtop.tables.process_rows import ViewState


class Jumps:
    """Mixin for the MainScreen: the screens it opens, and a finding's jump."""

    model: MemtopModel
    maps: Callable[[], MapsSource]
    snapshot: Snapshot | None
    selected: ProcessMemory | None
    exited: ProcessMemory | None
    view: ViewState

    def _screen(self) -> Any:
        """The MainScreen (its _set_view, _update_selected, and SidePanes' update_panes, action_thp_help)."""
        return self

    def _still_running(self) -> ProcessMemory | None:
        """The selected process if it still runs; else None, and the user is told."""
        if self.selected is not None and self.exited is None:
            return self.selected
        self._screen().notify("select a running process first", severity="warning")
        return None

    def action_working_set(self) -> None:
        proc = self._still_running()
        if proc is not None:
            now = self.snapshot.time if self.snapshot else None
            self._screen().app.push_screen(WorkingSetScreen(proc, now, self.model.working_sets))

    def action_cgroups(self, path: str | None = None) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._screen()._set_view(cgroup=path)

        self._screen().app.push_screen(CgroupScreen(self.snapshot, select=path), chosen)

    def action_diagnoses(self) -> None:
        self._screen().app.push_screen(DiagnosesScreen(self.model.diagnoses), self.jump)

    def open_process(self) -> None:
        """Enter on a process: its mappings."""
        if self.selected is not None:
            self._screen().app.push_screen(ProcessScreen(self.selected, self.maps(), self.model))

    def jump(self, finding: Diagnosis | None) -> None:
        """Go where a finding's numbers are: THP counters, a cgroup, a process (screen or chart)."""
        if finding is None:
            return
        if finding.jump == "thp":
            self._screen().action_thp_help()
        elif finding.jump == "cgroup" and isinstance(finding.target, str):
            self.action_cgroups(finding.target)
        elif finding.jump in ("process", "chart") and isinstance(finding.target, int):
            if not self.select_process(finding.target, show_chart=finding.jump == "chart"):
                self._screen().notify(f"pid {finding.target} is not in the table any more", severity="warning")
            elif finding.jump == "process":
                self.open_process()
        # "system": the system pane is on top of the main screen, where the panel closes to.

    def select_process(self, pid: int, show_chart: bool = False) -> bool:
        """Select a process (clearing a filter that hides it); with the chart beside it, if asked."""
        screen = self._screen()
        table = screen.query_one(ProcessTable)
        if self.view.text or self.view.cgroup:
            screen._set_view(text="", cgroup="")
        if not table.select_key(("p", pid)):
            return False
        screen._update_selected(table.selected)
        if show_chart:
            screen.query_one("#side").display = True
            screen.update_panes()
        return True
