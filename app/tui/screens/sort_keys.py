"""Sorting a table: the same keys on every screen over one (s or F6 chooses, M by PSS, I inverts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from memtop.tables.select import PROCESS_FIELDS


class SortScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: str, fields: Sequence[str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.fields = fields

    def compose(self) -> ComposeResult:
        fields = self.fields or [f for f in PROCESS_FIELDS if f not in ("cmdline", "error", "kernel_thread")]
        options = OptionList(*[Option(f, id=f) for f in fields], id="sort")
        with Vertical(id="sort-box"):
            yield Static("Sort by (Enter chooses, Esc cancels)")
            yield options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        index = next((i for i in range(options.option_count) if options.get_option_at_index(i).id == self.current), 0)
        options.highlighted = index
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SortKeys:
    """Mixin for a screen over a sortable table: the sort menu, a sort by one field, the inversion.

    The screen says what the sort is (``sorting``) and applies a new one
    (``sort_rows``); ``SORT_FIELDS`` are the menu's choices (None: the
    process table's fields).
    """

    SORT_FIELDS: ClassVar[Sequence[str] | None] = None

    def sorting(self) -> tuple[str, bool]:
        """The sort field now, and whether it is inverted."""
        raise NotImplementedError

    def sort_rows(self, field: str, reverse: bool) -> None:
        """Sort by ``field`` (inverted when ``reverse``) and show it."""
        raise NotImplementedError

    def action_sort_menu(self) -> None:
        def chosen(field: str | None) -> None:
            if field:
                self.action_sort_by(field)

        screen: Any = self
        screen.app.push_screen(SortScreen(self.sorting()[0], self.SORT_FIELDS), chosen)

    def action_sort_by(self, field: str) -> None:
        self.sort_rows(field, False)

    def action_invert(self) -> None:
        field, reverse = self.sorting()
        self.sort_rows(field, not reverse)
