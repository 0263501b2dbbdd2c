"""A Line-API table that draws only the rows on screen: the base of every memtop table.

Textual's DataTable needs ~400 ms per refresh at 5,000 rows and 14 s to show
65,000 (feasibility.md §C, §D); drawing only the visible lines costs a few ms
whatever the row count. Rows are plain frozen values built by the app, each
with a ``key``; the cursor follows a row's key, never its index, so re-sorts
and refreshes do not move it. Subclasses say which columns exist and how a
row's cells and style look.

The mouse works as in htop (issue 18): a click selects a row, a double click
opens it (as Enter), a click on the header asks the screen to sort by that
column (again: invert), the wheel moves the selection. The sorted column's
header is marked ▼ (largest first) or ▲.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from memtop.views.columns import Column

__all__ = ["DOWN", "UP", "Column", "VirtualTable"]

#: The sort marker: ▼ largest (or last) first, ▲ smallest first.
DOWN, UP = "▼", "▲"
#: Rows the wheel moves the selection by, per notch.
WHEEL_ROWS = 3


class VirtualTable(ScrollView, can_focus=True):
    """Rows with a sticky header line; a cursor that follows the row key."""

    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(-1)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter", "activate", "Details"),
    ]

    # Lines are drawn to the width left of the vertical scrollbar, so nothing scrolls sideways.
    # Without this a horizontal scrollbar (the virtual width is the widget's) took the last
    # line whenever the vertical one showed: the cursor's row could sit under it, off screen.
    DEFAULT_CSS = """
    VirtualTable { overflow-x: hidden; }
    """

    #: Component class prefix of the subclass ("process-table" gives "process-table--cursor").
    PREFIX: ClassVar[str] = "virtual-table"
    #: Every column; ``columns(width)`` chooses those that fit.
    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    #: Terminals at least this wide show the ``wide_only`` columns.
    WIDE: ClassVar[int] = 150

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

    class HeaderClicked(Message):
        """A click on a column's header: the screen sorts by it (or inverts)."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.rows: Sequence[Any] = ()
        self.cursor = 0
        self.cursor_key: tuple[object, ...] | None = None
        # Strips by row object: the app reuses the Row of a thing that did
        # not change, so an idle refresh redraws nothing it drew before.
        self._cache: dict[tuple[int, int, bool, bool], tuple[Any, Strip]] = {}
        #: The strip last handed out for each line of the widget (what the screen shows there).
        self._painted: dict[int, Strip] = {}
        self._base: Style | None = None
        #: The sorted column's key and direction (True: largest first), marked in the header.
        self.sort_marker: tuple[str, bool] | None = None

    def mark_sort(self, column: str | None, descending: bool) -> None:
        """Mark the sorted column in the header (None: no mark)."""
        marker = None if column is None else (column, descending)
        if marker != self.sort_marker:
            self.sort_marker = marker
            self.refresh_line(0)

    # -- hooks for subclasses ----------------------------------------------
    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        """The text of one cell (``width``: the table's, for wide layouts; ``column_width``: the cell's)."""
        raise NotImplementedError

    def row_style(self, row: Any, style: Style) -> Style:
        """The row's style on top of the base style (before the cursor's)."""
        return style

    def dim_style(self, row: Any, style: Style) -> tuple[Style | None, frozenset[str]]:
        """A style for some columns of the row (their keys), e.g. old figures dimmed."""
        return None, frozenset()

    def on_rows_shown(self) -> None:
        """The rows on screen may have changed (scroll, resize, new rows)."""

    # -- data -------------------------------------------------------------
    def set_rows(self, rows: Sequence[Any]) -> None:
        """New rows; the cursor stays on the same key when that row is still there."""
        old = self.rows
        old_cursor = self.cursor
        self.rows = rows
        index = self._index_of(rows, self.cursor_key)
        if index is None:
            index = min(self.cursor, max(len(rows) - 1, 0))
        self.cursor = index
        new_key = rows[index].key if rows else None
        changed = new_key != self.cursor_key
        self.cursor_key = new_key
        self._set_height(len(rows) + 1)
        top = int(self.scroll_offset.y)
        self._scroll_to_cursor()
        if top != int(self.scroll_offset.y):
            self.refresh()
        else:
            # Redraw only the lines on screen whose row, or whose cursor mark, changed: a
            # process that came or went moves the rows below it, not those above.
            # A new row whose line draws the same cells as the line on screen (a figure that
            # moved below the precision shown) is not repainted.
            for i in range(top, top + max(self.size.height - 1, 0)):
                row = rows[i] if i < len(rows) else None
                was = old[i] if i < len(old) else None
                if row is not was or (i == index) != (i == old_cursor):
                    y = i - top + 1
                    painted = self._painted.get(y)
                    if painted is None or self.render_line(y) != painted:
                        self.refresh_line(i + 1)
        self._keep_lines_on_screen()
        self.on_rows_shown()
        if changed:
            self.post_message(self.Selected(new_key, moved=False))

    @staticmethod
    def _index_of(rows: Sequence[Any], key: tuple[object, ...] | None) -> int | None:
        """Where the row with ``key`` is; rows built on demand (memtop.tables.process_rows.ListRows)
        say so without building every row."""
        if key is None:
            return None
        find = getattr(rows, "find", None)
        if find is not None:
            found: int | None = find(key)
            return found
        return next((i for i, r in enumerate(rows) if r.key == key), None)

    def _keep_lines_on_screen(self) -> None:
        """Drop the drawn lines of rows not on screen: a line is drawn again when scrolled back to.

        Lines of rows that are gone are never drawn again (issue 13's soak: kept until 4,096
        lines, a Strip and its caches each, they were ~15 MiB of the growth); keeping only the
        rows on screen also spares a pass over every row (5,000 at scale, built on demand).
        """
        if not self._cache:
            return
        top = int(self.scroll_offset.y)
        rows = self.rows
        current = {id(rows[i]) for i in range(top, min(top + max(self.size.height - 1, 0), len(rows)))}
        self._cache = {k: v for k, v in self._cache.items() if k[0] in current}

    def _set_height(self, lines: int) -> None:
        """The scrollable height; a layout pass of the screen only when the scrollbar comes or goes.

        Setting ``virtual_size`` lays the whole screen out again and repaints every widget (Textual:
        a layout reactive); a process that starts or exits changes the row count on most refreshes
        of a busy host (bench/refresh.py: a layout and ~90 widget renders a refresh). While the
        scrollbar stays shown (or hidden) and the scroll offset stays valid, nothing outside this
        widget moves: the size is set without a layout, and the scrollbar told its new range, as
        Textual itself does when a size changes without a layout (Widget._size_updated).
        """
        size = Size(self.size.width, lines)
        current = self.virtual_size
        if size == current:
            return
        body = self.container_size.height
        quiet = (
            current.width == size.width and body > 0
            and (current.height > body) == (size.height > body)
            and self.scroll_offset.y <= max(size.height - body, 0)
        )
        if quiet:
            self.set_reactive(Widget.virtual_size, size)
            self._scroll_update(size)
        else:
            self.virtual_size = size

    @property
    def selected(self) -> Any | None:
        return self.rows[self.cursor] if self.rows else None

    @property
    def top(self) -> int:
        """Index of the first row on screen."""
        return int(self.scroll_offset.y)

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

    # -- mouse ------------------------------------------------------------
    def column_at(self, x: int) -> str | None:
        """The key of the column under cell ``x`` of the widget."""
        left = 0
        for column, width in self.columns(self.line_width):
            if left <= x < left + width + 1:
                return column.key
            left += width + 1
        return None

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.focus()
        if event.y == 0:
            column = self.column_at(event.x)
            if column is not None:
                self.post_message(self.HeaderClicked(column))
            return
        index = self.top + event.y - 1
        if not 0 <= index < len(self.rows):
            return
        if index != self.cursor or self.rows[index].key != self.cursor_key:
            self._move_to(index)
        if event.chain >= 2:
            self.action_activate()

    def _on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if event.ctrl or event.shift:
            super()._on_mouse_scroll_down(event)
            return
        event.stop()
        if self.rows and self.cursor < len(self.rows) - 1:
            self._move_to(self.cursor + WHEEL_ROWS)

    def _on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if event.ctrl or event.shift:
            super()._on_mouse_scroll_up(event)
            return
        event.stop()
        if self.rows and self.cursor > 0:
            self._move_to(self.cursor - WHEEL_ROWS)

    def select_index(self, index: int) -> None:
        """Put the cursor on a row by position (a screen that reordered the rows)."""
        self._move_to(index, moved=False)

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
        self.on_rows_shown()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)  # a layout: the size changed anyway
        self.on_rows_shown()

    # -- drawing ----------------------------------------------------------
    @property
    def line_width(self) -> int:
        """Cells a line has: the widget's width less the vertical scrollbar when one shows
        (drawing to the full width let the scrollbar cover the last column's end)."""
        return int(self.scrollable_content_region.width or self.size.width)

    def columns(self, width: int) -> list[tuple[Column, int]]:
        wide = width >= self.WIDE
        chosen = [c for c in self.COLUMNS if (wide or not c.wide_only) and width >= c.min_width]
        fixed = sum(c.width + 1 for c in chosen if c.width)
        return [(c, c.width or max(width - fixed, 4)) for c in chosen]

    def _label(self, column: Column, width: int) -> str:
        """A header cell; the sorted column's carries ▼ or ▲, kept when the label is cut."""
        if self.sort_marker is None or self.sort_marker[0] != column.key:
            return column.label
        mark = DOWN if self.sort_marker[1] else UP
        label = column.label[: max(width - 1, 0)]
        return mark + label if column.right else label + mark

    def _line(self, cells: list[tuple[str, int, bool]], style: Style, dim: Style | None, dim_keys: set[int]) -> Strip:
        segments = []
        for i, (text, width, right) in enumerate(cells):
            text = text[:width]
            text = text.rjust(width) if right else text.ljust(width)
            segments.append(Segment(text + (" " if i < len(cells) - 1 else ""), dim if (dim and i in dim_keys) else style))
        return Strip(segments)

    def _base_style(self) -> Style:
        # Textual works the widget's style out from its ancestors on every read: a third of
        # drawing a line. Kept until the styles change (theme, focus, hover: notify_style_update).
        if self._base is None:
            self._base = self.rich_style
        return self._base

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None
        self._cache.clear()  # the lines drawn in the old styles (a new theme) are drawn again

    def render_line(self, y: int) -> Strip:
        strip = self._render_line(y)
        self._painted[y] = strip
        return strip

    def _render_line(self, y: int) -> Strip:
        width = self.line_width
        prefix = self.PREFIX
        if y == 0:
            cols = self.columns(width)
            style = self.get_component_rich_style(f"{prefix}--header")
            return self._line([(self._label(c, w), w, c.right) for c, w in cols], style, None, set()).extend_cell_length(width, style).crop(0, width)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.cursor
        row = self.rows[index]
        cache_key = (id(row), width, is_cursor, self.has_focus)
        hit = self._cache.get(cache_key)
        if hit is not None and hit[0] is row:
            return hit[1]
        cols = self.columns(width)  # after the cache: a line drawn before needs none of this
        style = self.row_style(row, self._base_style())
        if is_cursor:
            style += self.get_component_rich_style(f"{prefix}--cursor")
        dim, dim_columns = self.dim_style(row, style)
        dim_keys = {i for i, (c, _w) in enumerate(cols) if c.key in dim_columns}
        strip = self._line([(self.cell(row, c.key, width, w), w, c.right) for c, w in cols], style, dim, dim_keys)
        strip = strip.extend_cell_length(width, style).crop(0, width)
        if len(self._cache) >= 4096:  # scrolling a long table without a refresh: a bound all the same
            self._cache.clear()
        self._cache[cache_key] = (row, strip)
        return strip
