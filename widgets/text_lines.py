"""A widget drawn from lines rendered once per change of its data, not once per repaint.

Textual turns a ``render()`` result into strips on every repaint of the
widget; for a 60x35 chart of a few hundred styled runs that was ~3 ms, more
than building the chart (bench/panes.py). These widgets keep their strips
and hand them out through the Line API, as the process table does.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget


class TextLines(Widget):
    """Lines of rich Text, cropped to the width, kept as strips until ``set_lines``."""

    _strips: list[Strip] = []

    def set_lines(self, lines: Sequence[Text]) -> None:
        """New content; a relayout only when the number of lines changes (height auto)."""
        width = self.size.width
        base = self.rich_style
        console = self.app.console
        strips = []
        for line in lines:
            # Text.render leaves out the Text's own style (print() adds it):
            # put it under the spans here.
            style = base + console.get_style(line.style) if line.style else base
            strips.append(Strip(Segment.apply_style(line.render(console, end=""), style)).crop_extend(0, width, base))
        resized = len(strips) != len(self._strips)
        self._strips = strips
        self.refresh(layout=resized)

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips)
