"""The process table: a VirtualTable (only the rows on screen are drawn).

Textual's DataTable needs ~400 ms per refresh at 5,000 rows on this machine;
drawing only the visible lines takes ~6 ms (feasibility.md §C). Rows are plain
frozen values built by the app (``memtop.tables.process_rows``); the cursor follows a row's
key (pid and starttime), never its index, so re-sorts do not move it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style
from textual.message import Message

from memtop.views.columns import DEFAULT_COLUMNS, PROCESS_COLUMNS, ROLLUP_COLUMNS, fit
from memtop.views.command import short_command
from memtop.views.format import compact, escape, rate
from memtop.widgets.virtual_table import Column, VirtualTable

__all__ = ["COLUMNS", "Column", "ProcessTable", "ROLLUP_COLUMNS"]

#: Every column (memtop.views.columns), in the help screen's order.
COLUMNS: tuple[Column, ...] = PROCESS_COLUMNS
WIDE = 150


def _tail(text: str | None, width: int) -> str:
    """The end of a long path (where the container id or service name is), marked with "…"."""
    if not text:
        return ""
    text = escape(text)
    return text if len(text) <= width else "…" + text[len(text) - width + 1:]


def _signed(value: float | None) -> str:
    if value is None:
        return ""
    return ("+" if value > 0 else "") + compact(int(value)) if value else "0"


def _text(row: Any, key: str, width: int) -> str:
    """The name or command cell, with the tree's indent and marks, cut to ``width``."""
    marks = ""
    if row.has_children:
        marks = "[+] " if row.collapsed else "[-] "
    prefix = "  " * row.depth + marks + (f"{row.mark} " if getattr(row, "mark", "") else "")
    suffix = "  (exited)" if row.exited else ""
    room = max(width - len(prefix) - len(suffix), 1)
    if key == "command" and row.argv:
        text = short_command(row.argv, row.name, room)
    elif key == "command":
        text = escape(row.command)
    else:
        text = escape(row.name) + (f" ×{row.members}" if row.members > 1 else "")
    return prefix + text + suffix


def _cell(row: Any, key: str, width: int = 0, text_key: str = "command") -> str:
    if key == "cgroup":
        return _tail(row.cgroup, width)
    if key == "pid":
        return "" if row.pid is None else str(row.pid)
    if key == "user":
        return escape(row.user)
    if key == "rate":
        return rate(row.rate)
    if key == "growth":
        return _signed(row.growth)
    if key == "oom_score":
        return "" if row.oom_score is None else str(row.oom_score)
    if key == "threads":
        return "" if row.threads is None else str(row.threads)
    if key in ("name", "command"):
        if key == text_key:
            return _text(row, key, width)
        return escape(row.name if key == "name" else row.command)
    value = row.values.get(key)
    if key == "heap_gap":
        return "" if value is None else compact(value)
    text = compact(value)
    if key == "pss" and row.marks and text != "-":
        text = "!" + text  # PSS above RSS, read a moment apart (the process screen says why)
    return "~" + text if row.stale and key in ROLLUP_COLUMNS and text != "-" else text


class ProcessTable(VirtualTable):
    """The processes, one per line, with a sticky header."""

    PREFIX = "process-table"
    COLUMNS: ClassVar[tuple[Column, ...]] = COLUMNS
    WIDE = WIDE

    COMPONENT_CLASSES = {
        "process-table--header",
        "process-table--cursor",
        "process-table--exited",
        "process-table--stale",
        "process-table--group",
    }

    DEFAULT_CSS = """
    ProcessTable { height: 1fr; }
    ProcessTable > .process-table--header { text-style: bold; background: $panel; }
    ProcessTable > .process-table--cursor { background: $accent 40%; text-style: bold; }
    ProcessTable:focus > .process-table--cursor { background: $accent; color: $text; }
    ProcessTable > .process-table--exited { color: $text-muted; text-style: strike; }
    ProcessTable > .process-table--stale { color: $text-muted; }
    ProcessTable > .process-table--group { text-style: bold; }
    """

    class Selected(VirtualTable.Selected):
        """The cursor moved to another row (or the first rows arrived)."""

    class Activated(VirtualTable.Activated):
        """Enter on a row."""

    class Visible(Message):
        """The pids on screen changed: their PSS is worth reading every refresh."""

        def __init__(self, pids: frozenset[int]) -> None:
            super().__init__()
            self.pids = pids

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._visible: frozenset[int] = frozenset()
        #: The columns the user chose (F2), in order; those that fit are shown.
        self.chosen: tuple[str, ...] = DEFAULT_COLUMNS

    def choose(self, columns: tuple[str, ...]) -> None:
        """Show these columns (keys of memtop.views.columns), in this order."""
        if columns != self.chosen:
            self.chosen = columns
            self._cache.clear()
            self.refresh()

    def select_key(self, key: tuple[object, ...]) -> bool:
        """Put the cursor on the row with ``key`` (("p", pid): that pid, whatever its start time)."""
        find = getattr(self.rows, "find", None)
        if find is not None:
            index = find(key)
        else:
            index = next((i for i, row in enumerate(self.rows)
                          if row.key == key or (len(key) == 2 and row.pid == key[1])), None)
        if index is None:
            return False
        self._move_to(index, moved=False)
        return True

    @property
    def visible_pids(self) -> frozenset[int]:
        return self._visible

    def on_rows_shown(self) -> None:
        top = self.top
        pids = frozenset(r.pid for r in self.rows[top : top + self.size.height] if r.pid is not None)
        if pids != self._visible:
            self._visible = pids
            self.post_message(self.Visible(pids))

    # -- drawing ----------------------------------------------------------
    def columns(self, width: int) -> list[tuple[Column, int]]:
        return fit(self.chosen, width)

    def _text_key(self) -> str:
        """The column that carries the tree's indent and the marks: the command, else the name."""
        return "command" if "command" in self.chosen else "name"

    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        return _cell(row, key, column_width, self._text_key())

    def row_style(self, row: Any, style: Style) -> Style:
        if row.pid is None:
            style += self.get_component_rich_style("process-table--group")
        if row.exited:
            style += self.get_component_rich_style("process-table--exited")
        return style

    def dim_style(self, row: Any, style: Style) -> tuple[Style | None, frozenset[str]]:
        if not row.stale:
            return None, frozenset()
        return style + self.get_component_rich_style("process-table--stale"), ROLLUP_COLUMNS
