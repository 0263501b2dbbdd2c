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

from memtop.views.format import compact, escape, rate
from memtop.views.uss import USS_FORMULA, USS_FREES
from memtop.widgets.virtual_table import Column, VirtualTable

__all__ = ["COLUMNS", "Column", "ProcessTable", "ROLLUP_COLUMNS"]


#: Every column, with the one line of help the help screen shows for it
#: (after Documentation/filesystems/proc.rst).
COLUMNS: tuple[Column, ...] = (
    Column("pid", "PID", 7, "process id"),
    Column("user", "USER", 9, "real user of the process", right=False),
    Column("rss", "RSS", 7, "resident: pages in RAM mapped by it, shared ones counted in full (VmRSS)"),
    Column("pss", "PSS", 7, "proportional: shared pages divided among their users; sums to real use"),
    Column("uss", "USS", 7, f"unique: {USS_FORMULA}, {USS_FREES}"),
    Column("swap", "SWAP", 6, "swapped out (smaps_rollup Swap, else VmSwap)"),
    Column("anon_huge", "THP", 6, "anonymous memory in transparent huge pages (AnonHugePages)"),
    Column("rate", "ΔRSS/s", 7, "change of RSS per second since the last refresh"),
    Column("anon", "ANON", 6, "resident anonymous memory (RssAnon)", wide_only=True),
    Column("file", "FILE", 6, "resident file mappings (RssFile)", wide_only=True),
    Column("shmem", "SHMEM", 6, "resident shared memory (RssShmem)", wide_only=True),
    Column("hugetlb", "HUGETLB", 7, "hugetlbfs pages (Shared_ + Private_Hugetlb)", wide_only=True),
    Column("oom_score", "OOM", 5, "oom_score: who the OOM killer picks next (higher first)", wide_only=True),
    Column("cgroup", "CGROUP", 28, "memory cgroup (v1 memory hierarchy, else v2); its end when long",
           right=False, wide_only=True, min_width=180),
    Column("name", "NAME", 0, "program name, or the command line on wide terminals", right=False),
)

#: Memory figures read from smaps_rollup: dimmed and marked "~" when old.
ROLLUP_COLUMNS = frozenset({"pss", "uss", "anon_huge"})
WIDE = 150


def _tail(text: str | None, width: int) -> str:
    """The end of a long path (where the container id or service name is), marked with "…"."""
    if not text:
        return ""
    text = escape(text)
    return text if len(text) <= width else "…" + text[len(text) - width + 1:]


def _cell(row: Any, key: str, command: bool, width: int = 0) -> str:
    if key == "cgroup":
        return _tail(row.cgroup, width)
    if key == "pid":
        return "" if row.pid is None else str(row.pid)
    if key == "user":
        return escape(row.user)
    if key == "rate":
        return rate(row.rate)
    if key == "oom_score":
        return "" if row.oom_score is None else str(row.oom_score)
    if key == "name":
        text = escape(row.command if command else row.name)
        marks = ""
        if row.has_children:
            marks = "[+] " if row.collapsed else "[-] "
        if row.members > 1:
            text = f"{text} ×{row.members}" if not command else text
        if row.exited:
            text += "  (exited)"
        if getattr(row, "mark", ""):
            text = f"{row.mark} {text}"
        return "  " * row.depth + marks + text
    value = compact(row.values.get(key))
    return "~" + value if row.stale and key in ROLLUP_COLUMNS and value != "-" else value


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

    def select_key(self, key: tuple[object, ...]) -> bool:
        for i, row in enumerate(self.rows):
            if row.key == key or (len(key) == 2 and row.pid == key[1]):
                self._move_to(i, moved=False)
                return True
        return False

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
    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        return _cell(row, key, width >= 120, column_width)

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
