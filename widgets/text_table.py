"""A VirtualTable of ready-made text cells: open files (l), the environment (e), the user list (u).

The screens build the rows (plain strings); this only draws them, with the
mouse and the cursor of every memtop table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memtop.widgets.virtual_table import Column, VirtualTable


@dataclass(frozen=True, slots=True)
class TextRow:
    key: tuple[object, ...]
    cells: tuple[str, ...]
    #: Drawn in the muted style (a redacted value, a deleted file).
    muted: bool = False


class TextTable(VirtualTable):
    """Rows of text under the given columns; the one of width 0 takes the rest of the line."""

    PREFIX = "text-table"
    COMPONENT_CLASSES = {"text-table--header", "text-table--cursor", "text-table--muted"}

    DEFAULT_CSS = """
    TextTable { height: 1fr; }
    TextTable > .text-table--header { text-style: bold; background: $panel; }
    TextTable > .text-table--cursor { background: $accent 40%; text-style: bold; }
    TextTable:focus > .text-table--cursor { background: $accent; color: $text; }
    TextTable > .text-table--muted { color: $text-muted; }
    """

    def __init__(self, columns: tuple[Column, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.COLUMNS = columns  # type: ignore[misc]  # per instance: each screen has its own

    def cell(self, row: Any, key: str, width: int, column_width: int = 0) -> str:
        index = next(i for i, c in enumerate(self.COLUMNS) if c.key == key)
        text: str = row.cells[index]
        if len(text) > column_width > 1 and not self.COLUMNS[index].right:
            return text[: column_width - 1] + "…"
        return text

    def row_style(self, row: Any, style: Any) -> Any:
        return style + self.get_component_rich_style("text-table--muted") if row.muted else style
