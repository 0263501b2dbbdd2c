"""Enter on a process: its memory mapping by mapping, re-read live.

The smaps of a process with 65,000 mappings is 44 MiB; reading it takes
~0.25 s (feasibility.md §D) and parsing every field of it and building the
rows 1 to 2 s on this shared 2-core machine (bench/drilldown.py), so both run
in a thread (``asyncio.to_thread``) owned by this screen's worker, which
Textual cancels when the screen goes away; the header (what the dashboard
knew) is on screen meanwhile. The period adapts: a few times what the last
read cost, never under ``MIN_PERIOD``, so a huge process is not re-read back
to back.
"""

from __future__ import annotations

import asyncio
import gc
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from memtop.collectors.models import ProcessMaps, ProcessMemory
from memtop.views.format import compact
from memtop.widgets.key_footer import KeyFooter
from memtop.widgets.mappings_table import GREW, MappingsTable

from memtop.state.maps_source import MapsSource
from memtop.state.model import MemtopModel
from memtop.tables.mapping_rows import SORT_FIELDS, Analysis, MapRow, RowKey, analyse, rss_by_key, view_rows
from memtop.tui.process_header import header_text
from memtop.rules.working_set_fit import describe
from memtop.explain.smaps_fields import maps_help_notes, why_no_mappings
from memtop.tui.screens.filter_input import FilterInput
from memtop.tui.screens.mapping_detail import MappingDetailScreen
from memtop.tui.messages import Drilled
from memtop.tui.screens.modals import Helpable
from memtop.tui.screens.sort_keys import SortKeys

#: Re-read at least this many seconds apart, and at least COST_FACTOR times the last read's cost.
MIN_PERIOD = 2.0
COST_FACTOR = 4.0

#: Actions bound to printable keys: off while the filter input is open.
_LETTER_ACTIONS = frozenset({"filter", "toggle_raw", "sort_menu", "sort_by", "invert", "help"})


