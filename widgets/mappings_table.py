"""The mappings of one process: a VirtualTable, instant at 65,000 rows.

Rows are ``memtop.tables.mapping_rows.MapRow`` values built by the app: a kind's header
(bold), a path inside it with its count of mappings, or one raw mapping. A
row whose RSS grew since the last read is marked with "▲" (and styled), so
the change shows without colour.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.style import Style

from memtop.views.format import compact, escape
from memtop.views.uss import USS_FORMULA, USS_FREES
from memtop.widgets.virtual_table import Column, VirtualTable

GREW = "▲"

#: Every column with its one line of help (Documentation/filesystems/proc.rst).
MAP_COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1, f"{GREW}: RSS grew since the last read", right=False),
    Column("address", "ADDRESS", 12, "start address (the range on wide terminals); raw view", right=False),
    Column("perms", "PERM", 4, "r w x, and s(hared) or p(rivate, copy on write); raw view", right=False),
    Column("count", "MAPS", 5, "number of mappings in the row; grouped view"),
    Column("size", "SIZE", 6, "virtual size: address space, not memory"),
    Column("rss", "RSS", 6, "resident pages, shared ones counted in full"),
    Column("pss", "PSS", 6, "resident pages divided among the processes that map them"),
    Column("uss", "USS", 6, f"{USS_FORMULA}: {USS_FREES}"),
    Column("swap", "SWAP", 6, "swapped out"),
    Column("anon_huge", "THP", 6, "AnonHugePages: in transparent huge pages", wide_only=True),
    Column("dirty", "DIRTY", 6, "Shared_Dirty + Private_Dirty: modified pages", wide_only=True),
    Column("delta", "ΔRSS", 7, "RSS change since this screen opened"),
    Column("path", "PATH OR KIND", 0, "file path, [heap], [stack], [anon] ...; kinds in bold", right=False),
)

RANGE = 25  # "7f1c2a3b4000-7f1c2a3b5000"


class MappingsTable(VirtualTable):
    """Mappings grouped by kind and path, or raw (``raw`` True)."""

    PREFIX = "mappings-table"
    COLUMNS: ClassVar[tuple[Column, ...]] = MAP_COLUMNS
    WIDE = 130

    COMPONENT_CLASSES = {
        "mappings-table--header",
        "mappings-table--cursor",
        "mappings-table--group",
        "mappings-table--grew",
    }

    DEFAULT_CSS = """
    MappingsTable { height: 1fr; }
    MappingsTable > .mappings-table--header { text-style: bold; background: $panel; }
    MappingsTable > .mappings-table--cursor { background: $accent 40%; text-style: bold; }
    MappingsTable:focus > .mappings-table--cursor { background: $accent; color: $text; }
    MappingsTable > .mappings-table--group { text-style: bold; }
    MappingsTable > .mappings-table--grew { color: $warning; }
    """

    class Selected(VirtualTable.Selected):
        """The cursor moved to another row."""

    class Activated(VirtualTable.Activated):
        """Enter on a mapping, a path or a kind."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.raw = False

    def set_mode(self, raw: bool) -> None:
        if raw != self.raw:
            self.raw = raw
            self._cache.clear()
            self.refresh()

    def columns(self, width: int) -> list[tuple[Column, int]]:
        wide = width >= self.WIDE
        hidden = {"count"} if self.raw else {"address", "perms"}
        chosen = [c for c in self.COLUMNS if c.key not in hidden and (wide or not c.wide_only)]
        sizes = [(c, RANGE if c.key == "address" and wide else c.width) for c in chosen]
        fixed = sum(w + 1 for _c, w in sizes if w)
        return [(c, w or max(width - fixed, 4)) for c, w in sizes]

    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        if key == "mark":
            return GREW if row.grew else ""
        if key == "address":
            if row.start is None:
                return ""
            return f"{row.start:x}-{row.end:x}" if width >= self.WIDE else f"{row.start:x}"
        if key == "perms":
            return str(row.perms)
        if key == "count":
            return str(row.maps)
        if key == "delta":
            delta = row.delta
            return "" if not delta else ("+" if delta > 0 else "") + compact(delta)
        if key == "path":
            label = escape(row.label)
            if row.level == 0:
                noun = "mapping" if row.maps == 1 else "mappings"
                return f"{label} ({row.maps} {noun})"
            indent = "  " if row.level == 1 else ""
            # The vertical scrollbar covers the last cells of a line drawn ``width`` wide.
            shown = min(width, self.scrollable_content_region.width or width)
            room = self.columns(width)[-1][1] - (width - shown) - len(indent)
            if len(label) > room > 1:
                label = "…" + label[len(label) - room + 1 :]  # the file name matters more than its folder
            return indent + label
        return compact(getattr(row, key))

    def row_style(self, row: Any, style: Style) -> Style:
        if row.level == 0:
            style += self.get_component_rich_style("mappings-table--group")
        if row.grew:
            style += self.get_component_rich_style("mappings-table--grew")
        return style
