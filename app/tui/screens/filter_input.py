"""The "/" filter shared by the screens over a table: the dashboard's and the process screen's.

One behaviour everywhere: "/" opens the input at once (not through the
binding's action, which runs only after the keys queued behind it), keys
typed in the same burst go into it, letter-key actions are off while it is
open, Enter keeps the filter (unless nothing matches), Esc is the screen's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.widgets import Input

from memtop.widgets.virtual_table import VirtualTable


class FilterInput:
    """Mixin for a Screen with an Input ``FILTER`` filtering the rows of a VirtualTable."""

    #: The selector of the screen's filter Input ("#filter").
    FILTER: ClassVar[str]
    #: Actions bound to printable keys: off while the input is open.
    LETTER_ACTIONS: ClassVar[frozenset[str]]

    # -- what the screen provides --------------------------------------------
    def filter_text(self) -> str:
        """The filter now in force."""
        raise NotImplementedError

    def filter_table(self) -> VirtualTable:
        """The table the filter narrows."""
        raise NotImplementedError

    def set_filter(self, text: str) -> None:
        """Filter the rows by ``text`` (each key typed; "" shows them all) and show them."""
        raise NotImplementedError

    def _box(self) -> Input:
        screen: Any = self
        box: Input = screen.query_one(self.FILTER, Input)
        return box

    # -- the shared behaviour -------------------------------------------------
    def action_filter(self) -> None:
        box = self._box()
        box.value = self.filter_text()
        box.display = True
        box.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the filter is open, letters are text, also those still queued
        # behind the "/" that opened it: no letter-key action may fire.
        if action in self.LETTER_ACTIONS and self._box().display:
            return False
        return True

    def on_key(self, event: events.Key) -> None:
        # Keys typed in the same burst as "/" (a fast typist, a paste) were
        # queued for the table before the input opened: hand them over.
        box = self._box()
        if event.key == "slash" and not box.display:
            # Open it here, not through the binding's action: the footer and
            # the help still show the binding.
            event.stop()
            event.prevent_default()
            self.action_filter()
            return
        if box.display and event.is_printable and event.character:
            box.insert_text_at_cursor(event.character)
            event.stop()
            event.prevent_default()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input is self._box():
            self.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input is self._box():
            self.filter_submitted(event.value)

    def filter_submitted(self, value: str) -> None:
        """Enter in the input: keep the filter and go back to the table, unless nothing matches."""
        table = self.filter_table()
        if value and not table.rows:
            return  # "no match" stays on screen with the input open
        self._box().display = False
        table.focus()
        table.action_edge(-1)
