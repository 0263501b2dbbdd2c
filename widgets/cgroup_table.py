"""The memory cgroups as a tree table: the process table's Line-API drawing, other columns.

Rows are built by the app (``memtop.rules.cgroup_usage.CgroupRow``); this widget only
draws them. A cgroup with events new since the view opened is marked with
"▲" in its name and its NEW column, and drawn in the warning style: never by
colour alone.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.binding import Binding

from memtop.explain.figures import CGROUP_FIGURES as FIGURES
from memtop.views.format import compact, escape
from memtop.widgets.process_table import Column, ProcessTable
from memtop.widgets.virtual_table import VirtualTable

#: The mark of a cgroup with new events (with the warning style, never instead of it).
NEW_MARK = "▲"

CGROUP_COLUMNS: tuple[Column, ...] = (
    Column("name", "CGROUP", 0, "the memory cgroup, indented under its parent", right=False),
    Column("current", "USAGE", 7, FIGURES["current"]),
    Column("limit", "LIMIT", 7, FIGURES["limit"]),
    Column("use", "USE%", 5, "usage as a share of the effective limit"),
    Column("pss", "PSS", 7, FIGURES["pss"]),
    Column("other", "NON-PSS", 7, "usage minus PSS: page cache, kernel memory, pages of exited processes", min_width=90),
    Column("oom_kill", "OOMKILL", 7, FIGURES["oom_kill"]),
    Column("procs", "PROCS", 5, "processes directly in it (cgroup.procs)", min_width=100),
    Column("new", "NEW EVENTS", 24, "events since the view opened (or the last mark), marked ▲", right=False, min_width=110),
)


def limit_text(limit: int | str | None) -> str:
    if limit is None:
        return "-"
    return limit if isinstance(limit, str) else compact(limit)


def new_text(new: tuple[tuple[str, int], ...]) -> str:
    return (NEW_MARK + " " + " ".join(f"{name}+{delta}" for name, delta in new)) if new else ""


def cgroup_cell(row: Any, key: str) -> str:
    """One cell of a cgroup row (pure: the tests and the snapshot use it)."""
    if key == "name":
        mark = f"{NEW_MARK} " if row.new else ""
        return "  " * row.depth + mark + escape(row.name)
    if key == "current":
        return compact(row.current)
    if key == "limit":
        return limit_text(row.limit)
    if key == "use":
        if row.current is None or not isinstance(row.limit, int) or row.limit <= 0:
            return ""
        return f"{100 * row.current / row.limit:.0f}%"
    if key == "pss":
        if row.pss is None or row.pss.processes == 0:
            return ""
        if row.pss.unreadable == row.pss.processes:
            return "n/a"  # no member's PSS could be read
        return ("≥" if row.pss.unreadable else "") + compact(row.pss.pss)
    if key == "other":
        if row.pss is None or row.current is None or row.pss.processes == 0 or row.pss.unreadable:
            return ""
        return compact(row.current - row.pss.pss)
    if key == "oom_kill":
        return "" if row.oom_kill is None else str(row.oom_kill)
    if key == "procs":
        return str(row.procs) if row.procs else ""
    if key == "new":
        return new_text(row.new)
    return ""


class CgroupTable(ProcessTable):
    """Populated memory cgroups, one per line, under their parents."""

    COLUMNS = CGROUP_COLUMNS

    BINDINGS = [
        Binding("enter", "activate", "Its processes", tooltip="Show the processes of this cgroup and its descendants"),
    ]

    COMPONENT_CLASSES = ProcessTable.COMPONENT_CLASSES | {"cgroup-table--new", "cgroup-table--error"}

    DEFAULT_CSS = """
    CgroupTable > .cgroup-table--new { color: $warning; text-style: bold; }
    CgroupTable > .cgroup-table--error { color: $text-muted; }
    """

    def columns(self, width: int) -> list[tuple[Column, int]]:
        # Its own fixed columns, not the process table's chosen ones.
        return VirtualTable.columns(self, width)

    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        return cgroup_cell(row, key)

    def row_style(self, row: Any, style: Style) -> Style:
        if row.new:
            style += self.get_component_rich_style("cgroup-table--new")
        elif row.error:
            style += self.get_component_rich_style("cgroup-table--error")
        return style
