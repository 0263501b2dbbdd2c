"""F2 (and S, as in htop): choose the process table's columns and their order, with a preview.

The list shows every column (memtop.views.columns): the chosen ones first, in
their order, marked [x]; space or Enter takes one in or out, F7/F8 (htop's
keys in its setup) or shift+up/down move it, d restores the defaults. The
preview below is the table itself with the rows on screen now, at the table's
width, so what does not fit is seen before it is saved. F10 saves (the main
screen writes the config file), Esc leaves everything as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from memtop.views.columns import BY_KEY, DEFAULT_COLUMNS, PROCESS_COLUMNS, fit
from memtop.widgets.process_table import ProcessTable
from memtop.widgets.key_footer import KeyFooter
from memtop.widgets.text_table import TextRow, TextTable
from memtop.widgets.virtual_table import Column, VirtualTable


CHOICE_COLUMNS = (
    Column("mark", "", 3, "[x]: shown", right=False),
    Column("label", "COLUMN", 8, "the column's header", right=False),
    Column("help", "WHAT IT SHOWS", 0, "", right=False),
)


class ColumnList(TextTable):
    """The columns, chosen first in order; the others muted."""

    BINDINGS = [Binding("enter", "activate", "Show/hide", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(CHOICE_COLUMNS, id=id)

    @property
    def column(self) -> str | None:
        """The key of the column under the cursor."""
        row = self.selected
        return None if row is None else str(row.key[1])


def choices(chosen: Sequence[str]) -> list[TextRow]:
    rest = [c.key for c in PROCESS_COLUMNS if c.key not in chosen]
    return [TextRow(("c", k), ("[x]" if on else "[ ]", BY_KEY[k].label, BY_KEY[k].help), muted=not on)
            for k, on in [*((k, True) for k in chosen), *((k, False) for k in rest)]]


class SetupScreen(Screen[tuple[str, ...] | None]):
    """Columns in and out, up and down; the preview follows; F10 keeps them."""

    # The footer shows the first that fit whole (KeyFooter): the two ways out first.
    BINDINGS = [
        Binding("f10", "done", "Save"),
        Binding("escape,f2", "cancel", "Cancel"),
        Binding("space", "flip", "Show/hide"),
        Binding("f7,shift+up", "move(-1)", "Move up"),
        Binding("f8,shift+down", "move(1)", "Move down"),
        Binding("d", "defaults", "Defaults"),
    ]

    def __init__(self, chosen: Sequence[str], rows: Sequence[Any], table_width: int) -> None:
        super().__init__()
        self.chosen: tuple[str, ...] = tuple(chosen)
        self.preview_rows = list(rows)
        self.table_width = max(table_width, 40)

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Setup: the process table's columns", "bold"),
                                   "   space/Enter show or hide, F7/F8 move, d defaults, F10 saves, Esc cancels"),
                     id="setup-title")
        yield ColumnList(id="setup-columns")
        yield Static(id="setup-fit")
        preview = ProcessTable(id="setup-preview")
        preview.styles.width = self.table_width
        yield preview
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(ColumnList).focus()
        self._show()

    def _show(self) -> None:
        columns = self.query_one(ColumnList)
        columns.set_rows(choices(self.chosen))
        preview = self.query_one(ProcessTable)
        preview.choose(self.chosen)
        preview.set_rows(self.preview_rows)
        shown = [c.key for c, _ in fit(self.chosen, self.table_width)]
        left_out = [BY_KEY[k].label for k in self.chosen if k not in shown]
        note = f"preview at the table's width ({self.table_width} cells)"
        if left_out:
            note += f"; no room now for {', '.join(left_out)}"
        self.query_one("#setup-fit", Static).update(note)

    def _cursor_column(self) -> str | None:
        return self.query_one(ColumnList).column

    def on_virtual_table_activated(self, event: VirtualTable.Activated) -> None:
        event.stop()  # Enter or a double click on a column (the preview's rows open nothing)
        self.action_flip()

    def action_flip(self) -> None:
        column = self._cursor_column()
        if column is None:
            return
        if column in self.chosen:
            if len(self.chosen) == 1:
                self.notify("keep at least one column", severity="warning")
                return
            self.chosen = tuple(k for k in self.chosen if k != column)
        else:
            self.chosen = (*self.chosen, column)
        self._show()

    def action_move(self, step: int) -> None:
        column = self._cursor_column()
        if column is None or column not in self.chosen:
            return
        order = list(self.chosen)
        i = order.index(column)
        j = max(0, min(i + step, len(order) - 1))
        order[i], order[j] = order[j], order[i]
        self.chosen = tuple(order)
        self._show()
        self.query_one(ColumnList).select_index(j)

    def action_defaults(self) -> None:
        self.chosen = DEFAULT_COLUMNS
        self._show()

    def action_done(self) -> None:
        self.dismiss(self.chosen)

    def action_cancel(self) -> None:
        self.dismiss(None)