class ProcessScreen(FilterInput, SortKeys, Helpable, Screen[None]):
    """One process: header figures, and its mappings grouped by kind or raw."""

    FILTER = "#maps-filter"
    LETTER_ACTIONS = _LETTER_ACTIONS

    # The footer shows the first that fit whole (KeyFooter): help and the way back first, quit last.
    BINDINGS = [
        Binding("question_mark,h,f1", "help", "Help", tooltip="Keys, columns and what the numbers mean"),
        Binding("escape", "back", "Back", tooltip="Clear the filter first; else back to the dashboard"),
        Binding("backspace", "leave", "Back", show=False, tooltip="Back to the dashboard"),
        Binding("slash", "filter", "Filter", tooltip="Filter the mappings by path (Enter keeps, Esc cancels)"),
        Binding("s,f6", "sort_menu", "Sort", tooltip="Choose the sort column"),
        Binding("g", "toggle_raw", "Raw/grouped", tooltip="Raw mappings, or grouped by kind and path"),
        Binding("M", "sort_by('pss')", "By PSS", show=False, tooltip="Sort by PSS"),
        Binding("I", "invert", "Invert", tooltip="Invert the sort order"),
        Binding("q,f10", "app.quit", "Quit"),
    ]

    HELP_TABLE = MappingsTable
    HELP_NOTES = maps_help_notes(MIN_PERIOD, COST_FACTOR)
    SORT_FIELDS = SORT_FIELDS

    def __init__(self, proc: ProcessMemory, source: MapsSource, model: MemtopModel) -> None:
        """``model``: its working-set measurements, and the time of the last snapshot."""
        super().__init__()
        self.proc = proc
        self.source = source
        self.model = model
        self.maps: ProcessMaps | None = None
        self.analysis: Analysis | None = None
        self.exited = False
        self.error: str | None = None
        self.raw = False
        self.sort = "pss"
        self.reverse = False
        self.text = ""
        self.reads = 0
        self.period = MIN_PERIOD
        self.partial = False  # the rows came from a quick read of the table's fields only
        self._opened: dict[RowKey, int] = {}
        self._last: dict[RowKey, int] = {}

    def compose(self) -> ComposeResult:
        ident, command, figures = header_text(self.proc, ())
        self._working_set(figures)
        with Vertical(id="proc-header"):
            yield Static(ident, id="proc-ident")
            yield Static(command, id="proc-command")
            yield Static(figures, id="proc-figures")
        yield MappingsTable(id="maps")
        yield Static(Text(f"reading /proc/{self.proc.pid}/smaps ..."), id="maps-status")
        yield Input(placeholder="filter mappings by path (Enter keeps, Esc cancels)", id="maps-filter")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#maps-filter", Input).display = False
        self.query_one(MappingsTable).focus()
        self.app.post_message(Drilled(self.proc.pid, True))  # the dashboard reads it every refresh
        self.poll()

    def on_unmount(self) -> None:
        self.app.post_message(Drilled(self.proc.pid, False))

    # -- reading ------------------------------------------------------------
    def _read(self, quick: bool = False) -> tuple[ProcessMaps, Analysis | None, float]:
        """One read and its rows; runs in a worker thread, never on the event loop.

        ``quick``: parse only the table's fields (the first paint of a process
        with tens of thousands of mappings; every field comes with the next read).
        """
        started = time.perf_counter()
        # 65,000 mappings make ~200,000 objects, none in a cycle: the cyclic GC
        # would walk them over and over (a quarter of the parse), so it waits
        # (as the collector's pass does, collectors/snapshot.py).
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            read = self.source.quick if quick and self.source.quick is not None else self.source.read
            maps = read(self.proc.pid, self.proc.starttime)
            analysis = None
            if maps.mappings is not None:
                # The quick first read shows the groups; its raw rows (g) are built if asked
                # for before the full read, which follows at once and builds them here.
                analysis = analyse(maps.mappings, self._opened, self._last, raw_now=not quick)
        finally:
            if was_enabled:
                gc.enable()
        return maps, analysis, time.perf_counter() - started

    @work(exclusive=True, group="maps")
    async def poll(self) -> None:
        """Read now, then again every ``period`` seconds until the process exits."""
        # The first read parses only the table's fields when the source can:
        # at 65,000 mappings that puts the table on screen in half the time;
        # the full read (details, VmFlags) follows at once.
        quick = self.source.quick is not None and self.reads == 0
        while True:
            maps, analysis, seconds = await asyncio.to_thread(self._read, quick)
            if self not in self.app.screen_stack:
                return  # left while the read ran: its widgets may already be gone
            self.partial = quick
            self.show(maps, analysis)
            if maps.exited:
                return
            if quick:
                quick = False
                continue
            self.period = max(MIN_PERIOD, COST_FACTOR * seconds)
            await asyncio.sleep(self.period)

    def show(self, maps: ProcessMaps, analysis: Analysis | None) -> None:
        self.reads += 1
        if maps.exited:
            self.exited = True  # keep the last data, say so
        else:
            self.maps = maps
            self.error = maps.error
            if maps.process is not None:
                self.proc = maps.process
            self.analysis = analysis
            if analysis is not None:
                self._last = rss_by_key(analysis)
                if not self._opened:
                    self._opened = self._last
            ident, command, figures = header_text(self.proc, maps.status)
            self._working_set(figures)
            self.query_one("#proc-ident", Static).update(ident)
            self.query_one("#proc-command", Static).update(command)
            self.query_one("#proc-figures", Static).update(figures)
        self.refresh_rows()

    def _working_set(self, figures: Text) -> None:
        """The last working-set measurement (w), beside the RSS figures."""
        last = self.model.working_sets.last(self.proc)
        if last is not None:
            now = self.model.snapshot.time if self.model.snapshot is not None else None
            figures.append("\nwset    ", style="bold")
            figures.append(describe(last, now))

    # -- view ---------------------------------------------------------------
    def refresh_rows(self) -> None:
        table = self.query_one(MappingsTable)
        table.set_mode(self.raw)
        rows: list[MapRow] = []
        if self.analysis is not None:
            rows = view_rows(self.analysis, not self.raw, self.sort, self.reverse, self.text)
        table.set_rows(rows)
        table.mark_sort(self.sort, (self.sort not in ("path", "address")) != self.reverse)
        self.query_one("#maps-status", Static).update(self._status_line(len(rows)))

    def on_virtual_table_header_clicked(self, event: MappingsTable.HeaderClicked) -> None:
        """A click on a header sorts by that column; again, inverts (issue 18)."""
        column = {"mark": "delta", "perms": "address"}.get(event.column, event.column)
        if column == self.sort:
            self.action_invert()
        elif column in SORT_FIELDS:
            self.action_sort_by(column)

    def _status_line(self, shown: int) -> Text:
        line = Text()
        if self.exited:
            line.append("EXITED ", style="bold reverse")
            kept = "showing the last mappings read" if self.analysis is not None else "no mappings were read"
            line.append(f"pid {self.proc.pid} has exited; {kept}.  ")
        a = self.analysis
        if a is None:
            if not self.exited:
                line.append(why_no_mappings(self.error, self.proc, self.source.live) or f"reading /proc/{self.proc.pid}/smaps ...")
            return line
        view = "raw" if self.raw else "grouped"
        arrow = "↑" if self.reverse else "↓"
        line.append(f"{a.count} mappings  RSS {compact(a.totals['rss'])}  PSS {compact(a.totals['pss'])}  "
                    f"USS {compact(a.totals['uss'])}  {view}  sort {self.sort}{arrow}")
        if self.text:
            line.append(f"  filter {self.text!r}" + ("  no match" if not shown else ""))
        if not self.exited:
            cost = self.maps.read_seconds if self.maps else 0.0
            line.append(f"  read {cost * 1000:.0f} ms, every {self.period:.0f} s  {GREW} grew since last read")
        if self.error:
            line.append(f"   ({self.error})")
        return line

    @on(MappingsTable.Activated)
    def _activated(self, event: MappingsTable.Activated) -> None:
        row = self.query_one(MappingsTable).selected
        if row is not None and self.partial:
            self.notify("reading every smaps field of this process: a moment")
        elif row is not None:
            self.app.push_screen(MappingDetailScreen(row))

    # -- keys ---------------------------------------------------------------
    def action_toggle_raw(self) -> None:
        self.raw = not self.raw
        if self.raw and self.sort == "count":
            self.sort = "pss"
        self.refresh_rows()

    def sorting(self) -> tuple[str, bool]:
        return self.sort, self.reverse

    def sort_rows(self, field: str, reverse: bool) -> None:
        self.sort, self.reverse = field, reverse
        self.refresh_rows()

    def action_back(self) -> None:
        box = self.query_one("#maps-filter", Input)
        if box.display or self.text:
            box.display = False
            self.set_filter("")
            self.query_one(MappingsTable).focus()
            return
        self.action_leave()

    def action_leave(self) -> None:
        self.app.pop_screen()

    # -- filter (the same input behaviour as the dashboard's) ----------------
    def set_filter(self, text: str) -> None:
        self.text = text
        self.refresh_rows()

    def filter_text(self) -> str:
        return self.text

    def filter_table(self) -> MappingsTable:
        return self.query_one(MappingsTable)
