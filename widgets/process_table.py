"""The process table: a Line-API ScrollView that draws only the rows on screen.

Textual's DataTable needs ~400 ms per refresh at 5,000 rows on this machine;
drawing only the visible lines takes ~6 ms (feasibility.md §C). Rows are plain
frozen values built by the app (``memtop.views``); the cursor follows a row's
key (pid and starttime), never its index, so re-sorts do not move it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .format import compact, escape, rate


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int
    help: str
    right: bool = True
    wide_only: bool = False
    min_width: int = 0  # shown only on terminals at least this wide


#: Every column, with the one line of help the help screen shows for it
#: (after Documentation/filesystems/proc.rst).
COLUMNS: tuple[Column, ...] = (
    Column("pid", "PID", 7, "process id"),
    Column("user", "USER", 9, "real user of the process", right=False),
    Column("rss", "RSS", 7, "resident: pages in RAM mapped by it, shared ones counted in full (VmRSS)"),
    Column("pss", "PSS", 7, "proportional: shared pages divided among their users; sums to real use"),
    Column("uss", "USS", 7, "unique: Private_Clean + Private_Dirty, what exiting would free"),
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


class ProcessTable(ScrollView, can_focus=True):
    """The processes, one per line, with a sticky header.

    A subclass draws other rows (any object with ``key``, ``pid``, ``exited``
    and ``stale``) by giving ``ALL_COLUMNS`` and overriding ``cell`` and ``row_style``.
    """

    ALL_COLUMNS: tuple[Column, ...] = COLUMNS

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "activate", "Details"),
    ]

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

    class Selected(Message):
        """The cursor moved to another row (or the first rows arrived)."""

        def __init__(self, key: tuple[object, ...] | None, moved: bool) -> None:
            super().__init__()
            self.key = key
            self.moved = moved

    class Activated(Message):
        def __init__(self, key: tuple[object, ...]) -> None:
            super().__init__()
            self.key = key

    class Visible(Message):
        """The pids on screen changed: their PSS is worth reading every refresh."""

        def __init__(self, pids: frozenset[int]) -> None:
            super().__init__()
            self.pids = pids

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: Sequence[Any] = ()
        self.cursor = 0
        self.cursor_key: tuple[object, ...] | None = None
        self._visible: frozenset[int] = frozenset()
        # Strips by row object: the app reuses the Row of a process that did
        # not change, so an idle refresh redraws nothing it drew before.
        self._cache: dict[tuple[int, int, bool, bool], tuple[Any, Strip]] = {}

    # -- data -------------------------------------------------------------
    def set_rows(self, rows: Sequence[Any]) -> None:
        """New rows; the cursor stays on the same key when that row is still there."""
        old = self.rows
        old_cursor = self.cursor
        self.rows = rows
        if len(self._cache) > 4096:
            self._cache.clear()
        index = next((i for i, r in enumerate(rows) if r.key == self.cursor_key), None)
        if index is None:
            index = min(self.cursor, max(len(rows) - 1, 0))
        self.cursor = index
        new_key = rows[index].key if rows else None
        changed = new_key != self.cursor_key
        self.cursor_key = new_key
        size = Size(self.size.width, len(rows) + 1)
        if size != self.virtual_size:
            self.virtual_size = size
        top = int(self.scroll_offset.y)
        self._scroll_to_cursor()
        if top != int(self.scroll_offset.y) or len(old) != len(rows) or old_cursor != index:
            self.refresh()
        else:  # same shape: redraw only the lines on screen whose row changed
            for i in range(top, min(top + self.size.height, len(rows))):
                if rows[i] is not old[i]:
                    self.refresh_line(i + 1)
        self._post_visible()
        if changed:
            self.post_message(self.Selected(new_key, moved=False))

    def select_key(self, key: tuple[object, ...]) -> bool:
        for i, row in enumerate(self.rows):
            if row.key == key or (len(key) == 2 and row.pid == key[1]):
                self._move_to(i, moved=False)
                return True
        return False

    @property
    def visible_pids(self) -> frozenset[int]:
        return self._visible

    @property
    def selected(self) -> Any | None:
        return self.rows[self.cursor] if self.rows else None

    # -- keys -------------------------------------------------------------
    def action_move(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 2, 1))

    def action_edge(self, direction: int) -> None:
        self._move_to(0 if direction < 0 else len(self.rows) - 1)

    def action_activate(self) -> None:
        if self.rows:
            self.post_message(self.Activated(self.rows[self.cursor].key))

    def _move_to(self, index: int, moved: bool = True) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self.cursor_key = self.rows[self.cursor].key
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Selected(self.cursor_key, moved=moved))

    def _scroll_to_cursor(self) -> None:
        body = max(self.size.height - 1, 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False, immediate=True)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._post_visible()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self._post_visible()

    def _post_visible(self) -> None:
        top = int(self.scroll_offset.y)
        pids = frozenset(r.pid for r in self.rows[top : top + self.size.height] if r.pid is not None)
        if pids != self._visible:
            self._visible = pids
            self.post_message(self.Visible(pids))

    # -- drawing ----------------------------------------------------------
    def cell(self, row: Any, key: str, command: bool, width: int) -> str:
        """The text of one cell (cut to ``width`` by the caller)."""
        return _cell(row, key, command, width)

    def row_style(self, row: Any) -> Style:
        """The style of a row's line before the cursor's."""
        style = self.rich_style
        if row.pid is None:
            style += self.get_component_rich_style("process-table--group")
        if row.exited:
            style += self.get_component_rich_style("process-table--exited")
        return style

    def columns(self, width: int) -> list[tuple[Column, int]]:
        wide = width >= WIDE
        chosen = [c for c in self.ALL_COLUMNS if (wide or not c.wide_only) and width >= c.min_width]
        fixed = sum(c.width + 1 for c in chosen if c.width)
        return [(c, c.width or max(width - fixed, 4)) for c in chosen]

    def _line(self, cells: list[tuple[str, int, bool]], style: Style, dim: Style | None, dim_keys: set[int]) -> Strip:
        segments = []
        for i, (text, width, right) in enumerate(cells):
            text = text[:width]
            text = text.rjust(width) if right else text.ljust(width)
            segments.append(Segment(text + (" " if i < len(cells) - 1 else ""), dim if (dim and i in dim_keys) else style))
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        cols = self.columns(width)
        command = width >= 120
        if y == 0:
            style = self.get_component_rich_style("process-table--header")
            return self._line([(c.label, w, c.right) for c, w in cols], style, None, set()).extend_cell_length(width, style).crop(0, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.cursor
        row = self.rows[index]
        cache_key = (id(row), width, is_cursor, self.has_focus)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] is row:
            return hit[1]
        style = self.row_style(row)
        if is_cursor:
            style += self.get_component_rich_style("process-table--cursor")
        dim = style + self.get_component_rich_style("process-table--stale") if row.stale else None
        dim_keys = {i for i, (c, _w) in enumerate(cols) if c.key in ROLLUP_COLUMNS}
        strip = self._line([(self.cell(row, c.key, command, w), w, c.right) for c, w in cols], style, dim, dim_keys)
        strip = strip.extend_cell_length(width, style).crop(0, width)
        self._cache[cache_key] = (row, strip)
        return strip
