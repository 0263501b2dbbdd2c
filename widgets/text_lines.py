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
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class TextLines(Widget):
    """Lines of rich Text, cropped to the width, kept as strips until ``set_lines``."""

    _strips: list[Strip] = []
    _texts: list[Text] = []
    _width = -1

    def set_lines(self, lines: Sequence[Text]) -> None:
        """New content; only the lines that changed are redrawn, a relayout only when their number changes."""
        width = self.size.width
        old = self._texts
        same_shape = len(lines) == len(old) and width == self._width
        # A figure that moved repaints its line, not the pane (the chart's
        # figures move every second; its 30 plot lines seldom do).
        changed = [y for y, line in enumerate(lines) if not same_shape or line != old[y]]
        if same_shape and not changed:
            return
        base = self.rich_style
        console = self.app.console
        strips = list(self._strips) if same_shape else [Strip.blank(width)] * len(lines)
        for y in changed:
            line = lines[y]
            # Text.render leaves out the Text's own style (print() adds it):
            # put it under the spans here.
            style = base + console.get_style(line.style) if line.style else base
            strips[y] = Strip(Segment.apply_style(line.render(console, end=""), style)).crop_extend(0, width, base)
        resized = len(strips) != len(self._strips)
        self._strips = strips
        self._texts = list(lines)
        self._width = width
        if same_shape:
            for y in changed:
                self.refresh(Region(0, y, width, 1))
        else:
            self.refresh(layout=resized)

    def render_line(self, y: int) -> Strip:
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._strips)
