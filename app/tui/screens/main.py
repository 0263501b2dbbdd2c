"""The main screen: system pane, process table, filter, keys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input

from memtop.tui.screens.filter_input import FilterInput
from memtop.tui.screens.habit_keys import HABIT_BINDINGS, SETUP_BINDING, HabitKeys, chosen_columns

from memtop.collectors.models import ProcessMemory, Snapshot
from memtop.collectors.paths import HostPaths
from memtop.widgets.diagnosis_line import DiagnosisLine
from memtop.widgets.heap_chart import HeapChart
from memtop.widgets.key_footer import KeyFooter
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.status_header import HeaderInfo, StatusHeader, TotalsLine
from memtop.widgets.system_pane import SystemPane
from memtop.widgets.thp_panel import ThpPanel

from memtop.tables.process_rows import Row, ViewState, proc_key
from memtop.tables.process_view import ProcessView, totals_line
from memtop.state.maps_source import MapsSource
from memtop.state.model import MemtopModel, Reading
from memtop.state.options import step_interval
from memtop.rules.diagnoses import count_label, summary
from memtop.tui.messages import IntervalChosen, ModelUpdate, RowsOnScreen
from memtop.tui.screens.main_jumps import Jumps
from memtop.tui.screens.modals import DASHBOARD_NOTES, Helpable
from memtop.tui.screens.side_panes import SidePanes
from memtop.tui.screens.sort_keys import SortKeys
from memtop.tui.screens.working_set import WorkingSetScreen

#: Actions bound to printable keys: off while the filter input is open.
_LETTER_ACTIONS = frozenset({
    "sort_menu", "sort_by", "invert", "tree", "fold", "group", "pause", "speed", "help", "filter", "chart_window", "thp_help",
    "cgroups", "panes", "heap_sample", "working_set", "diagnoses", "kills",
    # issue 18's habit keys
    "setup", "sort_step", "user", "kernel_threads", "tag", "untag", "open_files", "environment", "habit", "search",
})


#: PSS/USS older than this many refreshes is shown dimmed and marked "~".
STALE_REFRESHES = 3

#: First in the footer of the dashboard and of its replay: an 80-column one keeps them (issue 18).
HELP_AND_QUIT = [
    Binding("question_mark,h,f1", "help", "Help"),
    Binding("q,f10", "app.quit", "Quit"),
]


class MainScreen(HabitKeys, FilterInput, SortKeys, Helpable, SidePanes, Jumps, Screen[None]):
    """Where the machine's memory is, and which processes own it."""

    FILTER = "#filter"
    LETTER_ACTIONS = _LETTER_ACTIONS

    # Help and Quit first, the others by use: the footer (KeyFooter) shows the first that fit whole,
    # so a narrow terminal keeps the most used; help lists them all.
    BINDINGS = [
        *HELP_AND_QUIT,
        Binding("slash", "filter", "Filter", tooltip="Filter by name, command line, user or pid"),
        Binding("s,f6", "sort_menu", "Sort", tooltip="Choose the sort column"),
        SETUP_BINDING,
        Binding("M", "sort_by('pss')", "By PSS", show=False, tooltip="Sort by memory (PSS)"),
        Binding("I", "invert", "Invert", show=False, tooltip="Invert the sort order"),
        Binding("t,f5", "tree", "Tree", tooltip="Processes under their parents, memory summed per subtree"),
        Binding("plus", "fold(False)", "Expand", show=False, tooltip="Expand the subtree (tree view)"),
        Binding("minus", "fold(True)", "Collapse", show=False, tooltip="Collapse the subtree (tree view)"),
        Binding("g", "group", "Group", show=False, tooltip="Group by program, then by user, then back"),
        Binding("c", "cgroups", "Cgroups", show=False, tooltip="Memory cgroups: usage against limits, OOM events; Enter filters to one"),
        Binding("z,Z", "pause", "Pause", show=False, tooltip="Freeze the display; collection goes on"),
        Binding("left_square_bracket", "speed(1)", "Slower", show=False, tooltip="Refresh less often"),
        Binding("right_square_bracket", "speed(-1)", "Faster", show=False, tooltip="Refresh more often"),
        Binding("W", "chart_window", "Window", show=False, tooltip="Heap-vs-RSS chart: cycle its window (1, 5, 15, 30 min)"),
        Binding("p", "panes", "Panes", show=False, tooltip="Hide or show the THP pane and the heap chart (the table takes their room)"),
        Binding("w", "working_set", "Working set", show=False, tooltip="Measure the selected process's working set (what it touches in a window; resets its reference bits: asks first)"),
        Binding("f9", "signal", "Kill", tooltip="htop's signal list for the selected process, or every tagged one, with what killing frees"),
        Binding("d", "diagnoses", "Diagnoses", tooltip="What matters now, with the numbers; Enter jumps to the pane that shows them"),
        Binding("O", "kills", "OOM kills", show=False, tooltip="The OOM kills the kernel's log holds, with where the figures come from"),
        Binding("T", "thp_help", "THP", show=False, tooltip="THP and compaction counters, each explained after the kernel's documentation"),
        Binding("H", "heap_sample", "Heap", show=False,
                tooltip="Sample the selected process's heap through gdb (asks first: pauses it for tens of ms)"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        *HABIT_BINDINGS,
    ]

    HELP_TABLE = ProcessTable
    HELP_NOTES = DASHBOARD_NOTES

    def __init__(self, model: MemtopModel, maps: Callable[[], MapsSource]) -> None:
        """``maps``: where the process screen (Enter) reads a process from."""
        super().__init__()
        self.model = model
        self.maps = maps
        options = model.options
        self.view = ViewState(sort=options.sort, text=options.text, reverse=options.reverse)
        self.tagged: set[tuple[int, int]] = set()
        self.kernel_threads = options.kernel_threads
        self.want_pid: int | None = options.pid
        self.frozen = options.frozen
        #: The refresh interval (keys [ and ]; the app is told).
        self.interval = options.interval
        self.paused = False
        self.snapshot: Snapshot | None = None
        self.reading: Reading | None = None
        self.selected: ProcessMemory | None = None
        self.exited: ProcessMemory | None = None
        self.error: str | None = None
        self._table = ProcessView()
        self._sent: tuple[frozenset[int], tuple[int, int] | None] | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(id="header")
        yield SystemPane(id="system")
        yield DiagnosisLine(id="diagnosis")
        with Horizontal(id="body"):
            with Vertical(id="processes"):
                yield ProcessTable(id="table")
                yield TotalsLine(id="totals")
            with Vertical(id="side"):
                yield ThpPanel(id="thp")
                yield HeapChart(id="chart")
        yield Input(placeholder="filter: name, command line, user or pid (Enter keeps, Esc cancels)", id="filter")
        yield Input(placeholder="search: name, command line, user or pid (F3 or Enter: next match, Esc closes)", id="search")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#search", Input).display = False
        table = self.query_one(ProcessTable)
        table.choose(chosen_columns(self.model.options.columns))
        table.focus()
        self.view_changed()
        if not self.model.options.panes:
            self.query_one("#side").display = False
        self.layout_panes()
        self.watch(self.app, "update", self._model_changed)

    def on_resize(self) -> None:
        self.layout_panes()

    # -- data ---------------------------------------------------------------
    def _model_changed(self, update: ModelUpdate | None) -> None:
        if update is None:
            return
        if update.ingested is not None:
            self.show(update.ingested.reading)
        else:  # derived state only: the chart window, a working set, a gdb sample
            self.update_chart()
            self.show_diagnoses()

    def show(self, reading: Reading) -> None:
        self.reading = reading
        self.error = None
        if not self.paused or self.snapshot is None:
            self.snapshot = reading.snapshot
            self.refresh_view()
        else:
            self._update_header()

    def show_error(self, error: str) -> None:
        self.error = error
        self._update_header()

    def refresh_view(self) -> None:
        snap = self.snapshot
        if snap is None:
            return
        table = self.query_one(ProcessTable)
        self.query_one(SystemPane).show(snap.system, snap.pressure, snap.reconciliation, snap.container)
        chosen = self.selected
        if chosen is not None and self.exited is None:
            if not any(p.pid == chosen.pid and p.starttime == chosen.starttime for p in snap.processes):
                self.exited = chosen  # keep it shown, marked, until the user moves
        stale_before = None
        if snap.time and not self.frozen:
            # Older than a few refreshes (but never under a few seconds): dimmed, marked "~".
            stale_before = snap.time - STALE_REFRESHES * max(self.interval, 1.0) - 0.5
        rates = self.reading.rates if self.reading is not None else {}
        marks = self.row_marks({pid: "‼gap" for pid, verdict in self.model.verdicts.items() if verdict.flag})
        rows = self._table.rows(snap.processes, self.view, rates, self.exited, stale_before, marks, self.derived())
        table.set_rows(rows)
        if self.want_pid is not None and table.select_key(("p", self.want_pid)):
            self.want_pid = None
        self._update_selected(table.selected)
        self.query_one(TotalsLine).text = Text(totals_line(self._table.totals, self.view, len(rows), snap.hidden_processes,
                                                          len(self.tagged)))
        self._update_header()
        self.show_thp()
        self.show_diagnoses()
        if isinstance(self.app.screen, WorkingSetScreen):
            self.app.screen.show_now(snap.time)

    def show_diagnoses(self) -> None:
        found = self.model.diagnoses
        self.query_one(DiagnosisLine).show(found[0].severity if found else "ok", summary(found), count_label(found))

    def _update_header(self) -> None:
        snap = self.snapshot
        reading = self.reading
        self.query_one(StatusHeader).show(HeaderInfo(
            hostname=snap.hostname if snap else "",
            kernel=snap.kernel if snap else "",
            interval=None if self.frozen else self.interval,
            paused=self.paused,
            own_cpu=reading.own_cpu if reading else None,
            own_rss=reading.own_rss if reading else None,
            processes=len(snap.processes) if snap else 0,
            hidden=snap.hidden_processes if snap else None,
            frozen=self.frozen,
            error=self.error,
            run=self.model.run_status,
        ))

    def _update_selected(self, row: Row | None) -> None:
        snap = self.snapshot
        if row is None or row.pid is None or snap is None:
            self.selected = None if row is None or row.pid is None else self.selected
        else:
            found = next((p for p in snap.processes if proc_key(p) == row.key), None)
            self.selected = found or (self.exited if self.exited and proc_key(self.exited) == row.key else None)
        self.update_chart()
        self._tell_on_screen(self.query_one(ProcessTable).visible_pids)

    def _tell_on_screen(self, pids: frozenset[int]) -> None:
        """The app reads these rows' PSS every refresh and keeps their history (told on change only)."""
        focus = (pids, self.selected.key if self.selected else None)
        if focus != self._sent:
            self._sent = focus
            self.app.post_message(RowsOnScreen(*focus))

    @on(ProcessTable.Selected)
    def _selected(self, event: ProcessTable.Selected) -> None:
        self._update_selected(self.query_one(ProcessTable).selected)
        if event.moved and self.exited is not None:
            self.exited = None  # the user moved on: drop the exited row
            self.refresh_view()

    @on(ProcessTable.Visible)
    def _visible(self, event: ProcessTable.Visible) -> None:
        self._tell_on_screen(event.pids)

    @on(ProcessTable.Activated)
    def _activated(self, event: ProcessTable.Activated) -> None:
        self.open_process()

    # -- filter and sort (FilterInput, SortKeys) ------------------------------
    def filter_text(self) -> str:
        return self.view.text

    def filter_table(self) -> ProcessTable:
        return self.query_one(ProcessTable)

    def set_filter(self, text: str) -> None:
        self._set_view(text=text)

    def sorting(self) -> tuple[str, bool]:
        return self.view.sort, self.view.reverse

    def sort_rows(self, field: str, reverse: bool) -> None:
        self._set_view(sort=field, reverse=reverse)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if self.close_search():
            return
        if box.display:
            box.display = False
            self._set_view(text="")
            self.query_one(ProcessTable).focus()
        elif self.view.text:
            self._set_view(text="")
        elif self.view.cgroup:
            self._set_view(cgroup="")
        elif self.view.user:
            self._set_view(user="")

    # -- view keys ------------------------------------------------------------
    def _set_view(self, **changes: object) -> None:
        old = self.view
        self.view = replace(self.view, **changes)  # type: ignore[arg-type]
        self.refresh_view()
        self.view_changed()
        if (old.sort, old.reverse) != (self.view.sort, self.view.reverse):
            self.remember(sort=self.view.sort, reverse=self.view.reverse)

    # -- what the habit keys need (HabitKeys) ----------------------------------
    def host_paths(self) -> HostPaths | None:
        """The live host (a capture has no processes to signal, no open files, no environment)."""
        monitor = getattr(self.app, "monitor", None)
        paths = monitor.collector.paths if monitor is not None and monitor.collector is not None else HostPaths()
        return None if self.frozen or not paths.live else paths

    def derived(self) -> dict[str, dict[tuple[int, int], float]]:
        """GROW/m and GAP from the model, only while a column or the sort shows them (they cost a fit each)."""
        wanted = set(self.query_one(ProcessTable).chosen) | {self.view.sort}
        out: dict[str, dict[tuple[int, int], float]] = {}
        snap = self.snapshot
        if snap is None:
            return out
        if "heap_gap" in wanted:
            heaps = self.model.last.heaps if self.model.last is not None else {}
            out["heap_gap"] = {p.key: float(p.rss - heaps[p.pid]) for p in snap.processes
                               if p.rss is not None and heaps.get(p.pid) is not None}
        if "growth" in wanted:
            out["growth"] = self.model.rss_slopes(snap.processes)
        return out

    def action_tree(self) -> None:
        self._set_view(mode="list" if self.view.mode == "tree" else "tree")

    def action_group(self) -> None:
        order = ("list", "program", "user")
        current = self.view.mode if self.view.mode in order else "list"
        self._set_view(mode=order[(order.index(current) + 1) % len(order)])

    def action_fold(self, collapse: bool) -> None:
        row = self.query_one(ProcessTable).selected
        if self.view.mode != "tree" or row is None or row.pid is None:
            return
        folded = set(self.view.collapsed)
        (folded.add if collapse else folded.discard)(row.pid)
        self._set_view(collapsed=frozenset(folded))

    def action_kills(self) -> None:
        """O: the kills since boot (the kernel's log), or why they cannot be listed (issue 15)."""
        from memtop.history.oom_journal import kill_lines, since_boot
        from memtop.history.timespec import describe_time
        from memtop.tui.screens.kills import KillsScreen

        if self.host_paths() is None:
            self.notify("OOM kills: a captured tree has no kernel log", severity="warning", timeout=6)
            return
        counted = dict(self.snapshot.vmstat).get("oom_kill") if self.snapshot is not None else None
        entries, source = since_boot(counted)
        self.app.push_screen(KillsScreen(kill_lines(entries, describe_time), source))

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self.reading is not None:
            self.snapshot = self.reading.snapshot
            self.refresh_view()
        self._update_header()

    def action_speed(self, step: int) -> None:
        self.interval = step_interval(self.interval, step)
        self.app.post_message(IntervalChosen(self.interval))
        self._update_header()
