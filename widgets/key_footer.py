"""A footer that shows only whole keys: those that do not fit are left out, not cut.

Textual's Footer lays its keys out in a row and lets the command palette's key,
docked right, cover whatever runs under it: at 80 columns the dashboard's
footer ended on "f9 K". Here the keys are shown in the order of the bindings
(each screen lists its most useful first) up to the last one that fits whole
beside the palette's key; the rest are hidden, and help lists every key.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Footer

#: The class Textual's Footer gives the command palette's key (docked right).
PALETTE = "-command-palette"


def fitting(widths: list[int], room: int) -> int:
    """How many of the first keys fit whole in ``room`` columns (none after the first that does not)."""
    used = 0
    for count, width in enumerate(widths):
        used += width
        if used > room:
            return count
    return len(widths)


class KeyFooter(Footer):
    """The screen's keys, as many as fit whole, then the command palette's."""

    def _width(self, child: Widget) -> int:
        """The columns ``child`` takes when shown (measured, so it holds hidden too)."""
        styles = child.styles
        content = child.get_content_width(self.size, self.app.size)
        return content + styles.gutter.width + styles.margin.width

    def _fit(self) -> None:
        if not self.is_attached or self.size.width == 0:
            return
        keys = [child for child in self.children if not child.has_class(PALETTE)]
        room = self.size.width - sum(self._width(child) for child in self.children if child.has_class(PALETTE))
        shown = fitting([self._width(child) for child in keys], room)
        for index, child in enumerate(keys):
            child.display = index < shown

    async def recompose(self) -> None:
        # The keys change with the focus and the screen's state: each new set is fitted before it is painted.
        await super().recompose()
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()
